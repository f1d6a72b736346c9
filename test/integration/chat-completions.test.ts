// The broker's core path end to end: the official `openai` client → `tollgate serve` → the unchanged
// AWS SDK (credentials from fake IMDSv2) → the Bedrock emulator over its real wire protocol.
import { modelListSchema } from "@tollgate/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chatRequest, system, textOfTokens, tool, toolResult, user } from "../support/builders.js";
import { startHarness, TEST_KEY, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.reset();
});

describe("GET /v1/models", () => {
  it("lists the policy's models in OpenAI's format", async () => {
    const models = await h.client.models.list();
    expect(models.data.map((model) => model.id).sort()).toEqual(["claude-sonnet-4", "claude-sonnet-4-5", "llama3-3-70b"]);
    expect(models.data[0]).toMatchObject({ object: "model", owned_by: "tollgate" });
  });

  it("states each model's context window, output limit and vision, as the policy resolved them, in the shared contract", async () => {
    const response = await h.call("/v1/models");
    const list = modelListSchema.parse(await response.json());
    const byId = new Map(list.data.map((model) => [model.id, model]));
    // Known models' limits come from the capability catalogue (the test policy sets none).
    expect(byId.get("claude-sonnet-4")).toMatchObject({ context_window: 200_000, max_output_tokens: 64_000, vision: true });
    expect(byId.get("llama3-3-70b")).toMatchObject({ context_window: 128_000, max_output_tokens: 4096, vision: false });
  });
});

describe("non-streaming", () => {
  it("answers in OpenAI's format with usage and cost, through the SDK with the instance role", async () => {
    const { data, response } = await h.client.chat.completions
      .create({ model: "claude-sonnet-4", messages: [system("Be brief."), user("Hello there")], temperature: 0.3, max_tokens: 300 })
      .withResponse();

    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("claude-sonnet-4");
    expect(data.choices[0]?.message.content).toMatch(/Bedrock emulator/);
    expect(data.choices[0]?.finish_reason).toBe("stop");
    const call = h.emulator.calls.at(-1);
    expect(call?.operation).toBe("converse");
    expect(call?.modelId).toBe("us.anthropic.claude-sonnet-4-20250514-v1:0");
    expect(call?.region).toBe("us-east-1");
    expect(call?.accessKeyId).toMatch(/^ASIAIMDS/);
    expect(call?.body).toMatchObject({ system: [{ text: "Be brief." }], inferenceConfig: { maxTokens: 300, temperature: 0.3 } });

    const reported = call?.usage;
    expect(reported).toBeDefined();
    const usage = data.usage as unknown as Record<string, number>;
    expect(usage.prompt_tokens).toBe((reported?.inputTokens ?? 0) + (reported?.cacheReadInputTokens ?? 0) + (reported?.cacheWriteInputTokens ?? 0));
    expect(usage.completion_tokens).toBe(reported?.outputTokens);
    expect(usage.cost).toBeCloseTo(((reported?.inputTokens ?? 0) * 3 + (reported?.outputTokens ?? 0) * 15) / 1e6, 12);

    expect(response.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
    expect(Number(response.headers.get("x-tollgate-overhead-ms"))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get("x-tollgate-deployment")).toBe("use1");
  });

  it("reuses the SDK client: credentials come from IMDS once, not per request", async () => {
    for (let i = 0; i < 5; i++) await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user(`hi ${i}`)] });
    expect(h.emulator.calls.filter((call) => call.accessKeyId?.startsWith("ASIAIMDS"))).toHaveLength(5);
    expect(h.emulator.imds.credentialRequests).toBeLessThanOrEqual(1);
  });

  it("routes to the deployment's region", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4-5", messages: [user("hi")], reasoning_effort: "none" as never });
    expect(h.emulator.calls.at(-1)?.region).toBe("us-west-2");
  });

  it("maps Bedrock stop reasons to finish reasons", async () => {
    const finish = async (stopReason: string) => {
      h.emulator.setHandler(() => ({ content: [{ text: "partial" }], stopReason }));
      const completion = await h.client.chat.completions.create(chatRequest({ model: "claude-sonnet-4" }) as never);
      return (completion as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason;
    };
    expect(await finish("max_tokens")).toBe("length");
    expect(await finish("stop_sequence")).toBe("stop");
    expect(await finish("guardrail_intervened")).toBe("content_filter");
  });

  it("passes stop sequences through and reports the cut as stop", async () => {
    const completion = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], stop: ["emulator"] });
    expect(h.emulator.calls.at(-1)?.body).toMatchObject({ inferenceConfig: { stopSequences: ["emulator"] } });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.choices[0]?.message.content).not.toMatch(/emulator/);
  });
});

