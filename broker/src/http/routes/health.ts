// GET /healthz: the process is alive (for restarts). GET /readyz: it should get traffic (for load
// balancers): a policy is loaded, the ledger can write, AWS credentials can be obtained, and it is
// not shutting down. Neither needs a key, and neither says more than a load balancer needs.
// In a fleet, an unreachable PostgreSQL or Redis makes the broker "degraded", not unready: it keeps
// serving (outbox, local limits), and says so. GET /admin/health (admin token) adds the details.
import type { RequestHandler } from "express";
import type { InFlightRequests } from "../../lifecycle/in-flight.js";
import type { PolicyStore } from "../../policy/policy-store.js";

/** What fleet mode adds to health (FleetRuntime). */
export interface FleetStatus {
  health(): {
    instanceId: string;
    degraded: boolean;
    centralStore: { ok: boolean; detail: string };
    limits: { ok: boolean; detail: string };
    outbox: { waitingRows: number; maxWaitingRows: number; unreachableSince: string | null };
  };
  brokers(): Promise<Array<{ instanceId: string; startedAt: string; lastSeen: string; policyVersion: number; info: unknown }>>;
}

type Check = { ok: boolean; detail?: string };

export interface ReadinessDeps {
  fleet?: FleetStatus | undefined;
  policy: PolicyStore;
  ledgerHealthy(): boolean;
  inFlight: InFlightRequests;
  /** Resolves when the broker's own AWS credentials can be obtained (cached by the SDK). */
  checkCredentials(): Promise<void>;
}

const CREDENTIALS_CHECK_TIMEOUT_MS = 3_000;

export const healthz: RequestHandler = (_req, res) => {
  res.json({ status: "ok" });
};

export interface Readiness {
  status: "ready" | "degraded" | "not_ready";
  checks: Record<string, Check>;
  /** Checks that make the broker degraded (it serves) rather than not ready. */
  degraded: Record<string, Check>;
}

export async function readiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks: Record<string, Check> = {
    policy: { ok: deps.policy.current().models.size > 0, detail: `version ${deps.policy.current().version}` },
    ledger: deps.ledgerHealthy() ? { ok: true } : { ok: false, detail: "the data dir is not writable" },
    credentials: await credentials(deps),
    accepting: deps.inFlight.draining ? { ok: false, detail: "shutting down" } : { ok: true },
  };
  const degraded: Record<string, Check> = {};
  if (deps.fleet) {
    const fleet = deps.fleet.health();
    degraded.central_store = fleet.centralStore;
    degraded.shared_limits = fleet.limits;
    // The outbox at its bound refuses requests: then the broker is not ready.
    const full = fleet.outbox.unreachableSince !== null && fleet.outbox.waitingRows >= fleet.outbox.maxWaitingRows;
    checks.outbox = full ? { ok: false, detail: `${fleet.outbox.waitingRows} rows waiting, the limit (--outbox-max-rows)` } : { ok: true, detail: `${fleet.outbox.waitingRows} rows waiting` };
  }
  const ready = Object.values(checks).every((check) => check.ok);
  const status = !ready ? "not_ready" : Object.values(degraded).every((check) => check.ok) ? "ready" : "degraded";
  return { status, checks: { ...checks, ...degraded }, degraded };
}

export function readyz(deps: ReadinessDeps): RequestHandler {
  return async (_req, res) => {
    const { status, checks } = await readiness(deps);
    res.status(status === "not_ready" ? 503 : 200).json({ status, checks });
  };
}

/** GET /admin/health: readiness, and in a fleet this broker's view of the shared stores and every broker. */
export async function adminHealth(deps: ReadinessDeps): Promise<unknown> {
  const ready = await readiness(deps);
  if (!deps.fleet) return { mode: "embedded", status: ready.status, checks: ready.checks };
  const fleet = deps.fleet.health();
  const brokers = await deps.fleet.brokers().catch((error: unknown) => ({ error: `central store unreachable: ${(error as Error).message}` }));
  return { mode: "fleet", status: ready.status, checks: ready.checks, instanceId: fleet.instanceId, outbox: fleet.outbox, brokers };
}

async function credentials(deps: ReadinessDeps): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CREDENTIALS_CHECK_TIMEOUT_MS} ms`)), CREDENTIALS_CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([deps.checkCredentials(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: `AWS credentials unavailable: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
