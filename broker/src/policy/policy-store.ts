// Holds the policy in force. Requests read it once at their start, so a later swap never changes the
// rules under a request already in flight. Behind an interface so a fleet can share it later.
import type { Policy } from "@tollgate/shared";

export interface ActivePolicy extends Policy {
  /** Unix seconds when this policy started serving. */
  loadedAtSeconds: number;
  /** Its version in the policy repository (0 when not persisted). */
  version: number;
}

export interface PolicyStore {
  current(): ActivePolicy;
}

export class MemoryPolicyStore implements PolicyStore {
  private active: ActivePolicy;
  private readonly listeners: Array<(next: ActivePolicy, previous: ActivePolicy) => void> = [];

  constructor(initial: Policy, version = 0) {
    this.active = { ...initial, loadedAtSeconds: Math.floor(Date.now() / 1000), version };
  }

  current(): ActivePolicy {
    return this.active;
  }

  /**
   * One assignment: requests that already read the old policy keep it until they finish. Versions
   * only move forward (in a fleet a push's own answer may arrive after a newer version's notice).
   */
  replace(next: Policy, version: number): void {
    const previous = this.active;
    if (version !== 0 && version < previous.version) return;
    this.active = { ...next, loadedAtSeconds: Math.floor(Date.now() / 1000), version };
    for (const listener of this.listeners) listener(this.active, previous);
  }

  /** Called after each replace, with the new and the previous policy. */
  onReplace(listener: (next: ActivePolicy, previous: ActivePolicy) => void): void {
    this.listeners.push(listener);
  }
}
