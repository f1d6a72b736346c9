import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertTimeZone, budgetPeriods, formatZoneTime, startOfLocalDate } from "./periods.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const hours = (ms: number): number => ms / 3_600_000;

function periodsAt(timeZone: string, at: string) {
  const { day, month } = budgetPeriods(timeZone, Date.parse(at));
  return {
    day: [iso(day.start), iso(day.end)],
    dayHours: hours(day.end - day.start),
    month: [iso(month.start), iso(month.end)],
  };
}

describe("budgetPeriods", () => {
  it("uses UTC midnights and first-of-months in UTC", () => {
    expect(periodsAt("UTC", "2026-11-23T12:00:00Z")).toEqual({
      day: ["2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z"],
      dayHours: 24,
      month: ["2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"],
    });
  });

  it("includes the first instant and excludes the next period's", () => {
    const start = Date.parse("2026-11-23T00:00:00Z");
    expect(budgetPeriods("UTC", start).day.start).toBe(start);
    expect(budgetPeriods("UTC", start - 1).day.end).toBe(start);
  });

  it("rolls the year over in December", () => {
    expect(periodsAt("UTC", "2026-12-31T23:59:59.999Z").month).toEqual([
      "2026-12-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
  });

  it("follows the zone's midnight: a UTC evening already belongs to Berlin's next day", () => {
    expect(periodsAt("Europe/Berlin", "2026-11-23T23:30:00Z").day).toEqual([
      "2026-11-23T23:00:00.000Z",
      "2026-11-24T23:00:00.000Z",
    ]);
    expect(periodsAt("America/Los_Angeles", "2026-12-01T05:00:00Z").month).toEqual([
      "2026-11-01T07:00:00.000Z", // PDT (UTC-7) on Nov 1 …
      "2026-12-01T08:00:00.000Z", // … PST (UTC-8) on Dec 1
    ]);
  });

  it("has 23- and 25-hour days when DST starts and ends", () => {
    expect(periodsAt("Europe/Berlin", "2026-03-29T12:00:00Z")).toMatchObject({
      day: ["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"],
      dayHours: 23,
    });
    expect(periodsAt("Europe/Berlin", "2026-10-25T12:00:00Z")).toMatchObject({
      day: ["2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"],
      dayHours: 25,
    });
    expect(periodsAt("America/New_York", "2026-03-08T12:00:00Z").dayHours).toBe(23);
    expect(periodsAt("America/New_York", "2026-11-01T12:00:00Z").dayHours).toBe(25);
  });

  it("starts a day whose midnight is skipped at the first instant of that date", () => {
    // Santiago springs forward at 00:00 → 01:00: the day starts at 01:00 local (04:00 UTC).
    expect(periodsAt("America/Santiago", "2026-09-06T12:00:00Z")).toMatchObject({
      day: ["2026-09-06T04:00:00.000Z", "2026-09-07T03:00:00.000Z"],
      dayHours: 23,
    });
    expect(formatZoneTime("America/Santiago", Date.parse("2026-09-06T04:00:00Z"))).toMatch(/^2026-09-06 01:00 /);
  });

  it("starts a day whose midnight happens twice at the first one", () => {
    // Havana falls back 01:00 → 00:00 on 2026-11-01.
    expect(periodsAt("America/Havana", "2026-11-01T12:00:00Z")).toMatchObject({
      day: ["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"],
      dayHours: 25,
    });
  });

  it("handles half-hour DST and quarter-hour offsets", () => {
    expect(periodsAt("Australia/Lord_Howe", "2026-10-04T12:00:00Z").dayHours).toBe(23.5);
    expect(periodsAt("Asia/Kathmandu", "2026-01-01T00:00:00Z").month).toEqual([
      "2025-12-31T18:15:00.000Z",
      "2026-01-31T18:15:00.000Z",
    ]);
  });

  it("ends the day before a date the zone skipped at the start of the day after", () => {
    // Samoa skipped 2011-12-30 entirely, moving across the date line.
    expect(periodsAt("Pacific/Apia", "2011-12-29T12:00:00Z").day).toEqual([
      "2011-12-29T10:00:00.000Z",
      "2011-12-30T10:00:00.000Z",
    ]);
  });

  const zones = [
    "UTC",
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Asia/Beirut",
  ];

  it("always contains now, starts at a local date change, and tiles time without gaps", () => {
    const formatters = new Map(
      zones.map((timeZone) => [
        timeZone,
        new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }),
      ]),
    );
    const wallDate = (timeZone: string, ms: number): string => formatters.get(timeZone)!.format(ms);
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse("2020-01-01"), max: Date.parse("2035-01-01") }),
        (timeZone, now) => {
          const { day, month } = budgetPeriods(timeZone, now);
          for (const period of [day, month]) {
            expect(period.start).toBeLessThanOrEqual(now);
            expect(period.end).toBeGreaterThan(now);
            expect(wallDate(timeZone, period.start)).not.toBe(wallDate(timeZone, period.start - 1));
            expect(budgetPeriods(timeZone, period.end).day.start).toBe(period.end);
          }
          expect(wallDate(timeZone, day.start)).toBe(wallDate(timeZone, now));
          expect(wallDate(timeZone, month.start).slice(8)).toBe("01");
          expect(hours(day.end - day.start)).toBeGreaterThanOrEqual(22);
          expect(hours(day.end - day.start)).toBeLessThanOrEqual(26);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("startOfLocalDate", () => {
  it("accepts overflowing months and days like Date.UTC", () => {
    expect(iso(startOfLocalDate("UTC", 2026, 13, 1))).toBe("2027-01-01T00:00:00.000Z");
    expect(iso(startOfLocalDate("UTC", 2026, 2, 29))).toBe("2026-03-01T00:00:00.000Z");
  });
});

describe("formatZoneTime", () => {
  it("writes local time with the zone's usual abbreviation", () => {
    expect(formatZoneTime("UTC", Date.parse("2026-11-24T00:00:00Z"))).toBe("2026-11-24 00:00 UTC");
    expect(formatZoneTime("America/Los_Angeles", Date.parse("2026-11-24T08:00:00Z"))).toBe("2026-11-24 00:00 PST");
    expect(formatZoneTime("America/Los_Angeles", Date.parse("2026-07-01T07:00:00Z"))).toBe("2026-07-01 00:00 PDT");
    expect(formatZoneTime("Europe/Berlin", Date.parse("2026-11-23T23:00:00Z"))).toBe("2026-11-24 00:00 CET");
    expect(formatZoneTime("Europe/London", Date.parse("2026-06-30T23:00:00Z"))).toBe("2026-07-01 00:00 BST");
    expect(formatZoneTime("Australia/Sydney", Date.parse("2026-11-23T13:00:00Z"))).toBe("2026-11-24 00:00 AEDT");
  });

  it("falls back to a GMT offset where no abbreviation is common", () => {
    expect(formatZoneTime("Asia/Tokyo", Date.parse("2026-11-23T15:00:00Z"))).toBe("2026-11-24 00:00 GMT+9");
  });
});

describe("assertTimeZone", () => {
  it("names an unknown zone", () => {
    expect(() => assertTimeZone("Mars/Olympus")).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => assertTimeZone("Europe/Berlin")).not.toThrow();
  });
});
