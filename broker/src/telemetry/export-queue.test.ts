import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SpanExportQueue, type DropReason, type ExportQueueOptions } from "./export-queue.js";
import type { SendResult } from "./otlp-sender.js";

const span = (name: string): ReadableSpan => ({ name }) as unknown as ReadableSpan;

function harness(results: SendResult[], options: Partial<ExportQueueOptions> = {}) {
  const sent: string[][] = [];
  const dropped: Array<[number, DropReason]> = [];
  let exported = 0;
  const failures: string[] = [];
  const queue = new SpanExportQueue(
    async (spans) => {
      sent.push(spans.map((s) => s.name));
      return results.shift() ?? { ok: true };
    },
    { exported: (n) => (exported += n), dropped: (n, reason) => dropped.push([n, reason]), failed: (reason) => failures.push(reason) },
    { maxQueueSpans: 4, maxBatchSpans: 2, flushIntervalMs: 1000, maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1000, ...options },
  );
  return { queue, sent, dropped, failures, exported: () => exported };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SpanExportQueue", () => {
  it("sends a full batch at once and a partial one after the flush interval", async () => {
    vi.useFakeTimers();
    const { queue, sent, exported } = harness([]);
    queue.enqueue([span("a"), span("b")]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([["a", "b"]]);
    queue.enqueue([span("c")]);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([["a", "b"], ["c"]]);
    expect(exported()).toBe(3);
  });

  it("drops (and counts) spans that do not fit while a backend is down, and keeps what it holds", async () => {
    vi.useFakeTimers();
    const down: SendResult = { ok: false, retryable: true, reason: "ECONNREFUSED" };
    const { queue, dropped, sent } = harness([down, down, down], { maxQueueSpans: 3 });
    queue.enqueue([span("a"), span("b")]); // sent (and failing) at once
    await vi.advanceTimersByTimeAsync(0);
    queue.enqueue([span("c"), span("d")]);
    queue.enqueue([span("e"), span("f")]);
    expect(dropped).toEqual([[2, "queue_full"]]);
    expect(queue.depth).toBe(2);
    // Retries with backoff (100 ms, then 200 ms, jittered down to half) until it gives up after 3 tries.
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.slice(0, 3)).toEqual([["a", "b"], ["a", "b"], ["a", "b"]]);
    expect(dropped).toContainEqual([2, "retries_exhausted"]);
  });

  it("retries a retryable failure and then delivers; an answer like 400 or 500 is not retried", async () => {
    vi.useFakeTimers();
    const { queue, sent, dropped, exported, failures } = harness([{ ok: false, retryable: true, reason: "HTTP 503", retryAfterMs: 300 }, { ok: true }, { ok: false, retryable: false, reason: "HTTP 500" }]);
    queue.enqueue([span("a"), span("b")]);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(299);
    expect(sent).toHaveLength(1); // Retry-After is honoured
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    expect(exported()).toBe(2);
    queue.enqueue([span("c"), span("d")]);
    await vi.advanceTimersByTimeAsync(0);
    expect(dropped).toEqual([[2, "rejected"]]);
    expect(failures).toEqual(["HTTP 503", "HTTP 500"]);
  });

  it("on close, sends what is queued, and counts what the deadline cuts off", async () => {
    const { queue, sent, exported } = harness([]);
    queue.enqueue([span("a")]);
    await queue.close(1000);
    expect(sent).toEqual([["a"]]);
    expect(exported()).toBe(1);
    const hung = new SpanExportQueue(() => new Promise<SendResult>(() => undefined), { exported: () => undefined, dropped: (n, reason) => drops.push([n, reason]), failed: () => undefined });
    const drops: Array<[number, DropReason]> = [];
    hung.enqueue([span("x")]);
    hung.enqueue([span("y")]);
    await hung.close(50);
    expect(drops.reduce((total, [n]) => total + n, 0)).toBe(2);
    hung.enqueue([span("z")]);
    expect(drops.at(-1)).toEqual([1, "shutdown"]);
  });
});
