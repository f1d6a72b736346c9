import { isIPv4 } from "node:net";
import { homedir, hostname } from "node:os";
import type { FleetConfig } from "../fleet/fleet-config.js";
import { join } from "node:path";
import type { OptionValues } from "./program.js";
import { METRICS_ACCESS, type MetricsAccess } from "../app.js";
import { createLogger } from "../log.js";
import { AdminToken } from "../auth/admin-token.js";
import { loadPolicyFileWithDocument, PolicyFileError } from "../policy/load-policy-file.js";
import { DEFAULT_DRAIN_MS, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, startBroker, StartupError } from "../server.js";

export const DEFAULT_PORT = 7600;

/** How the help shows the default data dir. */
export const DEFAULT_DATA_DIR_TEXT = "$XDG_DATA_HOME/tollgate, else ~/.local/share/tollgate";

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(base, "tollgate");
}

/** `tollgate serve` with its options (program.ts defines them, their defaults and their help). */
export async function serveCommand(options: OptionValues, version = "dev"): Promise<number> {
  const text = (name: string): string | undefined => (typeof options[name] === "string" ? (options[name] as string) : undefined);
  const values = {
    policy: text("policy"),
    host: text("host") ?? "127.0.0.1",
    port: text("port") ?? String(DEFAULT_PORT),
    "data-dir": text("data-dir") ?? defaultDataDir(),
    "max-body-bytes": text("max-body-bytes"),
    "max-open-requests": text("max-open-requests"),
    "admin-token-file": text("admin-token-file"),
    "ledger-sync": text("ledger-sync") ?? "normal",
    "bedrock-http2": options["bedrock-http2"] === true,
    "headers-timeout": text("headers-timeout"),
    "request-timeout": text("request-timeout"),
    "drain-seconds": text("drain-seconds") ?? String(DEFAULT_DRAIN_MS / 1000),
  };
  if (!values.policy) return fail("--policy FILE is required");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be 0-65535, got "${values.port}"`);
  const maxBodyBytes = values["max-body-bytes"] === undefined ? undefined : Number(values["max-body-bytes"]);
  if (maxBodyBytes !== undefined && (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024)) {
    return fail(`--max-body-bytes must be an integer of at least 1024, got "${values["max-body-bytes"]}"`);
  }

  const maxOpenRequests = values["max-open-requests"] === undefined ? undefined : Number(values["max-open-requests"]);
  if (maxOpenRequests !== undefined && (!Number.isInteger(maxOpenRequests) || maxOpenRequests < 1)) {
    return fail(`--max-open-requests must be a positive integer, got "${values["max-open-requests"]}"`);
  }

  const drainSeconds = Number(values["drain-seconds"]);
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0) return fail(`--drain-seconds must be a number of seconds >= 0, got "${values["drain-seconds"]}"`);

  const timeouts = clientTimeouts(values["headers-timeout"], values["request-timeout"]);
  if (typeof timeouts === "string") return fail(timeouts);

  const ledgerSync = values["ledger-sync"].toUpperCase();
  if (ledgerSync !== "NORMAL" && ledgerSync !== "FULL") return fail(`--ledger-sync must be normal or full, got "${values["ledger-sync"]}"`);

  const fleet = fleetOptions(options);
  if (typeof fleet === "string") return fail(fleet);

  let loaded;
  try {
    loaded = await loadPolicyFileWithDocument(values.policy);
  } catch (error) {
    if (error instanceof PolicyFileError) return fail(`invalid policy ${error.message}`);
    throw error;
  }
  const policy = loaded.policy;

  let adminToken: AdminToken | undefined;
  try {
    if (values["admin-token-file"]) adminToken = AdminToken.fromFile(values["admin-token-file"]);
    else if (process.env.TOLLGATE_ADMIN_TOKEN) adminToken = AdminToken.fromSecret(process.env.TOLLGATE_ADMIN_TOKEN);
  } catch (error) {
    return fail(`admin token: ${(error as Error).message}`);
  }

  const logger = createLogger();
  let broker;
  try {
    broker = await startBroker({
      host: values.host,
      port,
      dataDir: values["data-dir"],
      policy,
      policyDocument: loaded.document,
      policyMode: text("policy-mode") === "file" ? "file" : "seed",
      adminToken,
      ledgerSynchronous: ledgerSync,
      logger,
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
      ...(maxOpenRequests !== undefined ? { maxOpenRequests } : {}),
      bedrock: { httpVersion: values["bedrock-http2"] ? "2" : "1.1" },
      metricsAccess: (METRICS_ACCESS as readonly string[]).includes(text("metrics") ?? "") ? (text("metrics") as MetricsAccess) : "admin-token",
      version,
      ...timeouts,
      ...(fleet ? { fleet } : {}),
    });
  } catch (error) {
    if (error instanceof StartupError) return fail(error.message);
    throw error;
  }
  // Judged on the address actually bound: "--host 127.example.com" may resolve anywhere.
  const bound = new URL(broker.url).hostname.replace(/^\[|\]$/g, "");
  if (!isLoopback(bound)) {
    logger.warn({ host: values.host, address: bound }, "serving on a non-loopback address: put TLS (a reverse proxy) in front of it");
  }
  // Signal handlers go in before the "listening" line: a supervisor may send SIGTERM the moment it
  // reads that line, and a signal without a handler would kill the process mid-request.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal, drainSeconds }, "shutting down: no new requests, letting those in flight finish");
      void broker.close(drainSeconds * 1000).then(() => {
        logger.info("stopped: every request in flight was recorded");
        resolve();
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  process.stdout.write(`listening on ${broker.url}\n`);
  logger.info(
    { url: broker.url, policyVersion: broker.policy.current().version, adminApi: adminToken !== undefined, mode: fleet ? "fleet" : "embedded", instanceId: fleet?.instanceId },
    "broker started",
  );
  await stopped;
  return 0;
}

/**
 * Fleet mode: `--database-url` and `--redis-url` (or TOLLGATE_DATABASE_URL / TOLLGATE_REDIS_URL),
 * both or neither. Undefined for the embedded mode; a string is the reason the options are refused.
 */
function fleetOptions(values: OptionValues): FleetConfig | undefined | string {
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const databaseUrl = text("database-url") ?? nonEmpty(process.env.TOLLGATE_DATABASE_URL);
  const redisUrl = text("redis-url") ?? nonEmpty(process.env.TOLLGATE_REDIS_URL);
  const fleetOnly = ["database-ca-file", "redis-ca-file", "redis-key-prefix", "instance-id", "outbox-max-rows"].filter((name) => text(name) !== undefined);
  if (databaseUrl === undefined && redisUrl === undefined) {
    return fleetOnly.length > 0 ? `--${fleetOnly[0]} is for fleet mode, which needs --database-url and --redis-url` : undefined;
  }
  if (databaseUrl === undefined || redisUrl === undefined) {
    return databaseUrl === undefined
      ? "--redis-url needs --database-url too (or TOLLGATE_DATABASE_URL): fleet mode keeps the org's ledger, policy and audit in PostgreSQL and its limits in Redis, and neither works without the other (shared limits with per-host ledgers would rebuild budgets from one host's spend)"
      : "--database-url needs --redis-url too (or TOLLGATE_REDIS_URL): fleet mode keeps the limits in Redis; without it each broker would enforce every rpm, tpm and budget on its own, multiplying them by the number of hosts";
  }
  const maxRowsText = text("outbox-max-rows");
  const outboxMaxRows = maxRowsText === undefined ? undefined : Number(maxRowsText);
  if (outboxMaxRows !== undefined && (!Number.isInteger(outboxMaxRows) || outboxMaxRows < 1)) return `--outbox-max-rows must be a positive integer, got "${maxRowsText}"`;
  const instanceId = text("instance-id") ?? hostname();
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(instanceId)) return `--instance-id must be 1-128 letters, digits, '.', '_', ':' or '-', got "${instanceId}"`;
  const prefix = text("redis-key-prefix") ?? "tollgate";
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(prefix)) return `--redis-key-prefix must be 1-64 letters, digits, '.', '_', ':' or '-', got "${prefix}"`;
  return {
    databaseUrl,
    redisUrl,
    instanceId,
    redisKeyPrefix: prefix,
    ...(text("database-ca-file") ? { databaseCaFile: text("database-ca-file") } : {}),
    ...(text("redis-ca-file") ? { redisCaFile: text("redis-ca-file") } : {}),
    ...(outboxMaxRows !== undefined ? { outboxMaxRows } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/** `--headers-timeout S` / `--request-timeout S` (seconds, 0 = none) → ms; or the reason they are refused. */
function clientTimeouts(headersArg: string | undefined, requestArg: string | undefined): { headersTimeoutMs: number; requestTimeoutMs: number } | string {
  const parse = (name: string, value: string | undefined, fallback: number): number | string => {
    if (value === undefined) return fallback;
    const seconds = Number(value);
    if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0) return `--${name} must be a number of seconds (0: no limit), got "${value}"`;
    return Math.round(seconds * 1000);
  };
  const requestTimeoutMs = parse("request-timeout", requestArg, DEFAULT_REQUEST_TIMEOUT_MS);
  if (typeof requestTimeoutMs === "string") return requestTimeoutMs;
  // Headers are part of the request: by default their limit is never above the whole request's.
  const headersDefault = requestTimeoutMs > 0 ? Math.min(DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs) : DEFAULT_HEADERS_TIMEOUT_MS;
  const headersTimeoutMs = parse("headers-timeout", headersArg, headersDefault);
  if (typeof headersTimeoutMs === "string") return headersTimeoutMs;
  if (requestTimeoutMs > 0 && (headersTimeoutMs === 0 || headersTimeoutMs > requestTimeoutMs)) {
    return "--headers-timeout must not exceed --request-timeout (the headers are part of the request)";
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

/** Whether a bound IP address is a loopback one (127.0.0.0/8, ::1, or 127.x mapped into IPv6). */
function isLoopback(address: string): boolean {
  const v4 = address.toLowerCase().replace(/^::ffff:/, "");
  return address === "::1" || (isIPv4(v4) && v4.startsWith("127."));
}

function fail(reason: string): number {
  process.stderr.write(`tollgate serve: ${reason}\n`);
  return 1;
}
