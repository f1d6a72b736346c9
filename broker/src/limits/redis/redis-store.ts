// The fleet's limits in Redis: one Lua script per admission (every scope checked and reserved at
// once, all or nothing), one per settle, leases for requests in flight, and a rebuild from the
// ledgers when Redis comes back empty. Same answers, messages and headers as MemoryLimitStore.
import { randomBytes, randomUUID } from "node:crypto";
import type { RedisClientType } from "@redis/client";
import { TightestLimits } from "../headers.js";
import { budgetMessage, rateLimitMessage, retryAfterSeconds } from "../messages.js";
import { checkAmount } from "../memory-store.js";
import { usdToMicro } from "../money.js";
import { assertTimeZone, budgetPeriods, type BudgetPeriods } from "../periods.js";
import { scopeKey } from "../scope.js";
import type {
  ActualUsage,
  Admission,
  AdmissionRequest,
  BudgetName,
  Clock,
  LimitStatus,
  LimitStore,
  RateLimitName,
  RestoreState,
  Scope,
  ScopedLimits,
  ScopeStatus,
  SpendRow,
  Ticket,
} from "../types.js";
import { LimitStoreUnavailableError } from "./errors.js";
import { ScriptRunner, type RedisReply } from "./script-runner.js";
import { ADMIT, CONTRIBUTE, ESTABLISH, HEARTBEAT, LIVE_OF, RELEASE, RENEW, SETTLE, STATUS } from "./scripts.js";

/** Where a rebuild reads the ledgers (fleet/fleet-runtime.ts implements it from PostgreSQL and SQLite). */
export interface RebuildSource {
  /** Spend since the day's and month's starts and the last minute's requests in the central store, of every broker but `exclude`. */
  central(timeZone: string, now: number, exclude: readonly string[]): Promise<RestoreState>;
  /**
   * This broker's own rows (all committed, shipped or not), once the rows being committed are in.
   * Calls `taken` synchronously when it has read them: settles after that are counted live.
   */
  local(timeZone: string, now: number, taken: () => void): Promise<RestoreState>;
  /** This broker's rows not yet in the central store, likewise. */
  unshipped(timeZone: string, now: number, taken: () => void): Promise<RestoreState>;
}

export interface RedisLimitStoreOptions {
  client: RedisClientType;
  /** Every key is under `{prefix}:`. */
  prefix: string;
  instanceId: string;
  timeZone: string;
  rebuild: RebuildSource;
  now?: Clock;
  /** A request in flight holds its slot and reservation this long without renewal (a dead broker's expire). */
  leaseMs?: number;
  /** Per Redis call; past it the call fails as unreachable. */
  timeoutMs?: number;
  heartbeatMs?: number;
}

interface OpenTicket {
  redisId: string;
  /** Distinct scope keys. */
  scopes: string[];
}

const scripts = {
  admit: new ScriptRunner(ADMIT),
  settle: new ScriptRunner(SETTLE),
  release: new ScriptRunner(RELEASE),
  status: new ScriptRunner(STATUS),
  renew: new ScriptRunner(RENEW),
  heartbeat: new ScriptRunner(HEARTBEAT),
  establish: new ScriptRunner(ESTABLISH),
  contribute: new ScriptRunner(CONTRIBUTE),
  liveOf: new ScriptRunner(LIVE_OF),
};

const DAY_MS = 86_400_000;
const NONE = -1;
/** Values per scope in the scripts' state replies. */
const STATE_FIELDS = 8;

interface ScopeState {
  reqs: number;
  toks: number;
  resTok: number;
  resNano: number;
  day: number;
  month: number;
  inflight: number;
  /** When the oldest counted bucket leaves the window; undefined when none. */
  leavesAt: number | undefined;
}

let lastTicketId = 0;

