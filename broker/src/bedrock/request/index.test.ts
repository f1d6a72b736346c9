import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors.js";
import { assistant, chatRequest, modelPolicy, system, textOfTokens, tool, toolResult, user } from "../../../../test/support/builders.js";
import { toBedrockRequest } from "./index.js";
import { MemoryReasoningStore } from "./reasoning-store.js";

const translate = (request = chatRequest(), model = modelPolicy(), store = new MemoryReasoningStore()) =>
  toBedrockRequest(request, model, { reasoningStore: store });

function expectApiError(fn: () => unknown, param: string | undefined, message: RegExp): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.param).toBe(param);
    expect(apiError.message).toMatch(message);
    return apiError;
  }
  throw new Error("expected an ApiError");
}

describe("system prompts and turns", () => {
  it("collects several system messages, wherever they are, into Bedrock's system prompt in order", () => {
    const { body } = translate(
      chatRequest({ messages: [system("Be brief."), user("Hi"), system("Answer in French."), { role: "developer", content: "No emojis." }, user("Bye")] }),
    );
    expect(body.system).toEqual([{ text: "Be brief." }, { text: "Answer in French." }, { text: "No emojis." }]);
    expect(body.messages).toEqual([{ role: "user", content: [{ text: "Hi" }, { text: "Bye" }] }]);
  });

  it("keeps multi-turn history and merges consecutive same-role turns", () => {
    const { body } = translate(chatRequest({ messages: [user("a"), assistant("b"), user("c"), user("d")] }));
    expect(body.messages).toEqual([
      { role: "user", content: [{ text: "a" }] },
      { role: "assistant", content: [{ text: "b" }] },
      { role: "user", content: [{ text: "c" }, { text: "d" }] },
    ]);
  });

  it("opens with a user turn even when the history starts with the assistant", () => {
    const { body } = translate(chatRequest({ messages: [assistant("Hello, how can I help?"), user("Hi")] }));
    expect(body.messages?.[0]?.role).toBe("user");
    expect(body.messages?.[1]).toEqual({ role: "assistant", content: [{ text: "Hello, how can I help?" }] });
  });

  it("drops blank text that Bedrock would refuse", () => {
    const { body } = translate(chatRequest({ messages: [system("  "), user("Hi"), assistant(""), user("again")] }));
    expect(body.system).toBeUndefined();
    expect(body.messages).toEqual([{ role: "user", content: [{ text: "Hi" }, { text: "again" }] }]);
  });
});

describe("sampling parameters", () => {
  it("maps temperature, top_p, max_tokens and stop", () => {
    const { body } = translate(chatRequest({ temperature: 0.2, top_p: 0.9, max_tokens: 500, stop: ["END", ""] }));
    expect(body.inferenceConfig).toEqual({ maxTokens: 500, temperature: 0.2, topP: 0.9, stopSequences: ["END"] });
  });

  it("prefers max_completion_tokens and accepts a single stop string", () => {
    const { body } = translate(chatRequest({ max_tokens: 100, max_completion_tokens: 700, stop: "###" }));
    expect(body.inferenceConfig).toMatchObject({ maxTokens: 700, stopSequences: ["###"] });
  });

  it("refuses max_tokens above the model's output limit, naming the field", () => {
    expectApiError(() => translate(chatRequest({ max_completion_tokens: 100_000 })), "max_completion_tokens", /maximum output of 64000/);
  });

  it("refuses temperatures Bedrock cannot take", () => {
    expectApiError(() => translate(chatRequest({ temperature: 1.5 })), "temperature", /0 to 1/);
  });

  it("refuses n > 1 and JSON response formats with clear messages", () => {
    expectApiError(() => translate(chatRequest({ n: 2 })), "n", /one choice/);
    expectApiError(() => translate(chatRequest({ response_format: { type: "json_object" } })), "response_format.type", /not supported/);
  });
});

