// The HTTP layer of a real `tollgate serve` (with the Bedrock emulator) against bad input: random and
// mutated JSON, wrong types, huge arrays, deep nesting, invalid UTF-8, oversized bodies, non-JSON
// content types, malformed HTTP and slow clients. Every case: a 4xx in OpenAI's error shape whose
// message names the problem (or a 200 where the input is in fact acceptable), and the broker stays
// up — it answers /healthz, its process is alive, and it logged no internal error.
import { isUtf8 } from "node:buffer";
import { chatCompletionRequestSchema, parsePolicy, type ModelPolicy } from "@tollgate/shared";
import fc from "fast-check";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toBedrockRequest } from "../../broker/src/bedrock/request/index.js";
import { MemoryReasoningStore } from "../../broker/src/bedrock/request/reasoning-store.js";
import { ApiError } from "../../broker/src/errors.js";
import { parseBody } from "../../broker/src/http/validate.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";
import { validChatRequest } from "./chat-arbitraries.js";
import { caseTally, mutate, mutationArb, nestedArraysText, runs, toJsonText } from "./support.js";

const count = caseTally("http");
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const HEADERS_TIMEOUT_S = 1;
const REQUEST_TIMEOUT_S = 2;

let h: Harness;
let url: URL;
beforeAll(async () => {
  h = await startHarness({
    brokerArgs: ["--max-body-bytes", String(MAX_BODY_BYTES), "--headers-timeout", String(HEADERS_TIMEOUT_S), "--request-timeout", String(REQUEST_TIMEOUT_S)],
  });
  url = new URL(h.broker.url);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** After every test: the broker still answers, its process lives, and nothing was an internal error. */
afterEach(async () => {
  expect(h.broker.child.exitCode).toBeNull();
  expect(h.broker.child.signalCode).toBeNull();
  const health = await fetch(`${h.broker.url}/healthz`);
  expect(health.status).toBe(200);
  const internal = h.broker.output().split("\n").filter((line) => line.includes('"level":50') || line.includes('"status":5'));
  expect(internal).toEqual([]);
});

/** The test policy's models, resolved as the broker resolves them (for the in-process comparison). */
const MODELS = (() => {
  const result = parsePolicy(TEST_POLICY);
  if (!result.ok) throw new Error("test policy invalid");
  return result.policy.models;
})();
const sonnet = MODELS.get("claude-sonnet-4") as ModelPolicy;
const llama = MODELS.get("llama3-3-70b") as ModelPolicy;

interface Answer {
  status: number;
  text: string;
  contentType: string;
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}, token = TEST_KEY): Promise<Answer> {
  const response = await fetch(`${h.broker.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get("content-type") ?? "" };
}

/** A 4xx in OpenAI's shape: `{error: {message, type, param, code}}`, the message naming the problem. */
function expectRefusal(answer: Answer, code?: string | RegExp, extraKeys: string[] = []): { message: string; type: string; param: string | null; code: string } {
  if (answer.status < 400 || answer.status >= 500) throw new Error(`expected a 4xx, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  expect(answer.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: { message: string; type: string; param: string | null; code: string } };
  expect(Object.keys(body).filter((key) => !extraKeys.includes(key))).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  const { message, param } = body.error;
  expect(typeof message).toBe("string");
  expect(message.length).toBeGreaterThan(15);
  expect(typeof body.error.type).toBe("string");
  expect(typeof body.error.code).toBe("string");
  // A schema refusal names the field it is about, by its path.
  if (param && message.startsWith("Invalid request:")) expect(message).toContain(`${param}:`);
  if (code instanceof RegExp) expect(body.error.code).toMatch(code);
  else if (code !== undefined) expect(body.error.code).toBe(code);
  return body.error;
}

/** What the broker's own checks say about `body` for `model`, computed in-process. */
function expectedRefusal(body: unknown, model: ModelPolicy): ApiError | undefined {
  try {
    toBedrockRequest(parseBody(chatCompletionRequestSchema, body), model, { reasoningStore: new MemoryReasoningStore() });
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

describe("random and mutated JSON bodies", () => {
  it("refuses arbitrary JSON and wrong-typed fields with a 4xx naming the problem", async () => {
    const field = (arb: fc.Arbitrary<unknown>) => fc.option(arb, { nil: undefined, freq: 3 });
    const wrongTyped = fc.record(
      {
        model: field(fc.oneof(fc.constant("claude-sonnet-4"), fc.jsonValue({ maxDepth: 2 }))),
        messages: field(fc.jsonValue({ maxDepth: 4 })),
        tools: field(fc.jsonValue({ maxDepth: 3 })),
        temperature: field(fc.jsonValue({ maxDepth: 1 })),
        max_tokens: field(fc.oneof(fc.integer(), fc.double(), fc.string())),
        stream: field(fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), wrongTyped), async (body) => {
        count("random JSON bodies");
        expectRefusal(await post("/v1/chat/completions", JSON.stringify(body)));
      }),
      { numRuns: runs(150) },
    );
  });

  it("answers mutated valid requests exactly as the broker's checks decide: the same 4xx, or a completion", async () => {
    const model = fc.constantFrom(sonnet, llama);
    const request = model.chain((m) => validChatRequest(m.name, { vision: m.vision, maxOutputTokens: m.maxOutputTokens }).map((body) => ({ model: m, body })));
    await fc.assert(
      fc.asyncProperty(request, fc.array(fc.tuple(fc.nat(), mutationArb), { maxLength: 2 }), async ({ model, body }, mutations) => {
        let mutated: unknown = body;
        for (const [pick, mutation] of mutations) mutated = mutate(mutated, pick, mutation);
        const expected = expectedRefusal(mutated, model);
        const answer = await post("/v1/chat/completions", toJsonText(mutated));
        if (expected) {
          count("mutated requests (refused)");
          const error = expectRefusal(answer);
          expect({ status: answer.status, code: error.code }).toEqual({ status: expected.status, code: expected.code });
        } else if (mutations.length === 0) {
          count("valid requests (answered)");
          expect(answer.status, answer.text.slice(0, 300)).toBe(200);
        } else {
          // Our checks pass it; Bedrock's rules may still refuse what a mutation made (e.g. a tool
          // call's name): then a 4xx with Bedrock's reason, never a 5xx.
          count("mutated requests (passed on)");
          if (answer.status !== 200) expectRefusal(answer);
        }
      }),
      { numRuns: runs(150) },
    );
  });

  it("refuses bad bodies on the admin API the same way", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom("/admin/policy/rollback", "/admin/policy"), async (body, path) => {
        count("admin API bodies");
        const answer = await fetch(`${h.broker.url}${path}`, {
          method: path.endsWith("rollback") ? "POST" : "PUT",
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const text = await answer.text();
        // A refused policy also lists its problems beside the error.
        expectRefusal({ status: answer.status, text, contentType: answer.headers.get("content-type") ?? "" }, undefined, ["problems"]);
      }),
      { numRuns: runs(60) },
    );
  });
});

describe("huge and deep bodies", () => {
  const chat = (extra: Record<string, unknown>) => ({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }], ...extra });

  it("refuses bodies above --max-body-bytes, with or without a content-length, naming the limit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 2 }), fc.boolean(), async (size, chunked) => {
        count("oversized bodies");
        const text = JSON.stringify(chat({ pad: "x".repeat(size) }));
        const body = chunked ? new Blob([text]).stream() : text;
        const response = await fetch(`${h.broker.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
          body,
          ...(chunked ? { duplex: "half" } : {}),
        } as RequestInit);
        const error = expectRefusal({ status: response.status, text: await response.text(), contentType: response.headers.get("content-type") ?? "" }, "request_too_large");
        expect(error.message).toContain(`${MAX_BODY_BYTES} bytes`);
      }),
      { numRuns: runs(6) },
    );
    expect(h.emulator.calls.filter((call) => JSON.stringify(call.body).includes("xxxxxxxx"))).toEqual([]);
  });

  it("answers huge arrays of messages or tools within the body limit promptly, without stalling other requests", async () => {
    const cases = [
      { name: "50k user messages", body: chat({ messages: Array.from({ length: 50_000 }, () => ({ role: "user", content: "x" })) }) },
      { name: "30k alternating turns", body: chat({ messages: Array.from({ length: 30_001 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "x" })) }) },
      { name: "20k tool results", body: chat({ tools: [{ type: "function", function: { name: "t" } }], messages: [{ role: "user", content: "x" }, { role: "assistant", content: null, tool_calls: Array.from({ length: 10_000 }, (_, i) => ({ id: `c${i}`, type: "function", function: { name: "t", arguments: "" } })) }, ...Array.from({ length: 10_000 }, (_, i) => ({ role: "tool", tool_call_id: `c${i}`, content: "ok" }))] }) },
      { name: "20k tools", body: chat({ tools: Array.from({ length: 20_000 }, (_, i) => ({ type: "function", function: { name: `tool_${i}` } })) }) },
      { name: "20k duplicate tools", body: chat({ tools: Array.from({ length: 20_000 }, () => ({ type: "function", function: { name: "same" } })) }) },
      { name: "30k content parts", body: chat({ messages: [{ role: "user", content: Array.from({ length: 30_000 }, () => ({ type: "text", text: "x" })) }] }) },
      { name: "100k stop strings", body: chat({ stop: Array.from({ length: 100_000 }, () => "x") }) },
    ];
    for (const { name, body } of cases) {
      count("huge arrays");
      const started = performance.now();
      const [answer, health] = await Promise.all([
        post("/v1/chat/completions", JSON.stringify(body)),
        // While the big one is handled, a health check still gets through.
        new Promise((resolve) => setTimeout(resolve, 20)).then(async () => {
          const t = performance.now();
          await fetch(`${h.broker.url}/healthz`);
          return performance.now() - t;
        }),
      ]);
      const elapsed = performance.now() - started;
      if (answer.status !== 200) expectRefusal(answer);
      expect(elapsed, `${name} took ${elapsed} ms`).toBeLessThan(10_000);
      expect(health, `${name}: /healthz waited ${health} ms`).toBeLessThan(5_000);
    }
  });

  it("refuses deep nesting wherever the broker reads the value, and ignores it where it doesn't", async () => {
    const MARK = "__deep__";
    const places: Array<{ name: string; body: Record<string, unknown>; read: boolean }> = [
      { name: "the whole body", body: { [MARK]: true }, read: true },
      { name: "messages", body: chat({ messages: MARK }), read: true },
      { name: "a message", body: chat({ messages: [MARK] }), read: true },
      { name: "message content", body: chat({ messages: [{ role: "user", content: MARK }] }), read: true },
      { name: "tools", body: chat({ tools: MARK }), read: true },
      { name: "tool parameters", body: chat({ tools: [{ type: "function", function: { name: "t", parameters: { type: "object", properties: { a: MARK } } } }] }), read: true },
      { name: "tool_choice", body: chat({ tool_choice: MARK }), read: true },
      { name: "stop", body: chat({ stop: MARK }), read: true },
      { name: "an unknown field", body: chat({ metadata: MARK }), read: false },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...places), fc.constantFrom(101, 1_000, 20_000, 100_000), async (place, depth) => {
        count("deep nesting");
        const deep = nestedArraysText(depth);
        const text = place.name === "the whole body" ? deep : JSON.stringify(place.body).replace(`"${MARK}"`, deep);
        const answer = await post("/v1/chat/completions", text);
        if (place.read) expectRefusal(answer);
        else if (answer.status !== 200) expectRefusal(answer);
      }),
      { numRuns: runs(40) },
    );
    // Tool-call arguments are a JSON string the broker parses: nesting inside it is bounded too.
    for (const depth of [101, 10_000, 100_000]) {
      count("deep nesting");
      const args = `{"a":${nestedArraysText(depth)}}`;
      const body = chat({
        tools: [{ type: "function", function: { name: "t" } }],
        messages: [{ role: "user", content: "x" }, { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "t", arguments: args } }] }, { role: "tool", tool_call_id: "c1", content: "ok" }],
      });
      const error = expectRefusal(await post("/v1/chat/completions", JSON.stringify(body)));
      expect(error.param).toBe("messages[1].tool_calls[0].function.arguments");
    }
  });
});

describe("encodings and content types", () => {
  it("refuses invalid UTF-8 with a 400 naming it, wherever the bytes sit; Bedrock never sees it", async () => {
    const invalid = fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf], [0x80]);
    await fc.assert(
      // Two broken pieces can make a valid character together (0xc3 then 0x80 is "À"): only invalid bodies count.
      fc.asyncProperty(fc.array(invalid, { minLength: 1, maxLength: 4 }).filter((pieces) => !isUtf8(Buffer.from(pieces.flat()))), fc.boolean(), async (sequences, inModel) => {
        count("invalid UTF-8 bodies");
        h.emulator.reset();
        const bad = Buffer.from(sequences.flat());
        const [before, after] = inModel ? ['{"model":"claude-sonnet-4', '","messages":[{"role":"user","content":"hi"}]}'] : ['{"model":"claude-sonnet-4","messages":[{"role":"user","content":"say ', '"}]}'];
        const answer = await post("/v1/chat/completions", Buffer.concat([Buffer.from(before), bad, Buffer.from(after)]));
        expectRefusal(answer);
        expect(answer.text).toMatch(/UTF-8/);
        expect(h.emulator.calls).toHaveLength(0);
      }),
      { numRuns: runs(30) },
    );
  });

  it("refuses bodies sent as anything but JSON, saying what to send", async () => {
    const body = JSON.stringify(chat());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/octet-stream", "image/png", "json", "application/jsonx"),
          fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,12}$/).filter((type) => !/^application\/(json|.*\+json)$/.test(type)),
        ),
        async (contentType) => {
          count("non-JSON content types");
          const answer = await post("/v1/chat/completions", body, { "content-type": contentType });
          const error = expectRefusal(answer, "invalid_body");
          expect(error.message).toMatch(/content-type: application\/json/);
        },
      ),
      { numRuns: runs(30) },
    );
    function chat() {
      return { model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }] };
    }
  });

  it("refuses unsupported charsets and bodies that don't decompress", async () => {
    const body = JSON.stringify({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }] });
    const cases: Array<{ headers: Record<string, string>; body: string | Buffer; code: string }> = [
      { headers: { "content-type": "application/json; charset=latin1" }, body, code: "unsupported_encoding" },
      { headers: { "content-type": "application/json; charset=shift_jis" }, body, code: "unsupported_encoding" },
      { headers: { "content-encoding": "gzip" }, body, code: "unreadable_body" },
      { headers: { "content-encoding": "deflate" }, body: gzipSync(body), code: "unreadable_body" },
      { headers: { "content-encoding": "br" }, body, code: "unreadable_body" },
      { headers: { "content-encoding": "compress" }, body, code: "unsupported_encoding" },
      { headers: { "content-encoding": "gzip" }, body: gzipSync(body).subarray(0, 20), code: "unreadable_body" },
    ];
    for (const c of cases) {
      count("encodings");
      expectRefusal(await post("/v1/chat/completions", c.body, c.headers), c.code);
    }
    // A correctly compressed body is fine.
    const ok = await post("/v1/chat/completions", gzipSync(body), { "content-encoding": "gzip" });
    expect(ok.status).toBe(200);
  });
});

/** Raw HTTP over a socket: what a misbehaving client really sends, and what comes back before close. */
function rawExchange(write: (send: (data: string) => boolean) => Promise<void> | void): Promise<{ response: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(url.port), url.hostname);
    let response = "";
    socket.on("data", (data: Buffer) => (response += data.toString("utf8")));
    socket.on("error", () => undefined); // a reset after the answer is fine; the answer is what counts
    socket.on("close", () => resolve({ response, elapsedMs: performance.now() - started }));
    socket.on("connect", () => {
      const send = (data: string): boolean => !socket.destroyed && socket.write(data);
      Promise.resolve(write(send)).catch(reject);
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the broker kept a misbehaving connection open for 15 s; got: ${response.slice(0, 200)}`));
    }, 15_000).unref();
  });
}

