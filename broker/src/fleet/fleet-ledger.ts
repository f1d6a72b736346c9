// The ledger of a broker in a fleet: writes commit to the local SQLite ledger (durable before the
// response ends, as in embedded mode) and ship to PostgreSQL; reads answer org-wide.
//
// Reads that must be exact right after a request (a user's spend on /v1/me, recent requests) add
// this broker's rows not yet shipped to what PostgreSQL holds, under the shipper's pause so no row
// is in both or neither. Aggregates for the admin reports read PostgreSQL alone: at most one
// shipping interval (~100 ms) behind, or the outbox's age while PostgreSQL is unreachable.
import type { SqliteLedger } from "../ledger/sqlite-ledger.js";
import type {
  ActivityRow,
  RecentQuery,
  RefusalLog,
  RefusalRecord,
  SpendByScope,
  UsageLedger,
  UsageQuery,
  UsageRecord,
  UsageRow,
  UsageScope,
  UsageTotals,
} from "../ledger/types.js";
import { recentLimit } from "../ledger/types.js";
import type { Logger } from "../log.js";
import type { Shipper } from "./shipper.js";

/** What the fleet ledger reads from the central store (`CentralStore`). */
export interface CentralLedgerReader {
  totals(scope: UsageScope, sinceMs: number): Promise<UsageTotals>;
  recentActivity(sinceMs: number, options?: { excludeInstances?: readonly string[] }): Promise<ActivityRow[]>;
  spendByScope(sinceMs: number, options?: { excludeInstances?: readonly string[] }): Promise<SpendByScope>;
  usage(query: UsageQuery): Promise<UsageRow[]>;
  recent(query: RecentQuery): Promise<UsageRecord[]>;
  refusals(query: RecentQuery): Promise<RefusalRecord[]>;
}

export class FleetLedger implements UsageLedger, RefusalLog {
  constructor(
    readonly local: SqliteLedger,
    private readonly central: CentralLedgerReader,
    private readonly shipper: Shipper,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  async append(record: UsageRecord): Promise<void> {
    await this.local.append(record);
    this.shipper.wake();
  }

  /** Org-wide totals: PostgreSQL's plus this broker's unshipped rows. This broker's alone while PostgreSQL is down. */
  totals(scope: UsageScope, sinceMs: number): Promise<UsageTotals> {
    return this.shipper
      .paused(async (shippedThrough) => add(await this.central.totals(scope, sinceMs), this.local.totalsAfter(shippedThrough, scope, sinceMs)))
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, "central store unreachable: totals from this broker's ledger only");
        return this.local.totals(scope, sinceMs);
      });
  }

  /** Every broker's rows but this one's from PostgreSQL, and this one's from its own ledger (shipped or not). */
  async recentActivity(sinceMs: number): Promise<ActivityRow[]> {
    const others = await this.central.recentActivity(sinceMs, { excludeInstances: [this.instanceId] });
    return [...others, ...this.local.recentActivity(sinceMs)].sort((a, b) => a.time - b.time);
  }

  /** As `recentActivity`: other brokers' spend from PostgreSQL plus this broker's whole ledger. */
  async spendByScope(sinceMs: number): Promise<SpendByScope> {
    const others = await this.central.spendByScope(sinceMs, { excludeInstances: [this.instanceId] });
    const mine = this.local.spendByScope(sinceMs);
    return { users: merge(others.users, mine.users), teams: merge(others.teams, mine.teams), teamModels: merge(others.teamModels, mine.teamModels) };
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return this.central.usage(query);
  }

  /** PostgreSQL's most recent rows and this broker's own, each request once. */
  async recent(query: RecentQuery): Promise<UsageRecord[]> {
    return newestOnce(await this.central.recent(query), this.local.recent(query), query);
  }

  /** Refusals are shipped like usage rows (their own cursor): the whole fleet's, and this broker's unshipped ones. */
  recordRefusal(refusal: RefusalRecord): void {
    this.local.recordRefusal(refusal);
  }

  async refusals(query: RecentQuery): Promise<RefusalRecord[]> {
    const local = this.local.refusals(query);
    const central = await this.central.refusals(query).catch((error: unknown) => {
      this.logger.warn({ err: error }, "central store unreachable: refusals from this broker's ledger only");
      return [];
    });
    return newestOnce(central, local, query);
  }

  async close(): Promise<void> {
    await this.local.close();
  }
}

/** Both lists' records, each id once, newest first, up to the query's limit. */
function newestOnce<T extends { id: string; time: number }>(central: readonly T[], local: readonly T[], query: RecentQuery): T[] {
  const byId = new Map<string, T>();
  for (const record of [...local, ...central]) if (!byId.has(record.id)) byId.set(record.id, record);
  return [...byId.values()].sort((a, b) => b.time - a.time).slice(0, recentLimit(query));
}

function add(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    requests: a.requests + b.requests,
    costPicoUsd: a.costPicoUsd + b.costPicoUsd,
    inputTokens: a.inputTokens + b.inputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
}

function merge(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [key, value] of b) out.set(key, (out.get(key) ?? 0) + value);
  return out;
}