describe("streaming", () => {
  it("streams deltas as they arrive, then a usage chunk and [DONE]", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "one two three four five six seven eight" }], chunks: 4, chunkDelayMs: 120 }));
    const stream = await h.client.chat.completions.create({
      model: "claude-sonnet-4",
      messages: [user("Count")],
      stream: true,
      stream_options: { include_usage: true },
    });
    const arrivals: number[] = [];
    let text = "";
    let usage: Record<string, unknown> | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) {
        arrivals.push(performance.now());
        text += delta.content;
      }
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage as unknown as Record<string, unknown>;
    }
    expect(text).toBe("one two three four five six seven eight");
    expect(arrivals.length).toBe(4);
    // Forwarded one by one: the pieces arrived spread over the emulator's pauses, not in one burst.
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(250);
    expect(finish).toBe("stop");
    const reported = h.emulator.calls.at(-1)?.usage;
    expect(usage).toMatchObject({ completion_tokens: reported?.outputTokens });
    expect(h.emulator.calls.at(-1)?.operation).toBe("converse-stream");
  });

  it("ends with [DONE] on the wire", async () => {
    const response = await fetch(`${h.broker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const body = await response.text();
    expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(body).not.toMatch(/"usage":\{/);
  });
});

describe("tools", () => {
  const tools = [
    tool("read_file", "Read a file", { type: "object", properties: { path: { type: "string" } }, required: ["path"] }),
    tool("focus_chain", ""),
  ];

  it("streams tool calls indexed from 0 with incremental arguments, and accepts the results next turn", async () => {
    h.emulator.setHandler(() => ({
      content: [{ text: "Let me look." }, { toolUse: { name: "read_file", input: { path: "src/index.ts" } } }, { toolUse: { name: "focus_chain", input: {} } }],
      stopReason: "tool_use",
    }));
    const stream = await h.client.chat.completions.create({
      model: "claude-sonnet-4",
      messages: [system("You are Cline."), user("What is in src/index.ts?")],
      tools,
      tool_choice: "auto",
      parallel_tool_calls: false,
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; arguments: string; pieces: number }>();
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { arguments: "", pieces: 0 };
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name = delta.function.name;
        if (delta.function?.arguments) {
          call.arguments += delta.function.arguments;
          call.pieces++;
        }
        calls.set(delta.index, call);
      }
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    }
    expect([...calls.keys()]).toEqual([0, 1]);
    expect(calls.get(0)).toMatchObject({ name: "read_file" });
    expect(JSON.parse(calls.get(0)?.arguments ?? "")).toEqual({ path: "src/index.ts" });
    expect(calls.get(0)?.pieces).toBeGreaterThan(1);
    expect(calls.get(1)).toMatchObject({ name: "focus_chain", arguments: "{}" });
    expect(finish).toBe("tool_calls");
    const sent = h.emulator.calls.at(-1)?.body as { toolConfig: { tools: Array<{ toolSpec?: { description?: string } }> } };
    expect(sent.toolConfig.tools[1]?.toolSpec?.description).toBeUndefined();

    // Next turn, as Cline sends it: tool calls in history (one with "" arguments) and their results.
    h.emulator.setHandler(undefined);
    const first = calls.get(0);
    const second = calls.get(1);
    const next = await h.client.chat.completions.create({
      model: "claude-sonnet-4",
      tools,
      messages: [
        system("You are Cline."),
        user("What is in src/index.ts?"),
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [
            { id: first?.id ?? "", type: "function", function: { name: "read_file", arguments: first?.arguments ?? "" } },
            { id: second?.id ?? "", type: "function", function: { name: "focus_chain", arguments: "" } },
          ],
        },
        toolResult(first?.id ?? "", "export const x = 1;") as never,
        toolResult(second?.id ?? "", "") as never,
      ],
    });
    expect(next.choices[0]?.message.content).toMatch(/Bedrock emulator/);
  });

  it("answers non-streamed tool calls with JSON arguments", async () => {
    h.emulator.setHandler(() => ({ content: [{ toolUse: { name: "read_file", input: { path: "a" } } }], stopReason: "tool_use" }));
    const completion = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("read a")], tools, tool_choice: "required" });
    expect(h.emulator.calls.at(-1)?.body).toMatchObject({ toolConfig: { toolChoice: { any: {} } } });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    expect(call && "function" in call ? JSON.parse(call.function.arguments) : undefined).toEqual({ path: "a" });
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
  });
});

describe("reasoning", () => {
  const tools = [tool("run_tests", "Run the tests")];

  for (const stream of [true, false]) {
    it(`streams thinking as reasoning_content and keeps its signature for the next tool turn (${stream ? "stream" : "non-stream"})`, async () => {
      h.emulator.setHandler(() => ({
        content: [{ reasoning: { text: "The user wants tests run. I will call run_tests." } }, { toolUse: { name: "run_tests", input: {} } }],
        stopReason: "tool_use",
      }));
      let reasoning = "";
      let toolCallId = "";
      if (stream) {
        const events = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("Run the tests")], tools, reasoning_effort: "low", stream: true });
        for await (const chunk of events) {
          const delta = chunk.choices[0]?.delta as { reasoning_content?: string; tool_calls?: Array<{ id?: string }> } | undefined;
          reasoning += delta?.reasoning_content ?? "";
          toolCallId = delta?.tool_calls?.[0]?.id ?? toolCallId;
        }
      } else {
        const completion = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("Run the tests")], tools, reasoning_effort: "low" });
        const message = completion.choices[0]?.message as { reasoning_content?: string; tool_calls?: Array<{ id: string }> };
        reasoning = message.reasoning_content ?? "";
        toolCallId = message.tool_calls?.[0]?.id ?? "";
      }
      expect(reasoning).toBe("The user wants tests run. I will call run_tests.");
      expect(h.emulator.calls.at(-1)?.body).toMatchObject({ additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 2048 } } });

      // The follow-up turn carries no signature (OpenAI's format has no field for it); the emulator,
      // like Bedrock, refuses it unless the broker replays the signed thinking block.
      h.emulator.setHandler(undefined);
      const followUp = await h.client.chat.completions.create({
        model: "claude-sonnet-4",
        tools,
        reasoning_effort: "low",
        messages: [
          user("Run the tests"),
          { role: "assistant", content: null, tool_calls: [{ id: toolCallId, type: "function", function: { name: "run_tests", arguments: "{}" } }] },
          toolResult(toolCallId, "12 passed") as never,
        ],
      });
      expect(followUp.choices[0]?.message.content).toMatch(/Bedrock emulator/);
      const replayed = h.emulator.calls.at(-1)?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> };
      expect(replayed.messages[1]?.content[0]).toHaveProperty("reasoningContent");
    });
  }

  it("uses the policy's default effort", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4-5", messages: [user("think")] });
    expect(h.emulator.calls.at(-1)?.body).toMatchObject({ additionalModelRequestFields: { thinking: { budget_tokens: 2048 } } });
  });
});

describe("images", () => {
  const png = `data:image/png;base64,${Buffer.from("\x89PNG fake image").toString("base64")}`;

  it("sends data: URL images as Bedrock image blocks", async () => {
    await h.client.chat.completions.create({
      model: "claude-sonnet-4",
      messages: [{ role: "user", content: [{ type: "text", text: "Describe" }, { type: "image_url", image_url: { url: png } }] }],
    });
    const body = h.emulator.calls.at(-1)?.body as { messages: Array<{ content: Array<{ image?: { format: string } }> }> };
    expect(body.messages[0]?.content[1]?.image?.format).toBe("png");
  });

  it("refuses remote image URLs with a 400 and never calls Bedrock", async () => {
    const error = await h.client.chat.completions
      .create({ model: "claude-sonnet-4", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: "unsupported_image_url", param: "messages[0].content[0].image_url.url" });
    expect(h.emulator.calls).toHaveLength(0);
  });
});

describe("automatic prompt caching", () => {
  it("places cache points so the second turn of a conversation reads the cache and costs less", async () => {
    const systemPrompt = textOfTokens(3000, "You are Cline, a careful coding agent. ");
    const tools = [tool("read_file", "Read a file")];
    const turn1 = [system(systemPrompt), user(`Task: ${textOfTokens(300, "refactor the parser ")}`)];
    const first = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: turn1, tools });
    const second = await h.client.chat.completions.create({
      model: "claude-sonnet-4",
      tools,
      messages: [...turn1, { role: "assistant", content: first.choices[0]?.message.content ?? "" }, user("Continue with the next step.")],
    });
    const u1 = first.usage as unknown as { prompt_tokens: number; cache_creation_input_tokens: number; prompt_tokens_details: { cached_tokens: number }; cost: number };
    const u2 = second.usage as unknown as typeof u1;
    expect(u1.cache_creation_input_tokens).toBeGreaterThan(3000);
    expect(u2.prompt_tokens_details.cached_tokens).toBeGreaterThan(3000);
    expect(u2.prompt_tokens).toBeGreaterThan(u1.prompt_tokens);
    expect(u2.cost).toBeLessThan(u1.cost);
    const sent = h.emulator.calls.at(-1)?.body as { system: Array<Record<string, unknown>> };
    expect(sent.system.at(-1)).toEqual({ cachePoint: { type: "default" } });
  });

  it("places no cache points for models without prompt caching", async () => {
    await h.client.chat.completions.create({ model: "llama3-3-70b", messages: [system(textOfTokens(3000)), user("hi")] });
    expect(JSON.stringify(h.emulator.calls.at(-1)?.body)).not.toContain("cachePoint");
  });
});
