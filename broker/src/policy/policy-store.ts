// Holds the policy in force. Requests read it once at their start, so a later swap never changes the
// rules under a request already in flight. Behind an interface so a fleet can share it later.
import type { Policy } from "@tollgate/shared";

export interface ActivePolicy extends Policy {
  /** Unix seconds when this policy started serving. */
  loadedAtSeconds: number;
}

export interface PolicyStore {
  current(): ActivePolicy;
}

export class MemoryPolicyStore implements PolicyStore {
  private active: ActivePolicy;

  constructor(initial: Policy) {
    this.active = { ...initial, loadedAtSeconds: Math.floor(Date.now() / 1000) };
  }

  current(): ActivePolicy {
    return this.active;
  }

  replace(next: Policy): void {
    this.active = { ...next, loadedAtSeconds: Math.floor(Date.now() / 1000) };
  }
}
