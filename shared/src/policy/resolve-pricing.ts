import type { Pricing } from "../pricing/types.js";
import type { DeploymentFacts, ModelDraft, ReportProblem } from "./draft.js";
import { formatJsonPath } from "./json-path.js";
import type { PricingEntry } from "./schema.js";

// Claude's cache prices relative to input; used when nothing better is known.
const DEFAULT_CACHE_READ_RATIO = 0.1;
const DEFAULT_CACHE_WRITE_RATIO = 1.25;

/**
 * Price per deployment, by route index. A policy `pricing` applies to every deployment; otherwise each
 * deployment gets the catalogue price for its exact modelId (us. and global. may differ). A deployment
 * with neither is a problem: it must never be costed at 0.
 */
export function resolveDeploymentPricing(
  modelName: string,
  draft: ModelDraft,
  facts: readonly DeploymentFacts[],
  report: ReportProblem,
): Map<number, Pricing> {
  const byIndex = new Map<number, Pricing>();
  if (draft.given("pricing")) {
    const given = draft.values.pricing;
    if (given === undefined) return byIndex; // invalid; zod has said why
    const pricing = completePricing(given, facts.find((f) => f.known !== undefined)?.known?.pricing);
    for (const f of facts) byIndex.set(f.index, pricing);
    return byIndex;
  }
  for (const f of facts) {
    if (f.known !== undefined) {
      byIndex.set(f.index, f.known.pricing);
    } else {
      report(
        ["route", f.index, "modelId"],
        `no built-in price for modelId "${f.modelId}"; add ${formatJsonPath(["models", modelName, "pricing"])}`,
      );
    }
  }
  return byIndex;
}

/**
 * Fills cacheRead/cacheWrite the policy left out. We scale the given input price by the catalogue's
 * cache ratios rather than copy the catalogue's absolute cache prices, so a negotiated input price
 * carries over to cached tokens consistently.
 */
export function completePricing(given: PricingEntry, catalogue: Pricing | undefined): Pricing {
  const readRatio = catalogue && catalogue.input > 0 ? catalogue.cacheRead / catalogue.input : DEFAULT_CACHE_READ_RATIO;
  const writeRatio =
    catalogue && catalogue.input > 0 ? catalogue.cacheWrite / catalogue.input : DEFAULT_CACHE_WRITE_RATIO;
  return {
    input: given.input,
    output: given.output,
    cacheRead: given.cacheRead ?? roundToMicroUsd(given.input * readRatio),
    cacheWrite: given.cacheWrite ?? roundToMicroUsd(given.input * writeRatio),
  };
}

// Costs are computed at micro-USD-per-1M precision anyway; rounding here keeps 0.1×3 at 0.3.
function roundToMicroUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
