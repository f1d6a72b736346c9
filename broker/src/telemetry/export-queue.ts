// Spans wait here, off the request path, until a background loop sends them in batches. The queue
// is bounded: when a backend is down for long, new spans are dropped and counted rather than
// held without limit. One batch is in flight at a time; failed batches are retried with backoff.
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { SendResult } from "./otlp-sender.js";

export type DropReason = "queue_full" | "rejected" | "retries_exhausted" | "shutdown";

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
  maxBatchSpans: 512,
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

export class SpanExportQueue {
  private queue: ReadableSpan[] = [];
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

  get depth(): number {
    return this.queue.length;
  }

  /** O(1) for the caller: never waits, never throws. */
  enqueue(spans: ReadableSpan[]): void {
    if (this.closed) {
      this.events.dropped(spans.length, "shutdown");
      return;
    }
    if (this.queue.length + spans.length > this.options.maxQueueSpans) {
      this.events.dropped(spans.length, "queue_full");
      return;
    }
    for (const span of spans) this.queue.push(span);
    if (this.queue.length >= this.options.maxBatchSpans) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.options.flushIntervalMs).unref();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.queue.length >= this.options.maxBatchSpans ? 0 : this.options.flushIntervalMs).unref();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatchSpans);
      await this.sendWithRetries(batch);
      if (this.queue.length < this.options.maxBatchSpans && !this.closed) return;
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
    const flushed = (async () => {
      if (this.sending) await this.sending;
      this.closed = true;
      if (this.queue.length > 0) {
        const rest = this.queue.splice(0);
        // One try each: the broker is stopping.
        for (let i = 0; i < rest.length; i += this.options.maxBatchSpans) {
          const batch = rest.slice(i, i + this.options.maxBatchSpans);
          this.sendingSpans = rest.length - i;
          const result = await this.send(batch).catch((error: unknown): SendResult => ({ ok: false, retryable: false, reason: String(error) }));
          this.sendingSpans = rest.length - i - batch.length;
          if (result.ok) this.events.exported(batch.length);
          else this.events.dropped(batch.length, "shutdown");
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs).unref()));
    this.closed = true;
    this.cutBackoff?.();
    const outcome = await Promise.race([flushed.then(() => "done" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      const cut = this.queue.splice(0).length + this.sendingSpans;
      this.sendingSpans = 0;
      if (cut > 0) this.events.dropped(cut, "shutdown");
    }
  }
}
