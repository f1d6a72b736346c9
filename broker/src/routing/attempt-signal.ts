// One attempt's abort signal: aborted when the client goes away (the parent signal) or when the
// attempt's current deadline passes (no first token, or a stream gone silent). `timedOut` tells the
// two apart, so a stuck deployment is failed over while a cancelled request is not.

export class AttemptSignal {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);
  /** Set when a deadline fired: what did not arrive in time, for the error message. */
  timedOut: string | undefined;

  constructor(private readonly parent: AbortSignal) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener("abort", this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelledByClient(): boolean {
    return this.parent.aborted;
  }

  /** (Re)starts the deadline: `what` must happen within `ms`. */
  arm(ms: number, what: string): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timedOut = `${what} within ${ms} ms`;
      this.controller.abort(new DOMException(this.timedOut, "TimeoutError"));
    }, ms);
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disarm();
    this.parent.removeEventListener("abort", this.onParentAbort);
  }
}
