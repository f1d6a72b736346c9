// Routing across regions and accounts through the real broker, the real SDK and the emulator, which
// tells deployments apart by the SigV4 scope (region, access key) of each call.
import { costPicoUsd, keyHashEntry, lookupModel, type TokenUsage } from "@tollgate/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RecordedCall } from "../emulator/index.js";
import { apiError } from "../support/api-error.js";
import { user } from "../support/builders.js";
import { runCli } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, type Harness } from "../support/harness.js";

const SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const SONNET_4_5 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const ROLE_B = "arn:aws:iam::222222222222:role/bedrock-invoke";
const APP_PROFILE = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/a1b2c3d4e5f6";
const NARROW_KEY = "tg_test-narrow-user-key-0002";

const ROUTING_POLICY = {
  teams: { eng: { models: ["*"] }, narrow: { models: ["claude-sonnet-4"] } },
  users: {
    tester: { team: "eng", keys: [keyHashEntry(TEST_KEY)] },
    narrow: { team: "narrow", keys: [keyHashEntry(NARROW_KEY)] },
  },
  models: {
    "claude-sonnet-4": {
      route: [
        { id: "acct-a-use1", modelId: SONNET_4, region: "us-east-1" },
        { id: "acct-b-usw2", modelId: SONNET_4, region: "us-west-2", roleArn: ROLE_B, externalId: "tollgate-ext", sessionName: "tg-test" },
      ],
      strategy: "ordered",
      fallbacks: ["claude-haiku-4-5"],
      contextFallbacks: ["claude-sonnet-4-5"],
      timeouts: { firstTokenMs: 2_000, idleMs: 2_000, responseMs: 3_000 },
      // Short, so one test's failures don't steer the next; the cool-down test uses its own model.
      cooldown: { initialMs: 1, maxMs: 1 },
    },
    "claude-sonnet-4-cooling": {
      route: [
        { id: "use2", modelId: SONNET_4, region: "us-east-2" },
        { id: "usw1", modelId: SONNET_4, region: "us-west-1" },
      ],
      cooldown: { initialMs: 20_000, maxMs: 60_000 },
    },
    "claude-haiku-4-5": { route: [{ id: "haiku-use1", modelId: HAIKU_4_5, region: "us-east-1" }] },
    "team-sonnet": {
      route: [{ id: "app-profile", modelId: APP_PROFILE, region: "us-east-1" }],
      pricing: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
    },
    "claude-sonnet-4-5": { route: [{ id: "s45-usw2", modelId: SONNET_4_5, region: "us-west-2" }] },
  },
};

const THROTTLE = { error: { name: "ThrottlingException", message: "Too many requests, please wait before trying again." } };
const ask = { model: "claude-sonnet-4", messages: [user("Hello")] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: ROUTING_POLICY });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.reset();
});

async function admin(path: string): Promise<unknown> {
  const response = await h.call(path, { token: TEST_ADMIN_TOKEN });
  expect(response.status).toBe(200);
  return response.json();
}

interface LedgerRow {
  id: string;
  model: string;
  servedModel: string;
  deployment: string | null;
  fallbacks: number;
  status: string;
  errorCode: string | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
}

async function ledgerRow(requestId: string | null): Promise<LedgerRow> {
  const { data } = (await admin("/admin/requests?refused=exclude&limit=200")) as { data: LedgerRow[] };
  const row = data.find((r) => r.id === requestId);
  if (!row) throw new Error(`no ledger row for ${requestId}`);
  return row;
}

function usageOf(call: RecordedCall | undefined): TokenUsage {
  const u = call?.usage;
  if (!u) throw new Error("the call reported no usage");
  return { inputTokens: u.inputTokens, outputTokens: u.outputTokens, cacheReadTokens: u.cacheReadInputTokens, cacheWriteTokens: u.cacheWriteInputTokens };
}

