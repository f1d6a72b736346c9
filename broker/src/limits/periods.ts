/*
 * Budget periods in the policy's IANA time zone, from Intl alone. A period starts at the first
 * instant whose local date is its first day, so days are 23 or 25 hours long across DST changes and
 * zones that skip midnight (e.g. America/Santiago) start the day at 01:00.
 */

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

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const wallFormatters = new Map<string, Intl.DateTimeFormat>();

function wallFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = wallFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    wallFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError naming the zone unless it is an IANA time zone Intl knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    wallFormatter(timeZone);
  } catch {
    throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as "Europe/Berlin"`);
  }
}

function wallTime(timeZone: string, ms: number): WallTime {
  const wall: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of wallFormatter(timeZone).formatToParts(ms)) {
    if (part.type in wall) wall[part.type as keyof WallTime] = Number(part.value);
  }
  return wall;
}

/** Local wall time minus UTC at `ms`, in ms. */
function offsetAt(timeZone: string, ms: number): number {
  const wall = wallTime(timeZone, ms);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function dateKey(year: number, month: number, day: number): number {
  return year * 10_000 + month * 100 + day;
}

function localDateKey(timeZone: string, ms: number): number {
  const wall = wallTime(timeZone, ms);
  return dateKey(wall.year, wall.month, wall.day);
}

/** The first instant whose local date in `timeZone` is year-month-day (month 1-12; may overflow). */
export function startOfLocalDate(timeZone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  const normal = new Date(wall);
  const target = dateKey(normal.getUTCFullYear(), normal.getUTCMonth() + 1, normal.getUTCDate());
  // Local midnight under each offset in force around that date; with a DST change at midnight, one
  // candidate may not be midnight at all (a gap) and two may be (midnight happened twice).
  let first: number | undefined;
  for (const probe of [wall - DAY, wall, wall + DAY]) {
    const candidate = wall - offsetAt(timeZone, probe);
    const local = wallTime(timeZone, candidate);
    const isMidnight =
      dateKey(local.year, local.month, local.day) === target &&
      local.hour === 0 &&
      local.minute === 0 &&
      local.second === 0;
    if (isMidnight && (first === undefined || candidate < first)) first = candidate;
  }
  if (first !== undefined) return first;
  // Midnight does not exist that day: search for the instant the local date turns. UTC offsets lie
  // within -12 h..+14 h, so the date is still earlier at wall − 15 h and already there at wall + 15 h.
  let before = wall - 15 * HOUR;
  let after = wall + 15 * HOUR;
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (localDateKey(timeZone, middle) >= target) after = middle;
    else before = middle;
  }
  return after;
}

/** The day and calendar month containing `now` in `timeZone`. */
export function budgetPeriods(timeZone: string, now: number): BudgetPeriods {
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
