// Requests the broker has started and not yet accounted for. Shutdown waits on it, so a deploy lets
// streams finish and never closes the ledger under a request that still has a row to write.

export class InFlightRequests {
  private count = 0;
  private waiters: Array<() => void> = [];
  /** Set once shutdown begins: new requests are refused, /readyz fails. */
  draining = false;

  get size(): number {
    return this.count;
  }

  /** Counts `work` until it settles (either way). */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await work();
    } finally {
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves true once nothing is in flight, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }
}
