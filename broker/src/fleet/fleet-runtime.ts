// A broker in a fleet: PostgreSQL for the org's ledger, policy and audit; Redis for the limits; the
// local SQLite ledger as the outbox in between. Built in two steps because the limits need the
// policy's time zone, which comes from PostgreSQL.
import { formatPolicyProblems, parsePolicy } from "@tollgate/shared";
import type { RedisClientType } from "@redis/client";
import type { Meter } from "../accounting/meter.js";
import { restoreState, restoreStateNow, type SpendSource } from "../accounting/restore.js";
import { openCentralStore, type CentralStore } from "../central/central-store.js";
import { ApiError } from "../errors.js";
import { openSqliteLedger, type SqliteLedger } from "../ledger/index.js";
import type { ActivityRow, SpendByScope, UsageRecord } from "../ledger/types.js";
import { teamModelKey } from "../ledger/types.js";
import { RedisLimitStore, ResilientLimitStore, type RebuildSource, type RestoreState } from "../limits/index.js";
import type { Logger } from "../log.js";
import type { PolicyRepository } from "../policy/policy-repository.js";
import type { MemoryPolicyStore } from "../policy/policy-store.js";
import type { FleetConfig } from "./fleet-config.js";
import { FleetLedger } from "./fleet-ledger.js";
import { connectRedis } from "./redis-connection.js";
import { Shipper } from "./shipper.js";

/** How often a broker tells the fleet it is alive and which policy version it serves. */
const HEARTBEAT_MS = 2_000;

export interface FleetHealth {
  instanceId: string;
  /** True when PostgreSQL or Redis is unreachable: the broker serves, with the costs docs/fleet.md lists. */
  degraded: boolean;
  centralStore: { ok: boolean; detail: string };
  limits: { ok: boolean; detail: string };
  outbox: { waitingRows: number; maxWaitingRows: number; unreachableSince: string | null };
}

export interface BrokerInfo {
  instanceId: string;
  startedAt: string;
  lastSeen: string;
  policyVersion: number;
  info: unknown;
}

/** Step one, before the policy is known: PostgreSQL (migrated) and its policy versions. */
export async function openFleetCentral(config: FleetConfig): Promise<{ central: CentralStore; repository: PolicyRepository }> {
  const central = await openCentralStore({ url: config.databaseUrl, caFile: config.databaseCaFile, instanceId: config.instanceId });
  return { central, repository: central.policyRepository() };
}

export interface FleetRuntimeOptions {
  config: FleetConfig;
  central: CentralStore;
  dataDir: string;
  logger: Logger;
  timeZone: string;
  ledgerSynchronous: "NORMAL" | "FULL";
  /** The meter, once built (the rebuild waits for its rows being committed). */
  meter: () => Meter | undefined;
}

export class FleetRuntime {
  readonly instanceId: string;
  readonly ledger: FleetLedger;
  readonly limits: ResilientLimitStore;
  private readonly central: CentralStore;
  /** This broker's own ledger (the outbox's source). */
  readonly local: SqliteLedger;
  private readonly shipper: Shipper;
  private readonly redis: RedisClientType;
  private readonly redisStore: RedisLimitStore;
  private readonly logger: Logger;
  private readonly startedAt = new Date();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private policyListener: { close(): Promise<void> } | undefined;
  private centralOk = true;
  private centralError: string | undefined;

  static async open(options: FleetRuntimeOptions): Promise<FleetRuntime> {
    const redis = await connectRedis({ url: options.config.redisUrl, caFile: options.config.redisCaFile, logger: options.logger });
    return new FleetRuntime(options, redis);
  }

