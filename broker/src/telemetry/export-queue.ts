// Requests' spans wait here, off the request path, until a background loop sends them in batches.
// What waits is a recipe (the request's trace), built into spans only when its batch is sent, so
// the request pays for neither building nor encoding. The queue is bounded in spans: when a backend
// is down for long, new ones are dropped and counted rather than held without limit. One batch is
// in flight at a time; failed batches are retried with backoff.
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { SendResult } from "./otlp-sender.js";

export type DropReason = "queue_full" | "rejected" | "retries_exhausted" | "shutdown" | "build_failed";

export interface ExportQueueOptions {
  maxQueueSpans: number;
  maxBatchSpans: number;
  /** A partial batch waits at most this long. */
  flushIntervalMs: number;
  /** Tries per batch, the first included. */
  maxAttempts: number;
  /** First retry's delay; doubled per retry, with jitter, up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_EXPORT_QUEUE: ExportQueueOptions = {
  maxQueueSpans: 8192,
  // Encoding takes ~25 µs a span on the event loop: 256 keeps one batch's pause to a few ms.
  maxBatchSpans: 256,
  flushIntervalMs: 1000,
  maxAttempts: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 30_000,
};

export interface ExportQueueEvents {
  exported(spans: number): void;
  dropped(spans: number, reason: DropReason): void;
  failed(reason: string): void;
}

/** One request's spans, built when sent. */
export interface QueuedSpans {
  count: number;
  build(): ReadableSpan[];
}

/** Spans already built (tests, and anything without a recipe). */
export function builtSpans(spans: ReadableSpan[]): QueuedSpans {
  return { count: spans.length, build: () => spans };
}

export class SpanExportQueue {
  private queue: QueuedSpans[] = [];
  /** Spans in `queue`. */
  private queued = 0;
  private immediate: NodeJS.Immediate | undefined;
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Spans of the batch being sent now: counted as dropped if shutdown's deadline cuts it off. */
  private sendingSpans = 0;
  /** Wakes a retry's backoff early (shutdown). */
  private cutBackoff: (() => void) | undefined;

  constructor(
    private readonly send: (spans: ReadableSpan[]) => Promise<SendResult>,
    private readonly events: ExportQueueEvents,
    private readonly options: ExportQueueOptions = DEFAULT_EXPORT_QUEUE,
  ) {}

  /** Spans waiting. */
  get depth(): number {
    return this.queued;
  }

  /** Has room for `count` more spans (callers skip building what would be dropped). */
  hasRoom(count: number): boolean {
    return !this.closed && this.queued + count <= this.options.maxQueueSpans;
  }

  /** O(1) for the caller: never waits, never throws. */
  enqueue(item: QueuedSpans | ReadableSpan[]): void {
    const entry = Array.isArray(item) ? builtSpans(item) : item;
    if (this.closed) {
      this.events.dropped(entry.count, "shutdown");
      return;
    }
    if (this.queued + entry.count > this.options.maxQueueSpans) {
      this.events.dropped(entry.count, "queue_full");
      return;
    }
    this.queue.push(entry);
    this.queued += entry.count;
    // Never on the caller's stack: building and encoding a batch is the background's work, not the
    // request's that happened to fill it.
    if (this.queued >= this.options.maxBatchSpans) this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.kick();
    });
    else this.timer ??= setTimeout(() => this.kick(), this.options.flushIntervalMs).unref();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      if (this.queued > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.queued >= this.options.maxBatchSpans ? 0 : this.options.flushIntervalMs).unref();
    });
  }

  /** Takes whole requests' spans up to a batch (at least one request), built now. */
  private take(max: number): ReadableSpan[] {
    const batch: ReadableSpan[] = [];
    while (this.queue.length > 0 && (batch.length === 0 || batch.length + this.queue[0]!.count <= max)) {
      const entry = this.queue.shift()!;
      this.queued -= entry.count;
      try {
        for (const span of entry.build()) batch.push(span);
      } catch {
        this.events.dropped(entry.count, "build_failed");
      }
    }
    return batch;
  }

  private async drain(): Promise<void> {
    while (this.queued > 0) {
      const batch = this.take(this.options.maxBatchSpans);
      if (batch.length > 0) await this.sendWithRetries(batch);
      if (this.queued < this.options.maxBatchSpans && !this.closed) return;
    }
  }

  private async sendWithRetries(batch: ReadableSpan[]): Promise<void> {
    let backoff = this.options.initialBackoffMs;
    this.sendingSpans = batch.length;
    try {
      await this.retryLoop(batch, backoff);
    } finally {
      this.sendingSpans = 0;
    }
  }

  private async retryLoop(batch: ReadableSpan[], backoff: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.send(batch).catch((error: unknown): SendResult => ({ ok: false, retryable: true, reason: String(error) }));
      if (result.ok) {
        this.events.exported(batch.length);
        return;
      }
      this.events.failed(result.reason);
      if (!result.retryable) {
        this.events.dropped(batch.length, "rejected");
        return;
      }
      if (attempt >= this.options.maxAttempts || this.closed) {
        this.events.dropped(batch.length, this.closed ? "shutdown" : "retries_exhausted");
        return;
      }
      const wait = Math.min(this.options.maxBackoffMs, Math.max(result.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2)));
      backoff = Math.min(this.options.maxBackoffMs, backoff * 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait).unref();
        this.cutBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.cutBackoff = undefined;
    }
  }

  /** Sends what is queued, for up to `deadlineMs`; what is left then is dropped (and counted). */
  async close(deadlineMs: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const flushed = (async () => {
      if (this.sending) await this.sending;
      this.closed = true;
      // One try per batch: the broker is stopping.
      while (this.queued > 0) {
        const batch = this.take(this.options.maxBatchSpans);
        this.sendingSpans = batch.length;
        const result = await this.send(batch).catch((error: unknown): SendResult => ({ ok: false, retryable: false, reason: String(error) }));
        this.sendingSpans = 0;
        if (result.ok) this.events.exported(batch.length);
        else this.events.dropped(batch.length, "shutdown");
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs).unref()));
    this.closed = true;
    this.cutBackoff?.();
    const outcome = await Promise.race([flushed.then(() => "done" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      const cut = this.queued + this.sendingSpans;
      this.queue = [];
      this.queued = 0;
      this.sendingSpans = 0;
      if (cut > 0) this.events.dropped(cut, "shutdown");
    }
  }
}
