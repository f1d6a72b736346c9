// One soak request over HTTP (undici, cheaper per request than the openai client, so the load
// generator leaves more of the shared cores to the broker), read to the end or cancelled after the
// first content chunk, and classified.
import type { Pool } from "undici";
import type { ExpectedAnswer, Plan, Usage4 } from "./soak-traffic.js";

export type Outcome =
  /** 200 and a complete answer ([DONE] for streams). */
  | "ok"
  /** The client cancelled the stream after its first content chunk, as planned. */
  | "cancelled"
  /** A non-200 answer. */
  | "http-error"
  /** 200, then an SSE error event. */
  | "stream-error"
  /** 200, but the stream ended without [DONE] or an error event, or the body was unreadable. */
  | "truncated"
  /** No HTTP answer at all (connection error, or no headers within the client's timeout). */
  | "no-response";

export interface RequestResult {
  seq: number;
  user: string;
  model: string;
  stream: boolean;
  intent: Plan["intent"];
  outcome: Outcome;
  /** HTTP status; 0 without an answer. */
  status: number;
  /** The error code of an error answer or SSE error event. */
  code: string | null;
  requestId: string | null;
  /** ms since the run started. */
  startedAtMs: number;
  /** Until the answer was complete (or the cancel). */
  latencyMs: number;
  /** Until the response headers. */
  ttfbMs: number | null;
  /** For "ok": whether the content was exactly what the emulator produced for this request. */
  answerIntact: boolean | null;
  /** The usage the response reported (non-streamed answers, and streams with include_usage). */
  usage: Usage4 | null;
  servedModel: string | null;
  /** x-tollgate-fallbacks: failed attempts before the one that served. */
  failedAttempts: number;
  detail?: string;
}

interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  cache_creation_input_tokens?: number;
}

function toUsage4(usage: OpenAiUsage): Usage4 {
  const cacheRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return { input: usage.prompt_tokens - cacheRead - cacheWrite, cacheRead, cacheWrite, output: usage.completion_tokens };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

interface ToolCallSeen {
  name: string;
  arguments: string;
}

function intact(expected: ExpectedAnswer, text: string, tools: ToolCallSeen[]): boolean {
  if ("cancel" in expected) return false;
  if (text !== expected.text) return false;
  if (!expected.tool) return tools.length === 0;
  if (tools.length !== 1) return false;
  const [call] = tools as [ToolCallSeen];
  try {
    return call.name === expected.tool.name && JSON.stringify(JSON.parse(call.arguments)) === JSON.stringify(expected.tool.arguments);
  } catch {
    return false;
  }
}

export interface SendContext {
  pool: Pool;
  runStartedAt: number;
  /** Safety net: a request without a complete answer by then is aborted and counted. */
  timeoutMs: number;
}

export async function sendRequest(ctx: SendContext, plan: Plan, body: string, expected: ExpectedAnswer): Promise<RequestResult> {
  const started = performance.now();
  const result: RequestResult = {
    seq: plan.seq,
    user: plan.user.name,
    model: plan.model,
    stream: plan.stream,
    intent: plan.intent,
    outcome: "no-response",
    status: 0,
    code: null,
    requestId: null,
    startedAtMs: started - ctx.runStartedAt,
    latencyMs: 0,
    ttfbMs: null,
    answerIntact: null,
    usage: null,
    servedModel: null,
    failedAttempts: 0,
  };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ctx.timeoutMs);
  let cancelledByUs = false;
  try {
    const response = await ctx.pool.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${plan.user.key}` },
      body,
      signal: controller.signal,
    });
    result.ttfbMs = performance.now() - started;
    result.status = response.statusCode;
    result.requestId = header(response.headers, "x-request-id");
    result.servedModel = header(response.headers, "x-tollgate-model");
    result.failedAttempts = Number(header(response.headers, "x-tollgate-fallbacks") ?? 0);
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      try {
        result.code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
      } catch {
        result.detail = text.slice(0, 200);
      }
      result.outcome = "http-error";
      return result;
    }
    if (!plan.stream) {
      const completion = (await response.body.json()) as {
        choices: Array<{ message: { content: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> } }>;
        usage?: OpenAiUsage;
      };
      const message = completion.choices[0]?.message;
      const tools = (message?.tool_calls ?? []).map((c) => ({ name: c.function.name, arguments: c.function.arguments }));
      result.answerIntact = intact(expected, message?.content ?? "", tools);
      result.usage = completion.usage ? toUsage4(completion.usage) : null;
      result.outcome = "ok";
      return result;
    }

    // SSE: "data: {...}\n\n" events, ending with "data: [DONE]".
    let buffer = "";
    let text = "";
    const tools: ToolCallSeen[] = [];
    let done = false;
    let errorEvent = false;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") {
              done = true;
              continue;
            }
            const parsed = JSON.parse(data) as {
              error?: { code?: string };
              choices?: Array<{ delta?: { content?: string | null; tool_calls?: Array<{ index: number; function?: { name?: string; arguments?: string } }> } }>;
              usage?: OpenAiUsage | null;
            };
            if (parsed.error) {
              errorEvent = true;
              result.code = parsed.error.code ?? null;
              continue;
            }
            if (parsed.usage) result.usage = toUsage4(parsed.usage);
            const delta = parsed.choices?.[0]?.delta;
            if (delta?.content) {
              text += delta.content;
              if ("cancel" in expected && !cancelledByUs) {
                // Cline's cancel button: close the connection mid-stream.
                cancelledByUs = true;
                controller.abort();
              }
            }
            for (const call of delta?.tool_calls ?? []) {
              const seen = (tools[call.index] ??= { name: "", arguments: "" });
              seen.name += call.function?.name ?? "";
              seen.arguments += call.function?.arguments ?? "";
            }
          }
        }
      }
    } catch (error) {
      if (!cancelledByUs) throw error;
    }
    if (cancelledByUs) result.outcome = "cancelled";
    else if (errorEvent) result.outcome = "stream-error";
    else if (!done) result.outcome = "truncated";
    else {
      result.outcome = "ok";
      result.answerIntact = intact(expected, text, tools);
    }
    return result;
  } catch (error) {
    if (cancelledByUs) result.outcome = "cancelled";
    else {
      result.outcome = result.status === 0 ? "no-response" : "truncated";
      result.detail = `${timedOut ? `client timeout after ${ctx.timeoutMs} ms: ` : ""}${error instanceof Error ? error.message : String(error)}`;
    }
    return result;
  } finally {
    clearTimeout(timer);
    result.latencyMs = performance.now() - started;
  }
}
