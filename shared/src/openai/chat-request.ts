// The OpenAI Chat Completions request as Tollgate accepts it. Validated once at the HTTP boundary;
// unknown top-level fields are ignored (clients send many we have no use for), but every field we
// act on is type-checked so a bad value is answered with a 400 naming it.
import { z } from "zod";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "./json-depth.js";

const cacheControl = z.object({ type: z.literal("ephemeral") }).loose();

const textPart = z
  .object({ type: z.literal("text"), text: z.string(), cache_control: cacheControl.optional() })
  .loose();

const imagePart = z
  .object({
    type: z.literal("image_url"),
    image_url: z.object({ url: z.string(), detail: z.string().optional() }).loose(),
    cache_control: cacheControl.optional(),
  })
  .loose();

/** Parts we recognise but cannot send to Bedrock; refused with a clear message rather than dropped. */
const unsupportedPart = z
  .object({ type: z.enum(["input_audio", "file", "refusal"]) })
  .loose();

const userPart = z.discriminatedUnion("type", [textPart, imagePart, unsupportedPart]);

/** zod's own text for a union nothing matched is "Invalid input": say what content may be. */
const contentError = (what: string) => (issue: { input?: unknown }) =>
  Array.isArray(issue.input)
    ? `must be ${what}; a part is malformed (each is {"type": "text", "text": "…"}${what.includes("content") ? ' or {"type": "image_url", "image_url": {"url": "data:…"}}' : ""})`
    : `must be ${what}, not ${issue.input === null ? "null" : typeof issue.input}`;

const textContent = z.union([z.string(), z.array(textPart)], { error: contentError("a string or an array of text parts") });

export const toolCallSchema = z
  .object({
    id: z.string().min(1),
    type: z.literal("function").optional(),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).loose(),
  })
  .loose();

const systemMessage = z
  .object({ role: z.enum(["system", "developer"]), content: textContent, name: z.string().optional() })
  .loose();

const userMessage = z
  .object({ role: z.literal("user"), content: z.union([z.string(), z.array(userPart)], { error: contentError("a string or an array of content parts") }), name: z.string().optional() })
  .loose();

const assistantMessage = z
  .object({
    role: z.literal("assistant"),
    content: z.union([textContent, z.null()]).optional(),
    tool_calls: z.array(toolCallSchema).optional(),
    reasoning_content: z.string().nullable().optional(),
    name: z.string().optional(),
  })
  .loose();

const toolMessage = z
  .object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content: textContent })
  .loose();

export const chatMessageSchema = z.discriminatedUnion("role", [
  systemMessage,
  userMessage,
  assistantMessage,
  toolMessage,
]);

export const toolSchema = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().min(1),
        description: z.string().optional(),
        parameters: z
          .record(z.string(), z.unknown())
          .refine((schema) => !jsonDepthExceeds(schema), { error: `nests deeper than ${MAX_JSON_DEPTH} levels` })
          .optional(),
        strict: z.boolean().nullable().optional(),
      })
      .loose(),
  })
  .loose();

export const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }).loose() }).loose(),
]);

export const reasoningEffortSchema = z.enum(["none", "minimal", "low", "medium", "high"]);

export const chatCompletionRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    n: z.number().int().positive().nullable().optional(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    parallel_tool_calls: z.boolean().optional(),
    reasoning_effort: reasoningEffortSchema.nullable().optional(),
    response_format: z.object({ type: z.string() }).loose().optional(),
    logprobs: z.boolean().nullable().optional(),
    user: z.string().optional(),
  })
  .loose();

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type UserContentPart = z.infer<typeof userPart>;
export type TextPart = z.infer<typeof textPart>;
export type ToolCall = z.infer<typeof toolCallSchema>;
export type ToolDefinition = z.infer<typeof toolSchema>;
export type ToolChoice = z.infer<typeof toolChoiceSchema>;
export type ReasoningEffortRequest = z.infer<typeof reasoningEffortSchema>;
