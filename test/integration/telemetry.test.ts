// Traces over OTLP/HTTP to Langfuse and MLflow (real receivers at their real paths, decoding the
// protobuf with the official definitions), and a backend that fails changing nothing for clients.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyHashEntry } from "@tollgate/shared";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";

const RESEARCH_KEY = "tg_research-key-for-telemetry-tests-01";
const LANGFUSE_PUBLIC = "pk-lf-test-public";
const LANGFUSE_SECRET = "sk-lf-test-secret-from-env";
const SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const THROTTLE = { error: { name: "ThrottlingException", message: "Too many requests, please wait before trying again." } };

interface LedgerRow {
  id: string;
  user: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  costUsd: number;
  fallbacks: number;
  deployment: string;
}

function policyFor(langfuse: string, mlflow: string, broken: { hanging: string; failing: string }) {
  return {
    ...TEST_POLICY,
    teams: { eng: { models: ["*"] }, research: { models: ["*"] } },
    users: { ...TEST_POLICY.users, rita: { team: "research", keys: [keyHashEntry(RESEARCH_KEY)] } },
    models: {
      ...TEST_POLICY.models,
      "claude-sonnet-4": {
        route: [
          { id: "use1", modelId: SONNET_4, region: "us-east-1" },
          { id: "usw2", modelId: SONNET_4, region: "us-west-2", roleArn: "arn:aws:iam::222222222222:role/tg-invoke" },
        ],
      },
    },
    telemetry: {
      exporters: {
        langfuse: { type: "langfuse", host: `${langfuse}/langfuse`, publicKey: LANGFUSE_PUBLIC, secretKey: { env: "TEST_LANGFUSE_SECRET" }, content: { teams: ["research"], maxChars: 4000 } },
        mlflow: { type: "mlflow", host: `${mlflow}/mlflow`, experimentId: "42" },
        hanging: { type: "otlp", endpoint: `${broken.hanging}/v1/traces` },
        failing: { type: "otlp", endpoint: `${broken.failing}/v1/traces`, headers: { "x-api-key": "abc" } },
        off: { type: "otlp", endpoint: `${broken.failing}/never`, enabled: false },
      },
    },
  };
}

let h: Harness;
let langfuse: OtlpReceiver;
let mlflow: OtlpReceiver;
let hanging: OtlpReceiver;
let failing: OtlpReceiver;

beforeAll(async () => {
  [langfuse, mlflow, hanging, failing] = await Promise.all([startOtlpReceiver(), startOtlpReceiver(), startOtlpReceiver("hang"), startOtlpReceiver("error-500")]);
  h = await startHarness({ policy: policyFor(langfuse.url, mlflow.url, { hanging: hanging.url, failing: failing.url }), env: { TEST_LANGFUSE_SECRET: LANGFUSE_SECRET } });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([langfuse, mlflow, hanging, failing].map((receiver) => receiver?.close()));
});

async function ledgerRow(id: string | null): Promise<LedgerRow> {
  const response = await h.call("/admin/requests?refused=exclude&limit=100", { token: TEST_ADMIN_TOKEN });
  const { data } = (await response.json()) as { data: LedgerRow[] };
  const row = data.find((candidate) => candidate.id === id);
  if (!row) throw new Error(`no ledger row for ${id}`);
  return row;
}

function spansOf(receiver: OtlpReceiver, requestId: string): Promise<ReceivedSpan[]> {
  return receiver
    .waitFor((spans) => {
      const root = spans.find((span) => span.attributes["tollgate.request.id"] === requestId && span.parentSpanId === undefined);
      return root !== undefined && spans.filter((span) => span.traceId === root.traceId).length >= 2;
    })
    .then((spans) => {
      const root = spans.find((span) => span.attributes["tollgate.request.id"] === requestId && span.parentSpanId === undefined)!;
      return spans.filter((span) => span.traceId === root.traceId);
    });
}

