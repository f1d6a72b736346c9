// Where a request meets the org's limits and the ledger: admission before Bedrock is called, and
// afterwards the real usage settled against the limits and committed to the ledger — before the
// client sees the response complete.
import { costPicoUsd, type ModelPolicy, type Policy, type Pricing, type UserPolicy } from "@tollgate/shared";
import type { BedrockRequest } from "../bedrock/request/index.js";
import type { CallOutcome, PreparedChat } from "../chat/chat-service.js";
import { ApiError } from "../errors.js";
import type { UsageLedger, UsageRecord, UsageStatus } from "../ledger/types.js";
import {
  ledgerScopes,
  scopeLabel,
  type AdmissionRequest,
  type LimitStore,
  type RateLimitHeaders,
  type Rejection,
  type ScopedLimits,
  type Ticket,
} from "../limits/index.js";
import { estimateInputTokens } from "./estimate.js";
import { spendSincePeriodStarts } from "./restore.js";

export interface Admitted {
  ticket: Ticket;
  headers: RateLimitHeaders;
}

/** The limit sets a request by `user` for `model` is checked against: user, team, team × model. */
export function scopedLimitsFor(policy: Policy, user: UserPolicy, model: string): ScopedLimits[] {
  const team = policy.teams.get(user.team);
  const scopes = ledgerScopes({ user: user.name, team: user.team, model });
  return scopes.map((scope) => {
    const limits =
      scope.kind === "user" ? user.limits : scope.kind === "team" ? (team?.limits ?? {}) : (team?.modelLimits.get(model) ?? {});
    return { scope, label: scopeLabel(scope), limits };
  });
}

export class Meter {
  /** Requests settled against the limits whose ledger row is not committed yet. */
  private committing = 0;
  private readonly onAllCommitted: Array<() => void> = [];
  /** A time-zone change in progress: settles wait for it, so no spend is counted twice or lost. */
  private rebasing: Promise<void> | undefined;
  /** Told of every refusal by a limit or budget (metrics). */
  onRefusal: ((rejection: Rejection, user: UserPolicy) => void) | undefined;

  constructor(
    private readonly limits: LimitStore,
    private readonly ledger: UsageLedger,
    /** Why requests can't be accounted now (the ledger can't write, ...); while it says so, nothing is served. */
    private readonly admissionBlocker: () => ApiError | undefined = () => undefined,
    /** The limits store's clock (tests inject one). */
    private readonly now: () => number = Date.now,
    /** A shared store's settle failed after the response was sent (its reservation then lapses with the lease). */
    private readonly onSettleFailed: (error: unknown) => void = () => undefined,
  ) {}

  /** Admits the request against every applicable limit, or throws the 429 / 402 / 503 the client sees. */
  async admit(policy: Policy, user: UserPolicy, prepared: PreparedChat): Promise<Admitted> {
    const blocked = this.admissionBlocker();
    if (blocked) throw blocked;
    const admission = await this.limits.admit(admissionRequest(policy, user, prepared.call.model.name, prepared.translated, prepared.deployment.pricing));
    if (admission.ok) return { ticket: admission.ticket, headers: admission.headers };
    this.onRefusal?.(admission, user);
    throw refusal(admission);
  }

  /**
   * Moves a request in flight to a fallback model's limits (the team's limits for that model; tokens
   * and cost at its price). Returns the new ticket, or the refusal (the old ticket then still holds).
   */
  async transfer(policy: Policy, user: UserPolicy, ticket: Ticket, model: ModelPolicy, translated: BedrockRequest): Promise<Ticket | ApiError> {
    const pricing = model.route[0]?.pricing;
    if (!pricing) return new ApiError({ status: 503, type: "server_error", code: "no_deployment", message: `model ${model.name} has no deployment` });
    const admission = await this.limits.transfer(ticket, admissionRequest(policy, user, model.name, translated, pricing));
    if (admission.ok) return admission.ticket;
    this.onRefusal?.(admission, user);
    return refusal(admission);
  }

