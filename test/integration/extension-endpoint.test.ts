// The extension's local endpoint (its core, without VS Code) in front of the real `tollgate serve`
// and the Bedrock emulator, driven by the official `openai` client as Cline drives it.
import { statSync } from "node:fs";
import { join } from "node:path";
import http from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBrokerClient } from "../../extension/src/core/broker-client.js";
import { streamChatCompletion } from "../../extension/src/core/chat-stream.js";
import { toOpenAIMessages, toOpenAITools, ToolCallCollector } from "../../extension/src/core/lm-translate.js";
import { EndpointCoordinator, readEndpointInfo, type EndpointInfo } from "../../extension/src/core/endpoint-coordinator.js";
import { createEndpointServer, type ExchangeEnd } from "../../extension/src/core/endpoint-server.js";
import { loadOrCreateLocalToken } from "../../extension/src/core/local-token.js";
import { silentLogger } from "../../extension/src/core/log.js";
import { loadPanelData } from "../../extension/src/core/panel-data.js";
import { StatusModel, statusView } from "../../extension/src/core/status.js";
import { apiError } from "../support/api-error.js";
import { user } from "../support/builders.js";
import { tempDir } from "../support/broker-process.js";
import { startHarness, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const LIMITED_KEY = "tg_limited-key-for-extension-tests-01";
const policy = {
  ...TEST_POLICY,
  users: {
    tester: { ...TEST_POLICY.users.tester, limits: { dailyUsd: 20, rpm: 100 } },
    limited: { team: "eng", keys: [keyHashEntry(LIMITED_KEY)], limits: { rpm: 1 } },
  },
};

let h: Harness;
let coordinator: EndpointCoordinator;
let info: EndpointInfo;
let configDir: string;
let brokerUrl: () => string;
let developerKey = TEST_KEY;
const model = new StatusModel();
model.setSignedIn(true);
const ends: ExchangeEnd[] = [];

function client(apiKey = info.apiKey): OpenAI {
  return new OpenAI({ baseURL: info.baseUrl, apiKey, maxRetries: 0 });
}

beforeAll(async () => {
  h = await startHarness({ policy });
  brokerUrl = () => h.broker.url;
  configDir = join(tempDir("tollgate-home-"), ".config", "tollgate");
  const localToken = loadOrCreateLocalToken(configDir);
  coordinator = new EndpointCoordinator({
    configDir,
    port: 0,
    localToken,
    version: "test",
    log: silentLogger,
    createServer: () =>
      createEndpointServer({
        localToken,
        brokerUrl: () => brokerUrl(),
        developerKey: async () => developerKey,
        project: () => "demo-project",
        log: silentLogger,
        onResponse: (event) => model.applyResponse(event.status, event.headers),
        onExchangeEnd: (event) => ends.push(event),
        onBrokerUnreachable: () => model.applyOffline(),
      }),
  });
  const role = await coordinator.start();
  if (role.kind !== "serving") throw new Error(`endpoint did not start: ${JSON.stringify(role)}`);
  info = role.info;
});

afterAll(async () => {
  await coordinator?.dispose();
  await h?.close();
});

beforeEach(() => {
  h.emulator.reset();
  h.emulator.setHandler(undefined);
  developerKey = TEST_KEY;
  brokerUrl = () => h.broker.url;
});

describe("the local endpoint in front of the real broker", () => {
  it("records itself in endpoint.json (0600, folder 0700) with the local token, not the developer's key", () => {
    const recorded = readEndpointInfo(configDir);
    expect(recorded).toMatchObject({ baseUrl: info.baseUrl, apiKey: info.apiKey, pid: process.pid });
    expect(recorded?.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(recorded?.apiKey).not.toContain(TEST_KEY);
    expect(statSync(join(configDir, "endpoint.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, "local-token")).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
  });

  it("lists the developer's models and answers completions as the developer, with the project", async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(["claude-sonnet-4", "claude-sonnet-4-5", "llama3-3-70b"]);
    const { data, response } = await client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("Hello")] }).withResponse();
    expect(data.choices[0]?.message.content).toMatch(/Bedrock emulator/);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toMatch(/^\d+$/);
    expect(response.headers.get("x-tollgate-budget-remaining-usd")).toMatch(/^\d/);
    const recent = await h.call("/v1/me/requests?limit=1");
    const [row] = ((await recent.json()) as { data: Array<{ user: string; project: string | null }> }).data;
    expect(row).toMatchObject({ user: "tester", project: "demo-project" });
    expect(model.facts.lastHeaders?.remainingRequests).toBeGreaterThan(0);
  });

  it("passes a stream through unbuffered", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "one two three four five six" }], chunks: 6, chunkDelayMs: 120 }));
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("stream")], stream: true, stream_options: { include_usage: true } });
    const arrivals: number[] = [];
    let text = "";
    let usage: unknown;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        arrivals.push(Date.now());
        text += delta;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.replace(/\s+/g, " ").trim()).toBe("one two three four five six");
    expect(usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    // Deltas arrived spread over the emulator's pacing, not all at once at the end.
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);
  });

  it("aborts the broker's request (and so Bedrock's) when the client cancels", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "a b c d e f g h" }], chunks: 8, chunkDelayMs: 200 }));
    const controller = new AbortController();
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("cancel me")], stream: true }, { signal: controller.signal });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        controller.abort();
        break;
      }
    }
    await expect.poll(() => h.emulator.calls.filter((call) => call.aborted).length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => ends.at(-1)?.outcome).toBe("client-aborted");
    await expect
      .poll(async () => (((await (await h.call("/v1/me/requests?limit=1")).json()) as { data: Array<{ status: string }> }).data[0]?.status), { timeout: 5000 })
      .toBe("cancelled");
  });

  it("refuses a request without the local token (401), and the developer's own key is not a local token", async () => {
    for (const key of ["wrong", TEST_KEY]) {
      const error = await apiError(client(key).chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
      expect(error.status).toBe(401);
      expect(error.code).toBe("invalid_api_key");
    }
    const bare = await fetch(`${info.baseUrl}/models`);
    expect(bare.status).toBe(401);
    expect(h.emulator.calls).toHaveLength(0);
  });

  it("passes the broker's errors through unchanged", async () => {
    const direct = await apiError(h.client.chat.completions.create({ model: "no-such-model", messages: [user("hi")] }));
    const viaEndpoint = await apiError(client().chat.completions.create({ model: "no-such-model", messages: [user("hi")] }));
    expect(viaEndpoint.status).toBe(direct.status);
    expect(viaEndpoint.code).toBe(direct.code);
    expect(viaEndpoint.message).toBe(direct.message);

    developerKey = LIMITED_KEY;
    await client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("first")] });
    const limited = await apiError(client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("second")] }));
    expect(limited.status).toBe(429);
    expect(limited.code).toBe("rate_limit_exceeded");
    expect(Number(limited.headers?.get("retry-after"))).toBeGreaterThan(0);
    // The status bar learnt it from the headers at once.
    expect(model.facts.retryAt).toBeGreaterThan(Date.now());
  });

  it("answers 503 saying the broker is unreachable when it is down", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    brokerUrl = () => deadUrl;
    const error = await apiError(client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
    expect(error.status).toBe(503);
    expect(error.code).toBe("broker_unreachable");
    expect(error.message).toMatch(/broker at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/);
    expect(statusView(model.facts, Date.now()).text).toBe("Tollgate: offline");
  });
});

