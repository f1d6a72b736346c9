// Test support: the real Bedrock Runtime client, configured only through the environment the
// emulator hands out, over either of the two HTTP handlers the broker may use.

import http from "node:http";
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startEmulator } from "./emulator.js";
import type { Emulator, EmulatorOptions } from "./types.js";

export type Handler = "http2" | "http1";
export const HANDLERS: Handler[] = ["http2", "http1"];

export interface Harness {
  emulator: Emulator;
  /** A client built after the env was applied; destroyed by stop(). */
  client(handler: Handler, config?: BedrockRuntimeClientConfig): BedrockRuntimeClient;
  stop(): Promise<void>;
}

export async function startHarness(options?: EmulatorOptions): Promise<Harness> {
  const emulator = await startEmulator(options);
  const restoreEnv = emulator.applyEnvTo(process.env);
  const clients: BedrockRuntimeClient[] = [];
  const agents: http.Agent[] = [];
  return {
    emulator,
    client: (handler, config = {}) => {
      const requestHandler =
        handler === "http1" ? new NodeHttpHandler({ httpAgent: track(agents, new http.Agent({ keepAlive: true })) }) : undefined;
      // Retries would only slow the fault tests down; nothing else is configured in code.
      const client = new BedrockRuntimeClient({ maxAttempts: 1, ...(requestHandler ? { requestHandler } : {}), ...config });
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const client of clients) client.destroy();
      for (const agent of agents) agent.destroy();
      await emulator.close();
      restoreEnv();
    },
  };
}

function track<T>(list: T[], item: T): T {
  list.push(item);
  return item;
}

export const SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0";

export function userText(text: string): { role: "user"; content: Array<{ text: string }> } {
  return { role: "user", content: [{ text }] };
}