describe("fail-over across deployments", () => {
  it("the second deployment, in another account through its role, serves when the first throttles", async () => {
    h.emulator.setHandler((call) => (call.region === "us-east-1" ? THROTTLE : undefined));
    const { data, response } = await h.client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get("x-tollgate-model")).toBe("claude-sonnet-4");
    expect(response.headers.get("x-tollgate-deployment")).toBe("acct-b-usw2");
    expect(response.headers.get("x-tollgate-fallbacks")).toBe("1");

    const [first, second] = h.emulator.calls;
    expect(first).toMatchObject({ region: "us-east-1", modelId: SONNET_4 });
    expect(first?.accessKeyId).toMatch(/^ASIAIMDS/); // the instance role
    expect(second).toMatchObject({ region: "us-west-2", modelId: SONNET_4, finished: true });
    const [assumed] = h.emulator.assumeRoleCalls;
    expect(assumed).toMatchObject({ roleArn: ROLE_B, roleSessionName: "tg-test", externalId: "tollgate-ext" });
    expect(assumed?.callerAccessKeyId).toMatch(/^ASIAIMDS/); // sourced from the instance role
    expect(second?.accessKeyId).toBe(assumed?.issuedAccessKeyId);

    const row = await ledgerRow(response.headers.get("x-request-id"));
    expect(row).toMatchObject({ model: "claude-sonnet-4", servedModel: "claude-sonnet-4", deployment: "acct-b-usw2", fallbacks: 1, status: "ok" });
  });

  it("caches the assumed role's credentials, and refreshes them before they expire", async () => {
    const h2 = await startHarness({ policy: ROUTING_POLICY });
    try {
      h2.emulator.setHandler((call) => (call.region === "us-east-1" ? THROTTLE : undefined));
      for (let i = 0; i < 3; i++) await h2.client.chat.completions.create(ask);
      expect(h2.emulator.calls.filter((c) => c.region === "us-west-2")).toHaveLength(3);
      expect(h2.emulator.assumeRoleCalls).toHaveLength(1);
      expect(h2.emulator.assumeRoleCalls[0]?.durationSeconds).toBe(3600);

      // Sessions now last one minute: inside the refresh margin, so each call gets a fresh session
      // rather than one that could expire mid-request.
      h2.emulator.setAssumeRoleSessionSeconds(60);
      await h2.client.chat.completions.create(ask); // still served by the cached 1-hour session
      expect(h2.emulator.assumeRoleCalls).toHaveLength(1);
    } finally {
      await h2.close();
    }
    const h3 = await startHarness({ policy: ROUTING_POLICY });
    try {
      h3.emulator.setAssumeRoleSessionSeconds(60);
      h3.emulator.setHandler((call) => (call.region === "us-east-1" ? THROTTLE : undefined));
      for (let i = 0; i < 3; i++) await h3.client.chat.completions.create(ask);
      // (The SDK may resolve credentials more than once per call; what matters is a fresh session each time.)
      expect(h3.emulator.assumeRoleCalls.length).toBeGreaterThanOrEqual(3);
      const keys = h3.emulator.calls.filter((c) => c.region === "us-west-2").map((c) => c.accessKeyId);
      expect(new Set(keys).size).toBe(3);
    } finally {
      await h3.close();
    }
  });

  it("an account whose role can't be assumed fails over to the others", async () => {
    const h2 = await startHarness({ policy: { ...ROUTING_POLICY, models: { ...ROUTING_POLICY.models, "claude-sonnet-4": { ...ROUTING_POLICY.models["claude-sonnet-4"], route: [...ROUTING_POLICY.models["claude-sonnet-4"].route].reverse() } } } });
    try {
      h2.emulator.failAssumeRole(ROLE_B, true);
      const { response } = await h2.client.chat.completions.create(ask).withResponse();
      expect(response.headers.get("x-tollgate-deployment")).toBe("acct-a-use1");
      expect(response.headers.get("x-tollgate-fallbacks")).toBe("1");
      expect(h2.emulator.assumeRoleCalls[0]).toMatchObject({ roleArn: ROLE_B, issuedAccessKeyId: undefined });
      const states = (await (await h2.call("/admin/deployments", { token: TEST_ADMIN_TOKEN })).json()) as { data: Array<{ deployment: string; lastError: { code: string; message: string } | null }> };
      const failed = states.data.find((s) => s.deployment === "acct-b-usw2");
      expect(failed?.lastError?.code).toBe("aws_credentials_unavailable");
      expect(failed?.lastError?.message).toContain(ROLE_B);
    } finally {
      await h2.close();
    }
  });

  it("every deployment throttled → the fallback model serves, charged at its own price", async () => {
    h.emulator.setHandler((call) => (call.modelId === SONNET_4 ? THROTTLE : undefined));
    const { data, response } = await h.client.chat.completions.create(ask).withResponse();
    expect(response.headers.get("x-tollgate-model")).toBe("claude-haiku-4-5");
    expect(response.headers.get("x-tollgate-deployment")).toBe("haiku-use1");
    expect(response.headers.get("x-tollgate-fallbacks")).toBe("2");
    expect(data.model).toBe("claude-haiku-4-5");
    expect(h.emulator.calls.map((c) => `${c.modelId}@${c.region}`)).toEqual([`${SONNET_4}@us-east-1`, `${SONNET_4}@us-west-2`, `${HAIKU_4_5}@us-east-1`]);

    const row = await ledgerRow(response.headers.get("x-request-id"));
    expect(row).toMatchObject({ model: "claude-sonnet-4", servedModel: "claude-haiku-4-5", deployment: "haiku-use1", fallbacks: 2 });
    const haikuPricing = lookupModel(HAIKU_4_5)?.pricing;
    if (!haikuPricing) throw new Error("haiku missing from the catalogue");
    expect(Math.round(row.costUsd * 1e12)).toBe(costPicoUsd(usageOf(h.emulator.calls[2]), haikuPricing));
  });

  it("never falls back to a model the user's policy denies", async () => {
    h.emulator.setHandler((call) => (call.modelId === SONNET_4 ? THROTTLE : undefined));
    const error = await apiError(h.clientFor(NARROW_KEY).chat.completions.create(ask));
    expect(error.status).toBe(429);
    expect(error.code).toBe("upstream_throttled");
    expect(error.headers?.get("x-tollgate-fallbacks")).toBe("1");
    expect(h.emulator.calls.every((c) => c.modelId === SONNET_4)).toBe(true);
    expect(h.emulator.calls).toHaveLength(2);
  });

  it("input too long → the context fallback serves; the throttling fallbacks are not tried", async () => {
    h.emulator.setHandler((call) =>
      call.modelId === SONNET_4 ? { error: { name: "ValidationException", message: "Input is too long for requested model." } } : undefined,
    );
    const { response } = await h.client.chat.completions.create(ask).withResponse();
    expect(response.headers.get("x-tollgate-model")).toBe("claude-sonnet-4-5");
    // Too long is a property of the model, not the deployment: the second deployment is not tried.
    expect(h.emulator.calls.map((c) => c.modelId)).toEqual([SONNET_4, SONNET_4_5]);
    const row = await ledgerRow(response.headers.get("x-request-id"));
    expect(row).toMatchObject({ servedModel: "claude-sonnet-4-5", fallbacks: 1 });
  });

  it("an application inference profile ARN works as modelId, priced by the policy", async () => {
    const { response } = await h.client.chat.completions.create({ ...ask, model: "team-sonnet" }).withResponse();
    expect(response.headers.get("x-tollgate-deployment")).toBe("app-profile");
    expect(h.emulator.calls[0]).toMatchObject({ modelId: APP_PROFILE, region: "us-east-1", finished: true });
    const row = await ledgerRow(response.headers.get("x-request-id"));
    expect(Math.round(row.costUsd * 1e12)).toBe(costPicoUsd(usageOf(h.emulator.calls[0]), { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }));
  });

  it("a request error (not the deployment's fault) is answered at once, without failing over", async () => {
    h.emulator.setHandler(() => ({ error: { name: "ValidationException", message: "messages.0: tool_use ids must be unique" } }));
    const error = await apiError(h.client.chat.completions.create(ask));
    expect(error.status).toBe(400);
    expect(error.code).toBe("upstream_validation_error");
    expect(h.emulator.calls).toHaveLength(1);
  });
});

