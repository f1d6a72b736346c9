// A streamed chat completion straight from the broker (for the VS Code language-model provider):
// POST /v1/chat/completions with stream: true, parsed from SSE into chunks, abortable.
import { BrokerError } from "./broker-client.js";
import { brokerApiUrl } from "./broker-client.js";

export interface ChatChunk {
  choices?: Array<{
    index?: number;
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string; code?: string };
}

export interface ChatStreamOptions {
  brokerUrl: string;
  key: string;
  project?: string | undefined;
  body: Record<string, unknown>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  onResponse?: (status: number, headers: Headers) => void;
}

/** Splits an SSE byte stream into `data:` payloads. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield data;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
}

export async function* streamChatCompletion(options: ChatStreamOptions): AsyncGenerator<ChatChunk> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key}`, "content-type": "application/json", accept: "text/event-stream" };
  if (options.project) headers["x-tollgate-project"] = options.project;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(brokerApiUrl(options.brokerUrl, "/v1/chat/completions"), {
      method: "POST",
      headers,
      body: JSON.stringify({ ...options.body, stream: true, stream_options: { include_usage: true } }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new BrokerError("unreachable", `The broker at ${options.brokerUrl} is unreachable (${cause?.code ?? (error as Error).name}).`, undefined, undefined, { cause: error });
  }
  options.onResponse?.(response.status, response.headers);
  if (!response.ok || !response.body) {
    const text = await response.text();
    let message = `HTTP ${response.status}`;
    let code: string | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string; code?: string } };
      message = parsed.error?.message ?? message;
      code = parsed.error?.code;
    } catch {
      // not JSON: keep the status
    }
    throw new BrokerError("http", message, response.status, code);
  }
  for await (const data of sseData(response.body)) {
    if (data === "[DONE]") return;
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      continue;
    }
    if (chunk.error) throw new BrokerError("http", chunk.error.message ?? "The broker ended the stream with an error.", 200, chunk.error.code);
    yield chunk;
  }
}
