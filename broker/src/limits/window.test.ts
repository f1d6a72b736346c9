import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlidingWindow, WINDOW_MS } from "./window.js";

describe("SlidingWindow", () => {
  it("counts an entry for at least 60 s and less than 61 s", () => {
    const window = new SlidingWindow();
    window.add(1_000, 1, 0); // first entry of second 1
    window.add(1_900, 1, 50); // last entry of second 1
    window.expire(1_900 + WINDOW_MS - 1);
    expect([window.requests, window.tokens]).toEqual([2, 50]);
    window.expire(1_900 + WINDOW_MS);
    expect([window.requests, window.tokens, window.isEmpty()]).toEqual([0, 0, true]);
  });

  it("says when the oldest entry leaves and when enough have left", () => {
    const window = new SlidingWindow();
    window.add(0, 1, 100);
    window.add(10_000, 1, 200);
    window.add(20_000, 1, 300);
    expect(window.oldestLeavesAt()).toBe(60_000);
    expect(window.requestsFreedAt(2)).toBe(70_000);
    expect(window.tokensFreedAt(101)).toBe(70_000);
    expect(window.tokensFreedAt(600)).toBe(80_000);
    expect(window.tokensFreedAt(601)).toBeUndefined();
  });

  it("keeps at most about 61 buckets however busy, and nothing when idle", () => {
    const window = new SlidingWindow();
    let most = 0;
    for (let time = 0; time < 10 * WINDOW_MS; time += 7) {
      window.expire(time);
      window.add(time, 1, 1);
      most = Math.max(most, window.bucketCount());
    }
    expect(most).toBe(61);
    window.expire(20 * WINDOW_MS);
    expect(window.bucketCount()).toBe(0);
  });

  it("joins an entry from a clock that went back to the newest bucket", () => {
    const window = new SlidingWindow();
    window.add(5_500, 1, 0);
    window.add(3_000, 1, 0);
    expect(window.bucketCount()).toBe(1);
    expect(window.oldestLeavesAt()).toBe(5_500 + WINDOW_MS);
  });

  it("never lets more than the limit into any rolling 60 s window", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 300 }),
        (limit, gaps) => {
          const window = new SlidingWindow();
          const admitted: number[] = [];
          let time = 0;
          for (const gap of gaps) {
            time += gap;
            window.expire(time);
            if (window.requests + 1 > limit) continue;
            window.add(time, 1, 0);
            admitted.push(time);
          }
          // Any 60 s window [t, t + 60 s) holds at most `limit` admissions.
          for (let first = 0; first < admitted.length; first++) {
            let inside = 0;
            for (let next = first; next < admitted.length && admitted[next]! < admitted[first]! + WINDOW_MS; next++) {
              inside++;
            }
            expect(inside).toBeLessThanOrEqual(limit);
          }
        },
      ),
    );
  });
});
