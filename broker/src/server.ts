// Builds a broker from its configuration and starts listening. Used by `tollgate serve` and by
// tests that want a broker in-process.
import type { Policy } from "@tollgate/shared";
import { ledgerUnavailable, Meter } from "./accounting/meter.js";
import { restoreLimits } from "./accounting/restore.js";
import type { AdminToken } from "./auth/admin-token.js";
import { lockoutWarning } from "@tollgate/shared";
import { DataDirInUseError, lockDataDir, type DataDirLock } from "./data-dir-lock.js";
import { openSqliteLedger, type SqliteLedger } from "./ledger/index.js";
import { MemoryLimitStore } from "./limits/index.js";
import { FilePolicyRepository, type PolicyRepository } from "./policy/policy-repository.js";
import type { FleetConfig } from "./fleet/fleet-config.js";
import { FleetRuntime, openFleetCentral } from "./fleet/fleet-runtime.js";
import type { RefusalLog, UsageLedger } from "./ledger/types.js";
import type { LimitStore } from "./limits/index.js";
import { initialPolicy, PolicyService, type PolicyMode } from "./policy/policy-service.js";
import { once } from "node:events";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DEFAULT_MAX_OPEN_REQUESTS, OpenRequestLimit } from "./http/load-shedding.js";
import { createApp, DEFAULT_MAX_BODY_BYTES } from "./app.js";
import { deploymentStates } from "./http/routes/admin.js";
import { ApiError } from "./errors.js";
import { toErrorBody } from "./http/error-response.js";
import { BedrockClientPool, DEFAULT_BEDROCK_CLIENT_OPTIONS, type BedrockClientOptions } from "./bedrock/client-pool.js";
import { MemoryReasoningStore } from "./bedrock/request/reasoning-store.js";
import { BedrockUpstream } from "./bedrock/upstream.js";
import { ChatService } from "./chat/chat-service.js";
import type { Logger } from "./log.js";
import { MemoryPolicyStore } from "./policy/policy-store.js";
import { InFlightRequests } from "./lifecycle/in-flight.js";
import { DeploymentHealthRegistry } from "./routing/deployment-health.js";
import { Router } from "./routing/router.js";
import { hostname } from "node:os";
import type { MetricsAccess } from "./app.js";
import { BrokerMetrics } from "./metrics/broker-metrics.js";
import { TraceExport } from "./telemetry/trace-export.js";
import type { ExportQueueOptions } from "./telemetry/export-queue.js";

export interface BrokerConfig {
  host: string;
  port: number;
  dataDir: string;
  policy: Policy;
  /** The policy file's JSON, as the seed of an empty policy store. */
  policyDocument: unknown;
  /** `seed` (default): stored versions win over the file; `file`: the file is stored and served when it differs. */
  policyMode?: PolicyMode;
  adminToken?: AdminToken | undefined;
  logger: Logger;
  maxBodyBytes?: number;
  /** Chat requests open at once before new ones get 503 `overloaded` (default DEFAULT_MAX_OPEN_REQUESTS). */
  maxOpenRequests?: number;
  /** SQLite `synchronous` for the ledger: NORMAL survives a killed broker, FULL also a power loss. */
  ledgerSynchronous?: "NORMAL" | "FULL";
  /** Fleet mode: PostgreSQL + Redis shared by every broker (docs/fleet.md). Absent: embedded (SQLite, in-memory limits). */
  fleet?: FleetConfig | undefined;
  bedrock?: Partial<BedrockClientOptions>;
  /** A client must send a request's headers within this long (ms); 0 turns the limit off. */
  headersTimeoutMs?: number;
  /** A client must send a whole request, headers and body, within this long (ms); 0 turns it off. */
  requestTimeoutMs?: number;
  /** Who may read /metrics (default: the admin token). */
  metricsAccess?: MetricsAccess;
  /** The broker's version, on every span's resource. */
  version?: string;
  /** Trace export queues (tests shorten the intervals). */
  traceQueue?: Partial<ExportQueueOptions>;
}

/** Above the keep-alive timeout, as load balancers expect of the server behind them. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 66_000;
/** A 20 MiB body needs ~1.4 Mbit/s to arrive in time; a client that trickles bytes is cut off. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Idle keep-alive connections from clients should outlive typical client pools' idle timers. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface RunningBroker {
  url: string;
  server: Server;
  policy: MemoryPolicyStore;
  /**
   * Graceful stop: refuse new requests, let those in flight finish for up to `drainMs`, then cut
   * the rest (they are recorded as cancelled), and close the ledger once every row is written.
   */
  close(drainMs?: number): Promise<void>;
}

/** How long requests in flight may take to finish once shutdown starts (Cline streams run long). */
export const DEFAULT_DRAIN_MS = 60_000;
/** At shutdown: how long queued spans may take to reach their backends. */
const TRACE_FLUSH_MS = 3_000;
/** After cutting connections: time for the handlers to record what they had. */
const ACCOUNTING_GRACE_MS = 10_000;

