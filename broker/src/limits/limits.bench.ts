/*
 * Micro-benchmark of the per-request path: admit + settle against user, team and team × model,
 * with every kind of limit set and many users sharing the team (what the broker does per request).
 * Run: node --import tsx broker/src/limits/limits.bench.ts
 */
import { MemoryLimitStore } from "./memory-store.js";
import { fakeClock, request, team, teamModel, ticketOf, usd, user } from "./testing.js";
import type { AdmissionRequest } from "./types.js";

const USERS = 200;
const clock = fakeClock();
const store = new MemoryLimitStore({ timeZone: "Europe/Berlin", now: clock.now });
const platform = team("platform", { rpm: 1e9, tpm: 1e12, concurrent: 1e6, dailyUsd: 1e9, monthlyUsd: 1e9 });
const opus = teamModel("platform", "claude-opus-4-1", { rpm: 1e9, tpm: 1e12, dailyUsd: 1e9 });
const requests: AdmissionRequest[] = Array.from({ length: USERS }, (_, index) =>
  request([user(`user-${index}`, { rpm: 1e9, tpm: 1e12, concurrent: 8, dailyUsd: 1e6, monthlyUsd: 1e6 }), platform, opus], {
    tokens: 30_000,
    costUsd: 0.5,
  }),
);
const actual = { tokens: 21_345, costPicoUsd: usd(0.0789) };

function run(iterations: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    clock.advance(1); // 1,000 requests per simulated second: windows slide, buckets roll
    const ticket = ticketOf(store.admit(requests[i % USERS]!));
    store.settle(ticket, actual);
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

run(200_000); // warm-up (JIT)
const iterations = 1_000_000;
const seconds = run(iterations);
const perSecond = iterations / seconds;
console.log(
  `admit+settle, 3 scopes, all limits: ${Math.round(perSecond).toLocaleString("en-US")} ops/s ` +
    `(${((seconds / iterations) * 1e6).toFixed(2)} µs per request)`,
);
