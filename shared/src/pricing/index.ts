export type {
  GeographicPrefix,
  KnownModel,
  ModelCapabilities,
  ModelIdScope,
  ModelProvider,
  Pricing,
  TokenUsage,
} from "./types.js";
export { parseBedrockModelId, type ParsedModelId } from "./model-id.js";
export { listKnownModels, lookupModel } from "./lookup.js";
export {
  cacheSavingsPicoUsd,
  costPicoUsd,
  costUsd,
  picoUsdToUsd,
  priceToPicoUsdPerToken,
} from "./cost.js";
export { toOpenAiUsage, type OpenAiUsage } from "./openai-usage.js";
