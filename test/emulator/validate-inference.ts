// Checks on inferenceConfig and extended thinking, including Claude's rule that the last
// assistant turn of a tool loop keeps the signed thinking block it came with.

import type { ConverseRequestBody, Message, ThinkingConfig } from "./bedrock-request.js";
import { isRecord } from "./bedrock-request.js";
import type { ModelProfile } from "./model-profiles.js";
import type { ReasoningSigner } from "./reasoning-signature.js";
import { constraintViolated, invalid, messagesText, modelRejected } from "./validation-messages.js";

/** Returns the maxTokens in effect: the requested one, else the model's limit. */
export function validateInferenceConfig(config: unknown, model: ModelProfile): number {
  if (config === undefined) return model.maxOutputTokens;
  if (!isRecord(config)) throw invalid("The inferenceConfig field must be an object.");
  const { maxTokens, temperature, topP, stopSequences } = config;
  if (maxTokens !== undefined) {
    if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
      throw constraintViolated(maxTokens, "inferenceConfig.maxTokens", "Member must have value greater than or equal to 1");
    }
    if (maxTokens > model.maxOutputTokens) throw invalid(messagesText.maxTokensAboveLimit(model.maxOutputTokens));
  }
  checkUnitInterval(temperature, "inferenceConfig.temperature");
  checkUnitInterval(topP, "inferenceConfig.topP");
  if (stopSequences !== undefined && (!Array.isArray(stopSequences) || stopSequences.some((s) => typeof s !== "string"))) {
    throw invalid("The stopSequences field must be a list of strings.");
  }
  return typeof maxTokens === "number" ? maxTokens : model.maxOutputTokens;
}

function checkUnitInterval(value: unknown, path: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) throw constraintViolated(value, path, "Member must be a number");
  if (value < 0) throw constraintViolated(value, path, "Member must have value greater than or equal to 0");
  if (value > 1) throw constraintViolated(value, path, "Member must have value less than or equal to 1");
}

export interface ThinkingCheck {
  thinking: ThinkingConfig;
  model: ModelProfile;
  maxTokens: number;
  forcesToolUse: boolean;
  signer: ReasoningSigner;
}

export function validateThinking(body: ConverseRequestBody, check: ThinkingCheck): void {
  const { thinking, model, maxTokens } = check;
  if (!model.supportsThinking) throw modelRejected(messagesText.thinkingUnsupported);
  const budget = thinking.budget_tokens;
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1024) {
    throw modelRejected(messagesText.thinkingBudgetTooSmall);
  }
  if (budget >= maxTokens) throw modelRejected(messagesText.thinkingBudgetNotBelowMax);
  const temperature = body.inferenceConfig?.temperature;
  if (temperature !== undefined && temperature !== 1) throw modelRejected(messagesText.thinkingTemperature);
  if (body.inferenceConfig?.topP !== undefined) throw modelRejected(messagesText.thinkingTopP);
  if (check.forcesToolUse) throw modelRejected(messagesText.thinkingForcedTool);
  checkLastAssistantThinking(body.messages ?? [], check.signer);
}

function checkLastAssistantThinking(messages: Message[], signer: ReasoningSigner): void {
  let index = messages.length - 1;
  while (index >= 0 && messages[index]?.role !== "assistant") index -= 1;
  const content = messages[index]?.content ?? [];
  if (!content.some((block) => block.toolUse !== undefined)) return;
  const at = `messages.${index}.content.0`;
  const first = content[0];
  const reasoning = first?.reasoningContent?.reasoningText;
  if (reasoning === undefined) {
    if (first?.reasoningContent?.redactedContent !== undefined) return;
    throw modelRejected(messagesText.thinkingBlockMissing(at, blockTypeName(first)));
  }
  const { text, signature } = reasoning;
  if (typeof text !== "string" || typeof signature !== "string" || !signer.verify(text, signature)) {
    throw modelRejected(messagesText.thinkingSignatureInvalid(at));
  }
}

/** The Anthropic name of a Converse block, as their messages quote it. */
function blockTypeName(block: Record<string, unknown> | undefined): string {
  if (block === undefined) return "nothing";
  if (block.toolUse !== undefined) return "tool_use";
  if (block.toolResult !== undefined) return "tool_result";
  if (block.image !== undefined) return "image";
  if (block.document !== undefined) return "document";
  return "text";
}
