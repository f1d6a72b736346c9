// What `tollgate serve` needs to join a fleet (see docs/fleet.md).
export interface FleetConfig {
  /** PostgreSQL: the org's ledger, policy versions with their audit, the broker registry. */
  databaseUrl: string;
  /** CA bundle for the PostgreSQL TLS connection (e.g. RDS's global bundle). */
  databaseCaFile?: string | undefined;
  /** Redis: rpm, tpm, concurrency and budgets shared by every broker. */
  redisUrl: string;
  redisCaFile?: string | undefined;
  /** Every key lives under `{prefix}:`; brokers of one fleet share it, another fleet on the same Redis takes another. */
  redisKeyPrefix: string;
  /** Names this broker in ledger rows, logs and health (default: the host name). */
  instanceId: string;
  /** Unshipped rows at which new requests are refused (default DEFAULT_MAX_WAITING_ROWS). */
  outboxMaxRows?: number | undefined;
}
