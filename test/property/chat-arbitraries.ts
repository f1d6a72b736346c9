// fast-check generators of OpenAI chat requests as real clients send them: system prompts anywhere,
// text and inline images, tool rounds (an assistant's tool calls, each answered by a tool message),
// sampling parameters within their documented ranges, reasoning efforts, tool choices.
import fc from "fast-check";

export const TOOL_NAMES = ["read_file", "write_to_file", "execute_command", "search-files", "focus_chain", "T9"] as const;

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", "   ", "\n", "Hello", "Refactor this function.", "ünïcödé ✓ 🚀", "\u0000\u001f"),
);
const cacheControl = fc.option(fc.constant({ type: "ephemeral" as const }), { nil: undefined, freq: 8 });
const textPart = fc.record({ type: fc.constant("text" as const), text, cache_control: cacheControl }, { requiredKeys: ["type", "text"] });

const imageBytes = fc.uint8Array({ minLength: 1, maxLength: 48 });
const imagePart = fc
  .record({ mime: fc.constantFrom("image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "IMAGE/PNG"), bytes: imageBytes })
  .map(({ mime, bytes }) => ({ type: "image_url" as const, image_url: { url: `data:${mime};base64,${Buffer.from(bytes).toString("base64")}` } }));

const systemMessage = fc.record({
  role: fc.constantFrom("system" as const, "developer" as const),
  content: fc.oneof(text, fc.array(textPart, { maxLength: 3 })),
});
const userMessage = (vision: boolean) =>
  fc.record({
    role: fc.constant("user" as const),
    content: fc.oneof(text, fc.array(vision ? fc.oneof(textPart, imagePart) : textPart, { maxLength: 4 })),
  });
const assistantText = fc.record({
  role: fc.constant("assistant" as const),
  content: fc.oneof(fc.constant(null), text, fc.array(textPart, { maxLength: 2 })),
});

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
const toolArguments = fc.oneof(fc.constant(""), fc.constant("  "), jsonObject.map((value) => JSON.stringify(value)));

/** An assistant turn calling 1-3 tools, then a tool message answering each call (in any order). */
const toolRound = fc
  .record({
    // Distinct ids within a turn, as clients send them (the answers are matched to their calls by id).
    calls: fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 70 }), name: fc.constantFrom(...TOOL_NAMES), arguments: toolArguments }), {
      minLength: 1,
      maxLength: 3,
      selector: (call) => call.id,
    }),
    content: fc.oneof(fc.constant(null), text),
    results: fc.array(fc.oneof(text, fc.array(textPart, { maxLength: 2 })), { minLength: 3, maxLength: 3 }),
    reversed: fc.boolean(),
  })
  .map(({ calls, content, results, reversed }) => {
    const toolCalls = calls.map((call) => ({ id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } }));
    const answers = toolCalls.map((call, index) => ({ role: "tool" as const, tool_call_id: call.id, content: results[index] ?? "" }));
    return [{ role: "assistant" as const, content, tool_calls: toolCalls }, ...(reversed ? answers.reverse() : answers)];
  });

const parameters = fc.oneof(
  fc.constant(undefined),
  fc.constant({ type: "object", properties: {} }),
  fc.record({ type: fc.constant("object"), properties: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.record({ type: fc.constantFrom("string", "number", "boolean") }), { maxKeys: 3 }) }),
);

export interface RequestShape {
  /** Whether the model takes images. */
  vision: boolean;
  maxOutputTokens: number;
}

/**
 * A chat request a well-behaved client could send for a model with `shape`. Tool-call ids are
 * made unique per request; every tool used in the history is among `tools`.
 */
