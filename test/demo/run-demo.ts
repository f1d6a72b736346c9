// `npm run demo`: the broker with the sample policy against the local Bedrock emulator (no AWS
// account needed), plus a first request to show it works and how to point Cline or curl at it.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateApiKey, keyHashEntry } from "@tollgate/shared";
import { startEmulator } from "../emulator/index.js";
import { REPO_ROOT, startBrokerProcess, tempDir, writePolicyFile } from "../support/broker-process.js";

const port = process.env.TOLLGATE_PORT ?? "7600";
const samplePolicy = join(REPO_ROOT, "shared/examples/policy.sample.json");

// The sample policy plus a demo user whose key is made now and shown once below.
const apiKey = generateApiKey();
const adminToken = generateApiKey().replace(/^tg_/, "admin_");
const sample = JSON.parse(readFileSync(samplePolicy, "utf8")) as { users: Record<string, unknown> };
const { $schema: _schema, ...document } = { ...sample, users: { ...sample.users, demo: { team: "research", keys: [keyHashEntry(apiKey)] } } } as Record<string, unknown>;
const dir = tempDir("tollgate-demo-");
const policyFile = writePolicyFile(document, dir);

const emulator = await startEmulator({ firstByteDelayMs: 150, chunkDelayMs: 40 });
let broker;
try {
  broker = await startBrokerProcess({
    policyFile,
    env: { ...emulator.envFor(process.env), TOLLGATE_ADMIN_TOKEN: adminToken },
    args: ["--port", port],
    dataDir: process.env.TOLLGATE_DATA_DIR ?? join(dir, "data"),
  });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write(`(is port ${port} busy? run with TOLLGATE_PORT=0 to pick a free one)\n`);
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
broker.child.stdout?.pipe(process.stdout);

const auth = { authorization: `Bearer ${apiKey}` };
const models = (await (await fetch(`${broker.url}/v1/models`, { headers: auth })).json()) as { data: Array<{ id: string }> };
const answer = (await (
  await fetch(`${broker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ model: models.data[0]?.id, messages: [{ role: "user", content: "Say hello" }] }),
  })
).json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number; cost: number } };

process.stdout.write(`
Tollgate broker: ${broker.url}  (Bedrock emulator: ${emulator.url})
Policy: ${policyFile} (the sample policy plus user "demo"; this directory is removed when you stop)
Demo user's key: ${apiKey}
Admin token:     ${adminToken}
Models: ${models.data.map((model) => model.id).join(", ")}
First answer: "${answer.choices[0]?.message.content}" (${answer.usage.prompt_tokens} in / ${answer.usage.completion_tokens} out, $${answer.usage.cost.toFixed(6)})

Try it with curl:
  curl -s ${broker.url}/v1/chat/completions -H 'content-type: application/json' -H 'authorization: Bearer ${apiKey}' \\
    -d '{"model":"${models.data[0]?.id}","stream":true,"messages":[{"role":"user","content":"Hello"}]}'

Point Cline at it (API Provider "OpenAI Compatible"):
  Base URL: ${broker.url}/v1
  API Key:  ${apiKey}
  Model ID: ${models.data[0]?.id}

Where you stand:  curl -s ${broker.url}/v1/me -H 'authorization: Bearer ${apiKey}'
Org usage:        TOLLGATE_ADMIN_TOKEN=${adminToken} npx tollgate usage --url ${broker.url} --group-by user

Press Ctrl-C to stop.
`);

const stop = async (): Promise<void> => {
  await broker.stop("SIGTERM");
  await emulator.close();
  // The demo's policy, key hash and ledger: nothing of a demo run stays behind in the temp dir.
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
