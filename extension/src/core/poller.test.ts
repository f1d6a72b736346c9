import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller, type PollOutcome } from "./poller.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("poller", () => {
  it("polls every interval, backs off while offline, and returns to the interval once back", async () => {
    const outcomes: PollOutcome[] = ["ok", "offline", "offline", "offline", "ok", "ok"];
    const times: number[] = [];
    const poller = new Poller({
      intervalMs: () => 30_000,
      maxBackoffMs: 60_000,
      run: async () => {
        times.push(Date.now());
        return outcomes.shift() ?? "ok";
      },
    });
    const start = Date.now();
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(30_000); // ok → 30 s; first offline
    await vi.advanceTimersByTimeAsync(5_000); // offline 1 → 5 s
    await vi.advanceTimersByTimeAsync(10_000); // offline 2 → 10 s
    await vi.advanceTimersByTimeAsync(20_000); // offline 3 → 20 s
    await vi.advanceTimersByTimeAsync(30_000); // ok → 30 s
    poller.stop();
    expect(times.map((t) => t - start)).toEqual([0, 30_000, 35_000, 45_000, 65_000, 95_000]);
  });

  it("caps the backoff", () => {
    const poller = new Poller({ intervalMs: () => 30_000, maxBackoffMs: 60_000, run: async () => "offline" });
    const delays = Array.from({ length: 8 }, () => poller.nextDelay("offline"));
    expect(delays).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
    expect(poller.nextDelay("ok")).toBe(30_000);
  });

  it("runs soon when nudged, coalescing a burst into one extra run", async () => {
    let runs = 0;
    const poller = new Poller({ intervalMs: () => 30_000, run: async () => (runs++, "ok") });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    poller.nudge(200);
    poller.nudge(200);
    poller.nudge(200);
    await vi.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    poller.stop();
    poller.nudge(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
  });
});
