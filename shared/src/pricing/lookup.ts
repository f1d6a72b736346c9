import { MODEL_CATALOGUE, type CatalogueEntry } from "./catalogue.js";
import { parseBedrockModelId } from "./model-id.js";
import type { KnownModel, ModelIdScope } from "./types.js";

const BY_BASE_ID: ReadonlyMap<string, CatalogueEntry> = new Map(
  MODEL_CATALOGUE.map((entry) => [entry.baseModelId, entry]),
);

/**
 * The built-in facts for a Bedrock model id, priced for that exact id (geographic profiles of newer
 * Claude models cost more than `global.`). Undefined for application inference profiles and ids not
 * in the catalogue: the policy must then say what the model costs.
 */
export function lookupModel(modelId: string): KnownModel | undefined {
  const parsed = parseBedrockModelId(modelId);
  if (parsed === undefined) return undefined;
  const entry = BY_BASE_ID.get(parsed.baseModelId);
  return entry === undefined ? undefined : toKnownModel(entry, parsed.scope);
}

/** Every catalogue model as reached by its base id. */
export function listKnownModels(): KnownModel[] {
  return MODEL_CATALOGUE.map((entry) => toKnownModel(entry, "base"));
}

// Fresh copies, so callers can't mutate the shared catalogue.
function toKnownModel(entry: CatalogueEntry, scope: ModelIdScope): KnownModel {
  const pricing = scope === "geographic" && entry.geographicPricing ? entry.geographicPricing : entry.pricing;
  return {
    baseModelId: entry.baseModelId,
    displayName: entry.displayName,
    provider: entry.provider,
    scope,
    pricing: { ...pricing },
    contextWindow: entry.contextWindow,
    maxOutputTokens: entry.maxOutputTokens,
    capabilities: { ...entry.capabilities },
  };
}
