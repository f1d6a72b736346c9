// The fleet's LimitStore: Redis while it answers; while it doesn't, this broker's share of every
// limit counted in memory, so the broker keeps serving and the fleet as a whole stays near the limit.
//
// The share: rpm, tpm and concurrency divided by the brokers alive at the last heartbeat (at least
// 1 each); a budget's remaining part (the org's spend as the ledgers know it at the outage) divided
// likewise. Worst case: if brokers join during the outage, the fleet admits up to limit × (brokers
// now ÷ brokers then). LiteLLM instead falls back to the full limit in every pod (limit × pods).
// When Redis answers again, the spend counted locally is added to it (same epoch), or, if Redis came
// back empty, the rebuild counts it from the ledgers; then Redis takes over again.
import type { Logger } from "../../log.js";
import { MemoryLimitStore } from "../memory-store.js";
import { budgetPeriods } from "../periods.js";
import { scopeKey } from "../scope.js";
import type { ActualUsage, Admission, AdmissionRequest, Limits, LimitStore, RestoreState, Scope, ScopedLimits, ScopeStatus, SpendRow, Ticket } from "../types.js";
import { LimitStoreUnavailableError } from "./errors.js";
import type { RedisLimitStore } from "./redis-store.js";

export interface ResilientLimitStoreOptions {
  redis: RedisLimitStore;
  timeZone: string;
  logger: Logger;
  /** The org's spend (and the minute's activity) as the ledgers know it, to start the local limits from. */
  fallbackSeed(): Promise<RestoreState>;
  probeMs?: number;
}

export interface LimitsHealth {
  degraded: boolean;
  since: Date | undefined;
  reason: string | undefined;
  liveBrokers: number;
}

interface Held {
  inner: Ticket;
  where: "redis" | "memory";
  scopes: Scope[];
}

interface Outage {
  memory: MemoryLimitStore;
  since: Date;
  reason: string;
  brokers: number;
  epoch: string | undefined;
  /** Day and month spend per scope when the outage began (pico-USD). */
  seeded: Map<string, { day: number; month: number }>;
}

let lastId = 0;

export class ResilientLimitStore implements LimitStore {
  private readonly redis: RedisLimitStore;
  private readonly logger: Logger;
  private readonly fallbackSeed: () => Promise<RestoreState>;
  private readonly probeMs: number;
  private timeZone: string;
  private readonly held = new Map<number, Held>();
  private outage: Outage | undefined;
  private entering: Promise<Outage> | undefined;
  /** Spend settled locally, not yet in Redis: per scope, for the periods it was settled in. */
  private pending = new Map<string, { scope: Scope; dayStart: number; pico: number }>();
  private probe: NodeJS.Timeout | undefined;

  constructor(options: ResilientLimitStoreOptions) {
    this.redis = options.redis;
    this.timeZone = options.timeZone;
    this.logger = options.logger;
    this.fallbackSeed = options.fallbackSeed;
    this.probeMs = options.probeMs ?? 1_000;
  }

  health(): LimitsHealth {
    return { degraded: this.outage !== undefined, since: this.outage?.since, reason: this.outage?.reason, liveBrokers: this.outage?.brokers ?? this.redis.liveBrokers() };
  }

  /** Joins Redis's counters; an unreachable Redis at start-up starts the broker degraded. */
  async start(): Promise<void> {
    try {
      await this.redis.start();
    } catch (error) {
      if (!LimitStoreUnavailableError.is(error)) throw error;
      await this.degrade(error);
    }
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    if (!this.outage) {
      try {
        return this.hold(await this.redis.admit(request), "redis", request);
      } catch (error) {
        if (!LimitStoreUnavailableError.is(error)) throw error;
        await this.degrade(error);
      }
    }
    const outage = this.outage ?? (await this.entering!);
    return this.hold(outage.memory.admit(this.share(request, outage)), "memory", request);
  }