describe("tools", () => {
  it("maps tools, omits empty descriptions and keeps tool_choice", () => {
    const { body } = translate(
      chatRequest({ tools: [tool("read_file"), tool("focus_chain", "")], tool_choice: { type: "function", function: { name: "read_file" } } }),
    );
    expect(body.toolConfig?.tools?.[1]).toEqual({ toolSpec: { name: "focus_chain", inputSchema: { json: { type: "object", properties: {} } } } });
    expect(body.toolConfig?.toolChoice).toEqual({ tool: { name: "read_file" } });
  });

  it("maps required → any, auto → auto, and parallel_tool_calls: false to Claude's own field", () => {
    expect(translate(chatRequest({ tools: [tool("a")], tool_choice: "required" })).body.toolConfig?.toolChoice).toEqual({ any: {} });
    const { body } = translate(chatRequest({ tools: [tool("a")], tool_choice: "auto", parallel_tool_calls: false }));
    expect(body.toolConfig?.toolChoice).toEqual({ auto: {} });
    expect(body.additionalModelRequestFields).toEqual({ tool_choice: { type: "auto", disable_parallel_tool_use: true } });
  });

  it("turns assistant tool_calls and tool results into toolUse and toolResult blocks", () => {
    const { body } = translate(
      chatRequest({
        tools: [tool("read_file"), tool("list_files")],
        messages: [
          user("Look around"),
          assistant("Let me look.", [
            { id: "tooluse_1", name: "read_file", arguments: '{"path":"a.ts"}' },
            { id: "call_ab/c+d", name: "list_files", arguments: "" },
          ]),
          toolResult("tooluse_1", "contents"),
          toolResult("call_ab/c+d", ""),
          user("Now summarise"),
        ],
      }),
    );
    const [, turn, results] = body.messages ?? [];
    expect(turn?.content).toEqual([
      { text: "Let me look." },
      { toolUse: { toolUseId: "tooluse_1", name: "read_file", input: { path: "a.ts" } } },
      { toolUse: { toolUseId: expect.stringMatching(/^tc_[0-9a-f]{40}$/), name: "list_files", input: {} } },
    ]);
    const foreignId = turn?.content?.[2]?.toolUse?.toolUseId;
    expect(results?.content).toEqual([
      { toolResult: { toolUseId: "tooluse_1", content: [{ text: "contents" }] } },
      { toolResult: { toolUseId: foreignId, content: [{ text: "(no output)" }] } },
      { text: "Now summarise" },
    ]);
  });

  it("refuses malformed tool arguments and tool names, naming the field", () => {
    expectApiError(
      () => translate(chatRequest({ tools: [tool("a")], messages: [user("x"), assistant(null, [{ id: "t1", name: "a", arguments: "{oops" }]), toolResult("t1", "r")] })),
      "messages[1].tool_calls[0].function.arguments",
      /not valid JSON/,
    );
    expectApiError(() => translate(chatRequest({ tools: [tool("bad name!")] })), "tools[0].function.name", /invalid/);
  });

  it("needs the tool definitions when the history holds tool calls", () => {
    expectApiError(
      () => translate(chatRequest({ messages: [user("x"), assistant(null, [{ id: "t1", name: "a", arguments: "{}" }]), toolResult("t1", "r")] })),
      "tools",
      /defines no tools/,
    );
  });

  it("drops the tools for tool_choice none when the history allows", () => {
    expect(translate(chatRequest({ tools: [tool("a")], tool_choice: "none" })).body.toolConfig).toBeUndefined();
  });
});

describe("images", () => {
  const png = `data:image/png;base64,${Buffer.from("png-bytes").toString("base64")}`;

  it("turns data: URLs into image blocks", () => {
    const { body } = translate(
      chatRequest({ messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: png } }] }] }),
    );
    const image = body.messages?.[0]?.content?.[1]?.image;
    expect(image?.format).toBe("png");
    expect(Buffer.from(image?.source?.bytes ?? []).toString()).toBe("png-bytes");
  });

  it("refuses remote image URLs without fetching them", () => {
    expectApiError(
      () => translate(chatRequest({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://169.254.169.254/latest/meta-data" } }] }] })),
      "messages[0].content[0].image_url.url",
      /never fetches URLs/,
    );
  });

  it("refuses images for models without vision", () => {
    expectApiError(
      () => translate(chatRequest({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: png } }] }] }), modelPolicy({ vision: false })),
      "messages[0].content[0]",
      /does not accept images/,
    );
  });
});

