// Small builders for fixtures: each test states only what matters to it.
import { DEFAULT_COOLDOWN, DEFAULT_TIMEOUTS, type ChatCompletionRequest, type ModelPolicy, type ToolDefinition } from "@tollgate/shared";

export function modelPolicy(overrides: Partial<ModelPolicy> = {}): ModelPolicy {
  return {
    name: "claude-sonnet-4",
    route: [
      {
        id: "main",
        modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0",
        region: "us-east-1",
        pricing: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
        weight: 1,
      },
    ],
    routing: {
      strategy: "ordered",
      fallbacks: [],
      contextFallbacks: [],
      timeouts: { ...DEFAULT_TIMEOUTS },
      cooldown: { ...DEFAULT_COOLDOWN },
    },
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    promptCaching: { enabled: true, minTokens: 1024, cacheTools: true },
    reasoning: { supported: true, defaultEffort: "none", budgets: { low: 2048, medium: 8192, high: 24576 } },
    vision: true,
    ...overrides,
  };
}

export function chatRequest(overrides: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { model: "claude-sonnet-4", messages: [user("Hello")], ...overrides };
}

// Narrow literal types, so the same builders fit our schema's types and the `openai` client's.
export const system = (content: string) => ({ role: "system" as const, content });
export const user = (content: string) => ({ role: "user" as const, content });
export const assistant = (content: string | null, toolCalls?: Array<{ id: string; name: string; arguments: string }>) => ({
  role: "assistant" as const,
  content,
  ...(toolCalls
    ? { tool_calls: toolCalls.map((call) => ({ id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } })) }
    : {}),
});
export const toolResult = (toolCallId: string, content: string) => ({ role: "tool" as const, tool_call_id: toolCallId, content });

export function tool(name: string, description = `Does ${name}`, parameters: Record<string, unknown> = { type: "object", properties: {} }): ToolDefinition {
  return { type: "function", function: { name, description, parameters } };
}

/** Text of roughly `tokens` tokens at the 4-characters-per-token estimate. */
export function textOfTokens(tokens: number, seed = "lorem "): string {
  return seed.repeat(Math.ceil((tokens * 4) / seed.length)).slice(0, tokens * 4);
}
