// One emulator + one real broker process + an official `openai` client, for integration tests.
import OpenAI from "openai";
import { keyHashEntry } from "@tollgate/shared";
import { startEmulator, type Emulator } from "../emulator/index.js";
import { startBrokerProcess, writePolicyFile, type BrokerProcess } from "./broker-process.js";

/** The test user's key; the policy holds only its hash. */
export const TEST_KEY = "tg_test-key-for-integration-tests-0001";

export const TEST_POLICY = {
  teams: { eng: { models: ["*"] } },
  users: { tester: { team: "eng", keys: [keyHashEntry(TEST_KEY)] } },
  models: {
    "claude-sonnet-4": {
      route: [{ id: "use1", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1" }],
    },
    "claude-sonnet-4-5": {
      route: [{ id: "usw2", modelId: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", region: "us-west-2" }],
      reasoning: { defaultEffort: "low" },
    },
    "llama3-3-70b": {
      route: [{ id: "use1", modelId: "us.meta.llama3-3-70b-instruct-v1:0", region: "us-east-1" }],
    },
  },
};

export interface Harness {
  emulator: Emulator;
  broker: BrokerProcess;
  client: OpenAI;
  close(): Promise<void>;
}

export async function startHarness(options: { policy?: unknown; brokerArgs?: string[] } = {}): Promise<Harness> {
  const emulator = await startEmulator();
  let broker: BrokerProcess;
  try {
    broker = await startBrokerProcess({ policyFile: writePolicyFile(options.policy ?? TEST_POLICY), env: emulator.envFor(process.env), args: options.brokerArgs ?? [] });
  } catch (error) {
    await emulator.close();
    throw error;
  }
  // No retries: tests assert exactly what the broker answered.
  const client = new OpenAI({ baseURL: `${broker.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
  return {
    emulator,
    broker,
    client,
    async close() {
      await broker.stop();
      await emulator.close();
    },
  };
}