describe("reasoning", () => {
  it("maps reasoning_effort to a thinking budget and drops sampling settings Claude refuses with thinking", () => {
    const { body, thinkingBudget } = translate(chatRequest({ reasoning_effort: "medium", temperature: 0 }));
    expect(thinkingBudget).toBe(8192);
    expect(body.additionalModelRequestFields).toEqual({ thinking: { type: "enabled", budget_tokens: 8192 } });
    expect(body.inferenceConfig?.temperature).toBeUndefined();
    expect(body.inferenceConfig?.maxTokens).toBeGreaterThan(8192);
  });

  it("uses the model's default effort from the policy", () => {
    const model = modelPolicy({ reasoning: { supported: true, defaultEffort: "low", budgets: { low: 2048, medium: 8192, high: 24576 } } });
    expect(translate(chatRequest(), model).thinkingBudget).toBe(2048);
    expect(translate(chatRequest({ reasoning_effort: "none" }), model).thinkingBudget).toBeUndefined();
  });

  it("ignores reasoning_effort for models without extended thinking", () => {
    const model = modelPolicy({ reasoning: { supported: false, defaultEffort: "none", budgets: { low: 2048, medium: 8192, high: 24576 } } });
    const { body } = translate(chatRequest({ reasoning_effort: "high" }), model);
    expect(body.additionalModelRequestFields).toBeUndefined();
  });

  it("keeps the thinking budget below max_tokens", () => {
    expect(translate(chatRequest({ reasoning_effort: "high", max_tokens: 10_000 })).thinkingBudget).toBe(5000);
    expect(translate(chatRequest({ reasoning_effort: "high", max_tokens: 1500 })).thinkingBudget).toBeUndefined();
  });

  it("replays the signed thinking remembered for a tool call", () => {
    const store = new MemoryReasoningStore();
    store.remember("tooluse_9", [{ reasoningText: { text: "I should read it.", signature: "sig==" } }]);
    const request = chatRequest({
      reasoning_effort: "low",
      tools: [tool("read_file")],
      messages: [user("Read a.ts"), assistant(null, [{ id: "tooluse_9", name: "read_file", arguments: "{}" }]), toolResult("tooluse_9", "x")],
    });
    const result = translate(request, modelPolicy(), store);
    expect(result.thinkingBudget).toBe(2048);
    expect(result.body.messages?.[1]?.content?.[0]).toEqual({ reasoningContent: { reasoningText: { text: "I should read it.", signature: "sig==" } } });
  });

  it("runs the turn without thinking when the last tool turn's signature is unknown", () => {
    const request = chatRequest({
      reasoning_effort: "low",
      tools: [tool("read_file")],
      messages: [user("Read a.ts"), assistant(null, [{ id: "tooluse_unknown", name: "read_file", arguments: "{}" }]), toolResult("tooluse_unknown", "x")],
    });
    const result = translate(request);
    expect(result.thinkingBudget).toBeUndefined();
    expect(result.thinkingDroppedForHistory).toBe(true);
    expect(result.body.additionalModelRequestFields).toBeUndefined();
  });
});

describe("prompt caching", () => {
  const longSystem = textOfTokens(3000);

  it("marks the system prompt and the last user turns when they pass the model's minimum", () => {
    const { body, cachePoints } = translate(
      chatRequest({ tools: [tool("read_file")], messages: [system(longSystem), user("one"), assistant("two"), user("three"), assistant("four"), user("five")] }),
    );
    expect(body.system?.at(-1)).toEqual({ cachePoint: { type: "default" } });
    const marked = (body.messages ?? []).filter((message) => message.content?.at(-1)?.cachePoint);
    expect(marked.map((message) => message.content?.[0]?.text)).toEqual(["one", "three", "five"]);
    expect(cachePoints).toBe(4);
    expect(body.toolConfig?.tools?.some((entry) => entry.cachePoint)).toBe(false);
  });

  it("marks the tools when there is no system prompt", () => {
    const bigTool = tool("big", textOfTokens(2000));
    const { body } = translate(chatRequest({ tools: [bigTool], messages: [user("hi")] }));
    expect(body.toolConfig?.tools?.at(-1)).toEqual({ cachePoint: { type: "default" } });
  });

  it("places nothing below the minimum or when caching is off", () => {
    expect(translate(chatRequest({ messages: [system("short"), user("hi")] })).cachePoints).toBe(0);
    const off = modelPolicy({ promptCaching: { enabled: false, minTokens: 1024, cacheTools: true } });
    expect(translate(chatRequest({ messages: [system(longSystem), user("hi")] }), off).cachePoints).toBe(0);
  });

  it("honours explicit cache_control and then places none of its own", () => {
    const { body, cachePoints } = translate(
      chatRequest({
        messages: [
          { role: "system", content: [{ type: "text", text: longSystem, cache_control: { type: "ephemeral" } }] },
          { role: "user", content: [{ type: "text", text: "short question" }] },
        ],
      }),
    );
    expect(cachePoints).toBe(1);
    expect(body.system).toEqual([{ text: longSystem }, { cachePoint: { type: "default" } }]);
    expect(body.messages?.[0]?.content).toEqual([{ text: "short question" }]);
  });

  it("refuses more than four explicit breakpoints", () => {
    const marked = { type: "text" as const, text: "x", cache_control: { type: "ephemeral" as const } };
    expectApiError(() => translate(chatRequest({ messages: [{ role: "user", content: [marked, marked, marked, marked, marked] }] })), "messages", /at most 4/);
  });
});