  async transfer(ticket: Ticket, request: AdmissionRequest): Promise<Admission> {
    const held = this.held.get(ticket.id);
    if (!held) throw new Error(`ticket ${ticket.id} is not in flight`);
    if (held.where === "redis" && !this.outage) {
      try {
        const admission = await this.redis.transfer(held.inner, request);
        if (admission.ok) this.held.delete(ticket.id);
        return this.hold(admission, "redis", request);
      } catch (error) {
        if (!LimitStoreUnavailableError.is(error)) throw error;
        await this.degrade(error);
      }
    }
    const outage = this.outage ?? (await this.entering!);
    if (held.where === "memory") {
      const admission = outage.memory.transfer(held.inner, this.share(request, outage));
      if (admission.ok) this.held.delete(ticket.id);
      return this.hold(admission, "memory", request);
    }
    // Admitted by Redis, moving while it is away: its Redis slot expires with the lease.
    const admission = outage.memory.admit(this.share(request, outage));
    if (admission.ok) this.held.delete(ticket.id);
    return this.hold(admission, "memory", request);
  }

  async settle(ticket: Ticket, actual: ActualUsage): Promise<void> {
    const held = this.held.get(ticket.id);
    if (!held) return;
    this.held.delete(ticket.id);
    if (held.where === "redis") {
      try {
        await this.redis.settle(held.inner, actual);
        return;
      } catch (error) {
        if (!LimitStoreUnavailableError.is(error)) throw error;
        void this.degrade(error);
      }
    } else {
      this.outage?.memory.settle(held.inner, actual);
    }
    // Counted locally: goes to Redis when it answers again.
    this.owe(held.scopes, actual.costPicoUsd);
    if (!this.outage) void this.payBack();
  }

  async release(ticket: Ticket): Promise<void> {
    const held = this.held.get(ticket.id);
    if (!held) return;
    this.held.delete(ticket.id);
    if (held.where === "memory") {
      this.outage?.memory.release(held.inner);
      return;
    }
    // A slot Redis can't be told about expires with its lease.
    await this.redis.release(held.inner).catch((error: unknown) => {
      if (!LimitStoreUnavailableError.is(error)) throw error;
    });
  }

  async status(scopes: readonly ScopedLimits[]): Promise<ScopeStatus[]> {
    if (!this.outage) {
      try {
        return await this.redis.status(scopes);
      } catch (error) {
        if (!LimitStoreUnavailableError.is(error)) throw error;
        await this.degrade(error);
      }
    }
    const outage = this.outage ?? (await this.entering!);
    return outage.memory.status(scopes.map((entry) => ({ ...entry, limits: this.shareOf(entry, outage) })));
  }

  async inFlight(scope: Scope): Promise<number> {
    const local = this.outage?.memory.inFlight(scope) ?? 0;
    if (this.outage) return local;
    return (await this.redis.inFlight(scope)) + local;
  }

  async restore(state: RestoreState): Promise<void> {
    await this.redis.restore(state);
  }

  async rebase(timeZone: string, spend: readonly SpendRow[]): Promise<void> {
    this.timeZone = timeZone;
    this.outage?.memory.rebase(timeZone, spend);
    await this.redis.rebase(timeZone, spend).catch((error: unknown) => {
      if (!LimitStoreUnavailableError.is(error)) throw error;
    });
  }

  close(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    this.redis.close();
  }

  private hold(admission: Admission, where: Held["where"], request: AdmissionRequest): Admission {
    if (!admission.ok) return admission;
    const id = ++lastId;
    const scopes = [...new Map(request.scopes.map((s) => [scopeKey(s.scope), s.scope])).values()];
    this.held.set(id, { inner: admission.ticket, where, scopes });
    return { ...admission, ticket: { id, admittedAt: admission.ticket.admittedAt } };
  }

