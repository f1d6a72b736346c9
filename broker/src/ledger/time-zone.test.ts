import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dayBuckets, isValidTimeZone, localDateKey, MAX_DAY_BUCKETS, startOfLocalDay } from "./time-zone.js";

const HOUR = 3_600_000;
const ZONES = ["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia", "Asia/Kathmandu"];

describe("local days", () => {
  it("finds midnight in Los Angeles on ordinary and DST days", () => {
    expect(startOfLocalDay(Date.parse("2026-03-07T23:59:59.999-08:00"), "America/Los_Angeles")).toBe(Date.parse("2026-03-07T00:00:00-08:00"));
    // 8 March 2026 springs forward at 02:00: midnight is still PST.
    expect(startOfLocalDay(Date.parse("2026-03-08T12:00:00-07:00"), "America/Los_Angeles")).toBe(Date.parse("2026-03-08T00:00:00-08:00"));
    // 1 November 2026 falls back at 02:00: midnight is PDT.
    expect(startOfLocalDay(Date.parse("2026-11-01T23:00:00-08:00"), "America/Los_Angeles")).toBe(Date.parse("2026-11-01T00:00:00-07:00"));
  });

  it("starts a day at 01:00 where DST skips midnight (Chile, 8 September 2024)", () => {
    const start = startOfLocalDay(Date.parse("2024-09-08T12:00:00-03:00"), "America/Santiago");
    expect(start).toBe(Date.parse("2024-09-08T04:00:00Z")); // 00:00 -04 became 01:00 -03
    expect(localDateKey(start, "America/Santiago")).toBe("2024-09-08");
    expect(localDateKey(start - 1, "America/Santiago")).toBe("2024-09-07");
  });

  it("splits a range into clipped local days of 23, 24 and 25 hours", () => {
    const tz = "America/Los_Angeles";
    const days = dayBuckets(Date.parse("2026-03-07T12:00:00-08:00"), Date.parse("2026-03-09T06:00:00-07:00"), tz);
    expect(days.map((d) => d.key)).toEqual(["2026-03-07", "2026-03-08", "2026-03-09"]);
    expect(days.map((d) => (d.end - d.start) / HOUR)).toEqual([12, 23, 6]);
    const fall = dayBuckets(Date.parse("2026-11-01T00:00:00-07:00"), Date.parse("2026-11-02T00:00:00-08:00"), tz);
    expect(fall.map((d) => [d.key, (d.end - d.start) / HOUR])).toEqual([["2026-11-01", 25]]);
    expect(dayBuckets(10, 10, tz)).toEqual([]);
  });

  it("skips a date a zone never had (Samoa, 30 December 2011)", () => {
    const days = dayBuckets(Date.parse("2011-12-29T00:00:00-10:00"), Date.parse("2012-01-01T00:00:00+14:00"), "Pacific/Apia");
    expect(days.map((d) => d.key)).toEqual(["2011-12-29", "2011-12-31"]);
  });

  it("property: every instant's day start is in its day and the instant before it is not", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), (tz, t) => {
        const start = startOfLocalDay(t, tz);
        expect(start).toBeLessThanOrEqual(t);
        expect(localDateKey(start, tz)).toBe(localDateKey(t, tz));
        expect(localDateKey(start - 1, tz) < localDateKey(t, tz)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("property: buckets tile [from, to) without gaps, each holding only its own date", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.integer({ min: 1, max: 40 * 24 * HOUR }),
        (tz, from, span) => {
          const days = dayBuckets(from, from + span, tz);
          expect(days[0]!.start).toBe(from);
          expect(days.at(-1)!.end).toBe(from + span);
          for (const [i, d] of days.entries()) {
            expect(d.end).toBeGreaterThan(d.start);
            expect(localDateKey(d.start, tz)).toBe(d.key);
            expect(localDateKey(d.end - 1, tz)).toBe(d.key);
            if (i > 0) {
              expect(d.start).toBe(days[i - 1]!.end);
              expect(d.key > days[i - 1]!.key).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects unknown zones and overlong ranges as invalid_query", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Europe/Atlantis")).toBe(false);
    expect(() => dayBuckets(0, 1, "Europe/Atlantis")).toThrow(expect.objectContaining({ code: "invalid_query" }));
    expect(() => dayBuckets(0, (MAX_DAY_BUCKETS + 2) * 24 * HOUR, "UTC")).toThrow(expect.objectContaining({ code: "invalid_query" }));
  });
});
