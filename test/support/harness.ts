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

/** The admin token integration tests start brokers with. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export interface Harness {
  emulator: Emulator;
  broker: BrokerProcess;
  client: OpenAI;
  /** An `openai` client with another key. */
  clientFor(key: string): OpenAI;
  /** fetch against the broker with a bearer token. */
  call(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** Stops the broker (SIGTERM, or e.g. SIGKILL) and starts a new one on the same data dir. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policy?: unknown;
  brokerArgs?: string[];
  /** More environment for the broker process (secrets named by the policy, …). */
  env?: Record<string, string>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator();
  const policyFile = writePolicyFile(options.policy ?? TEST_POLICY);
  const env = { ...emulator.envFor(process.env), TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...options.env };
  const start = (dataDir?: string): Promise<BrokerProcess> =>
    startBrokerProcess({ policyFile, env, args: options.brokerArgs ?? [], ...(dataDir ? { dataDir } : {}) });
  let broker: BrokerProcess;
  try {
    broker = await start();
  } catch (error) {
    await emulator.close();
    throw error;
  }
  // No retries: tests assert exactly what the broker answered.
  const clientFor = (key: string): OpenAI => new OpenAI({ baseURL: `${harness.broker.url}/v1`, apiKey: key, maxRetries: 0 });
  const harness: Harness = {
    emulator,
    broker,
    client: new OpenAI({ baseURL: `${broker.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 }),
    clientFor,
    call: (path, init = {}) => {
      const { token = TEST_KEY, headers, ...rest } = init;
      return fetch(`${harness.broker.url}${path}`, { ...rest, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(headers as Record<string, string> | undefined) } });
    },
    async restart(signal = "SIGTERM") {
      await harness.broker.stop(signal);
      harness.broker = await start(harness.broker.dataDir);
      harness.client = clientFor(TEST_KEY);
    },
    async close() {
      await harness.broker.stop();
      await emulator.close();
    },
  };
  return harness;
}
