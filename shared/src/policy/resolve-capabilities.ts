import { describeDeployment, type DeploymentFacts, type ModelDraft, type ReportProblem } from "./draft.js";
import { DEFAULT_REASONING_BUDGETS } from "./schema.js";
import type { ModelPolicy } from "./types.js";

/*
 * Defaults come from the catalogue entry of every deployment in the route: a model is only as
 * capable as its weakest deployment, because any of them may serve a request after a fallback.
 * A deployment the catalogue doesn't know (application inference profile, new model) never vetoes
 * a capability, but then the policy must say explicitly what the catalogue would have said.
 */

type LimitField = "contextWindow" | "maxOutputTokens";

export function resolveLimit(
  field: LimitField,
  draft: ModelDraft,
  facts: readonly DeploymentFacts[],
  report: ReportProblem,
): number | undefined {
  const given = draft.values[field];
  if (given !== undefined || draft.given(field)) return given;
  const unknown = facts.find((f) => f.known === undefined);
  if (unknown !== undefined) {
    report([field], `is required because ${describeDeployment(unknown)} is not in the built-in catalogue`);
    return undefined;
  }
  const known = facts.flatMap((f) => (f.known === undefined ? [] : [f.known[field]]));
  return known.length === 0 ? undefined : Math.min(...known);
}

export function resolvePromptCaching(
  draft: ModelDraft,
  facts: readonly DeploymentFacts[],
  report: ReportProblem,
): ModelPolicy["promptCaching"] | undefined {
  const { values, given } = draft.promptCaching;
  const unable = facts.filter((f) => f.known !== undefined && !f.known.capabilities.promptCaching);
  const unknown = facts.filter((f) => f.known === undefined);
  if (values.enabled === true) {
    for (const f of unable) report(["promptCaching", "enabled"], `${describeDeployment(f)} cannot use prompt caching`);
  }
  const enabled = values.enabled ?? (facts.length > 0 && unable.length === 0 && unknown.length === 0);

  const catalogueMinimums = facts.flatMap((f) =>
    f.known?.capabilities.promptCaching === true ? [f.known.capabilities.cacheMinTokens] : [],
  );
  let minTokens = values.minTokens;
  if (minTokens === undefined && !given("minTokens")) {
    const firstUnknown = unknown[0];
    if (enabled && firstUnknown !== undefined) {
      report(
        ["promptCaching", "minTokens"],
        `is required when caching is enabled because ${describeDeployment(firstUnknown)} is not in the built-in catalogue`,
      );
    }
    minTokens = catalogueMinimums.length > 0 ? Math.max(...catalogueMinimums) : 0;
  }
  if (minTokens === undefined) return undefined;
  const cacheTools = enabled && facts.every((f) => f.known?.capabilities.cacheTools === true);
  return { enabled, minTokens, cacheTools };
}

export function resolveReasoning(
  draft: ModelDraft,
  facts: readonly DeploymentFacts[],
  maxOutputTokens: number | undefined,
  report: ReportProblem,
): ModelPolicy["reasoning"] | undefined {
  const { values, given } = draft.reasoning;
  const unable = facts.filter((f) => f.known !== undefined && !f.known.capabilities.reasoning);
  const defaultEffort = values.defaultEffort ?? "none";
  if (defaultEffort !== "none") {
    for (const f of unable) {
      report(
        ["reasoning", "defaultEffort"],
        `${describeDeployment(f)} does not support reasoning (extended thinking); use "none"`,
      );
    }
  }
  const allKnown = facts.every((f) => f.known !== undefined);
  // For models the catalogue doesn't know, writing a reasoning block is how the admin vouches for it.
  const supported = facts.length > 0 && unable.length === 0 && (allKnown || draft.given("reasoning"));

  if (given("budgets") && values.budgets === undefined) return undefined; // invalid; zod has said why
  const budgets = { ...DEFAULT_REASONING_BUDGETS, ...values.budgets };
  if (supported) checkBudgets(budgets, maxOutputTokens, values.budgets ?? {}, report);
  if (given("defaultEffort") && values.defaultEffort === undefined) return undefined;
  return { supported, defaultEffort, budgets };
}

/**
 * Budgets ordered and below maxOutputTokens. Each problem points at a value the admin wrote: a
 * default budget can't be fixed where it isn't written, so the problem goes to the written side.
 */
function checkBudgets(
  budgets: ModelPolicy["reasoning"]["budgets"],
  maxOutputTokens: number | undefined,
  written: Partial<ModelPolicy["reasoning"]["budgets"]>,
  report: ReportProblem,
): void {
  type Level = keyof typeof budgets;
  const isWritten = (level: Level): boolean => written[level] !== undefined;
  const describe = (level: Level) => (isWritten(level) ? `${budgets[level]}` : `the default ${level} budget (${budgets[level]})`);
  const ordered = (lower: Level, upper: Level): void => {
    if (budgets[upper] >= budgets[lower]) return;
    if (isWritten(upper) || !isWritten(lower)) {
      report(["reasoning", "budgets", upper], `${describe(upper)} must be at least budgets.${lower} (${budgets[lower]})`);
    } else {
      report(["reasoning", "budgets", lower], `${budgets[lower]} must be at most ${describe(upper)}; set budgets.${upper} too`);
    }
  };
  ordered("low", "medium");
  ordered("medium", "high");
  // Bedrock/Anthropic require budget_tokens < max_tokens, so no budget can reach maxOutputTokens.
  if (maxOutputTokens === undefined) return;
  for (const level of ["low", "medium", "high"] as const) {
    if (budgets[level] < maxOutputTokens) continue;
    if (isWritten(level)) {
      report(["reasoning", "budgets", level], `${budgets[level]} must be less than maxOutputTokens (${maxOutputTokens})`);
    } else {
      report(
        ["maxOutputTokens"],
        `${maxOutputTokens} must be more than the default ${level} reasoning budget (${budgets[level]}); raise it, or set reasoning.budgets.${level} below it`,
      );
    }
  }
}

export function resolveVision(facts: readonly DeploymentFacts[]): boolean {
  // Unknown deployments don't block images: Bedrock will say so if the model can't take them.
  return facts.every((f) => f.known === undefined || f.known.capabilities.vision);
}
