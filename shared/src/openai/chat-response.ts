// What Tollgate answers, in OpenAI's Chat Completions shapes (plus the usage fields Cline reads).
import type { OpenAiUsage } from "../pricing/openai-usage.js";

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface ChatCompletionToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: {
      role: "assistant";
      content: string | null;
      reasoning_content?: string;
      tool_calls?: ChatCompletionToolCall[];
      refusal: null;
    };
    finish_reason: FinishReason;
    logprobs: null;
  }>;
  usage: OpenAiUsage;
}

export interface ChatCompletionChunkDelta {
  role?: "assistant";
  content?: string;
  reasoning_content?: string;
  tool_calls?: Array<{
    index: number;
    id?: string;
    type?: "function";
    function: { name?: string; arguments: string };
  }>;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{ index: 0; delta: ChatCompletionChunkDelta; finish_reason: FinishReason | null; logprobs: null }>;
  usage?: OpenAiUsage | null;
}

/** Every error a client sees has this shape. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}
