// What the broker has learnt about each deployment: requests in flight (for "least-busy"), whether
// it is cooling down after throttling or repeated failures, and recent error rate and latency (for
// GET /admin/deployments). Kept across policy pushes, keyed by model name and deployment id.
import type { DeploymentStatus, ModelRouting } from "@tollgate/shared";
import type { Clock } from "../limits/index.js";
import { failureKind } from "./failure-kind.js";

/** Outcomes older than this leave the recent statistics. */
export const RECENT_WINDOW_MS = 5 * 60_000;
const RECENT_CAP = 1_000;
/** Failures other than throttling cool a deployment down only after this many in a row. */
export const FAILURES_BEFORE_COOLDOWN = 3;

interface Outcome {
  at: number;
  ok: boolean;
  latencyMs: number;
}

export interface DeploymentFailure {
  /** The ApiError code the failure maps to (upstream_throttled, upstream_timeout, …). */
  code: string;
  message: string;
  /** Bedrock's retry-after, when it sent one. */
  retryAfterMs?: number | undefined;
}

/** A deployment's health as the admin API reports it (without where it is: the policy knows that). */
export type DeploymentState = Omit<DeploymentStatus, "modelId" | "region" | "roleArn">;

export class DeploymentHealth {
  inFlight = 0;
  consecutiveFailures = 0;
  coolingUntil = 0;
  /** What cooled it down last: tells a throttled pool (429) from a failing one (503). */
  coolingCause: string | undefined;
  /** Before this, Bedrock itself said not to retry (its retry-after): never tried early. */
  retryAfterUntil = 0;
  lastError: { code: string; message: string; at: number } | undefined;
  private lastFailureAt = -Infinity;
  private readonly recent: Outcome[] = [];

  constructor(
    readonly model: string,
    readonly deployment: string,
  ) {}

  isCooling(now: number): boolean {
    return now < this.coolingUntil;
  }

  succeeded(now: number, latencyMs: number): void {
    this.remember({ at: now, ok: true, latencyMs });
    // A call that was already on its way when the deployment failed says nothing about it since:
    // only one sent after the last failure ends the streak and the cool-down.
    if (now - latencyMs < this.lastFailureAt) return;
    this.consecutiveFailures = 0;
    this.coolingUntil = 0;
    this.retryAfterUntil = 0;
  }

  failed(now: number, latencyMs: number, failure: DeploymentFailure, cooldown: ModelRouting["cooldown"]): void {
    this.consecutiveFailures++;
    this.lastFailureAt = now;
    this.lastError = { code: failure.code, message: failure.message, at: now };
    this.remember({ at: now, ok: false, latencyMs });
    const throttled = failureKind(failure.code) === "throttled";
    if (!throttled && this.consecutiveFailures < FAILURES_BEFORE_COOLDOWN) return;
    // Doubles on each failure in a row (counted from the first that cools it down), capped.
    const repeats = throttled ? this.consecutiveFailures - 1 : this.consecutiveFailures - FAILURES_BEFORE_COOLDOWN;
    const grown = Math.min(cooldown.maxMs, cooldown.initialMs * 2 ** Math.min(repeats, 30));
    const ms = Math.min(cooldown.maxMs, Math.max(grown, failure.retryAfterMs ?? 0));
    this.coolingUntil = Math.max(this.coolingUntil, now + ms);
    this.coolingCause = failure.code;
    if (failure.retryAfterMs !== undefined) this.retryAfterUntil = Math.max(this.retryAfterUntil, now + failure.retryAfterMs);
  }

  state(now: number): DeploymentState {
    this.expire(now);
    const latencies = this.recent.filter((o) => o.ok).map((o) => o.latencyMs).sort((a, b) => a - b);
    const errors = this.recent.filter((o) => !o.ok).length;
    const cooling = this.isCooling(now);
    return {
      model: this.model,
      deployment: this.deployment,
      state: cooling ? "cooling_down" : "healthy",
      coolingDownUntil: cooling ? new Date(this.coolingUntil).toISOString() : null,
      inFlight: this.inFlight,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError ? { ...this.lastError, at: new Date(this.lastError.at).toISOString() } : null,
      recent: {
        windowSeconds: RECENT_WINDOW_MS / 1000,
        requests: this.recent.length,
        errors,
        errorRate: this.recent.length === 0 ? 0 : Number((errors / this.recent.length).toFixed(4)),
        latencyMsP50: percentile(latencies, 0.5),
        latencyMsP95: percentile(latencies, 0.95),
      },
    };
  }

  private remember(outcome: Outcome): void {
    this.recent.push(outcome);
    if (this.recent.length > RECENT_CAP) this.recent.shift();
    this.expire(outcome.at);
  }

  private expire(now: number): void {
    while (this.recent.length > 0 && this.recent[0]!.at < now - RECENT_WINDOW_MS) this.recent.shift();
  }
}

export class DeploymentHealthRegistry {
  private readonly byModel = new Map<string, Map<string, DeploymentHealth>>();

  constructor(readonly now: Clock = Date.now) {}

  of(model: string, deployment: string): DeploymentHealth {
    let deployments = this.byModel.get(model);
    if (!deployments) this.byModel.set(model, (deployments = new Map()));
    let health = deployments.get(deployment);
    if (!health) deployments.set(deployment, (health = new DeploymentHealth(model, deployment)));
    return health;
  }

}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]!);
}
