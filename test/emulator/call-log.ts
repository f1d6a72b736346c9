// The record of Bedrock calls: a bounded ring for assertions, and running totals for benchmarks
// that make far more calls than the ring keeps.

import type { EmulatorTotals, RecordedCall, ReportedUsage } from "./types.js";

const KEPT_CALLS = 1000;

export class CallLog {
  readonly calls: RecordedCall[] = [];
  private sums: EmulatorTotals = emptyTotals();

  add(call: RecordedCall): void {
    this.calls.push(call);
    if (this.calls.length > KEPT_CALLS) this.calls.shift();
    this.sums.calls += 1;
  }

  reportUsage(call: RecordedCall, usage: ReportedUsage): void {
    call.usage = usage;
    this.sums.inputTokens += usage.inputTokens;
    this.sums.outputTokens += usage.outputTokens;
    this.sums.cacheReadInputTokens += usage.cacheReadInputTokens;
    this.sums.cacheWriteInputTokens += usage.cacheWriteInputTokens;
  }

  totals(): EmulatorTotals {
    return { ...this.sums };
  }

  clear(): void {
    // Same array object: callers may hold a reference to `calls`.
    this.calls.length = 0;
    this.sums = emptyTotals();
  }
}

function emptyTotals(): EmulatorTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
}