describe("traces over OTLP/HTTP", () => {
  it("one span per request and one child per Bedrock attempt, with GenAI attributes equal to the ledger row, at Langfuse's and MLflow's paths", async () => {
    // The first deployment throttles: the trace shows the fallback as a failed child.
    h.emulator.setHandler((call) => (call.region === "us-east-1" ? THROTTLE : undefined));
    const { data, response } = await h.client.chat.completions
      .create({ model: "claude-sonnet-4", max_tokens: 300, messages: [{ role: "user", content: "Say hello to the telemetry." }] }, { headers: { "x-tollgate-project": "billing-api", "x-tollgate-session": "task-1234" } })
      .withResponse();
    h.emulator.setHandler(() => undefined);
    expect(data.choices[0]?.message.content).toBeTruthy();
    const requestId = response.headers.get("x-request-id")!;
    const row = await ledgerRow(requestId);
    expect(row).toMatchObject({ fallbacks: 1, deployment: "usw2" });

    for (const receiver of [langfuse, mlflow]) {
      const spans = await spansOf(receiver, requestId);
      const root = spans.find((span) => span.parentSpanId === undefined)!;
      const children = spans.filter((span) => span.parentSpanId === root.spanId).sort((a, b) => Number(a.attributes["tollgate.attempt"]) - Number(b.attributes["tollgate.attempt"]));
      expect(root.name).toBe("chat claude-sonnet-4");
      expect(root.kind).toBe(3); // CLIENT
      expect(root.resource["service.name"]).toBe("tollgate-broker");
      expect(root.resource["service.instance.id"]).toBeTruthy();
      expect(root.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": "claude-sonnet-4",
        "gen_ai.response.model": SONNET_4,
        "gen_ai.request.max_tokens": 300,
        "gen_ai.response.finish_reasons": ["end_turn"],
        // The conventions count cached tokens as input; the ledger keeps them apart.
        "gen_ai.usage.input_tokens": row.inputTokens + row.cacheReadTokens + row.cacheWriteTokens,
        "tollgate.usage.uncached_input_tokens": row.inputTokens,
        "gen_ai.usage.output_tokens": row.outputTokens,
        "gen_ai.usage.cache_read.input_tokens": row.cacheReadTokens,
        "gen_ai.usage.cache_creation.input_tokens": row.cacheWriteTokens,
        "user.id": "tester",
        "session.id": "task-1234",
        "tollgate.team": "eng",
        "tollgate.project": "billing-api",
        "tollgate.deployment": "usw2",
        "cloud.region": "us-west-2",
        "cloud.account.id": "222222222222",
        "tollgate.fallbacks": 1,
        "http.response.status_code": 200,
      });
      expect(root.attributes["gen_ai.usage.cost"]).toBeCloseTo(row.costUsd, 12);
      expect(row.outputTokens).toBeGreaterThan(0);
      expect(children.map((child) => [child.attributes["tollgate.deployment"], child.attributes["cloud.region"], child.attributes["tollgate.error.code"] ?? null])).toEqual([
        ["use1", "us-east-1", "upstream_throttled"],
        ["usw2", "us-west-2", null],
      ]);
      expect(children[0]!.statusCode).toBe(2); // ERROR
      expect(children[0]!.endNanos).toBeLessThanOrEqual(children[1]!.startNanos);
      expect(root.startNanos).toBeLessThanOrEqual(children[0]!.startNanos);
      // Nothing of the prompt, for a team that did not opt in.
      expect(Object.keys(root.attributes).filter((key) => key.startsWith("gen_ai.input") || key.startsWith("gen_ai.output") || key.startsWith("gen_ai.system"))).toEqual([]);
      expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain("Say hello to the telemetry");
    }

    // Langfuse: its path, Basic auth from the public key and the secret (from the env), ingestion version 4, its own attributes.
    const langfuseExport = langfuse.exports.find((received) => received.spans.some((span) => span.attributes["tollgate.request.id"] === requestId))!;
    expect(langfuseExport.path).toBe("/langfuse/api/public/otel/v1/traces");
    expect(langfuseExport.headers.authorization).toBe(`Basic ${Buffer.from(`${LANGFUSE_PUBLIC}:${LANGFUSE_SECRET}`).toString("base64")}`);
    expect(langfuseExport.headers["x-langfuse-ingestion-version"]).toBe("4");
    const langfuseRoot = langfuseExport.spans.find((span) => span.attributes["tollgate.request.id"] === requestId && !span.parentSpanId)!;
    expect(langfuseRoot.attributes).toMatchObject({ "langfuse.user.id": "tester", "langfuse.session.id": "task-1234", "langfuse.observation.type": "generation" });
    expect(JSON.parse(String(langfuseRoot.attributes["langfuse.observation.usage_details"]))).toEqual({ input: row.inputTokens, output: row.outputTokens, cache_read_input_tokens: row.cacheReadTokens, cache_creation_input_tokens: row.cacheWriteTokens });
    expect(JSON.parse(String(langfuseRoot.attributes["langfuse.observation.cost_details"])).total).toBeCloseTo(row.costUsd, 12);
    for (const span of langfuseExport.spans) expect(span.attributes["langfuse.session.id"]).toBeDefined();

    // MLflow: its path and experiment header; no Langfuse attributes.
    const mlflowExport = mlflow.exports.find((received) => received.spans.some((span) => span.attributes["tollgate.request.id"] === requestId))!;
    expect(mlflowExport.path).toBe("/mlflow/v1/traces");
    expect(mlflowExport.headers["x-mlflow-experiment-id"]).toBe("42");
    expect(mlflowExport.headers.authorization).toBeUndefined();
    expect(Object.keys(mlflowExport.spans[0]!.attributes).some((key) => key.startsWith("langfuse."))).toBe(false);
  });

  it("a team that opted in has its streamed prompt and answer on the Langfuse spans, secrets redacted, and nowhere else", async () => {
    const client = h.clientFor(RESEARCH_KEY);
    const stream = await client.chat.completions
      .create({
        model: "claude-sonnet-4-5",
        stream: true,
        stream_options: { include_usage: true },
        messages: [
          { role: "system", content: "You review infrastructure code." },
          { role: "user", content: "Deploy with AKIAIOSFODNN7EXAMPLE and password=hunter2hunter2, then summarise." },
        ],
      })
      .withResponse();
    let answer = "";
    for await (const chunk of stream.data) answer += chunk.choices[0]?.delta?.content ?? "";
    const requestId = stream.response.headers.get("x-request-id")!;
    expect(answer.length).toBeGreaterThan(0);

    const [root] = (await spansOf(langfuse, requestId)).filter((span) => !span.parentSpanId);
    const input = JSON.parse(String(root!.attributes["gen_ai.input.messages"])) as Array<{ role: string; parts: Array<{ content: string }> }>;
    expect(input).toEqual([{ role: "user", parts: [{ type: "text", content: "Deploy with [redacted aws access key id] and password=[redacted password], then summarise." }] }]);
    expect(JSON.parse(String(root!.attributes["gen_ai.system_instructions"]))).toEqual([{ type: "text", content: "You review infrastructure code." }]);
    const output = JSON.parse(String(root!.attributes["gen_ai.output.messages"])) as Array<{ role: string; parts: Array<{ content: string }> }>;
    expect(output[0]).toMatchObject({ role: "assistant", parts: [{ type: "text", content: answer }] });
    expect(root!.attributes["session.id"]).toBeUndefined(); // no project, no session header
    expect(root!.attributes["gen_ai.response.time_to_first_chunk"]).toBeGreaterThan(0);
    // MLflow did not opt in.
    const [mlflowRoot] = (await spansOf(mlflow, requestId)).filter((span) => !span.parentSpanId);
    expect(mlflowRoot!.attributes["gen_ai.input.messages"]).toBeUndefined();
    expect(JSON.stringify(mlflow.spans().map((span) => span.attributes))).not.toContain("AKIA");
  });

  it("a policy push turns an exporter on for every later request, without a restart; an unchanged exporter keeps going", async () => {
    const added = await startOtlpReceiver();
    try {
      const current = (await (await h.call("/admin/policy", { token: TEST_ADMIN_TOKEN })).json()) as { document: ReturnType<typeof policyFor> };
      const next = { ...current.document, telemetry: { exporters: { ...current.document.telemetry.exporters, collector: { type: "otlp", endpoint: `${added.url}/v1/traces`, headers: { "x-scope-orgid": "tenant-1" } } } } };
      const pushed = await h.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify(next) });
      expect(pushed.status).toBe(200);
      const { response } = await h.client.chat.completions.create({ model: "llama3-3-70b", messages: [{ role: "user", content: "after the push" }] }).withResponse();
      const requestId = response.headers.get("x-request-id")!;
      await spansOf(added, requestId);
      expect(added.exports[0]!.headers["x-scope-orgid"]).toBe("tenant-1");
      await spansOf(langfuse, requestId);
    } finally {
      await added.close();
    }
  });

  it("a backend that hangs and one that answers 500 change no response and lose no ledger row; disabled exporters send nothing", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { response } = await h.client.chat.completions.create({ model: "llama3-3-70b", messages: [{ role: "user", content: `ping ${i}` }] }).withResponse();
      expect(response.status).toBe(200);
      ids.push(response.headers.get("x-request-id")!);
    }
    for (const id of ids) await ledgerRow(id);
    // Both broken backends were tried (the healthy ones still got every request).
    await langfuse.waitFor((spans) => ids.every((id) => spans.some((span) => span.attributes["tollgate.request.id"] === id)));
    expect(hanging.hits).toBeGreaterThan(0);
    expect(failing.hits).toBeGreaterThan(0);
    expect(failing.exports.filter((received) => received.path === "/never")).toEqual([]);
    const metrics = await (await h.call("/metrics", { token: TEST_ADMIN_TOKEN })).text();
    // A 500 is not retried (OTLP/HTTP's rules): those spans are counted as dropped.
    expect(metrics).toMatch(/tollgate_trace_spans_dropped_total\{exporter="failing",reason="rejected"\} [1-9]/);
    expect(metrics).toMatch(/tollgate_trace_exporter_configured\{exporter="off",type="otlp"\} 0/);
    expect(metrics).toMatch(/tollgate_trace_exporter_configured\{exporter="langfuse",type="langfuse"\} 1/);
  });
});