  /**
   * Settles the limits with what Bedrock reported and commits the ledger row. Resolves once the row
   * is durable; the caller finishes the response only after that. The in-memory store has settled by
   * then; a shared store's settle may land a moment later.
   */
  async finish(ticket: Ticket, row: Omit<UsageRecord, "costPicoUsd" | "inputTokens" | "cacheReadTokens" | "cacheWriteTokens" | "outputTokens">, outcome: CallOutcome | undefined): Promise<void> {
    const usage = outcome?.usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    // At the price of the deployment that served (a fallback's, after failing over).
    const cost = outcome ? costPicoUsd(usage, outcome.deployment.pricing) : 0;
    const tokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens + usage.outputTokens;
    while (this.rebasing) await this.rebasing;
    // Counted as committing from before the settle: whoever waits for every settled row to be in the
    // ledger (a time-zone move, a shared store's rebuild) then also waits for this one.
    this.committing++;
    let settled: void | Promise<void>;
    let appended: Promise<void>;
    try {
      settled = this.limits.settle(ticket, { tokens, costPicoUsd: cost });
      appended = this.ledger.append({ ...row, ...usage, costPicoUsd: cost });
    } catch (error) {
      this.committed();
      throw error;
    }
    if (!(settled instanceof Promise)) {
      // The in-memory store answers at once: no extra hop.
      try {
        await appended;
      } finally {
        this.committed();
      }
      return;
    }
    // A shared store's round trip (Redis) is not waited for: the request's reservation keeps its
    // place in the limits until the settle lands, and the row is committed whatever the settle's fate.
    // Still counted as committing until both are done, for whoever waits on every settled row.
    void Promise.allSettled([settled, appended]).then(([settle]) => {
      this.committed();
      if (settle.status === "rejected") this.onSettleFailed(settle.reason);
    });
    await appended;
  }

  private committed(): void {
    if (--this.committing === 0) for (const wake of this.onAllCommitted.splice(0)) wake();
  }

  /**
   * Moves the budgets to the day and month of `timeZone` (a policy push changed it), with the spend the
   * ledger holds for those periods. Settles wait meanwhile, and it waits for the rows already settled
   * to be committed, so every request is counted exactly once: in the ledger, or still in flight.
   */
  async changeTimeZone(timeZone: string): Promise<void> {
    while (this.rebasing) await this.rebasing;
    let done = (): void => undefined;
    this.rebasing = new Promise<void>((resolve) => (done = resolve));
    try {
      await this.allCommitted();
      await this.limits.rebase(timeZone, await spendSincePeriodStarts(this.ledger, timeZone, this.now()));
    } finally {
      this.rebasing = undefined;
      done();
    }
  }

  /** The request was refused before it reached Bedrock: nothing was used, nothing is recorded. */
  async release(ticket: Ticket): Promise<void> {
    await this.limits.release(ticket);
  }

  /** Resolves once every request settled so far has its ledger row committed (or failed to). */
  allCommitted(): Promise<void> {
    if (this.committing === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.onAllCommitted.push(resolve));
  }
}

function admissionRequest(policy: Policy, user: UserPolicy, model: string, translated: BedrockRequest, pricing: Pricing): AdmissionRequest {
  const inputTokens = estimateInputTokens(translated.body);
  return {
    scopes: scopedLimitsFor(policy, user, model),
    estimatedTokens: inputTokens + translated.maxTokens,
    estimatedCostPicoUsd: costPicoUsd({ inputTokens, outputTokens: translated.maxTokens, cacheReadTokens: 0, cacheWriteTokens: 0 }, pricing),
  };
}

/** The 429 (rate limit, retry later) or 402 (budget, don't retry) for a refused admission. */
function refusal(admission: Rejection): ApiError {
  const headers: Record<string, string> = { ...(admission.headers as Record<string, string>) };
  const limit = { name: admission.limit, scope: admission.scopeLabel };
  if (admission.kind === "rate_limit") {
    headers["retry-after"] = String(admission.retryAfterSeconds);
    return new ApiError({ status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded", message: admission.message, headers, limit });
  }
  // Budgets don't come back by retrying: a status the OpenAI client and Cline don't retry.
  headers["x-should-retry"] = "false";
  return new ApiError({ status: 402, type: "budget_exceeded", code: "budget_exceeded", message: admission.message, headers, limit });
}

/** The 503 while the local ledger cannot write: nothing is served unaccounted. */
export function ledgerUnavailable(): ApiError {
  return new ApiError({
    status: 503,
    type: "server_error",
    code: "ledger_unavailable",
    message: "The broker cannot record usage right now (its data dir is not writable), so it serves no requests until it can. Your Tollgate admin should check the broker's data dir.",
    headers: { "retry-after": "5" },
  });
}

export function statusOf(httpStatus: number, cancelled: boolean): UsageStatus {
  if (cancelled) return "cancelled";
  return httpStatus >= 200 && httpStatus < 300 ? "ok" : "error";
}
