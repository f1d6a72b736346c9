// `npm run demo`: the broker with the sample policy against the local Bedrock emulator (no AWS
// account needed), plus a first request to show it works and how to point Cline or curl at it.
import { join } from "node:path";
import { startEmulator } from "../emulator/index.js";
import { REPO_ROOT, startBrokerProcess, tempDir } from "../support/broker-process.js";

const port = process.env.TOLLGATE_PORT ?? "7600";
const policyFile = join(REPO_ROOT, "shared/examples/policy.sample.json");

const emulator = await startEmulator({ firstByteDelayMs: 150, chunkDelayMs: 40 });
let broker;
try {
  broker = await startBrokerProcess({ policyFile, env: emulator.envFor(process.env), args: ["--port", port], dataDir: process.env.TOLLGATE_DATA_DIR ?? tempDir("tollgate-demo-") });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write(`(is port ${port} busy? run with TOLLGATE_PORT=0 to pick a free one)\n`);
  await emulator.close();
  process.exit(1);
}
broker.child.stdout?.pipe(process.stdout);

const models = (await (await fetch(`${broker.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
const answer = (await (
  await fetch(`${broker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: models.data[0]?.id, messages: [{ role: "user", content: "Say hello" }] }),
  })
).json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number; cost: number } };

process.stdout.write(`
Tollgate broker: ${broker.url}  (Bedrock emulator: ${emulator.url}, policy: ${policyFile})
Models: ${models.data.map((model) => model.id).join(", ")}
First answer: "${answer.choices[0]?.message.content}" (${answer.usage.prompt_tokens} in / ${answer.usage.completion_tokens} out, $${answer.usage.cost.toFixed(6)})

Try it with curl:
  curl -s ${broker.url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"${models.data[0]?.id}","stream":true,"messages":[{"role":"user","content":"Hello"}]}'

Point Cline at it (API Provider "OpenAI Compatible"):
  Base URL: ${broker.url}/v1
  API Key:  any non-empty text (per-user keys come with the policy's users)
  Model ID: ${models.data[0]?.id}

Press Ctrl-C to stop.
`);

const stop = async (): Promise<void> => {
  await broker.stop("SIGTERM");
  await emulator.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
