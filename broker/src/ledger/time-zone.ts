// Local-day boundaries in an IANA time zone, for the usage API's "day" buckets. SQLite knows only
// UTC and fixed offsets, so the ledger computes each local day's [start, end) in ms here (DST days
// are 23 or 25 hours long) and aggregates each range through the time index.
import { assertTimeZone, localDate, startOfLocalDate, startOfLocalDay as startOfZoneDay, wallTime } from "../time/zone-calendar.js";
import { LedgerError } from "./errors.js";

const DAY = 24 * 3_600_000;
/** Longest range the "day" grouping accepts (≈ 10 years), so one query can't run 100k range scans. */
export const MAX_DAY_BUCKETS = 3660;

export interface DayBucket {
  /** Local date, "YYYY-MM-DD". */
  key: string;
  /** Inclusive ms epoch (the day's first instant, or the query's `from` if later). */
  start: number;
  /** Exclusive ms epoch (the next day's first instant, or the query's `to` if earlier). */
  end: number;
}

/** Whether `timeZone` is an IANA time zone Intl knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    assertTimeZone(timeZone);
    return true;
  } catch {
    return false;
  }
}

function checkedZone(timeZone: string): void {
  try {
    assertTimeZone(timeZone);
  } catch (cause) {
    throw new LedgerError("invalid_query", `Unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin".`, { cause });
  }
}

/** The local date ("YYYY-MM-DD") of instant `t` in `timeZone`. */
export function localDateKey(t: number, timeZone: string): string {
  return localDate(timeZone, t);
}

/** The first instant (ms) of the local day that contains `t`. */
export function startOfLocalDay(t: number, timeZone: string): number {
  return startOfZoneDay(timeZone, t);
}

/** The local days overlapping [from, to), clipped to it, in order. */
export function dayBuckets(from: number, to: number, timeZone: string): DayBucket[] {
  checkedZone(timeZone);
  if (!(to > from)) return [];
  if ((to - from) / DAY > MAX_DAY_BUCKETS) {
    throw new LedgerError("invalid_query", `A daily usage query may span at most ${MAX_DAY_BUCKETS} days.`);
  }
  const buckets: DayBucket[] = [];
  let start = startOfZoneDay(timeZone, from);
  while (start < to) {
    const { year, month, day } = wallTime(timeZone, start);
    // The next local date's first instant (a date the zone skipped resolves to the one after it).
    const next = startOfLocalDate(timeZone, year, month, day + 1);
    buckets.push({ key: localDate(timeZone, start), start: Math.max(start, from), end: Math.min(next, to) });
    start = next;
  }
  return buckets;
}
