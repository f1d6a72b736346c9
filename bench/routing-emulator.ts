// The Bedrock emulator in a process of its own for bench/routing-bench.ts, steered over IPC so the
// load generator can change what each region answers between scenarios, count which region each
// Bedrock call reached, and read when the emulator saw a cancelled call go away.
//
//   node --import tsx bench/routing-emulator.ts --first-byte-delay-ms 20   (spawned with an IPC channel)
//
// Messages in: { id, op, ... } (see `Request`); every one is answered with { id, result }.
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { startEmulator, type RecordedCall, type Scenario } from "../test/emulator/index.js";

/** What the emulator answers, set per scenario. Counters are kept per `key`, across mode changes. */
export type Mode =
  | { kind: "plain"; key: string }
  /**
   * Every other call to `region` (the 2nd, 4th, …) answers ThrottlingException after `errorDelayMs`
   * (default: the emulator's first-byte delay). With `cooldownMs`, calls to `region` that arrive while
   * the broker should be skipping it are counted as `duringCooldown`: some throttle was answered more
   * than `slackMs` (calls already on their way) and less than `cooldownMs` before the call arrived.
   */
  | { kind: "alternate-throttle"; key: string; region: string; errorDelayMs?: number; cooldownMs?: number; slackMs?: number }
  /** A long stream: `chunks` text deltas `chunkDelayMs` apart; calls are remembered by their prompt tag. */
  | { kind: "slow-stream"; key: string; chunks: number; chunkDelayMs: number };

export interface RegionCounts {
  calls: number;
  throttled: number;
  duringCooldown: number;
}

export interface AbortRecord {
  tag: string;
  receivedAt: number;
  /** Date.now() in the emulator when it saw the client (the broker) go away; undefined if it never did. */
  abortedAt: number | undefined;
  finished: boolean;
}

export type Request =
  | { id: number; op: "mode"; mode: Mode }
  | { id: number; op: "counts"; key: string }
  /** Waits (up to `timeoutMs`) until the call tagged `tag` was aborted or finished. */
  | { id: number; op: "await-abort"; tag: string; timeoutMs: number };

/** The tag the load generator puts in a cancelled stream's prompt, so the emulator can find its call. */
const TAG_PATTERN = /bench-cancel-[0-9a-z-]+/;

const { values } = parseArgs({ options: { "first-byte-delay-ms": { type: "string", default: "20" } } });

const firstByteDelayMs = Number(values["first-byte-delay-ms"]);
const emulator = await startEmulator({ firstByteDelayMs });
let mode: Mode = { kind: "plain", key: "plain" };
const counters = new Map<string, { byRegion: Map<string, RegionCounts>; alternation: number; throttlesAnsweredAt: number[] }>();

/** A cancelled stream's call, and a promise settled the moment the emulator marks it aborted or finished. */
interface Tagged {
  call: RecordedCall;
  settled: Promise<void>;
}
const tagged = new Map<string, Tagged>();

/**
 * The emulator sets `abortedAt` (and `finished`) on the RecordedCall it gave the handler; turning
 * those two fields into accessors lets the load generator wait for them without polling (a 2 ms poll
 * per open stream was load on this process while it was being measured).
 */
function watch(call: RecordedCall): Promise<void> {
  return new Promise((resolve) => {
    if (call.abortedAt !== undefined || call.finished) resolve();
    for (const field of ["abortedAt", "finished"] as const) {
      let value: unknown = call[field];
      Object.defineProperty(call, field, {
        configurable: true,
        enumerable: true,
        get: () => value,
        set: (next: unknown) => {
          value = next;
          if (next !== undefined && next !== false) resolve();
        },
      });
    }
  });
}

const THROTTLE = "Too many requests, please wait before trying again.";

function counterOf(key: string) {
  let counter = counters.get(key);
  if (!counter) counters.set(key, (counter = { byRegion: new Map(), alternation: 0, throttlesAnsweredAt: [] }));
  return counter;
}

emulator.setHandler((call): Scenario | undefined => {
  const counter = counterOf(mode.key);
  const region = call.region ?? "unsigned";
  let counts = counter.byRegion.get(region);
  if (!counts) counter.byRegion.set(region, (counts = { calls: 0, throttled: 0, duringCooldown: 0 }));
  counts.calls++;
  switch (mode.kind) {
    case "plain":
      return undefined;
    case "alternate-throttle": {
      if (region !== mode.region) return undefined;
      const now = Date.now();
      if (mode.cooldownMs !== undefined) {
        const recent = counter.throttlesAnsweredAt;
        while (recent.length > 0 && recent[0]! <= now - mode.cooldownMs) recent.shift();
        // The oldest throttle still inside its cool-down, if the broker has had time to see it.
        if (recent.length > 0 && now - recent[0]! > (mode.slackMs ?? 100)) counts.duringCooldown++;
      }
      counter.alternation++;
      if (counter.alternation % 2 === 1) return undefined;
      counts.throttled++;
      if (mode.cooldownMs !== undefined) counter.throttlesAnsweredAt.push(now + (mode.errorDelayMs ?? firstByteDelayMs));
      return {
        error: { name: "ThrottlingException", message: THROTTLE },
        ...(mode.errorDelayMs === undefined ? {} : { firstByteDelayMs: mode.errorDelayMs }),
      };
    }
    case "slow-stream": {
      const tag = TAG_PATTERN.exec(JSON.stringify(call.body.messages ?? []))?.[0];
      if (tag !== undefined) tagged.set(tag, { call, settled: watch(call) });
      const words = Array.from({ length: mode.chunks * 4 }, (_, i) => `word${i}`).join(" ");
      return { content: [{ text: words }], chunks: mode.chunks, chunkDelayMs: mode.chunkDelayMs };
    }
  }
});

async function awaitAbort(tag: string, timeoutMs: number): Promise<AbortRecord | undefined> {
  // The broker may not have made the call yet (the request is still on its way): wait for it too.
  const deadline = Date.now() + timeoutMs;
  while (!tagged.has(tag) && Date.now() < deadline) await sleep(5);
  const entry = tagged.get(tag);
  if (!entry) return undefined;
  const timer = new AbortController();
  await Promise.race([entry.settled, sleep(Math.max(0, deadline - Date.now()), undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
  tagged.delete(tag);
  const { call } = entry;
  return { tag, receivedAt: call.receivedAt, abortedAt: call.abortedAt, finished: call.finished };
}

async function answer(request: Request): Promise<unknown> {
  switch (request.op) {
    case "mode":
      mode = request.mode;
      return null;
    case "counts":
      return Object.fromEntries(counterOf(request.key).byRegion);
    case "await-abort":
      return (await awaitAbort(request.tag, request.timeoutMs)) ?? null;
  }
}

process.on("message", (message: Request) => {
  answer(message).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});
process.on("disconnect", () => {
  void emulator.close().finally(() => process.exit(0));
});
process.stdout.write(`emulator listening on ${emulator.url}\n`);
