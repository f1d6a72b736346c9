import type { Pricing } from "../pricing/types.js";
import type { PolicyFile, RoutingStrategy } from "./schema.js";

export type ReasoningEffort = "none" | "low" | "medium" | "high";

/** One place a model can be invoked, with the price that applies to it. */
export interface Deployment {
  id: string;
  modelId: string;
  region: string;
  pricing: Pricing;
  /** Assumed (STS AssumeRole) for this deployment's calls; absent: the broker's own credentials. */
  role?: { arn: string; externalId?: string; sessionName: string };
  /** Relative share under the "weighted" strategy (default 1). */
  weight: number;
}

export interface ModelRouting {
  strategy: RoutingStrategy;
  /** Model names tried in order when every deployment failed; never transitive. */
  fallbacks: readonly string[];
  /** Model names tried in order when the input is too long for this model. */
  contextFallbacks: readonly string[];
  timeouts: { firstTokenMs: number; idleMs: number; responseMs: number };
  cooldown: { initialMs: number; maxMs: number };
}

/** A model as the broker serves it: every default already resolved from the catalogue. */
export interface ModelPolicy {
  name: string;
  route: Deployment[];
  routing: ModelRouting;
  contextWindow: number;
  maxOutputTokens: number;
  promptCaching: { enabled: boolean; minTokens: number; cacheTools: boolean };
  reasoning: {
    supported: boolean;
    defaultEffort: ReasoningEffort;
    budgets: { low: number; medium: number; high: number };
  };
  vision: boolean;
}

/** Usage limits; a field that is absent is not limited, 0 blocks. Budgets are in USD. */
export interface Limits {
  rpm?: number;
  tpm?: number;
  concurrent?: number;
  /** Per day, starting at midnight in `Policy.timezone`. */
  dailyUsd?: number;
  /** Per calendar month in `Policy.timezone`. */
  monthlyUsd?: number;
}

export interface TeamPolicy {
  name: string;
  /** Models the team's users may use; `["*"]` already expanded to every model of the policy. */
  models: ReadonlySet<string>;
  /** On the team as a whole: `defaults.teamLimits` overridden field by field by the team's `limits`. */
  limits: Limits;
  /** On the team as a whole for one model, by model name (any model of the policy, allowed or not). */
  modelLimits: ReadonlyMap<string, Limits>;
}

export interface UserPolicy {
  name: string;
  team: string;
  /** Effective: the team's models, narrowed by the user's own list when there is one. */
  models: ReadonlySet<string>;
  /** Effective: `defaults.userLimits` overridden field by field by the user's `limits`. */
  limits: Limits;
  /** Revoked: requests with this user's keys must be refused. */
  disabled: boolean;
  /** Lowercase hex SHA-256 of each key, without the `sha256:` prefix. */
  keyHashes: readonly string[];
}

export interface Policy {
  models: ReadonlyMap<string, ModelPolicy>;
  /** The validated file as written. */
  source: PolicyFile;
  /** IANA time zone of daily and monthly budgets, as written (default "UTC"). */
  timezone: string;
  teams: ReadonlyMap<string, TeamPolicy>;
  users: ReadonlyMap<string, UserPolicy>;
  /**
   * Hex SHA-256 of a key (see `hashApiKey`) → user name. Includes disabled users' keys, so a revoked
   * key can be told from an unknown one: check `UserPolicy.disabled` after the lookup.
   */
  userByKeyHash: ReadonlyMap<string, string>;
}

/** Something wrong with the policy file; `path` is JSON-path style, e.g. `models.x.route[0].region`. */
export interface PolicyProblem {
  path: string;
  message: string;
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };
