// OpenAI chat history → Bedrock Converse `system` + `messages`.
// Bedrock is stricter than OpenAI: one top-level system prompt, strictly alternating user/assistant
// turns starting with a user turn, no blank text blocks, tool results inside a user turn. This file
// bends an OpenAI history into that shape without losing anything the model should see.
import type { ContentBlock, Message, SystemContentBlock, ToolUseBlock } from "@aws-sdk/client-bedrock-runtime";
import { jsonDepthExceeds, MAX_JSON_DEPTH, type ChatMessage, type TextPart, type ToolCall } from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";
import { imageBlockFromUrl } from "./images.js";
import type { ReasoningStore } from "./reasoning-store.js";
import { toBedrockToolUseId } from "./tool-ids.js";

export interface ConversationOptions {
  vision: boolean;
  /** Whether this request runs with extended thinking (so stored thinking blocks must be replayed). */
  thinking: boolean;
  reasoningStore: ReasoningStore;
  /**
   * Whether the client's `cache_control` marks become cache points. Off for models without prompt
   * caching (or with it turned off in the policy): Bedrock refuses cache points there.
   */
  cacheControl: boolean;
}

export interface Conversation {
  system: SystemContentBlock[];
  messages: Message[];
  /** Cache points the client asked for with `cache_control`; when > 0 we place none ourselves. */
  explicitCachePoints: number;
  /** The last assistant turn used tools but its signed thinking is unknown (e.g. broker restarted). */
  lastToolTurnLacksThinking: boolean;
}

const CACHE_POINT = { cachePoint: { type: "default" } } as const;

/** Bedrock needs non-blank text; a placeholder keeps the turn structure valid. */
const EMPTY_TOOL_RESULT = "(no output)";
const EMPTY_TURN = "(empty)";

export function convertConversation(history: readonly ChatMessage[], options: ConversationOptions): Conversation {
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  let explicitCachePoints = 0;

  const push = (role: "user" | "assistant", content: ContentBlock[]): void => {
    const previous = messages.at(-1);
    if (previous && previous.role === role) {
      // Merge consecutive same-role turns (e.g. several tool results, or tool results then text).
      // In place: copying the merged turn each time is quadratic (50k one-line user messages, 1.6 MB,
      // held the event loop for 39 s).
      const merged = (previous.content ??= []);
      for (const block of content) merged.push(block);
    } else {
      messages.push({ role, content });
    }
  };

  history.forEach((message, index) => {
    const at = `messages[${index}]`;
    switch (message.role) {
      case "system":
      case "developer": {
        for (const part of textParts(message.content)) {
          if (part.text.trim() !== "") system.push({ text: part.text });
          if (part.cache_control && options.cacheControl) {
            system.push(CACHE_POINT);
            explicitCachePoints++;
          }
        }
        return;
      }
      case "user": {
        const content: ContentBlock[] = [];
        const parts = typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content;
        parts.forEach((part, partIndex) => {
          const partAt = `${at}.content[${partIndex}]`;
          if (part.type === "text") {
            if (part.text.trim() !== "") content.push({ text: part.text });
          } else if (part.type === "image_url") {
            if (!options.vision) {
              throw invalidRequest("This model does not accept images; choose a vision-capable model.", partAt, "model_not_vision_capable");
            }
            content.push(imageBlockFromUrl(part.image_url.url, `${partAt}.image_url.url`));
          } else {
            throw invalidRequest(`Content parts of type "${part.type}" are not supported by Tollgate.`, `${partAt}.type`, "unsupported_content");
          }
          if ("cache_control" in part && part.cache_control && options.cacheControl) {
            content.push(CACHE_POINT);
            explicitCachePoints++;
          }
        });
        push("user", content.length > 0 ? content : [{ text: EMPTY_TURN }]);
        return;
      }
      case "assistant": {
        const content: ContentBlock[] = [];
        const toolCalls = message.tool_calls ?? [];
        if (options.thinking && toolCalls.length > 0) {
          const first = toolCalls[0];
          const thinking = first ? options.reasoningStore.recall(first.id) : undefined;
          if (thinking) {
            for (const block of thinking) content.push({ reasoningContent: block });
          }
        }
        for (const part of message.content == null ? [] : textParts(message.content)) {
          if (part.text.trim() !== "") content.push({ text: part.text });
          if (part.cache_control && options.cacheControl) {
            content.push(CACHE_POINT);
            explicitCachePoints++;
          }
        }
        toolCalls.forEach((call, callIndex) => {
          content.push({
            toolUse: {
              toolUseId: toBedrockToolUseId(call.id),
              name: call.function.name,
              input: parseToolArguments(call, `${at}.tool_calls[${callIndex}].function.arguments`),
            },
          });
        });
        // An assistant turn with nothing in it carries no information; Bedrock would refuse it.
        if (content.length > 0) push("assistant", content);
        return;
      }
      case "tool": {
        const text = textParts(message.content)
          .map((part) => part.text)
          .join("");
        push("user", [
          {
            toolResult: {
              toolUseId: toBedrockToolUseId(message.tool_call_id),
              content: [{ text: text.trim() === "" ? EMPTY_TOOL_RESULT : text }],
            },
          },
        ]);
        return;
      }
    }
  });

  if (messages.length === 0) {
    throw invalidRequest("The request has no user or assistant messages; Bedrock needs at least one user message.", "messages");
  }
  // Bedrock conversations must open with a user turn.
  if (messages[0]?.role !== "user") messages.unshift({ role: "user", content: [{ text: EMPTY_TURN }] });

  // Judged on the turns as sent, after empty assistant turns were dropped and consecutive ones
  // merged: the last assistant turn, if it uses tools, must open with its signed thinking.
  const lastAssistant = messages.findLast((message) => message.role === "assistant")?.content ?? [];
  const lastToolTurnLacksThinking =
    options.thinking && lastAssistant.some((block) => block.toolUse !== undefined) && lastAssistant[0]?.reasoningContent === undefined;
  return { system, messages, explicitCachePoints, lastToolTurnLacksThinking };
}

function textParts(content: string | TextPart[]): TextPart[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** Cline sends `""` for tools without arguments; Bedrock needs a JSON object. */
type ToolInput = NonNullable<ToolUseBlock["input"]>;

function parseToolArguments(call: ToolCall, param: string): ToolInput {
  const raw = call.function.arguments;
  if (raw.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidRequest(`Tool call arguments are not valid JSON: ${truncate(raw)}`, param);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalidRequest("Tool call arguments must be a JSON object.", param);
  }
  if (jsonDepthExceeds(parsed)) throw invalidRequest(`Tool call arguments nest deeper than ${MAX_JSON_DEPTH} levels.`, param);
  return parsed as ToolInput;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
