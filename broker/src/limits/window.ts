/*
 * Requests and tokens in a rolling 60 s window, kept as 1 s buckets rather than an exact log.
 *
 * An exact log holds one entry per request: bounded by rpm where rpm is set, but a tpm-only team at
 * 1,000 req/s would hold 60,000 entries. Buckets hold at most 61 entries per scope whatever the
 * traffic, and every operation is O(1) amortised.
 *
 * The price is 1 s of granularity, paid on the safe side: a bucket stays counted until 60 s after
 * the LAST entry it holds, so every entry counts for at least 60 s (at most 61 s). Whatever rolling
 * 60 s window one picks, everything in it is still counted, so a limit is never exceeded in any
 * window; and since the oldest bucket's last entry is no later than now, a retry time is ≤ 60 s.
 */

export const WINDOW_MS = 60_000;
const BUCKET_MS = 1_000;

interface Bucket {
  second: number;
  /** Time of the latest entry; the bucket counts while now < last + 60 s. */
  last: number;
  requests: number;
  tokens: number;
}

export class SlidingWindow {
  /** Oldest first; `buckets[head]` is the oldest live one. */
  private buckets: Bucket[] = [];
  private head = 0;
  /** Sums over live buckets (as of the last `expire`). */
  requests = 0;
  tokens = 0;

  /** Drops buckets that left the window at `now`. */
  expire(now: number): void {
    const buckets = this.buckets;
    let head = this.head;
    while (head < buckets.length) {
      const bucket = buckets[head]!;
      if (bucket.last + WINDOW_MS > now) break;
      this.requests -= bucket.requests;
      this.tokens -= bucket.tokens;
      head++;
    }
    if (head === buckets.length) {
      if (head > 0) this.buckets = [];
      this.head = 0;
    } else if (head > 32 && head * 2 > buckets.length) {
      this.buckets = buckets.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }

  /**
   * Counts requests and tokens at `time`. Times must not go backwards; if the clock does, the entry
   * joins the newest bucket (counted a little longer, never shorter).
   */
  add(time: number, requests: number, tokens: number): void {
    const buckets = this.buckets;
    const newest = buckets.length > this.head ? buckets[buckets.length - 1] : undefined;
    const second = Math.floor(time / BUCKET_MS);
    if (newest !== undefined && (newest.second === second || time < newest.last)) {
      newest.requests += requests;
      newest.tokens += tokens;
      if (time > newest.last) newest.last = time;
    } else {
      buckets.push({ second, last: time, requests, tokens });
    }
    this.requests += requests;
    this.tokens += tokens;
  }

  /** Live buckets; at most 61. */
  bucketCount(): number {
    return this.buckets.length - this.head;
  }

  isEmpty(): boolean {
    return this.head === this.buckets.length;
  }

  /** When the oldest counted entry leaves the window; undefined when nothing is counted. */
  oldestLeavesAt(): number | undefined {
    const oldest = this.buckets[this.head];
    return oldest === undefined ? undefined : oldest.last + WINDOW_MS;
  }

  /** When at least `count` requests will have left; undefined if more than are counted. */
  requestsFreedAt(count: number): number | undefined {
    return this.freedAt(count, "requests");
  }

  /** When at least `count` tokens will have left; undefined if more than are counted. */
  tokensFreedAt(count: number): number | undefined {
    return this.freedAt(count, "tokens");
  }

  private freedAt(count: number, field: "requests" | "tokens"): number | undefined {
    if (count <= 0) return undefined;
    let freed = 0;
    for (let index = this.head; index < this.buckets.length; index++) {
      const bucket = this.buckets[index]!;
      freed += bucket[field];
      if (freed >= count) return bucket.last + WINDOW_MS;
    }
    return undefined;
  }
}
