/*
 * Calendar arithmetic in an IANA time zone, from Intl alone: the wall time at an instant, and the
 * first instant of a local date. Days are 23 or 25 hours long across DST changes, and zones that skip
 * midnight (e.g. America/Santiago) start the day at 01:00. Budgets (limits/) and the usage API's day
 * buckets (ledger/) both count days with this one implementation.
 */

export interface WallTime {
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

export function wallTime(timeZone: string, ms: number): WallTime {
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

function localDateNumber(timeZone: string, ms: number): number {
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
    if (localDateNumber(timeZone, middle) >= target) after = middle;
    else before = middle;
  }
  return after;
}


/** The local date ("YYYY-MM-DD") of instant `ms` in `timeZone`. */
export function localDate(timeZone: string, ms: number): string {
  const wall = wallTime(timeZone, ms);
  return `${String(wall.year).padStart(4, "0")}-${String(wall.month).padStart(2, "0")}-${String(wall.day).padStart(2, "0")}`;
}

/** The first instant of the local day that contains `ms`. */
export function startOfLocalDay(timeZone: string, ms: number): number {
  const { year, month, day } = wallTime(timeZone, ms);
  return startOfLocalDate(timeZone, year, month, day);
}
