// Runs the emulator on its own for the offline demo and manual benchmarks:
//   node --import tsx test/emulator/cli.ts [--port N] [--host H] [--first-byte-delay-ms N] [--chunk-delay-ms N]

import { parseArgs } from "node:util";
import { startEmulator } from "./emulator.js";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "first-byte-delay-ms": { type: "string", default: "0" },
    "chunk-delay-ms": { type: "string", default: "0" },
    "context-window-tokens": { type: "string", default: "200000" },
  },
});

function count(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return value;
}

const emulator = await startEmulator({
  host: values.host,
  port: count("port", values.port),
  firstByteDelayMs: count("first-byte-delay-ms", values["first-byte-delay-ms"]),
  chunkDelayMs: count("chunk-delay-ms", values["chunk-delay-ms"]),
  contextWindowTokens: count("context-window-tokens", values["context-window-tokens"]),
});

const lines = [`emulator listening on ${emulator.url}`];
for (const [name, value] of Object.entries(emulator.env())) lines.push(`${name}=${value}`);
lines.push("# and unset AWS_BEARER_TOKEN_BEDROCK");
process.stdout.write(`${lines.join("\n")}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  emulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`emulator: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