export class RedisLimitStore implements LimitStore {
  private readonly client: RedisClientType;
  private readonly key: string;
  private readonly instanceId: string;
  private readonly rebuildSource: RebuildSource;
  private readonly now: Clock;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly heartbeatMs: number;
  private timeZone: string;
  private readonly open = new Map<number, OpenTicket>();
  private readonly nonce = randomBytes(4).toString("hex");
  private redisSeq = 0;
  /** The epoch this broker counts in (it has added its rows to it, or it was there when it joined). */
  private epoch: string | undefined;
  private joining: Promise<void> | undefined;
  private rebuilding: Promise<void> | undefined;
  private contribution: Promise<void> | undefined;
  private contributingTo: string | undefined;
  /** From noticing a new epoch until this broker's rows are read: settles then add nothing (their rows are in what is read). */
  private collecting = false;
  private live = 1;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: RedisLimitStoreOptions) {
    assertTimeZone(options.timeZone);
    this.client = options.client;
    this.key = `{${options.prefix}}`;
    this.instanceId = options.instanceId;
    this.timeZone = options.timeZone;
    this.rebuildSource = options.rebuild;
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
  }

  /** Brokers seen alive at the last heartbeat (at least this one). */
  liveBrokers(): number {
    return this.live;
  }

  currentEpoch(): string | undefined {
    return this.epoch;
  }

  /** Joins the fleet's counters (rebuilding them if Redis is empty) and starts heartbeats and lease renewals. */
  async start(): Promise<void> {
    await this.ready();
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    return this.admitOrTransfer(request, undefined);
  }

  async transfer(ticket: Ticket, request: AdmissionRequest): Promise<Admission> {
    const old = this.open.get(ticket.id);
    if (old === undefined) throw new Error(`ticket ${ticket.id} is not in flight`);
    const admission = await this.admitOrTransfer(request, old);
    if (admission.ok) this.open.delete(ticket.id);
    return admission;
  }

  async settle(ticket: Ticket, actual: ActualUsage): Promise<void> {
    const open = this.open.get(ticket.id);
    if (open === undefined) return;
    this.open.delete(ticket.id);
    checkAmount(actual.tokens, "tokens");
    checkAmount(actual.costPicoUsd, "costPicoUsd");
    if (this.collecting) {
      // This broker's rows are being read for a new epoch, this one's included: free the slot only.
      await this.releaseInRedis(open).catch(() => undefined);
      return;
    }
    while (this.contribution) await this.contribution;
    const now = this.now();
    const periods = budgetPeriods(this.timeZone, now);
    const args: Array<string | number> = [now, this.epoch ?? "", open.redisId, actual.tokens, picoToNano(actual.costPicoUsd), open.scopes.length];
    for (const key of open.scopes) args.push(key, periods.day.start, periods.month.start, ttl(periods.day.end, now), ttl(periods.month.end, now));
    const reply = await scripts.settle.run(this.client, this.key, args, this.timeoutMs);
    // Redis was emptied or rebuilt since: nothing was added, and the row (committing now) is
    // counted when this broker adds its rows to the new epoch. Not awaited: that waits for this row.
    if (reply[0] === "rebuild") void this.rebuildNow().catch(() => undefined);
    else if (reply[0] === "epoch") void this.onEpoch(String(reply[1])).catch(() => undefined);
  }

  async release(ticket: Ticket): Promise<void> {
    const open = this.open.get(ticket.id);
    if (open === undefined) return;
    this.open.delete(ticket.id);
    await this.releaseInRedis(open);
  }

  async status(scopes: readonly ScopedLimits[]): Promise<ScopeStatus[]> {
    await this.ready();
    const now = this.now();
    const periods = budgetPeriods(this.timeZone, now);
    const args: Array<string | number> = [now, scopes.length];
    for (const { scope } of scopes) args.push(scopeKey(scope), periods.day.start, periods.month.start);
    const reply = await scripts.status.run(this.client, this.key, args, this.timeoutMs);
    const states = parseStates(reply, 0, scopes.length);
    return scopes.map(({ scope, label, limits }, i) => {
      const s = states[i]!;
      const windowReset = s.leavesAt === undefined ? undefined : new Date(s.leavesAt);
      const result: ScopeStatus = { scope, label, limits: {} };
      if (limits.rpm !== undefined) result.limits.rpm = count(limits.rpm, s.reqs, 0, windowReset);
      if (limits.tpm !== undefined) result.limits.tpm = count(limits.tpm, s.toks + s.resTok, s.resTok, windowReset);
      if (limits.concurrent !== undefined) result.limits.concurrent = count(limits.concurrent, s.inflight, 0, undefined);
      if (limits.dailyUsd !== undefined) result.limits.dailyUsd = budgetStatus(limits.dailyUsd, s.day, s.resNano, periods.day.end);
      if (limits.monthlyUsd !== undefined) result.limits.monthlyUsd = budgetStatus(limits.monthlyUsd, s.month, s.resNano, periods.month.end);
      return result;
    });
  }

  async inFlight(scope: Scope): Promise<number> {
    const [status] = await this.status([{ scope, label: "", limits: { concurrent: Number.MAX_SAFE_INTEGER } }]);
    return status?.limits.concurrent?.used ?? 0;
  }

  /** Adds what `state` holds to the counters (the fleet rebuilds by itself; this is for tools and tests). */
  async restore(state: RestoreState): Promise<void> {
    await this.ready();
    await this.apply(this.epoch!, "", state, this.now());
  }

  async rebase(timeZone: string, spend: readonly SpendRow[]): Promise<void> {
    assertTimeZone(timeZone);
    this.timeZone = timeZone;
    // The new zone's day and month are other keys: fill them with the ledgers' totals for them.
    // Every broker of the fleet does this on the same push with the same totals, so it adds them to
    // keys not counted yet only once (the contribution flag is per epoch, zone and period).
    await this.ready();
    const now = this.now();
    const periods = budgetPeriods(timeZone, now);
    await this.apply(this.epoch!, `rebase:${timeZone}:${periods.day.start}`, { activity: [], spend }, now);
  }

  /** Answers once Redis does (heartbeat); for the fallback's probe. */
  async ping(): Promise<void> {
    await this.heartbeat();
  }

  /** Spend counted elsewhere (locally while Redis was away) added to `epoch`, if it is still current. */
  async addSpend(epoch: string, spend: readonly SpendRow[], periods: BudgetPeriods): Promise<"ok" | "stale"> {
    const now = this.now();
    const args: Array<string | number> = [epoch, "", spend.length];
    for (const row of spend) {
      args.push(scopeKey(row.scope), periods.day.start, periods.month.start, picoToNano(row.dayPicoUsd), picoToNano(row.monthPicoUsd), ttl(periods.day.end, now), ttl(periods.month.end, now));
    }
    args.push(0);
    const reply = await scripts.contribute.run(this.client, this.key, args, this.timeoutMs);
    return reply[0] === "ok" ? "ok" : "stale";
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async admitOrTransfer(request: AdmissionRequest, old: OpenTicket | undefined): Promise<Admission> {
    checkAmount(request.estimatedTokens, "estimatedTokens");
    checkAmount(request.estimatedCostPicoUsd, "estimatedCostPicoUsd");
    const entries = request.scopes;
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.ready();
      const now = this.now();
      const periods = budgetPeriods(this.timeZone, now);
      const redisId = `${this.instanceId}:${this.nonce}:${++this.redisSeq}`;
      const args: Array<string | number> = [now, this.epoch!, redisId, this.leaseMs, request.estimatedTokens, picoToNano(request.estimatedCostPicoUsd), old?.redisId ?? "", entries.length];
      for (const { scope, limits } of entries) {
        args.push(
          scopeKey(scope),
          limits.rpm ?? NONE,
          limits.tpm ?? NONE,
          limits.concurrent ?? NONE,
          limits.dailyUsd === undefined ? NONE : usdToMicro(limits.dailyUsd) * 1000,
          limits.monthlyUsd === undefined ? NONE : usdToMicro(limits.monthlyUsd) * 1000,
          periods.day.start,
          periods.month.start,
          ttl(periods.day.end, now),
          ttl(periods.month.end, now),
        );
      }
      if (old) args.push(old.scopes.length, ...old.scopes);
      const reply = await scripts.admit.run(this.client, this.key, args, this.timeoutMs);
      const kind = reply[0];
      if (kind === "rebuild") {
        await this.rebuildNow();
        continue;
      }
      if (kind === "epoch") {
        await this.onEpoch(String(reply[1]));
        continue;
      }
      if (kind === "ok") {
        const states = parseStates(reply, 1, entries.length);
        const ticket: Ticket = { id: ++lastTicketId, admittedAt: now };
        this.open.set(ticket.id, { redisId, scopes: [...new Set(entries.map((e) => scopeKey(e.scope)))] });
        return { ok: true, ticket, headers: headersOf(entries, states, now) };
      }
      if (kind === "budget") {
        const index = Number(reply[1]) - 1;
        const states = parseStates(reply, 3, entries.length);
        return this.budgetRejection(entries, states, index, reply[2] === "day" ? "dailyUsd" : "monthlyUsd", periods, now);
      }
      if (kind === "rate") {
        const index = Number(reply[1]) - 1;
        const limit = String(reply[2]) as RateLimitName;
        const states = parseStates(reply, 4, entries.length);
        const entry = entries[index]!;
        const retryAfter = retryAfterSeconds(Number(reply[3]), now);
        return {
          ok: false,
          kind: "rate_limit",
          scopeLabel: entry.label,
          limit,
          retryAfterSeconds: retryAfter,
          message: rateLimitMessage(entry.label, limit, entry.limits[limit]!, retryAfter),
          headers: headersOf(entries, states, now),
        };
      }
      throw new Error(`unexpected reply from the admission script: ${JSON.stringify(reply)}`);
    }
    throw new LimitStoreUnavailableError("the fleet's limit counters kept changing epoch (Redis restarting?)");
  }

  private budgetRejection(entries: readonly ScopedLimits[], states: ScopeState[], index: number, limit: BudgetName, periods: BudgetPeriods, now: number): Admission {
    const entry = entries[index]!;
    const state = states[index]!;
    const budgetUsd = entry.limits[limit]!;
    const spentUsd = (limit === "dailyUsd" ? state.day : state.month) / 1e9;
    const resetsAt = periods[limit === "dailyUsd" ? "day" : "month"].end;
    return {
      ok: false,
      kind: "budget",
      scopeLabel: entry.label,
      limit,
      spentUsd,
      budgetUsd,
      resetsAt: new Date(resetsAt),
      message: budgetMessage({ label: entry.label, limit, budgetUsd, spentUsd, reservedUsd: state.resNano / 1e9, resetsAt, timeZone: this.timeZone }),
      headers: headersOf(entries, states, now),
    };
  }

  private async releaseInRedis(open: OpenTicket): Promise<void> {
    await scripts.release.run(this.client, this.key, [open.redisId, ...open.scopes], this.timeoutMs);
  }

  /** Before any call: joined the counters, and not adding this broker's rows to a new epoch. */
  private async ready(): Promise<void> {
    if (this.epoch === undefined) {
      this.joining ??= this.join().finally(() => (this.joining = undefined));
      await this.joining;
    }
    while (this.contribution) await this.contribution;
  }

  /** At start: counts in the epoch Redis holds (its rows were counted live), or rebuilds an empty Redis. */
  private async join(): Promise<void> {
    const beat = await this.heartbeat();
    if (this.timers.length === 0) this.startTimers();
    if (beat.epoch === "") await this.rebuildNow();
    else this.epoch ??= beat.epoch;
  }

  private startTimers(): void {
    const heartbeat = setInterval(() => {
      void this.heartbeat().then(
        (beat) => {
          // Notice an emptied or rebuilt Redis between requests, too.
          if (beat.epoch === "") void this.rebuildNow().catch(() => undefined);
          else if (this.epoch !== undefined && beat.epoch !== this.epoch) void this.onEpoch(beat.epoch).catch(() => undefined);
        },
        () => undefined,
      );
    }, this.heartbeatMs);
    const renew = setInterval(() => void this.renewLeases().catch(() => undefined), Math.max(50, Math.floor(this.leaseMs / 3)));
    heartbeat.unref();
    renew.unref();
    this.timers.push(heartbeat, renew);
  }

  private async heartbeat(): Promise<{ epoch: string; live: string[] }> {
    const reply = await scripts.heartbeat.run(this.client, this.key, [this.now(), this.instanceId, 3 * this.heartbeatMs], this.timeoutMs);
    const live = reply.slice(1).map(String);
    this.live = Math.max(1, live.length);
    return { epoch: String(reply[0] ?? ""), live };
  }

  private async renewLeases(): Promise<void> {
    if (this.open.size === 0) return;
    const now = this.now();
    const args: Array<string | number> = [now + this.leaseMs, this.leaseMs, this.open.size];
    for (const open of this.open.values()) args.push(open.redisId, open.scopes.length, ...open.scopes);
    await scripts.renew.run(this.client, this.key, args, this.timeoutMs);
  }

  /** Redis holds no epoch: one broker (a lock) rebuilds from the central store, then everyone adds their rows. */
  private rebuildNow(): Promise<void> {
    this.rebuilding ??= this.rebuild().finally(() => (this.rebuilding = undefined));
    return this.rebuilding;
  }

  private async rebuild(): Promise<void> {
    const beat = await this.heartbeat();
    if (beat.epoch !== "") return this.onEpoch(beat.epoch);
    const lockKey = `${this.key}:rebuild-lock`;
    const locked = await this.command(["SET", lockKey, this.instanceId, "NX", "PX", "30000"]);
    if (locked === "OK") {
      try {
        // Another broker may have finished a rebuild between our look and our lock.
        const epochNow = await this.command(["GET", `${this.key}:epoch`]);
        if (typeof epochNow === "string" && epochNow !== "") return await this.onEpoch(epochNow);
        const now = this.now();
        const live = beat.live.includes(this.instanceId) ? beat.live : [...beat.live, this.instanceId];
        const central = await this.rebuildSource.central(this.timeZone, now, live);
        const epoch = randomUUID();
        const args: Array<string | number> = [epoch, live.length, ...live, ...countersArgs(central, this.timeZone, now)];
        const reply = await scripts.establish.run(this.client, this.key, args, 10 * this.timeoutMs);
        await this.onEpoch(String(reply[1]));
      } finally {
        await this.command(["DEL", lockKey]).catch(() => undefined);
      }
      return;
    }
    // Another broker rebuilds: wait for its epoch (bounded), then add this broker's rows to it.
    const deadline = this.now() + 15_000;
    while (this.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const epoch = await this.command(["GET", `${this.key}:epoch`]);
      if (typeof epoch === "string" && epoch !== "") return this.onEpoch(epoch);
    }
    throw new LimitStoreUnavailableError("another broker's rebuild of the limit counters did not finish within 15 s");
  }

  /** A new epoch: add this broker's rows to it exactly once, holding admissions meanwhile. */
  private onEpoch(epoch: string): Promise<void> {
    if (epoch === this.epoch && this.contribution === undefined) return Promise.resolve();
    if (this.contributingTo === epoch && this.contribution) return this.contribution;
    this.contributingTo = epoch;
    this.collecting = true;
    const work = (async () => {
      try {
        const live = (await scripts.liveOf.run(this.client, this.key, [epoch], this.timeoutMs)).map(String);
        const now = this.now();
        const taken = (): void => {
          this.collecting = false;
        };
        // Brokers alive at the rebuild were left out of the central part: they add all their rows.
        // One that was not (down at the time) adds only what it had not shipped.
        const state = live.includes(this.instanceId) ? await this.rebuildSource.local(this.timeZone, now, taken) : await this.rebuildSource.unshipped(this.timeZone, now, taken);
        const reply = await this.apply(epoch, this.instanceId, state, now);
        if (reply !== "stale") this.epoch = epoch;
      } finally {
        this.collecting = false;
        this.contributingTo = undefined;
        this.contribution = undefined;
      }
    })();
    this.contribution = work;
    return work;
  }

  private async apply(epoch: string, flag: string, state: RestoreState, now: number): Promise<"ok" | "done" | "stale"> {
    const reply = await scripts.contribute.run(this.client, this.key, [epoch, flag, ...countersArgs(state, this.timeZone, now)], 10 * this.timeoutMs);
    return String(reply[0]) as "ok" | "done" | "stale";
  }

  private async command(args: string[]): Promise<RedisReply> {
    try {
      return (await this.client.sendCommand(args)) as RedisReply;
    } catch (error) {
      throw new LimitStoreUnavailableError(`redis unreachable: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** A restore state as the scripts' counter arguments: spend per scope, then the minute's requests and tokens per second. */
function countersArgs(state: RestoreState, timeZone: string, now: number): Array<string | number> {
  const periods = budgetPeriods(timeZone, now);
  const out: Array<string | number> = [state.spend.length];
  for (const row of state.spend) {
    out.push(scopeKey(row.scope), periods.day.start, periods.month.start, picoToNano(row.dayPicoUsd), picoToNano(row.monthPicoUsd), ttl(periods.day.end, now), ttl(periods.month.end, now));
  }
  const buckets = new Map<string, { key: string; last: number; reqs: number; toks: number }>();
  for (const row of state.activity) {
    const time = Math.min(row.time, now);
    if (time + 60_000 <= now) continue;
    const sec = Math.floor(time / 1000);
    for (const key of new Set(row.scopes.map(scopeKey))) {
      const id = `${key}\u0000${sec}`;
      const bucket = buckets.get(id) ?? { key, last: time, reqs: 0, toks: 0 };
      bucket.reqs += 1;
      bucket.toks += row.tokens;
      bucket.last = Math.max(bucket.last, time);
      buckets.set(id, bucket);
    }
  }
  out.push(buckets.size);
  for (const b of buckets.values()) out.push(b.key, b.last, b.reqs, b.toks);
  return out;
}

/** Pico-USD (exact integers) to nano-USD, rounded up: a budget is never under-counted. */
export function picoToNano(pico: number | bigint): number {
  const nano = (BigInt(pico) + 999n) / 1000n;
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${pico} pico-USD is beyond what the limit store counts exactly`);
  return Number(nano);
}

/** Keys of a period live two days past its end (then nothing reads them). */
function ttl(periodEnd: number, now: number): number {
  return Math.max(60_000, periodEnd - now + 2 * DAY_MS);
}

function parseStates(reply: RedisReply[], offset: number, n: number): ScopeState[] {
  const states: ScopeState[] = [];
  for (let i = 0; i < n; i++) {
    const v = reply.slice(offset + i * STATE_FIELDS, offset + (i + 1) * STATE_FIELDS).map(Number);
    states.push({ reqs: v[0]!, toks: v[1]!, resTok: v[2]!, resNano: v[3]!, day: v[4]!, month: v[5]!, inflight: v[6]!, leavesAt: v[7]! < 0 ? undefined : v[7]! });
  }
  return states;
}

function headersOf(entries: readonly ScopedLimits[], states: readonly ScopeState[], now: number) {
  const tightest = new TightestLimits();
  entries.forEach(({ limits }, i) => {
    const s = states[i]!;
    const resetInMs = s.leavesAt === undefined ? 0 : s.leavesAt - now;
    if (limits.rpm !== undefined) tightest.requests(limits.rpm, Math.max(0, limits.rpm - s.reqs), resetInMs);
    if (limits.tpm !== undefined) tightest.tokens(limits.tpm, Math.max(0, limits.tpm - s.toks - s.resTok), resetInMs);
    if (limits.dailyUsd !== undefined) tightest.budget(Math.max(0, usdToMicro(limits.dailyUsd) * 1000 - s.day - s.resNano) / 1e9);
    if (limits.monthlyUsd !== undefined) tightest.budget(Math.max(0, usdToMicro(limits.monthlyUsd) * 1000 - s.month - s.resNano) / 1e9);
  });
  return tightest.headers();
}

function count(limit: number, used: number, reserved: number, resetsAt: Date | undefined): LimitStatus {
  return { limit, used, remaining: Math.max(0, limit - used), reserved, resetsAt };
}

function budgetStatus(budgetUsd: number, spentNano: number, reservedNano: number, end: number): LimitStatus {
  const used = spentNano / 1e9 + reservedNano / 1e9; // summed as the in-memory store sums them
  return { limit: budgetUsd, used, remaining: Math.max(0, usdToMicro(budgetUsd) * 1000 - spentNano - reservedNano) / 1e9, reserved: reservedNano / 1e9, resetsAt: new Date(end) };
}
