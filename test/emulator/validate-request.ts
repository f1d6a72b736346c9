// Validates a Converse request the way Bedrock and the model behind it would, so the broker's
// mistakes fail here exactly as they would in production.

import type { ConverseRequestBody } from "./bedrock-request.js";
import { enabledThinking, isRecord } from "./bedrock-request.js";
import type { ModelProfile } from "./model-profiles.js";
import type { ReasoningSigner } from "./reasoning-signature.js";
import { estimateInputTokens } from "./token-estimate.js";
import { validateInferenceConfig, validateThinking } from "./validate-inference.js";
import { validateMessages } from "./validate-messages.js";
import { validateSystem, validateToolConfig } from "./validate-prompt-parts.js";
import { invalid, messagesText, modelRejected } from "./validation-messages.js";

const MAX_CACHE_POINTS = 4;

export interface ValidatedRequest {
  body: ConverseRequestBody;
  maxTokens: number;
  inputTokens: number;
  cachePoints: number;
}

export interface ValidationContext {
  model: ModelProfile;
  signer: ReasoningSigner;
  contextWindowTokens: number;
}

/** Throws a ValidationException BedrockError on the first problem found. */
export function validateRequest(raw: unknown, context: ValidationContext): ValidatedRequest {
  const { model } = context;
  if (!isRecord(raw)) throw invalid("The request body must be a JSON object.");
  const body = raw as ConverseRequestBody;
  const messageFacts = validateMessages(body.messages);
  const systemCachePoints = validateSystem(body.system);
  const tools = validateToolConfig(body.toolConfig);
  if (messageFacts.usesToolBlocks && !tools.hasToolConfig) throw invalid(messagesText.toolConfigMissing);

  const cachePoints = messageFacts.cachePoints + systemCachePoints + tools.toolCachePoints;
  if (cachePoints > 0 && model.cacheMinTokens === undefined) throw invalid(messagesText.noPromptCaching);
  if (tools.toolCachePoints > 0 && !model.cachePointsInTools) throw invalid(messagesText.noCachePointInTools);
  if (cachePoints > MAX_CACHE_POINTS) throw modelRejected(messagesText.tooManyCachePoints(cachePoints));

  const maxTokens = validateInferenceConfig(body.inferenceConfig, model);
  const thinking = enabledThinking(body);
  if (thinking !== undefined) {
    validateThinking(body, { thinking, model, maxTokens, forcesToolUse: tools.forcesToolUse, signer: context.signer });
  }
  const inputTokens = estimateInputTokens(body);
  if (inputTokens > context.contextWindowTokens) throw invalid(messagesText.inputTooLong);
  return { body, maxTokens, inputTokens, cachePoints };
}