function expectRawRefusal(response: string, status: number, code: string): void {
  const [head = "", body = ""] = response.split("\r\n\r\n");
  expect(head.split("\r\n")[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expectRefusal({ status, text: body, contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "" }, code);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("slow and malformed clients", () => {
  it("cuts off clients that send headers or a body too slowly (slowloris), answering 408, while serving others", async () => {
    const headerBytes = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-type: application/json\r\n`;
    const body = JSON.stringify({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }] });
    const trickle = async (send: (data: string) => boolean, data: string, everyMs: number): Promise<void> => {
      for (const char of data) {
        if (!send(char)) return;
        await pause(everyMs);
      }
    };
    const slowHeaders = () => rawExchange((send) => trickle(send, headerBytes.repeat(20), 150));
    const slowBody = () =>
      rawExchange(async (send) => {
        send(`${headerBytes}content-length: ${body.length}\r\n\r\n`);
        await trickle(send, body, 200);
      });
    const silent = () => rawExchange(() => undefined);
    const clients = [...Array.from({ length: 6 }, slowHeaders), ...Array.from({ length: 6 }, slowBody), ...Array.from({ length: 4 }, silent)];
    // Meanwhile a well-behaved client is served normally.
    const served = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }] });
    expect(served.choices[0]?.message.content).toBeTruthy();
    const results = await Promise.all(clients);
    for (const [index, { response, elapsedMs }] of results.entries()) {
      count("slow clients");
      expectRawRefusal(response, 408, "request_timeout");
      // Headers: cut after HEADERS_TIMEOUT_S; body: after REQUEST_TIMEOUT_S (plus the check interval).
      const limit = (index >= 6 && index < 12 ? REQUEST_TIMEOUT_S : HEADERS_TIMEOUT_S) * 1000;
      expect(elapsedMs).toBeGreaterThanOrEqual(limit - 50);
      expect(elapsedMs).toBeLessThan(limit + 1500);
    }
  });

  it("answers malformed HTTP and oversized headers in OpenAI's shape, then closes", async () => {
    const cases = [
      { send: "GARBAGE\r\n\r\n", status: 400, code: "malformed_http" },
      { send: "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n", status: 400, code: "malformed_http" },
      { send: "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab", status: 400, code: "malformed_http" },
      { send: "GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n", status: 400, code: "malformed_http" },
      { send: `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`, status: 400, code: "malformed_http" },
      { send: "GET /v1/models HTTP/9.9\r\nhost: x\r\n\r\n", status: 400, code: "malformed_http" },
      { send: "\u0000\u0001\u0002\r\n\r\n", status: 400, code: "malformed_http" },
      { send: `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`, status: 431, code: "headers_too_large" },
      { send: "GET /v1/models HTTP/1.1\r\nho st: x\r\n\r\n", status: 400, code: "malformed_http" },
    ];
    for (const c of cases) {
      count("malformed HTTP");
      const { response } = await rawExchange((send) => {
        send(c.send);
      });
      expectRawRefusal(response, c.status, c.code);
    }
  });
});
