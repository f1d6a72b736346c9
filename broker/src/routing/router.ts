// Which deployment serves a request, and what happens when it can't: the requested model's
// deployments in its strategy's order (skipping those cooling down), then its `fallbacks`; input too
// long for the model → its `contextFallbacks`. A model the user may not use is never tried, and a
// fallback model must pass the user's limits for that model (the caller's gate) before it is tried.
import type { Deployment, ModelPolicy, Policy, UserPolicy } from "@tollgate/shared";
import { bedrockErrorToApiError, bedrockRetryAfterMs, type DeploymentRef } from "../bedrock/errors.js";
import type { BedrockRequest } from "../bedrock/request/index.js";
import { ApiError } from "../errors.js";
import { AttemptSignal } from "./attempt-signal.js";
import type { DeploymentHealth, DeploymentHealthRegistry } from "./deployment-health.js";
import { failureKind } from "./failure-kind.js";
import { orderDeployments, type Random } from "./order-deployments.js";
import type { AttemptRecord } from "../telemetry/request-trace.js";

export interface RouteTarget {
  model: ModelPolicy;
  deployment: Deployment;
  translated: BedrockRequest;
  ref: DeploymentRef;
}

export interface RouteRequest {
  policy: Policy;
  user: UserPolicy;
  /** The model the client asked for, already checked against the user's policy. */
  requested: ModelPolicy;
  /** The request translated for `requested` (translation errors were the client's 400 already). */
  translated: BedrockRequest;
  /** Translates the request for a fallback model; throws an ApiError when that model can't take it. */
  translate(model: ModelPolicy): BedrockRequest;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Filled with one record per deployment tried, for the request's trace. */
  attempts?: AttemptRecord[] | undefined;
}

/** Where a request that failed last was tried: for its ledger row. */
export interface FailedRouting {
  model: string;
  deployment: string;
  /** Failed attempts before the last one. */
  fallbacks: number;
}

const failedRouting = new WeakMap<ApiError, FailedRouting>();

/** Which deployment an error thrown by `Router.run` came from, if it came from one. */
export function routingOf(error: unknown): FailedRouting | undefined {
  return ApiError.is(error) ? failedRouting.get(error) : undefined;
}

/** Moves the request's limits to a fallback model before it is tried; an ApiError refuses it. */
export type ModelGate = (model: ModelPolicy, translated: BedrockRequest) => Promise<ApiError | undefined>;

/** An attempt in progress on one deployment; the caller reports how it ends. */
export interface Lease {
  target: RouteTarget;
  /** Failed attempts before this one. */
  fallbacks: number;
  attempt: AttemptSignal;
  /** This attempt in the request's trace. */
  record: AttemptRecord;
  /** The attempt succeeded (first token, or the whole answer), so later requests may prefer it. */
  succeeded(): void;
  /** The deployment failed after the first byte (mid-stream error, stall): counts for its health. */
  failed(error: ApiError): void;
  /** The attempt is over (success, failure or cancel): frees its in-flight count. Idempotent. */
  end(): void;
}

/**
 * Runs `attempt` on one target after another until one succeeds. `attempt` resolves once the
 * deployment has answered well enough to commit to it (for streams: the first token) and must throw
 * before anything reached the client, so that failing over is still possible.
 */
export class Router {
  constructor(
    private readonly health: DeploymentHealthRegistry,
    private readonly random: Random = Math.random,
  ) {}

  async run<T>(request: RouteRequest, gate: ModelGate, attempt: (lease: Lease) => Promise<T>): Promise<{ value: T; lease: Lease }> {
    const { requested } = request;
    let sequence: readonly string[] = [requested.name, ...requested.routing.fallbacks];
    let contextSwitched = false;
    let admittedModel = requested.name;
    let failures = 0;
    let lastError: ApiError | undefined;
    /** Deployments skipped because they were cooling down, with what trying one would need. */
    const cooling: Array<{ model: ModelPolicy; deployment: Deployment; translated: BedrockRequest; health: DeploymentHealth }> = [];

    /** Moves the request's limits to `model` if it is not the admitted one; false when refused. */
    const admit = async (model: ModelPolicy, translated: BedrockRequest): Promise<boolean> => {
      if (model.name === admittedModel) return true;
      const refused = await gate(model, translated);
      if (refused) {
        lastError ??= refused;
        return false;
      }
      admittedModel = model.name;
      return true;
    };

    /** One attempt; "next" to go on to the next deployment, "too_long" to move to the context fallbacks. */
    const tryOn = async (model: ModelPolicy, deployment: Deployment, translated: BedrockRequest): Promise<{ value: T; lease: Lease } | "next" | "too_long"> => {
      const target = targetOf(model, deployment, translated);
      const lease = this.lease(target, failures, request.signal, request.attempts);
      try {
        return { value: await attempt(lease), lease };
      } catch (error) {
        const apiError = attemptError(error, lease.attempt, target.ref);
        lease.record.errorCode ??= apiError.code;
        lease.end();
        failedRouting.set(apiError, { model: model.name, deployment: deployment.id, fallbacks: failures });
        if (lease.attempt.cancelledByClient) throw apiError;
        const kind = failureKind(apiError.code);
        if (kind === "final") throw apiError;
        failures++;
        lastError = apiError;
        if (kind === "too_long") return "too_long";
        lease.failed(apiError);
        return "next";
      }
    };

    for (let index = 0; index < sequence.length; index++) {
      const model = index === 0 ? requested : request.policy.models.get(sequence[index]!);
      // A fallback never takes a user to a model their policy denies (or one no longer in the policy).
      if (!model || !request.user.models.has(model.name)) continue;
      let translated: BedrockRequest;
      try {
        translated = model === requested ? request.translated : request.translate(model);
      } catch (error) {
        lastError ??= ApiError.is(error) ? error : undefined;
        continue;
      }
      const order = orderDeployments(model, this.health, this.health.now(), this.random);
      for (const deployment of model.route) {
        if (!order.includes(deployment)) cooling.push({ model, deployment, translated, health: this.health.of(model.name, deployment.id) });
      }
      if (order.length === 0) continue;
      if (!(await admit(model, translated))) continue;

      for (const deployment of order) {
        // Another request may have found it throttled while this one tried the previous deployment.
        const health = this.health.of(model.name, deployment.id);
        if (health.isCooling(this.health.now())) {
          cooling.push({ model, deployment, translated, health });
          continue;
        }
        const outcome = await tryOn(model, deployment, translated);
        if (outcome === "next") continue;
        if (outcome === "too_long") {
          // Larger-context models only, once; the throttling fallbacks would be too short as well.
          if (!contextSwitched) sequence = [...sequence.slice(0, index + 1), ...requested.routing.contextFallbacks];
          contextSwitched = true;
          break;
        }
        return outcome;
      }
    }
    if (lastError) throw lastError;
    // Nothing was tried: every deployment that could serve is cooling down. A cool-down is the
    // broker's own guess of when a deployment recovers, so rather than refuse everyone until it
    // ends, ask Bedrock on the one whose cool-down ends first, unless Bedrock itself said when to
    // come back (its retry-after).
    const now = this.health.now();
    const candidate = cooling.filter((c) => c.health.retryAfterUntil <= now).sort((a, b) => a.health.coolingUntil - b.health.coolingUntil)[0];
    if (candidate && (await admit(candidate.model, candidate.translated))) {
      const outcome = await tryOn(candidate.model, candidate.deployment, candidate.translated);
      if (typeof outcome !== "string") return outcome;
    }
    throw lastError ?? allCoolingDown(requested, cooling.map((c) => c.health), now);
  }

