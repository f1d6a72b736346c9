// Local-day boundaries in an IANA time zone, for the usage API's "day" buckets. SQLite knows only
// UTC and fixed offsets, so the ledger computes each local day's [start, end) in ms here (DST days
// are 23 or 25 hours long) and aggregates each range through the time index.
import { LedgerError } from "./errors.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
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

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch (cause) {
      throw new LedgerError("invalid_query", `Unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin".`, { cause });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wall(t: number, timeZone: string): Wall {
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(t)) {
    if (part.type === "literal" || part.type === "era") continue;
    if (part.type in w) w[part.type as keyof Wall] = Number(part.value);
  }
  return w;
}

function keyOf(w: Wall): string {
  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** The local date ("YYYY-MM-DD") of instant `t` in `timeZone`. */
export function localDateKey(t: number, timeZone: string): string {
  return keyOf(wall(t, timeZone));
}

/** Zone offset at `t` in ms (local wall clock − UTC), at the zone's one-second resolution. */
function offsetAt(t: number, timeZone: string): number {
  const w = wall(t, timeZone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(t / 1000) * 1000;
}

/** The first instant (ms) of the local day that contains `t`. */
export function startOfLocalDay(t: number, timeZone: string): number {
  const w = wall(t, timeZone);
  const key = keyOf(w);
  const midnightAsUtc = Date.UTC(w.year, w.month - 1, w.day);
  // Fast path: local midnight minus the offset in force at midnight (iterate once across a DST change).
  let c = midnightAsUtc - offsetAt(t, timeZone);
  for (let i = 0; i < 2; i++) {
    const next = midnightAsUtc - offsetAt(c, timeZone);
    if (next === c) break;
    c = next;
  }
  if (c <= t && localDateKey(c, timeZone) === key && localDateKey(c - 1, timeZone) < key) return c;
  // Midnight doesn't exist that day (a DST jump at 00:00) or the zone is odd: bisect for the first
  // instant whose local date is `key`.
  let lo = t - 2 * DAY;
  while (localDateKey(lo, timeZone) >= key) lo -= DAY;
  let hi = t;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDateKey(mid, timeZone) < key) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The local days overlapping [from, to), clipped to it, in order. */
export function dayBuckets(from: number, to: number, timeZone: string): DayBucket[] {
  formatter(timeZone);
  if (!(to > from)) return [];
  if ((to - from) / DAY > MAX_DAY_BUCKETS) {
    throw new LedgerError("invalid_query", `A daily usage query may span at most ${MAX_DAY_BUCKETS} days.`);
  }
  const buckets: DayBucket[] = [];
  let start = startOfLocalDay(from, timeZone);
  while (start < to) {
    // A local day lasts 23–25 hours (or 0 when a zone skips a date), so 26 h later is the next day.
    let probe = start + 26 * HOUR;
    let next = startOfLocalDay(probe, timeZone);
    while (next <= start) {
      probe += HOUR;
      next = startOfLocalDay(probe, timeZone);
    }
    buckets.push({ key: localDateKey(start, timeZone), start: Math.max(start, from), end: Math.min(next, to) });
    start = next;
  }
  return buckets;
}
