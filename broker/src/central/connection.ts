// The PostgreSQL connection of fleet mode (Aurora / RDS in production): the URL with an optional
// password file, TLS as RDS wants it, and timeouts that make a dead database fail fast.
import { readFileSync } from "node:fs";
import type { ClientConfig, PoolConfig } from "pg";
import { readSecretFile, SecretFileError } from "../fleet/secret-file.js";
import { CentralStoreError } from "./errors.js";

export interface CentralConnectionOptions {
  url: string;
  /** CA bundle for TLS (RDS: the global bundle); implies certificate verification. */
  caFile?: string | undefined;
  instanceId: string;
  poolMax?: number | undefined;
}

const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 10_000;

/** Client settings for one connection (the LISTEN client) from the URL; never echoes the password. */
export function clientConfig(options: CentralConnectionOptions): ClientConfig {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new CentralStoreError("invalid_config", "--database-url is not a URL; expected postgres://user@host:5432/database");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new CentralStoreError("invalid_config", `--database-url must start with postgres://, not ${url.protocol}//`);
  }
  const params = url.searchParams;
  const passwordFile = params.get("password_file");
  const sslmode = params.get("sslmode") ?? (options.caFile ? "verify-full" : "prefer-none");
  // Parsed here, not by pg: pg-connection-string treats sslmode=require as verify-full and reads files itself.
  for (const name of ["password_file", "sslmode", "sslrootcert", "sslcert", "sslkey"]) params.delete(name);
  if (passwordFile && url.password !== "") throw new CentralStoreError("invalid_config", "--database-url has both a password and a password_file; keep one");
  let password: string | undefined;
  try {
    password = passwordFile ? readSecretFile(passwordFile, "--database-url password_file") : undefined;
  } catch (error) {
    if (error instanceof SecretFileError) throw new CentralStoreError("invalid_config", error.message);
    throw error;
  }
  if (!["disable", "prefer-none", "require", "verify-full"].includes(sslmode)) {
    throw new CentralStoreError("invalid_config", `--database-url sslmode must be disable, require or verify-full, not "${sslmode}"`);
  }
  if (options.caFile && (sslmode === "disable" || sslmode === "require")) {
    throw new CentralStoreError("invalid_config", `--database-ca-file verifies the server: use sslmode=verify-full (not ${sslmode})`);
  }
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (error) {
      throw new CentralStoreError("invalid_config", `--database-ca-file ${options.caFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const ssl =
    sslmode === "disable" || sslmode === "prefer-none"
      ? false
      : sslmode === "require"
        ? { rejectUnauthorized: false } // encrypted, server not verified (as libpq's require)
        : { rejectUnauthorized: true, ...(ca ? { ca } : {}) }; // verify-full: chain and host name
  return {
    connectionString: url.toString(),
    ...(password !== undefined ? { password } : {}),
    ssl,
    application_name: `tollgate ${options.instanceId}`.slice(0, 63),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 2_000,
    keepAlive: true,
  };
}

export function poolConfig(options: CentralConnectionOptions): PoolConfig {
  return { ...clientConfig(options), max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 };
}
