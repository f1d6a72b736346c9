/*
 * Budget periods in the policy's IANA time zone, from Intl alone. A period starts at the first
 * instant whose local date is its first day, so days are 23 or 25 hours long across DST changes and
 * zones that skip midnight (e.g. America/Santiago) start the day at 01:00.
 */

import { startOfLocalDate, wallTime } from "../time/zone-calendar.js";

export { assertTimeZone, startOfLocalDate } from "../time/zone-calendar.js";

export interface Period {
  /** Inclusive, ms since the epoch. */
  start: number;
  /** Exclusive: the start of the next period. */
  end: number;
}

export interface BudgetPeriods {
  day: Period;
  month: Period;
}

/** The last answer per zone: a day holds millions of requests, each asking (Intl is slow). */
const latestPeriods = new Map<string, BudgetPeriods>();

/** The day and calendar month containing `now` in `timeZone`. */
export function budgetPeriods(timeZone: string, now: number): BudgetPeriods {
  const cached = latestPeriods.get(timeZone);
  if (cached !== undefined && now >= cached.day.start && now < cached.day.end) return cached;
  const periods = computePeriods(timeZone, now);
  if (latestPeriods.size > 64) latestPeriods.clear();
  latestPeriods.set(timeZone, periods);
  return periods;
}

function computePeriods(timeZone: string, now: number): BudgetPeriods {
  const { year, month, day } = wallTime(timeZone, now);
  return {
    day: {
      start: startOfLocalDate(timeZone, year, month, day),
      end: startOfLocalDate(timeZone, year, month, day + 1),
    },
    month: {
      start: startOfLocalDate(timeZone, year, month, 1),
      end: startOfLocalDate(timeZone, year, month + 1, 1),
    },
  };
}

/*
 * en-US knows the American abbreviations only (elsewhere it says "GMT+1"); the first of these
 * locales that has a name for the zone wins, so Berlin is CET, Sydney AEST, Kolkata IST.
 */
const ABBREVIATION_LOCALES = ["en-US", "en-GB", "en-AU", "en-IN", "en-IE", "en-ZA", "en-SG", "en-NZ"];
const zoneNameFormatters = new Map<string, Intl.DateTimeFormat[]>();

function zoneAbbreviation(timeZone: string, ms: number): string {
  let formatters = zoneNameFormatters.get(timeZone);
  if (formatters === undefined) {
    formatters = ABBREVIATION_LOCALES.map(
      (locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" }),
    );
    zoneNameFormatters.set(timeZone, formatters);
  }
  let fallback = "";
  for (const formatter of formatters) {
    const name = formatter.formatToParts(ms).find((part) => part.type === "timeZoneName")?.value ?? "";
    if (fallback === "") fallback = name;
    if (name !== "" && !/^GMT[+-]/.test(name)) return name;
  }
  return fallback;
}

/** `2026-11-24 00:00 UTC`, `2026-03-09 00:00 PDT`, `2026-11-24 00:00 CET`: local time and zone. */
export function formatZoneTime(timeZone: string, ms: number): string {
  const wall = wallTime(timeZone, ms);
  const two = (value: number): string => String(value).padStart(2, "0");
  return (
    `${wall.year}-${two(wall.month)}-${two(wall.day)} ${two(wall.hour)}:${two(wall.minute)} ` +
    zoneAbbreviation(timeZone, ms)
  );
}
