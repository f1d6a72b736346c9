// Every error a client sees is in OpenAI's shape, with a status clients handle correctly and a
// message a person can act on.
import { APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { textOfTokens, user } from "../support/builders.js";
import { apiError } from "../support/api-error.js";
import { startHarness, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

// Each test maps one Bedrock error on the only deployment; a 1 ms cool-down keeps one test's
// throttle from answering for the next (routing.test.ts covers cool-downs).
const ONE_ERROR_AT_A_TIME = {
  ...TEST_POLICY,
  models: Object.fromEntries(Object.entries(TEST_POLICY.models).map(([name, model]) => [name, { ...model, cooldown: { initialMs: 1, maxMs: 1 } }])),
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: ONE_ERROR_AT_A_TIME, brokerArgs: ["--max-body-bytes", "65536"] });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.reset();
});

async function post(body: string | object, contentType = "application/json") {
  const response = await fetch(`${h.broker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": contentType, authorization: `Bearer ${TEST_KEY}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error: Record<string, unknown> } };
}

function expectOpenAiError(body: { error: Record<string, unknown> }): void {
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error.message).toBe("string");
}

describe("bad requests", () => {
  it("malformed JSON → 400 invalid_json", async () => {
    const { status, body } = await post('{"model": "claude-sonnet-4", "messages": [');
    expect(status).toBe(400);
    expectOpenAiError(body);
    expect(body.error.code).toBe("invalid_json");
  });

  it("missing and mistyped fields → 400 naming the field", async () => {
    const missing = await post({ model: "claude-sonnet-4" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe("messages");
    const mistyped = await post({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }], max_tokens: "lots" });
    expect(mistyped.body.error.param).toBe("max_tokens");
    expect(mistyped.body.error.message).toMatch(/max_tokens/);
    const badRole = await post({ model: "claude-sonnet-4", messages: [{ role: "robot", content: "hi" }] });
    expect(badRole.body.error.param).toMatch(/^messages\[0\]/);
  });

  it("a body that is not JSON → 400 telling what to send", async () => {
    const { status, body } = await post("model=x", "text/plain");
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/content-type: application\/json/);
  });

  it("an oversized body → 400 naming the limit and how to raise it", async () => {
    const { status, body } = await post({ model: "claude-sonnet-4", messages: [{ role: "user", content: textOfTokens(40_000) }] });
    expect(status).toBe(400);
    expect(body.error.code).toBe("request_too_large");
    expect(body.error.message).toMatch(/65536 bytes.*--max-body-bytes/);
    expect(h.emulator.calls).toHaveLength(0);
  });

  it("an unknown model → 404 listing the available ones", async () => {
    const error = await apiError(h.client.chat.completions.create({ model: "gpt-4o", messages: [user("hi")] }));
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
    expect(error.message).toMatch(/claude-sonnet-4.*llama3-3-70b/);
  });

  it("an unknown route → 404 in OpenAI's shape", async () => {
    const response = await fetch(`${h.broker.url}/v1/embeddings`, { method: "POST", headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect(response.status).toBe(404);
    expectOpenAiError((await response.json()) as { error: Record<string, unknown> });
  });
});

describe("Bedrock errors", () => {
  const cases: Array<{ name: string; status: number; code: string; message: RegExp }> = [
    { name: "ThrottlingException", status: 429, code: "upstream_throttled", message: /throttling.*retry in \d+ s/ },
    { name: "ModelNotReadyException", status: 429, code: "upstream_model_not_ready", message: /not ready/ },
    { name: "AccessDeniedException", status: 403, code: "upstream_access_denied", message: /us\.anthropic\.claude-sonnet-4.*us-east-1.*bedrock:InvokeModel/ },
    { name: "ResourceNotFoundException", status: 404, code: "upstream_model_not_found", message: /admin must fix the modelId or region/ },
    { name: "ModelTimeoutException", status: 504, code: "upstream_timeout", message: /timed out/ },
    { name: "ModelErrorException", status: 502, code: "upstream_error", message: /ModelErrorException/ },
    { name: "InternalServerException", status: 502, code: "upstream_error", message: /InternalServerException/ },
    { name: "ServiceUnavailableException", status: 503, code: "upstream_unavailable", message: /unavailable/ },
  ];
  for (const { name, status, code, message } of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      h.emulator.setHandler(() => ({ error: { name } }));
      const error = await apiError(h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
      expect(error.status).toBe(status);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      if (status === 429) expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
    });
  }

  it("Bedrock's retry-after is passed on with throttling", async () => {
    h.emulator.setHandler(() => ({ error: { name: "ThrottlingException", retryAfterSeconds: 7 } }));
    const error = await apiError(h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], stream: true }));
    expect(error.status).toBe(429);
    expect(error.headers?.get("retry-after")).toBe("7");
  });

  it("too-long input → 400 context_length_exceeded", async () => {
    h.emulator.setHandler(() => ({ error: { name: "ValidationException", message: "Input is too long for requested model." } }));
    const error = await apiError(h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
    expect(error.status).toBe(400);
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toMatch(/too long for claude-sonnet-4/);
  });

  it("other validation errors → 400 with Bedrock's reason", async () => {
    h.emulator.setHandler(() => ({ error: { name: "ValidationException", message: "The model returned the following errors: bad thing" } }));
    const error = await apiError(h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/bad thing/);
  });
});

describe("errors after the stream started", () => {
  async function consume(): Promise<{ text: string; error: unknown }> {
    const stream = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], stream: true });
    let text = "";
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      return { text, error: undefined };
    } catch (error) {
      return { text, error };
    }
  }

  it("a mid-stream exception ends the stream with an error event the client can show", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "alpha beta gamma delta" }], chunks: 4, midStreamError: { afterEvents: 3, name: "throttlingException", message: "Too many tokens" } }));
    const { text, error } = await consume();
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/throttling.*Too many tokens/);
  });

  it("a dropped Bedrock connection ends the stream with an error, never a hang", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "alpha beta gamma delta" }], chunks: 4, dropAfterEvents: 2 }));
    const { error } = await consume();
    expect(error).toBeDefined();
  });
});

describe("cancellation", () => {
  it("a client abort aborts the Bedrock call", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "a b c d e f g h" }], chunks: 8, chunkDelayMs: 200 }));
    const controller = new AbortController();
    const stream = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], stream: true }, { signal: controller.signal });
    let seen = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++seen === 2) {
        controller.abort();
        break;
      }
    }
    await expect.poll(() => h.emulator.calls.at(-1)?.aborted, { timeout: 3000 }).toBe(true);
    expect(h.emulator.calls.at(-1)?.finished).toBe(false);
  });
});