export function validChatRequest(model: string, shape: RequestShape): fc.Arbitrary<Record<string, unknown>> {
  const turn = fc.oneof(
    { arbitrary: systemMessage.map((m) => [m]), weight: 1 },
    { arbitrary: userMessage(shape.vision).map((m) => [m]), weight: 3 },
    { arbitrary: assistantText.map((m) => [m]), weight: 2 },
    { arbitrary: toolRound, weight: 2 },
  );
  return fc
    .record({
      turns: fc.array(turn, { minLength: 1, maxLength: 8 }),
      lastUser: userMessage(shape.vision),
      extraTools: fc.subarray([...TOOL_NAMES]),
      descriptions: fc.array(fc.oneof(fc.constant(undefined), fc.constant(""), text), { minLength: TOOL_NAMES.length, maxLength: TOOL_NAMES.length }),
      parameters: fc.array(parameters, { minLength: TOOL_NAMES.length, maxLength: TOOL_NAMES.length }),
      choice: fc.constantFrom<unknown>(undefined, "auto", "none", "required", "named"),
      stream: fc.option(fc.boolean(), { nil: undefined }),
      includeUsage: fc.option(fc.boolean(), { nil: undefined }),
      temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      top_p: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      maxTokens: fc.option(fc.integer({ min: 1, max: shape.maxOutputTokens }), { nil: undefined }),
      maxTokensField: fc.constantFrom("max_tokens", "max_completion_tokens"),
      stop: fc.option(fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 })), { nil: undefined }),
      reasoning_effort: fc.option(fc.constantFrom("none", "minimal", "low", "medium", "high"), { nil: undefined }),
      parallel_tool_calls: fc.option(fc.boolean(), { nil: undefined }),
      n: fc.option(fc.constant(1), { nil: undefined }),
      user: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
    })
    .map((g) => {
      const messages = [...g.turns.flat(), g.lastUser] as Array<Record<string, unknown>>;
      // Tool-call ids must identify one call each within the conversation, as clients keep them.
      let serial = 0;
      const renamed = new Map<string, string>();
      for (const message of messages) {
        const calls = message.tool_calls as Array<{ id: string }> | undefined;
        if (calls) {
          for (const call of calls) {
            const unique = `${call.id}_${serial++}`;
            renamed.set(call.id, unique);
            call.id = unique;
          }
        } else if (message.role === "tool") {
          // Answers follow their assistant turn directly, so the latest renaming is theirs.
          message.tool_call_id = renamed.get(message.tool_call_id as string) ?? message.tool_call_id;
        }
      }
      // Bedrock takes at most 4 cache points; a client marking more is refused (tested elsewhere).
      let marks = 0;
      for (const message of messages) {
        if (message.role === "tool" || !Array.isArray(message.content)) continue;
        for (const part of message.content as Array<Record<string, unknown>>) {
          if (part.cache_control !== undefined && ++marks > 4) delete part.cache_control;
        }
      }
      const used = new Set(messages.flatMap((m) => ((m.tool_calls as Array<{ function: { name: string } }> | undefined) ?? []).map((c) => c.function.name)));
      const names = TOOL_NAMES.filter((name) => used.has(name) || g.extraTools.includes(name));
      const tools = names.map((name) => {
        const index = TOOL_NAMES.indexOf(name);
        const description = g.descriptions[index];
        const params = g.parameters[index];
        return { type: "function", function: { name, ...(description !== undefined ? { description } : {}), ...(params !== undefined ? { parameters: params } : {}) } };
      });
      const request: Record<string, unknown> = { model, messages };
      if (tools.length > 0) request.tools = tools;
      if (g.choice === "named") {
        if (names[0] !== undefined) request.tool_choice = { type: "function", function: { name: names[0] } };
      } else if (g.choice !== undefined && (tools.length > 0 || g.choice !== "required")) {
        request.tool_choice = g.choice;
      }
      if (g.stream !== undefined) request.stream = g.stream;
      if (g.includeUsage !== undefined) request.stream_options = { include_usage: g.includeUsage };
      if (g.temperature !== undefined) request.temperature = g.temperature;
      if (g.top_p !== undefined) request.top_p = g.top_p;
      if (g.maxTokens !== undefined) request[g.maxTokensField] = g.maxTokens;
      if (g.stop !== undefined) request.stop = g.stop;
      if (g.reasoning_effort !== undefined) request.reasoning_effort = g.reasoning_effort;
      if (g.parallel_tool_calls !== undefined) request.parallel_tool_calls = g.parallel_tool_calls;
      if (g.n !== undefined) request.n = g.n;
      if (g.user !== undefined) request.user = g.user;
      return request;
    });
}
