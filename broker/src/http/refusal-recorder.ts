// Chat requests the broker answered with an error before calling Bedrock (no key, a revoked key, a
// model the user may not use, a rate limit, a budget, overload, an invalid body) are not usage rows:
// nothing was used. They are recorded in the ledger's refusal log instead, so an admin sees who is
// refused and why (`tollgate requests --status 429`). Never the body: the reason is kept only for the
// statuses whose messages are the broker's own words about names and limits; a 400's message can
// quote the request (a JSON parse error does), so 400s keep only their code.
import type { NextFunction, Request, Response } from "express";
import type { RefusalLog } from "../ledger/types.js";
import type { ApiError } from "../errors.js";

declare module "express-serve-static-core" {
  interface Locals {
    /** The error the client got (set by the error handler). */
    error?: ApiError;
    /** The request reached admission: its outcome is the ledger's row, not a refusal. */
    admitted?: boolean;
    /** The model named in the body, once it parsed. */
    requestedModel?: string;
    /** A disabled user's key: who it belonged to (the identity is never set for it). */
    keyOwner?: { user: string; team: string };
    /** An unknown key: its SHA-256's first 12 hex digits. */
    keyHashPrefix?: string;
  }
}

const REASON_KEPT = new Set([401, 402, 403, 404, 429, 503]);

export interface RefusalRecorderOptions {
  /** Refusals recorded per second at most, sustained (a client hammering with a bad key must not fill the disk). */
  perSecond?: number;
  /** Burst above the rate. */
  burst?: number;
  /** A refusal not recorded because of the rate (for the metrics). */
  onUnrecorded?: () => void;
  now?: () => number;
}

export function recordRefusals(log: RefusalLog, options: RefusalRecorderOptions = {}) {
  const perSecond = options.perSecond ?? 50;
  const burst = options.burst ?? 500;
  const now = options.now ?? Date.now;
  let tokens = burst;
  let refilledAt = now();
  const take = (): boolean => {
    const at = now();
    tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * perSecond);
    refilledAt = at;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    res.on("finish", () => {
      if (res.locals.admitted === true || res.statusCode < 400) return;
      if (!take()) {
        options.onUnrecorded?.();
        return;
      }
      const context = res.locals.context;
      const identity = res.locals.identity;
      const owner = identity ? { user: identity.user.name, team: identity.user.team } : res.locals.keyOwner;
      const error = res.locals.error;
      const latencyMs = performance.now() - context.startedAt;
      log.recordRefusal({
        id: context.id,
        time: Math.round(Date.now() - latencyMs),
        user: owner?.user ?? null,
        team: owner?.team ?? null,
        project: identity?.project ?? null,
        model: res.locals.requestedModel ?? null,
        httpStatus: res.statusCode,
        code: res.locals.errorCode ?? "unknown",
        reason: error && REASON_KEPT.has(res.statusCode) ? error.message : null,
        limitName: error?.limit?.name ?? null,
        limitScope: error?.limit?.scope ?? null,
        keyHashPrefix: res.locals.keyHashPrefix ?? null,
        client: req.socket.remoteAddress ?? null,
        latencyMs,
      });
    });
    next();
  };
}
