// Builds a broker from its configuration and starts listening. Used by `tollgate serve` and by
// tests that want a broker in-process.
import type { Policy } from "@tollgate/shared";
import { Meter } from "./accounting/meter.js";
import { restoreLimits } from "./accounting/restore.js";
import type { AdminToken } from "./auth/admin-token.js";
import { openSqliteLedger } from "./ledger/index.js";
import { MemoryLimitStore } from "./limits/index.js";
import { FilePolicyRepository } from "./policy/policy-repository.js";
import { initialPolicy, PolicyService } from "./policy/policy-service.js";
import { once } from "node:events";
import { mkdir, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "./app.js";
import { BedrockClientPool, DEFAULT_BEDROCK_CLIENT_OPTIONS, type BedrockClientOptions } from "./bedrock/client-pool.js";
import { MemoryReasoningStore } from "./bedrock/request/reasoning-store.js";
import { BedrockUpstream } from "./bedrock/upstream.js";
import { ChatService } from "./chat/chat-service.js";
import type { Logger } from "./log.js";
import { MemoryPolicyStore } from "./policy/policy-store.js";

export interface BrokerConfig {
  host: string;
  port: number;
  dataDir: string;
  policy: Policy;
  /** The policy file's JSON, as the seed of an empty policy store. */
  policyDocument: unknown;
  adminToken?: AdminToken | undefined;
  logger: Logger;
  maxBodyBytes?: number;
  /** SQLite `synchronous` for the ledger: NORMAL survives a killed broker, FULL also a power loss. */
  ledgerSynchronous?: "NORMAL" | "FULL";
  bedrock?: Partial<BedrockClientOptions>;
}

export interface RunningBroker {
  url: string;
  server: Server;
  policy: MemoryPolicyStore;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = "StartupError";
}

export async function startBroker(config: BrokerConfig): Promise<RunningBroker> {
  await ensureWritableDir(config.dataDir);
  const repository = new FilePolicyRepository(config.dataDir);
  const initial = initialPolicy(repository, config.policy, config.policyDocument, config.logger);
  if (config.adminToken && initial.policy.userByKeyHash.has(config.adminToken.hashHex())) {
    throw new StartupError("the admin token is also a user key in the policy; admin and user credentials must differ");
  }
  const policy = new MemoryPolicyStore(initial.policy, initial.version);
  const policies = new PolicyService(repository, policy, config.logger, config.adminToken?.hashHex());

  const ledger = openSqliteLedger(config.dataDir, { synchronous: config.ledgerSynchronous ?? "NORMAL" });
  // Limits and spend survive restarts: rebuilt from the ledger before the first request.
  const limits = new MemoryLimitStore({ timeZone: initial.policy.timezone });
  restoreLimits(limits, ledger, initial.policy.timezone);
  const meter = new Meter(limits, ledger, () => ledger.healthy());

  const upstream = new BedrockUpstream(new BedrockClientPool({ ...DEFAULT_BEDROCK_CLIENT_OPTIONS, ...config.bedrock }));
  const chat = new ChatService(upstream, new MemoryReasoningStore());
  const app = createApp({
    policy,
    policies,
    chat,
    meter,
    limits,
    ledger,
    adminToken: config.adminToken,
    logger: config.logger,
    maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });

  const server = app.listen(config.port, config.host);
  // Idle keep-alive connections from clients should outlive typical client pools' idle timers.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error))]);
  } catch (error) {
    upstream.destroy();
    await ledger.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new StartupError(`port ${config.port} on ${config.host} is already in use`);
    if (code === "EACCES") throw new StartupError(`not allowed to listen on ${config.host}:${config.port}`);
    if (code === "EADDRNOTAVAIL") throw new StartupError(`address ${config.host} is not available on this host`);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    policy,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.destroy();
      await ledger.close();
    },
  };
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, "");
    await rm(probe);
  } catch (error) {
    throw new StartupError(`data dir ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