  private constructor(options: FleetRuntimeOptions, redis: RedisClientType) {
    const { config, central, logger } = options;
    this.instanceId = config.instanceId;
    this.central = central;
    this.logger = logger;
    this.redis = redis;
    this.local = openSqliteLedger(options.dataDir, { synchronous: options.ledgerSynchronous });
    this.shipper = new Shipper({
      ledger: this.local,
      central,
      instanceId: config.instanceId,
      dataDir: options.dataDir,
      logger,
      ...(config.outboxMaxRows !== undefined ? { maxWaitingRows: config.outboxMaxRows } : {}),
    });
    this.ledger = new FleetLedger(this.local, central, this.shipper, config.instanceId, logger);
    this.redisStore = new RedisLimitStore({
      client: redis,
      prefix: config.redisKeyPrefix,
      instanceId: config.instanceId,
      timeZone: options.timeZone,
      rebuild: this.rebuildSource(options.meter),
    });
    this.limits = new ResilientLimitStore({
      redis: this.redisStore,
      timeZone: options.timeZone,
      logger,
      // While Redis is away the local limits start from the org's spend as the ledgers know it.
      fallbackSeed: () => this.orgState(options.timeZone),
    });
  }

  /** Starts shipping, the shared limits, the policy listener and the heartbeat; `policy` follows every version pushed anywhere. */
  async start(policy: MemoryPolicyStore, repository: PolicyRepository, info: () => unknown): Promise<void> {
    await this.shipper.start();
    await this.limits.start();
    this.policyListener = await this.central.listenForPolicy((version) => {
      if (version <= policy.current().version) return;
      void this.loadPolicy(policy, repository);
    });
    const beat = (): void => {
      this.central
        .heartbeat({ instanceId: this.instanceId, startedAt: this.startedAt, policyVersion: policy.current().version, info: { ...this.health(), ...(info() as object) } })
        .then(
          () => this.centralReachable(),
          (error: unknown) => this.centralUnreachable(error),
        );
    };
    beat();
    this.heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /** Refuses new requests only when the outbox reached its bound (PostgreSQL gone for long). */
  blocker(): ApiError | undefined {
    if (!this.shipper.full()) return undefined;
    const status = this.shipper.status();
    return new ApiError({
      status: 503,
      type: "server_error",
      code: "central_store_unavailable",
      message: `The org's central store has been unreachable since ${status.unreachableSince?.toISOString() ?? "a while"} and this broker's outbox holds ${status.waitingRows} unshipped requests (its limit), so it takes no more until they ship. Your Tollgate admin should check PostgreSQL.`,
      headers: { "retry-after": "30" },
    });
  }

  localLedgerHealthy(): boolean {
    return this.local.healthy();
  }

  health(): FleetHealth {
    const outbox = this.shipper.status();
    const limits = this.limits.health();
    const centralOk = outbox.unreachableSince === undefined && this.centralOk;
    const since = outbox.unreachableSince?.toISOString();
    return {
      instanceId: this.instanceId,
      degraded: !centralOk || limits.degraded,
      centralStore: centralOk
        ? { ok: true, detail: `reachable; ${outbox.waitingRows} rows waiting to ship` }
        : { ok: false, detail: `degraded: central store unreachable${since ? ` since ${since}` : ""}, ${outbox.waitingRows} rows waiting${this.centralError ? ` (${this.centralError})` : ""}` },
      limits: limits.degraded
        ? { ok: false, detail: `degraded: redis unreachable${limits.since ? ` since ${limits.since.toISOString()}` : ""}; local limits divided by ${limits.liveBrokers} broker(s)${limits.reason ? ` (${limits.reason})` : ""}` }
        : { ok: true, detail: `shared in redis with ${limits.liveBrokers} live broker(s)` },
      outbox: { waitingRows: outbox.waitingRows, maxWaitingRows: outbox.maxWaitingRows, unreachableSince: since ?? null },
    };
  }

  /** Every broker of the fleet as PostgreSQL last heard of it. */
  async brokers(): Promise<BrokerInfo[]> {
    const rows = await this.central.brokers();
    return rows.map((row) => ({
      instanceId: row.instanceId,
      startedAt: new Date(row.startedAt).toISOString(),
      lastSeen: new Date(row.lastSeen).toISOString(),
      policyVersion: row.policyVersion,
      info: row.info,
    }));
  }

  /** After the broker stopped serving: ship what is left (briefly), then close every connection. */
  async close(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.policyListener?.close().catch(() => undefined);
    await this.shipper.stop();
    this.limits.close();
    await this.ledger.close();
    await this.redis.close().catch(() => undefined);
    await this.central.close().catch(() => undefined);
  }

  private async loadPolicy(policy: MemoryPolicyStore, repository: PolicyRepository): Promise<void> {
    try {
      const latest = await repository.latest();
      if (!latest || latest.version <= policy.current().version) return;
      const parsed = parsePolicy(latest.document);
      if (!parsed.ok) {
        this.logger.error({ version: latest.version, problems: formatPolicyProblems(parsed.problems) }, "policy version from the central store does not validate here; keeping the current one");
        return;
      }
      policy.replace(parsed.policy, latest.version);
      this.logger.info({ version: latest.version, kind: latest.kind, by: latest.by }, "policy changed (pushed to the fleet)");
    } catch (error) {
      this.logger.warn({ err: error }, "could not read the latest policy version from the central store");
    }
  }

  private centralReachable(): void {
    if (!this.centralOk) this.logger.info("central store reachable again");
    this.centralOk = true;
    this.centralError = undefined;
  }

  private centralUnreachable(error: unknown): void {
    if (this.centralOk) this.logger.warn({ err: error }, "central store unreachable (heartbeat failed)");
    this.centralOk = false;
    this.centralError = error instanceof Error ? error.message : String(error);
  }

  /** Spend and windows as every ledger knows them: other brokers' from PostgreSQL, this one's locally. */
  private async orgState(timeZone: string): Promise<RestoreState> {
    try {
      return await restoreState(this.ledger, timeZone, Date.now());
    } catch {
      return restoreState(this.local, timeZone, Date.now());
    }
  }

  private rebuildSource(meter: () => Meter | undefined): RebuildSource {
    const central = this.central;
    return {
      central: (timeZone, now, exclude) => {
        const others: SpendSource = {
          recentActivity: (since) => central.recentActivity(since, { excludeInstances: exclude }),
          spendByScope: (since) => central.spendByScope(since, { excludeInstances: exclude }),
        };
        return restoreState(others, timeZone, now);
      },
      local: async (timeZone, now, taken) => {
        await meter()?.allCommitted();
        // Read at once, in this turn: a settle after `taken` is counted live, one before it is in these rows.
        const state = restoreStateNow(this.local, timeZone, now);
        taken();
        return state;
      },
      unshipped: async (timeZone, now, taken) => {
        await meter()?.allCommitted();
        return this.shipper.paused((through) => {
          const rows = this.local.rowsAfter(through, Number.MAX_SAFE_INTEGER).map((row) => row.record);
          taken();
          return restoreStateNow(recordsSource(rows), timeZone, now);
        });
      },
    };
  }
}

/** A few records read as a ledger (the rows of an outbox). */
function recordsSource(records: readonly UsageRecord[]): { recentActivity(ms: number): ActivityRow[]; spendByScope(ms: number): SpendByScope } {
  const since = (ms: number): UsageRecord[] => records.filter((record) => record.time >= ms);
  return {
    recentActivity: (ms): ActivityRow[] =>
      since(ms).map((r) => ({
        time: r.time,
        user: r.user,
        team: r.team,
        servedModel: r.servedModel,
        tokens: r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens + r.outputTokens,
        costPicoUsd: r.costPicoUsd,
      })),
    spendByScope: (ms): SpendByScope => {
      const out: SpendByScope = { users: new Map(), teams: new Map(), teamModels: new Map() };
      const add = (map: Map<string, number>, key: string, value: number): void => void map.set(key, (map.get(key) ?? 0) + value);
      for (const r of since(ms)) {
        add(out.users, r.user, r.costPicoUsd);
        add(out.teams, r.team, r.costPicoUsd);
        add(out.teamModels, teamModelKey(r.team, r.servedModel), r.costPicoUsd);
      }
      return out;
    },
  };
}