  private degrade(error: unknown): Promise<Outage> {
    if (this.outage) return Promise.resolve(this.outage);
    this.entering ??= (async () => {
      const reason = error instanceof Error ? error.message : String(error);
      const brokers = this.redis.liveBrokers();
      const memory = new MemoryLimitStore({ timeZone: this.timeZone });
      const seed = await this.fallbackSeed().catch((seedError: unknown) => {
        this.logger.warn({ err: seedError }, "could not read the org's spend for the local limits; starting them from zero");
        return { activity: [], spend: [] } satisfies RestoreState;
      });
      // Spend only: the rate windows start empty, each broker with its share of the limit.
      memory.restore({ activity: [], spend: seed.spend });
      const seeded = new Map(seed.spend.map((row) => [scopeKey(row.scope), { day: Number(row.dayPicoUsd), month: Number(row.monthPicoUsd) }]));
      const outage: Outage = { memory, since: new Date(), reason, brokers, epoch: this.redis.currentEpoch(), seeded };
      this.outage = outage;
      this.logger.warn({ reason, brokers }, `redis unreachable: serving with local limits, each divided by ${brokers} broker(s)`);
      this.probe ??= setInterval(() => void this.tryRecover(), this.probeMs);
      this.probe.unref();
      return outage;
    })().finally(() => (this.entering = undefined));
    return this.entering;
  }

  private async tryRecover(): Promise<void> {
    const outage = this.outage;
    if (!outage) return;
    try {
      await this.redis.ping();
      await this.payBack();
      await this.redis.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (reason !== outage.reason) this.logger.warn({ reason }, "redis still unreachable");
      outage.reason = reason;
      return;
    }
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    this.outage = undefined;
    this.logger.info({ downSince: outage.since.toISOString() }, "redis reachable again: limits shared across the fleet again");
  }

  /** Adds spend counted locally to Redis, if its epoch is the one of before (else the rebuild counted it). */
  private async payBack(): Promise<void> {
    if (this.pending.size === 0) return;
    const epoch = this.outage?.epoch ?? this.redis.currentEpoch();
    const owed = this.pending;
    this.pending = new Map();
    const now = Date.now();
    const periods = budgetPeriods(this.timeZone, now);
    const rows: SpendRow[] = [...owed.values()]
      .filter((entry) => entry.dayStart === periods.day.start)
      .map((entry) => ({ scope: entry.scope, dayPicoUsd: entry.pico, monthPicoUsd: entry.pico }));
    try {
      if (epoch !== undefined && rows.length > 0) await this.redis.addSpend(epoch, rows, periods);
    } catch (error) {
      for (const [key, entry] of owed) this.pending.set(key, entry);
      throw error;
    }
  }

  private owe(scopes: readonly Scope[], pico: number): void {
    if (pico <= 0) return;
    const dayStart = budgetPeriods(this.timeZone, Date.now()).day.start;
    for (const scope of scopes) {
      const key = `${scopeKey(scope)}\u0000${dayStart}`;
      const entry = this.pending.get(key) ?? { scope, dayStart, pico: 0 };
      entry.pico += pico;
      this.pending.set(key, entry);
    }
  }

  private share(request: AdmissionRequest, outage: Outage): AdmissionRequest {
    return { ...request, scopes: request.scopes.map((entry) => ({ ...entry, limits: this.shareOf(entry, outage) })) };
  }

  /** This broker's part of a scope's limits while Redis is away. */
  private shareOf(entry: ScopedLimits, outage: Outage): Limits {
    const n = Math.max(1, outage.brokers);
    const limits = entry.limits;
    const seeded = outage.seeded.get(scopeKey(entry.scope)) ?? { day: 0, month: 0 };
    const divide = (value: number | undefined): number | undefined => (value === undefined ? undefined : Math.max(1, Math.floor(value / n)));
    const budget = (value: number | undefined, spentPico: number): number | undefined => {
      if (value === undefined) return undefined;
      const spent = spentPico / 1e12;
      return spent >= value ? value : spent + (value - spent) / n;
    };
    const out: Limits = {};
    const rpm = divide(limits.rpm);
    const tpm = divide(limits.tpm);
    const concurrent = divide(limits.concurrent);
    const dailyUsd = budget(limits.dailyUsd, seeded.day);
    const monthlyUsd = budget(limits.monthlyUsd, seeded.month);
    if (rpm !== undefined) out.rpm = rpm;
    if (tpm !== undefined) out.tpm = tpm;
    if (concurrent !== undefined) out.concurrent = concurrent;
    if (dailyUsd !== undefined) out.dailyUsd = dailyUsd;
    if (monthlyUsd !== undefined) out.monthlyUsd = monthlyUsd;
    return out;
  }
}
