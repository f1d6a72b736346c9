/* Builders for the limits tests and benchmark: a hand-driven clock and terse scopes and requests. */
import type { Admission, AdmissionRequest, Limits, ScopedLimits, Ticket } from "./types.js";

export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
  set(time: number | string): void;
}

/** Starts at 2026-11-23 12:00:00 UTC unless told otherwise. */
export function fakeClock(start: number | string = "2026-11-23T12:00:00Z"): FakeClock {
  let time = typeof start === "string" ? Date.parse(start) : start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
    set: (next) => {
      time = typeof next === "string" ? Date.parse(next) : next;
    },
  };
}

export function user(name: string, limits: Limits = {}): ScopedLimits {
  return { scope: { kind: "user", name }, label: `user ${name}`, limits };
}

export function team(name: string, limits: Limits = {}): ScopedLimits {
  return { scope: { kind: "team", name }, label: `team ${name}`, limits };
}

export function teamModel(teamName: string, model: string, limits: Limits = {}): ScopedLimits {
  return {
    scope: { kind: "team-model", team: teamName, model },
    label: `team ${teamName}, model ${model}`,
    limits,
  };
}

/** USD → integer pico-USD. */
export function usd(amount: number): number {
  return Math.round(amount * 1e12);
}

export function request(
  scopes: ScopedLimits | ScopedLimits[],
  estimate: { tokens?: number; costUsd?: number } = {},
): AdmissionRequest {
  return {
    scopes: Array.isArray(scopes) ? scopes : [scopes],
    estimatedTokens: estimate.tokens ?? 100,
    estimatedCostPicoUsd: usd(estimate.costUsd ?? 0),
  };
}

/** The ticket of an admission that must have succeeded. */
export function ticketOf(admission: Admission): Ticket {
  if (!admission.ok) throw new Error(`expected admission, got: ${admission.message}`);
  return admission.ticket;
}