describe("the extension's broker client against the real user API", () => {
  it("reads /v1/me, usage and requests within the shared contracts, and feeds the status bar and panel", async () => {
    await client().chat.completions.create({ model: "claude-sonnet-4", messages: [user("spend a little")] });
    const broker = createBrokerClient({ brokerUrl: () => h.broker.url, developerKey: async () => TEST_KEY });
    const me = await broker.me();
    expect(me).toMatchObject({ user: "tester", team: "eng" });
    model.applyMe(me);
    const view = statusView(model.facts, Date.now());
    expect(view.text).toMatch(/^\$\(pulse\) \$\d+\.\d{2,} \/ \$20\.00$/);
    expect(view.accessibilityLabel).toMatch(/^Tollgate: \$\d+\.\d{2,} of \$20\.00 spent today/);

    const data = await loadPanelData(broker);
    expect(data.daily).toHaveLength(30);
    expect(data.daily.at(-1)?.requests).toBeGreaterThan(0);
    expect(data.requests.length).toBeGreaterThan(0);
    expect(data.byProject.map((row) => row.key)).toContain("demo-project");
    expect(data.quota.some((bar) => bar.title === "Daily budget" && bar.maxText === "$20.00")).toBe(true);
    expect(data.spendTodayUsd).toBeGreaterThan(0);
  });
});

describe("the language-model provider's stream straight from the broker", () => {
  it("streams text and whole tool calls, as the developer, with the project", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "Let me look." }, { toolUse: { name: "read_file", input: { path: "src/a.ts" } } }], stopReason: "tool_use" }));
    const collector = new ToolCallCollector();
    let text = "";
    const statuses: number[] = [];
    for await (const chunk of streamChatCompletion({
      brokerUrl: h.broker.url,
      key: TEST_KEY,
      project: "lm-project",
      body: {
        model: "claude-sonnet-4-5",
        messages: toOpenAIMessages([{ role: "user", parts: [{ kind: "text", text: "Read a.ts" }] }]),
        tools: toOpenAITools([{ name: "read_file", description: "Reads a file", inputSchema: { type: "object", properties: { path: { type: "string" } } } }]),
        tool_choice: "auto",
      },
      onResponse: (status) => statuses.push(status),
    })) {
      text += chunk.choices?.[0]?.delta?.content ?? "";
      collector.add(chunk.choices?.[0]?.delta?.tool_calls);
    }
    expect(statuses).toEqual([200]);
    expect(text).toBe("Let me look.");
    expect(collector.finish()).toEqual([{ callId: expect.any(String), name: "read_file", input: { path: "src/a.ts" } }]);
    const [row] = ((await (await h.call("/v1/me/requests?limit=1")).json()) as { data: Array<{ project: string | null; status: string }> }).data;
    expect(row).toMatchObject({ project: "lm-project", status: "ok" });
  });

  it("throws the broker's error for a refused request", async () => {
    const stream = streamChatCompletion({ brokerUrl: h.broker.url, key: TEST_KEY, body: { model: "no-such-model", messages: [user("hi")] } });
    await expect(stream.next()).rejects.toMatchObject({ kind: "http", status: 404 });
  });
});
