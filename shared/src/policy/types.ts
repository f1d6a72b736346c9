import type { Pricing } from "../pricing/types.js";
import type { PolicyFile } from "./schema.js";

export type ReasoningEffort = "none" | "low" | "medium" | "high";

/** One place a model can be invoked, with the price that applies to it. */
export interface Deployment {
  id: string;
  modelId: string;
  region: string;
  pricing: Pricing;
}

/** A model as the broker serves it: every default already resolved from the catalogue. */
export interface ModelPolicy {
  name: string;
  route: Deployment[];
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

export interface Policy {
  models: ReadonlyMap<string, ModelPolicy>;
  /** The validated file as written. */
  source: PolicyFile;
}

/** Something wrong with the policy file; `path` is JSON-path style, e.g. `models.x.route[0].region`. */
export interface PolicyProblem {
  path: string;
  message: string;
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };
