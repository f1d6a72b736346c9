// Fleet mode's PostgreSQL: the org's usage rows, policy versions with their audit, and the broker
// registry. Opened (and migrated) once per broker at start-up.
import pg from "pg";
import type { RecentQuery, UsageQuery, UsageScope } from "../ledger/types.js";
import { clientConfig, poolConfig, type CentralConnectionOptions } from "./connection.js";
import { centralError } from "./errors.js";
import { migrate } from "./migrate.js";
import { listenForPolicy, type PolicyListener } from "./policy-listener.js";
import { PgPolicyRepository } from "./policy-versions.js";
import { RefusalQueries, type ShippedRefusal } from "./refusal-queries.js";
import { UsageQueries, type InstanceFilter, type ShippedRecord } from "./usage-queries.js";

export interface BrokerRow {
  instanceId: string;
  startedAt: Date;
  lastSeen: Date;
  policyVersion: number;
  info: unknown;
}

export class CentralStore {
  private readonly usageQueries: UsageQueries;
  private readonly refusalQueries: RefusalQueries;
  private readonly policies: PgPolicyRepository;

  constructor(
    readonly pool: pg.Pool,
    private readonly options: CentralConnectionOptions,
  ) {
    this.usageQueries = new UsageQueries(pool);
    this.refusalQueries = new RefusalQueries(pool);
    this.policies = new PgPolicyRepository(pool);
    // An idle pooled connection that drops must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
  }

  insertUsage(rows: readonly ShippedRecord[]): Promise<{ inserted: number }> {
    return this.usageQueries.insert(rows);
  }

  totals(scope: UsageScope, sinceMs: number) {
    return this.usageQueries.totals(scope, sinceMs);
  }

  recentActivity(sinceMs: number, filter?: InstanceFilter) {
    return this.usageQueries.recentActivity(sinceMs, filter);
  }

  spendByScope(sinceMs: number, filter?: InstanceFilter) {
    return this.usageQueries.spendByScope(sinceMs, filter);
  }

  usage(query: UsageQuery) {
    return this.usageQueries.usage(query);
  }

  recent(query: RecentQuery) {
    return this.usageQueries.recent(query);
  }

  insertRefusals(rows: readonly ShippedRefusal[]): Promise<void> {
    return this.refusalQueries.insert(rows);
  }

  refusals(query: RecentQuery) {
    return this.refusalQueries.recent(query);
  }

  pruneRefusals(now?: number): Promise<number> {
    return this.refusalQueries.prune(now);
  }

  policyRepository(): PgPolicyRepository {
    return this.policies;
  }

  listenForPolicy(onVersion: (version: number) => void, onError?: (error: unknown) => void): Promise<PolicyListener> {
    return listenForPolicy({ config: clientConfig(this.options), onVersion, ...(onError ? { onError } : {}) });
  }

  async heartbeat(beat: { instanceId: string; startedAt: Date; policyVersion: number; info: unknown }): Promise<void> {
    try {
      await this.pool.query(
        "INSERT INTO brokers (instance_id, started_at, last_seen, policy_version, info) VALUES ($1, $2, now(), $3, $4) " +
          "ON CONFLICT (instance_id) DO UPDATE SET started_at = excluded.started_at, last_seen = now(), policy_version = excluded.policy_version, info = excluded.info",
        [beat.instanceId, beat.startedAt, beat.policyVersion, JSON.stringify(beat.info ?? {})],
      );
    } catch (error) {
      throw centralError(error, "heartbeat");
    }
  }

  async brokers(): Promise<BrokerRow[]> {
    try {
      const { rows } = await this.pool.query<{ instance_id: string; started_at: Date; last_seen: Date; policy_version: number; info: unknown }>(
        "SELECT instance_id, started_at, last_seen, policy_version, info FROM brokers ORDER BY instance_id",
      );
      return rows.map((r) => ({ instanceId: r.instance_id, startedAt: r.started_at, lastSeen: r.last_seen, policyVersion: r.policy_version, info: r.info }));
    } catch (error) {
      throw centralError(error, "broker registry");
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query("SELECT 1");
    } catch (error) {
      throw centralError(error, "ping");
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Connects, migrates (under an advisory lock) and returns the store; refuses a newer schema. */
export async function openCentralStore(options: CentralConnectionOptions): Promise<CentralStore> {
  const pool = new pg.Pool(poolConfig(options));
  pool.on("error", () => undefined);
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw centralError(error, "migration");
  }
  return new CentralStore(pool, options);
}