  private lease(target: RouteTarget, fallbacks: number, parent: AbortSignal, attempts: AttemptRecord[] | undefined): Lease {
    const health = this.health.of(target.model.name, target.deployment.id);
    const started = this.health.now();
    const record: AttemptRecord = {
      model: target.model.name,
      deployment: target.deployment.id,
      modelId: target.deployment.modelId,
      region: target.deployment.region,
      roleArn: target.deployment.role?.arn,
      startedAt: Date.now(),
      endedAt: undefined,
      errorCode: undefined,
    };
    attempts?.push(record);
    const attempt = new AttemptSignal(parent);
    let ended = false;
    let reported = false;
    health.inFlight++;
    return {
      target,
      fallbacks,
      attempt,
      record,
      succeeded: () => {
        if (reported) return;
        reported = true;
        const now = this.health.now();
        health.succeeded(now, now - started);
      },
      failed: (error) => {
        reported = true;
        record.errorCode ??= error.code;
        const now = this.health.now();
        health.failed(now, now - started, { code: error.code, message: error.message, retryAfterMs: bedrockRetryAfterMs(error) }, target.model.routing.cooldown);
      },
      end: () => {
        if (ended) return;
        ended = true;
        record.endedAt = Date.now();
        health.inFlight--;
        attempt.dispose();
      },
    };
  }
}

function targetOf(model: ModelPolicy, deployment: Deployment, translated: BedrockRequest): RouteTarget {
  return {
    model,
    deployment,
    translated,
    ref: { model: model.name, id: deployment.id, modelId: deployment.modelId, region: deployment.region, roleArn: deployment.role?.arn },
  };
}

/** The ApiError an attempt's failure means; a deadline that fired is a timeout, not a cancel. */
export function attemptError(error: unknown, attempt: AttemptSignal, ref: DeploymentRef): ApiError {
  if (attempt.timedOut !== undefined && !attempt.cancelledByClient) {
    return new ApiError({
      status: 504,
      type: "timeout_error",
      code: "upstream_timeout",
      message: `Amazon Bedrock sent no ${attempt.timedOut} for model ${ref.model} (deployment ${ref.id} in ${ref.region}).`,
      cause: error,
    });
  }
  return bedrockErrorToApiError(error, ref);
}

/**
 * Every deployment that could serve is cooling down under Bedrock's own retry-after (or none could
 * be tried): say when the first comes back.
 */
function allCoolingDown(requested: ModelPolicy, cooling: readonly DeploymentHealth[], now: number): ApiError {
  const told = cooling.map((h) => h.retryAfterUntil).filter((t) => t > now);
  const guessed = cooling.map((h) => h.coolingUntil).filter((t) => t > now);
  const until = told.length > 0 ? Math.min(...told) : guessed.length > 0 ? Math.min(...guessed) : now + 1000;
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  const throttled = cooling.some((h) => h.coolingCause !== undefined && failureKind(h.coolingCause) === "throttled");
  const names = [...new Set(cooling.map((h) => `${h.model}/${h.deployment}`))].join(", ");
  return new ApiError({
    status: throttled ? 429 : 503,
    type: throttled ? "rate_limit_exceeded" : "upstream_error",
    code: throttled ? "upstream_throttled" : "upstream_unavailable",
    message: `Every Amazon Bedrock deployment that can serve ${requested.name} is cooling down after throttling or failures (${names || "none available"}); retry in ${seconds} s.`,
    headers: { "retry-after": String(seconds) },
  });
}