describe("cool-downs", () => {
  it("a throttled deployment is skipped by later requests until its cool-down (honouring retry-after) ends", async () => {
    const cooling = { ...ask, model: "claude-sonnet-4-cooling" };
    h.emulator.setHandler((call) => (call.region === "us-east-2" ? { error: { ...THROTTLE.error, retryAfterSeconds: 40 } } : undefined));
    const before = Date.now();
    await h.client.chat.completions.create(cooling);
    await h.client.chat.completions.create(cooling);
    await h.client.chat.completions.create(cooling);
    expect(h.emulator.calls.map((c) => c.region)).toEqual(["us-east-2", "us-west-1", "us-west-1", "us-west-1"]);

    const { data } = (await admin("/admin/deployments")) as {
      data: Array<{ model: string; deployment: string; state: string; coolingDownUntil: string | null; recent: { requests: number; errors: number }; region: string }>;
    };
    const use2 = data.find((d) => d.model === "claude-sonnet-4-cooling" && d.deployment === "use2");
    const usw1 = data.find((d) => d.model === "claude-sonnet-4-cooling" && d.deployment === "usw1");
    expect(use2).toMatchObject({ state: "cooling_down", region: "us-east-2", recent: { requests: 1, errors: 1 } });
    // retry-after 40 s is longer than the 20 s initial cool-down, so it wins.
    const until = Date.parse(use2?.coolingDownUntil ?? "");
    expect(until - before).toBeGreaterThanOrEqual(40_000);
    expect(until - Date.now()).toBeLessThanOrEqual(40_000);
    expect(usw1).toMatchObject({ state: "healthy", coolingDownUntil: null, recent: { requests: 3, errors: 0 } });

    // The same, for an admin at a terminal.
    const cli = await runCli(["deployments", "--url", h.broker.url], { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(cli.code).toBe(0);
    const line = (deployment: string) => cli.stdout.split("\n").find((l) => l.startsWith("claude-sonnet-4-cooling") && l.includes(` ${deployment} `)) ?? "";
    expect(line("use2")).toMatch(/us-east-2\s+cooling \d+ s\s+0\s+1\s+100\.0%\s+-\s+-\s+upstream_throttled/);
    expect(line("usw1")).toMatch(/us-west-1\s+healthy\s+0\s+3\s+0\.0%/);
    expect(cli.stdout).toMatch(/us-west-2 \(222222222222\)/);
  });
});

describe("streams", () => {
  it("fails over before the first byte: the client sees one clean stream from the second deployment", async () => {
    h.emulator.setHandler((call) => (call.region === "us-east-1" ? THROTTLE : { content: [{ text: "streamed from the west" }], chunks: 3 }));
    const { data: stream, response } = await h.client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("streamed from the west");
    expect(response.headers.get("x-tollgate-deployment")).toBe("acct-b-usw2");
    expect(response.headers.get("x-tollgate-fallbacks")).toBe("1");
  });

  it("a throttling exception inside the stream, before any token, still fails over", async () => {
    h.emulator.setHandler((call) =>
      call.region === "us-east-1"
        ? { content: [{ text: "never seen" }], midStreamError: { afterEvents: 1, name: "throttlingException" } }
        : { content: [{ text: "second" }] },
    );
    const stream = await h.client.chat.completions.create({ ...ask, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("second");
  });

  it("after the first token, an upstream failure ends the stream with an error event and the partial usage is recorded", async () => {
    h.emulator.setHandler(() => ({
      content: [{ text: "one two three four five six" }],
      chunks: 6,
      usage: { inputTokens: 11, outputTokens: 6 },
      midStreamError: { afterEvents: 4, name: "modelStreamErrorException", message: "The model stopped unexpectedly." },
    }));
    const { data: stream, response } = await h.client.chat.completions.create({ ...ask, stream: true }).withResponse();
    let text = "";
    const error = await (async () => {
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(text.length).toBeGreaterThan(0);
    expect(error?.message).toMatch(/The model stopped unexpectedly/);
    expect(h.emulator.calls).toHaveLength(1); // no fail-over once the client has bytes
    const row = await ledgerRow(response.headers.get("x-request-id"));
    expect(row).toMatchObject({ status: "error", deployment: "acct-a-use1", errorCode: "upstream_error", usageEstimated: true });
    // Bedrock's usage event never came: the estimate covers the prompt and what was streamed.
    expect(row.inputTokens).toBeGreaterThan(0);
    expect(row.outputTokens).toBe(Math.ceil(text.length / 4));
    expect(row.costUsd).toBeGreaterThan(0);
  });

  it("no first token within firstTokenMs → the next deployment, and the stuck call is aborted", async () => {
    h.emulator.setHandler((call) => (call.region === "us-east-1" ? { hang: true } : { content: [{ text: "awake" }] }));
    const { data, response } = await h.client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBe("awake");
    expect(response.headers.get("x-tollgate-deployment")).toBe("acct-b-usw2");
    const streamed = await h.client.chat.completions.create({ ...ask, stream: true });
    let text = "";
    for await (const chunk of streamed) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("awake");
    const hung = h.emulator.calls.filter((c) => c.region === "us-east-1");
    expect(hung).toHaveLength(2);
    expect(hung.every((c) => c.aborted)).toBe(true);
  });

  it("a stream that goes silent for idleMs ends with a clear timeout error", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "a b c" }], chunks: 3, chunkDelayMs: 5_000 }));
    const stream = await h.client.chat.completions.create({ ...ask, stream: true });
    const error = await (async () => {
      try {
        for await (const _chunk of stream) void _chunk;
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/sent no stream event within 2000 ms/);
    expect(h.emulator.calls).toHaveLength(1);
    await expect.poll(() => h.emulator.calls[0]?.aborted).toBe(true);
  });
});
