// A Bedrock Converse answer → an OpenAI chat.completion.
import type { ConverseCommandOutput, ReasoningContentBlock } from "@aws-sdk/client-bedrock-runtime";
import type { ChatCompletion, ChatCompletionToolCall, Pricing, TokenUsage } from "@tollgate/shared";
import { costUsd, toOpenAiUsage } from "@tollgate/shared";
import type { ReasoningStore } from "../request/reasoning-store.js";
import { toFinishReason } from "./finish-reason.js";
import { fromBedrockUsage } from "./usage.js";

export interface CompletionContext {
  id: string;
  model: string;
  created: number;
  pricing: Pricing;
  reasoningStore: ReasoningStore;
}

export interface TranslatedCompletion {
  completion: ChatCompletion;
  usage: TokenUsage;
  stopReason: string | undefined;
}

export function toChatCompletion(output: ConverseCommandOutput, context: CompletionContext): TranslatedCompletion {
  let text = "";
  let reasoningText = "";
  const reasoning: ReasoningContentBlock[] = [];
  const toolCalls: ChatCompletionToolCall[] = [];
  for (const block of output.output?.message?.content ?? []) {
    if (block.text !== undefined) text += block.text;
    else if (block.reasoningContent) {
      reasoning.push(block.reasoningContent);
      reasoningText += block.reasoningContent.reasoningText?.text ?? "";
    } else if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId ?? "",
        type: "function",
        function: { name: block.toolUse.name ?? "", arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  const first = toolCalls[0];
  if (first && reasoning.length > 0) context.reasoningStore.remember(first.id, reasoning);

  const usage = fromBedrockUsage(output.usage);
  const completion: ChatCompletion = {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: context.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text === "" && toolCalls.length > 0 ? null : text,
          ...(reasoningText !== "" ? { reasoning_content: reasoningText } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: toFinishReason(output.stopReason),
        logprobs: null,
      },
    ],
    usage: toOpenAiUsage(usage, costUsd(usage, context.pricing)),
  };
  return { completion, usage, stopReason: output.stopReason };
}
