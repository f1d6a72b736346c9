// Bedrock ConverseStream events → OpenAI chat.completion.chunk objects, one event at a time, so
// every delta is forwarded the moment Bedrock sends it.
import type { ConverseStreamOutput, ReasoningContentBlock } from "@aws-sdk/client-bedrock-runtime";
import type { ChatCompletionChunk, ChatCompletionChunkDelta, FinishReason, Pricing, TokenUsage } from "@tollgate/shared";
import { costUsd, toOpenAiUsage } from "@tollgate/shared";
import type { ReasoningStore } from "../request/reasoning-store.js";
import { toFinishReason } from "./finish-reason.js";
import { NO_USAGE, fromBedrockUsage } from "./usage.js";

export interface StreamContext {
  id: string;
  model: string;
  created: number;
  pricing: Pricing;
  includeUsage: boolean;
  reasoningStore: ReasoningStore;
}

interface ToolBlock {
  index: number;
  id: string;
  sentArguments: boolean;
}

export class StreamTranslator {
  /** Usage as Bedrock reported it; stays zero until the metadata event arrives. */
  usage: TokenUsage = NO_USAGE;
  usageReported = false;
  stopReason: string | undefined;
  /** True once any content (text, reasoning or a tool call) has been produced. */
  producedContent = false;

  private readonly toolBlocks = new Map<number, ToolBlock>();
  private readonly toolCallIds: string[] = [];
  private readonly reasoning = new Map<number, { text: string; signature?: string; redacted?: Uint8Array }>();

  constructor(private readonly context: StreamContext) {}

  /** The chunks to send for one Bedrock event (often one, sometimes none). */
  translate(event: ConverseStreamOutput): ChatCompletionChunk[] {
    if (event.messageStart) return [this.chunk({ role: "assistant", content: "" })];

    if (event.contentBlockStart?.start?.toolUse) {
      const index = event.contentBlockStart.contentBlockIndex ?? 0;
      const { toolUseId = "", name = "" } = event.contentBlockStart.start.toolUse;
      // OpenAI counts tool calls from 0, whatever Bedrock's content block index is.
      const tool: ToolBlock = { index: this.toolCallIds.length, id: toolUseId, sentArguments: false };
      this.toolBlocks.set(index, tool);
      this.toolCallIds.push(toolUseId);
      this.producedContent = true;
      return [this.chunk({ tool_calls: [{ index: tool.index, id: toolUseId, type: "function", function: { name, arguments: "" } }] })];
    }

    if (event.contentBlockDelta) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0;
      const delta = event.contentBlockDelta.delta;
      if (delta?.text !== undefined) {
        if (delta.text === "") return [];
        this.producedContent = true;
        return [this.chunk({ content: delta.text })];
      }
      if (delta?.toolUse) {
        const tool = this.toolBlocks.get(index);
        const fragment = delta.toolUse.input ?? "";
        if (!tool || fragment === "") return [];
        tool.sentArguments = true;
        return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: fragment } }] })];
      }
      if (delta?.reasoningContent) {
        const block = this.reasoning.get(index) ?? { text: "" };
        this.reasoning.set(index, block);
        const reasoning = delta.reasoningContent;
        if (reasoning.signature !== undefined) block.signature = (block.signature ?? "") + reasoning.signature;
        if (reasoning.redactedContent !== undefined) block.redacted = reasoning.redactedContent;
        if (reasoning.text !== undefined && reasoning.text !== "") {
          block.text += reasoning.text;
          this.producedContent = true;
          return [this.chunk({ reasoning_content: reasoning.text })];
        }
      }
      return [];
    }

    if (event.contentBlockStop) {
      const tool = this.toolBlocks.get(event.contentBlockStop.contentBlockIndex ?? 0);
      // A tool without arguments streams no input at all; send "{}" so clients never replay "".
      if (tool && !tool.sentArguments) {
        tool.sentArguments = true;
        return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: "{}" } }] })];
      }
      return [];
    }

    if (event.messageStop) {
      this.stopReason = event.messageStop.stopReason;
      this.rememberReasoning();
      return [this.chunk({}, toFinishReason(this.stopReason))];
    }

    if (event.metadata) {
      this.usage = fromBedrockUsage(event.metadata.usage);
      this.usageReported = true;
      if (!this.context.includeUsage) return [];
      return [{ ...this.envelope(), choices: [], usage: toOpenAiUsage(this.usage, this.costUsd()) }];
    }
    return [];
  }

  costUsd(): number {
    return costUsd(this.usage, this.context.pricing);
  }

  private rememberReasoning(): void {
    const first = this.toolCallIds[0];
    if (!first || this.reasoning.size === 0) return;
    const blocks: ReasoningContentBlock[] = [...this.reasoning.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, block]) =>
        block.redacted !== undefined
          ? { redactedContent: block.redacted }
          : { reasoningText: { text: block.text, ...(block.signature !== undefined ? { signature: block.signature } : {}) } },
      );
    this.context.reasoningStore.remember(first, blocks);
  }

  private envelope(): Omit<ChatCompletionChunk, "choices"> {
    return { id: this.context.id, object: "chat.completion.chunk", created: this.context.created, model: this.context.model };
  }

  private chunk(delta: ChatCompletionChunkDelta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }
}
