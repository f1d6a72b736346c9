// What Tollgate answers, in OpenAI's Chat Completions shapes (plus the usage fields Cline reads).

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface OpenAiUsage {
  /** Includes cached tokens, as in OpenAI's semantics. */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** USD, priced at the served model's rates. */
  cost: number;
}

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

export interface ModelList {
  object: "list";
  data: Array<{ id: string; object: "model"; created: number; owned_by: string }>;
}

/** Every error a client sees has this shape. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}
