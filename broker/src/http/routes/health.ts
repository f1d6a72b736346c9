// GET /healthz: the process is alive (for restarts). GET /readyz: it should get traffic (for load
// balancers): a policy is loaded, the ledger can write, AWS credentials can be obtained, and it is
// not shutting down. Neither needs a key, and neither says more than a load balancer needs.
import type { RequestHandler } from "express";
import type { InFlightRequests } from "../../lifecycle/in-flight.js";
import type { PolicyStore } from "../../policy/policy-store.js";

export interface ReadinessDeps {
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

export function readyz(deps: ReadinessDeps): RequestHandler {
  return async (_req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {
      policy: { ok: deps.policy.current().models.size > 0, detail: `version ${deps.policy.current().version}` },
      ledger: deps.ledgerHealthy() ? { ok: true } : { ok: false, detail: "the data dir is not writable" },
      credentials: await credentials(deps),
      accepting: deps.inFlight.draining ? { ok: false, detail: "shutting down" } : { ok: true },
    };
    const ready = Object.values(checks).every((check) => check.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks });
  };
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
