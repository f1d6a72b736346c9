// One OpenAI chat request → the body of a Bedrock Converse / ConverseStream call.
import type { ConverseStreamCommandInput, InferenceConfiguration } from "@aws-sdk/client-bedrock-runtime";
import type { ChatCompletionRequest, ModelPolicy } from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";
import { MAX_CACHE_POINTS, placeCachePoints } from "./cache-points.js";
import { convertConversation } from "./messages.js";
import { planOutput } from "./reasoning.js";
import type { ReasoningStore } from "./reasoning-store.js";
import { translateTools } from "./tools.js";

export type ConverseBody = Omit<ConverseStreamCommandInput, "modelId">;

export interface BedrockRequest {
  body: ConverseBody;
  maxTokens: number;
  thinkingBudget: number | undefined;
  cachePoints: number;
  /** Thinking was wanted but dropped for this turn, because the signed thinking of the last tool turn is unknown. */
  thinkingDroppedForHistory: boolean;
}

export interface TranslateContext {
  reasoningStore: ReasoningStore;
}

export function toBedrockRequest(request: ChatCompletionRequest, model: ModelPolicy, context: TranslateContext): BedrockRequest {
  if (request.n != null && request.n > 1) throw invalidRequest("n > 1 is not supported; ask for one choice at a time.", "n");
  if (request.logprobs) throw invalidRequest("logprobs are not available from Bedrock.", "logprobs");
  if (request.response_format && request.response_format.type !== "text") {
    throw invalidRequest(`response_format "${request.response_format.type}" is not supported; describe the format in the prompt or use a tool.`, "response_format.type");
  }
  if (request.temperature != null && request.temperature > 1) {
    throw invalidRequest(`temperature is ${request.temperature}; Bedrock models accept 0 to 1.`, "temperature");
  }

  const maxTokensParam = request.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  const output = planOutput(model, request.reasoning_effort, request.max_completion_tokens ?? request.max_tokens, maxTokensParam);

  let conversation = convertConversation(request.messages, {
    vision: model.vision,
    thinking: output.thinkingBudget !== undefined,
    reasoningStore: context.reasoningStore,
    cacheControl: model.promptCaching.enabled,
  });
  let thinkingBudget = output.thinkingBudget;
  let thinkingDroppedForHistory = false;
  // Claude also refuses thinking while tool_choice forces a tool ("required" or a named one).
  const forcesTool = request.tool_choice === "required" || typeof request.tool_choice === "object";
  if (thinkingBudget !== undefined && (conversation.lastToolTurnLacksThinking || forcesTool)) {
    // Bedrock refuses a tool-use continuation with thinking on unless the last assistant turn keeps
    // its signed thinking block. Without it, this turn runs without thinking rather than failing.
    thinkingBudget = undefined;
    thinkingDroppedForHistory = conversation.lastToolTurnLacksThinking;
    conversation = convertConversation(request.messages, {
      vision: model.vision,
      thinking: false,
      reasoningStore: context.reasoningStore,
      cacheControl: model.promptCaching.enabled,
    });
  }

  const isAnthropic = model.route.some((deployment) => /anthropic|claude/i.test(deployment.modelId));
  const tools = translateTools(request.tools, request.tool_choice, request.parallel_tool_calls, conversation.messages, isAnthropic);

  let cachePoints = conversation.explicitCachePoints;
  if (cachePoints > MAX_CACHE_POINTS) {
    throw invalidRequest(`The request marks ${cachePoints} cache_control breakpoints; Bedrock allows at most ${MAX_CACHE_POINTS}.`, "messages");
  }
  if (cachePoints === 0 && model.promptCaching.enabled) {
    cachePoints = placeCachePoints(
      { tools: tools.toolConfig?.tools, system: conversation.system, messages: conversation.messages },
      { minTokens: model.promptCaching.minTokens, cacheTools: model.promptCaching.cacheTools },
    );
  }

  const inferenceConfig: InferenceConfiguration = { maxTokens: output.maxTokens };
  if (thinkingBudget === undefined) {
    // Claude requires the default sampling while thinking, so these only apply without it.
    if (request.temperature != null) inferenceConfig.temperature = request.temperature;
    if (request.top_p != null) inferenceConfig.topP = request.top_p;
  }
  const stop = typeof request.stop === "string" ? [request.stop] : (request.stop ?? []);
  const stopSequences = stop.filter((sequence) => sequence !== "");
  if (stopSequences.length > 0) inferenceConfig.stopSequences = stopSequences;

  const additional: Record<string, unknown> = {};
  if (thinkingBudget !== undefined) additional.thinking = { type: "enabled", budget_tokens: thinkingBudget };
  if (tools.anthropicToolChoice) additional.tool_choice = tools.anthropicToolChoice;

  const body: ConverseBody = {
    messages: conversation.messages,
    inferenceConfig,
    ...(conversation.system.length > 0 ? { system: conversation.system } : {}),
    ...(tools.toolConfig ? { toolConfig: tools.toolConfig } : {}),
    ...(Object.keys(additional).length > 0 ? { additionalModelRequestFields: additional as never } : {}),
  };
  return { body, maxTokens: output.maxTokens, thinkingBudget, cachePoints, thinkingDroppedForHistory };
}