export class StartupError extends Error {
  override readonly name = "StartupError";
}

export async function startBroker(config: BrokerConfig): Promise<RunningBroker> {
  await ensureWritableDir(config.dataDir);
  const lock = claimDataDir(config.dataDir);
  try {
    const running = await startOnDataDir(config);
    return {
      ...running,
      async close(drainMs) {
        try {
          await running.close(drainMs);
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Everything but the data dir's lock, which the caller holds for as long as this broker runs. */
async function startOnDataDir(config: BrokerConfig): Promise<RunningBroker> {
  const central = config.fleet ? await openCentral(config.fleet) : undefined;
  const repository: PolicyRepository = central?.repository ?? new FilePolicyRepository(config.dataDir);
  const initial = await initialPolicy(repository, config.policy, config.policyDocument, config.logger, config.policyMode);
  if (config.adminToken?.hashesHex().some((hash) => initial.policy.userByKeyHash.has(hash))) {
    throw new StartupError("the admin token is also a user key in the policy; admin and user credentials must differ");
  }
  const lockout = lockoutWarning(initial.policy);
  if (lockout) {
    config.logger.warn({ version: initial.version }, lockout);
    process.stderr.write(`tollgate serve: warning: ${lockout}\n`);
  }
  const policy = new MemoryPolicyStore(initial.policy, initial.version);
  const policies = new PolicyService(repository, policy, config.logger, config.adminToken?.hashesHex() ?? []);

  const synchronous = config.ledgerSynchronous ?? "NORMAL";
  let meter: Meter | undefined;
  let ledger: UsageLedger & RefusalLog;
  let limits: LimitStore;
  let ledgerHealthy: () => boolean;
  let localLedger: SqliteLedger;
  let fleet: FleetRuntime | undefined;
  if (config.fleet && central) {
    // Limits in Redis rebuild themselves from PostgreSQL and the outboxes when Redis comes back empty.
    fleet = await FleetRuntime.open({ config: config.fleet, central: central.central, dataDir: config.dataDir, logger: config.logger, timeZone: initial.policy.timezone, ledgerSynchronous: synchronous, meter: () => meter });
    const running = fleet;
    ledger = running.ledger;
    limits = running.limits;
    ledgerHealthy = () => running.localLedgerHealthy();
    localLedger = running.local;
  } else {
    const sqlite = openSqliteLedger(config.dataDir, { synchronous });
    ledger = sqlite;
    localLedger = sqlite;
    ledgerHealthy = () => sqlite.healthy();
    // Limits and spend survive restarts: rebuilt from the ledger before the first request.
    const memory = new MemoryLimitStore({ timeZone: initial.policy.timezone });
    await restoreLimits(memory, sqlite, initial.policy.timezone);
    limits = memory;
  }
  meter = new Meter(
    limits,
    ledger,
    () => (ledgerHealthy() ? fleet?.blocker() : ledgerUnavailable()),
    Date.now,
    (error) => config.logger.error({ err: error }, "settling a request's usage in the shared limits failed; its reservation lapses with its lease"),
  );
  const accounting = meter;
  // A push that changes the time zone moves the budgets' days and months at once, not at the next restart.
  policy.onReplace((next, previous) => {
    if (next.timezone === previous.timezone) return;
    accounting.changeTimeZone(next.timezone).then(
      () => config.logger.info({ timezone: next.timezone, previous: previous.timezone }, "budgets moved to the policy's new time zone"),
      (error: unknown) => config.logger.error({ err: error, timezone: next.timezone }, "could not move the budgets to the new time zone; they follow it after a restart"),
    );
  });

  // Traces to the exporters the policy names, re-read at every policy change; metrics of this broker.
  const traces = new TraceExport({ logger: config.logger, serviceVersion: config.version ?? "dev", instanceId: config.fleet?.instanceId ?? hostname(), queue: config.traceQueue });
  const health = new DeploymentHealthRegistry();
  const inFlight = new InFlightRequests();
  const metrics = new BrokerMetrics({
    userLabel: () => policy.current().source.telemetry?.metrics?.userLabel === true,
    inFlight: () => inFlight.size,
    deployments: () => deploymentStates(policy, health).map((state) => ({ model: state.model, deployment: state.deployment, cooling: state.coolingDownUntil !== null })),
    outboxRows: fleet ? () => fleet!.health().outbox.waitingRows : undefined,
    ledger: () => {
      const stats = localLedger.stats();
      return { queued: stats.queued + stats.inFlight, healthy: localLedger.healthy(), refusalsDropped: stats.refusalsDropped };
    },
    exporters: () => traces.status(),
  });
  traces.setObserver(metrics);
  traces.configure(policy.current().source.telemetry);
  policy.onReplace((next) => traces.configure(next.source.telemetry));
  accounting.onRefusal = (rejection, user) => metrics.countRefusal({ kind: rejection.kind, scopeLabel: rejection.scopeLabel, limit: rejection.limit, team: user.team });
  const observer = {
    capturesContent: (team: string) => traces.capturesContent(team),
    finished: (trace: Parameters<TraceExport["record"]>[0]) => {
      metrics.recordUsage(trace);
      traces.record(trace);
    },
  };

  const upstream = new BedrockUpstream(new BedrockClientPool({ ...DEFAULT_BEDROCK_CLIENT_OPTIONS, ...config.bedrock }));
  const chat = new ChatService(upstream, new MemoryReasoningStore(), new Router(health));
  // Readiness checks the broker's own credentials in the region of the first deployment it serves.
  const credentialsRegion = (): string => [...policy.current().models.values()][0]?.route[0]?.region ?? "us-east-1";
  const app = createApp({
    policy,
    policies,
    chat,
    meter: accounting,
    limits,
    ledger,
    adminToken: config.adminToken,
    logger: config.logger,
    health,
    inFlight,
    ledgerHealthy,
    fleet,
    checkCredentials: () => upstream.checkCredentials(credentialsRegion()),
    maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    openRequests: new OpenRequestLimit(config.maxOpenRequests ?? DEFAULT_MAX_OPEN_REQUESTS),
    metrics,
    metricsAccess: config.metricsAccess,
    observer,
    refusals: ledger,
    onRefusalUnrecorded: () => metrics.countUnrecordedRefusal(),
  });

  const headersTimeout = config.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Slow clients (slowloris: headers or a body trickled byte by byte) are cut off by Node's
  // header and request timeouts, which it checks every `connectionsCheckingInterval`.
  const shortest = Math.min(...[headersTimeout, requestTimeout].filter((ms) => ms > 0), 30_000);
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.floor(shortest / 10)) }, app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, { headersTimeout, requestTimeout }));
  let url = "";
  await fleet?.start(policy, repository, () => ({ url, deployments: deploymentStates(policy, health) }));
  server.listen(config.port, config.host);
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
  } catch (error) {
    upstream.destroy();
    await traces.close(0);
    await (fleet ? fleet.close() : ledger.close());
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new StartupError(`port ${config.port} on ${config.host} is already in use`);
    if (code === "EACCES") throw new StartupError(`not allowed to listen on ${config.host}:${config.port}`);
    if (code === "EADDRNOTAVAIL") throw new StartupError(`address ${config.host} is not available on this host`);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;
  return {
    url,
    server,
    policy,
    async close(drainMs = DEFAULT_DRAIN_MS) {
      inFlight.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (!(await inFlight.idle(drainMs))) {
        config.logger.warn({ inFlight: inFlight.size, drainMs }, "drain deadline passed: cutting the remaining requests (recorded as cancelled)");
        server.closeAllConnections();
        await inFlight.idle(ACCOUNTING_GRACE_MS);
      }
      server.closeAllConnections();
      await closed;
      upstream.destroy();
      // Every request has its spans queued by now: send them (briefly), then close the ledger.
      await traces.close(TRACE_FLUSH_MS);
      await (fleet ? fleet.close() : ledger.close());
    },
  };
}

/** PostgreSQL first: its policy versions decide what the broker serves. */
async function openCentral(fleet: FleetConfig): Promise<Awaited<ReturnType<typeof openFleetCentral>>> {
  try {
    return await openFleetCentral(fleet);
  } catch (error) {
    throw new StartupError(`central store (--database-url): ${error instanceof Error ? error.message : String(error)}`);
  }
}

function claimDataDir(dir: string): DataDirLock {
  try {
    return lockDataDir(dir);
  } catch (error) {
    if (error instanceof DataDirInUseError) throw new StartupError(error.message);
    throw new StartupError(`data dir ${dir}: cannot take its lock (${error instanceof Error ? error.message : String(error)})`);
  }
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

/**
 * Requests Node refuses before the app sees them (timeouts, malformed HTTP, oversized headers) are
 * answered in OpenAI's error shape too, then the connection is closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, timeouts: { headersTimeout: number; requestTimeout: number }): void {
  // A response already under way can't be replaced; a reset connection has no one to answer.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const seconds = (ms: number): string => (ms > 0 ? `${ms / 1000} s` : "no limit");
  const refusal =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? { status: 408, reason: "Request Timeout", type: "timeout_error" as const, code: "request_timeout",
          message: `The request did not arrive in time (headers within ${seconds(timeouts.headersTimeout)}, the whole request within ${seconds(timeouts.requestTimeout)}); the broker closed the connection.` }
      : error.code === "HPE_HEADER_OVERFLOW"
        ? { status: 431, reason: "Request Header Fields Too Large", type: "invalid_request_error" as const, code: "headers_too_large",
            message: "The request's headers are too large." }
        : { status: 400, reason: "Bad Request", type: "invalid_request_error" as const, code: "malformed_http",
            message: `The request is not valid HTTP/1.1 (${error.code ?? "parse error"}).` };
  const body = JSON.stringify(toErrorBody(new ApiError(refusal)));
  const head = `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + body, () => socket.destroy());
}
