// Polls on an interval; backs off (doubling, up to a ceiling) while the broker is unreachable, and
// can be nudged to run soon (after a request through the local endpoint finished).
export type PollOutcome = "ok" | "offline" | "error" | "idle";

export interface PollerOptions {
  intervalMs: () => number;
  run: () => Promise<PollOutcome>;
  maxBackoffMs?: number;
}

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private stopped = true;

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs within `delayMs` (sooner than the schedule), coalescing bursts. */
  nudge(delayMs = 250): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(delayMs);
  }

  /** The delay after an outcome: the interval, or a doubling backoff while offline. */
  nextDelay(outcome: PollOutcome): number {
    const interval = this.options.intervalMs();
    if (outcome !== "offline") {
      this.failures = 0;
      return interval;
    }
    this.failures++;
    // Offline: try again soon at first, then less and less often.
    const backoff = Math.min(this.options.maxBackoffMs ?? 5 * 60_000, Math.min(interval, 5000) * 2 ** (this.failures - 1));
    return backoff;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    let outcome: PollOutcome = "error";
    this.running = (async () => {
      try {
        outcome = await this.options.run();
      } catch {
        outcome = "error";
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.schedule(0);
      return;
    }
    this.schedule(this.nextDelay(outcome));
  }
}
