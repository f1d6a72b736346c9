// The admin API: policy (read, push, versions, rollback) and the whole org's usage.
// Mounted behind requireAdmin; user keys never reach these handlers.
import { Router, type Request, type RequestHandler, type Response } from "express";
import { deploymentStatusSchema, type DeploymentStatus, type DeploymentsResponse } from "@tollgate/shared";
import { z } from "zod";
import { CentralStoreError } from "../../central/errors.js";
import { ApiError, invalidRequest } from "../../errors.js";
import type { RefusalLog, UsageLedger } from "../../ledger/types.js";
import type { DeploymentHealthRegistry } from "../../routing/deployment-health.js";
import type { PolicyService } from "../../policy/policy-service.js";
import type { PolicyStore } from "../../policy/policy-store.js";
import { parseBody } from "../validate.js";
import { adminHealth, type ReadinessDeps } from "./health.js";
import { adminRequestsHandler } from "./admin-requests.js";
import { parseLimit, parseUsageQuery, usageReport } from "./usage-api.js";

export interface AdminDeps {
  policies: PolicyService;
  policy: PolicyStore;
  ledger: UsageLedger;
  /** Chat requests refused before Bedrock, listed with the ledger's in /admin/requests. */
  refusals?: RefusalLog | undefined;
  health: DeploymentHealthRegistry;
  json: RequestHandler;
  /** The body as text (a pushed policy: its duplicate keys and syntax errors are found in the text). */
  jsonText: RequestHandler;
  readiness: ReadinessDeps;
}

const commentSchema = z.string().trim().min(1, "must not be empty").max(1000, "must be at most 1000 characters");
const rollbackSchema = z.object({ version: z.number().int().positive(), comment: commentSchema.optional() }).strict();
const pushQuerySchema = z.object({ comment: commentSchema.optional(), force: z.enum(["true", "false"]).optional() }).strict();

function refused(problems: string[], reason?: "lockout"): ApiError & { problems: string[] } {
  const error = new ApiError({
    status: 400,
    type: "invalid_request_error",
    code: reason === "lockout" ? "policy_locks_everyone_out" : "invalid_policy",
    message: `The policy was refused (${problems.length} problem${problems.length === 1 ? "" : "s"}); the previous version keeps serving. ${problems.slice(0, 5).join("; ")}`,
  });
  return Object.assign(error, { problems });
}

/** A policy change the central store could not take (fleet mode, PostgreSQL down): 503, nothing changed. */
async function storing<T>(change: Promise<T>): Promise<T> {
  try {
    return await change;
  } catch (error) {
    if (!CentralStoreError.is(error) || error.code !== "unreachable") throw error;
    throw new ApiError({
      status: 503,
      type: "server_error",
      code: "central_store_unavailable",
      message: "The policy was not changed: the fleet's central store (PostgreSQL) is unreachable, and a version must be stored there before any broker serves it. Retry once it is back; the previous version keeps serving.",
      headers: { "retry-after": "10" },
      cause: error,
    });
  }
}

/** Each deployment of the current policy as this broker's routing sees it. */
/** Who made a change, for the audit: the admin credential's name and where the request came from. */
function adminActor(req: Request, res: Response): string {
  return `${res.locals.admin ?? "admin"} at ${req.socket.remoteAddress ?? "unknown address"}`;
}

export function deploymentStates(policy: PolicyStore, health: DeploymentHealthRegistry): DeploymentStatus[] {
  const models = [...policy.current().models.values()];
  return models.flatMap((model) =>
    model.route.map((deployment): DeploymentStatus => ({
      ...health.of(model.name, deployment.id).state(health.now()),
      modelId: deployment.modelId,
      region: deployment.region,
      roleArn: deployment.role?.arn ?? null,
    })),
  );
}

export function adminRouter(deps: AdminDeps): Router {
  const router = Router();

  router.get("/policy", async (_req, res) => {
    const current = await deps.policies.current();
    const fleet = deps.readiness.fleet;
    if (!fleet) return void res.json(current);
    // Which version each broker of the fleet serves (from their heartbeats).
    const brokers = (await fleet.brokers()).map(({ instanceId, policyVersion, lastSeen }) => ({ instanceId, policyVersion, lastSeen }));
    res.json({ ...current, servedBy: { instanceId: fleet.health().instanceId, version: deps.policy.current().version }, brokers });
  });

  router.put("/policy", deps.jsonText, async (req, res) => {
    // The body is the policy document itself, so the admin's comment travels in the query string.
    const { comment, force } = parseBody(pushQuerySchema, { ...req.query });
    if (typeof req.body !== "string") {
      throw invalidRequest("Send the policy document as the body, with content-type: application/json.", undefined, "invalid_body");
    }
    const result = await storing(deps.policies.pushJson(req.body, adminActor(req, res), { comment, force: force === "true" }));
    if (!result.ok) {
      const error = refused(result.problems, result.reason);
      res.status(400).json({ error: { message: error.message, type: error.type, code: error.code, param: null }, problems: result.problems });
      return;
    }
    res.json(result.version);
  });

  // Who changed what, when and why, newest first: every policy version (keys live in the policy, so
  // key changes are among its change lines).
  router.get("/audit", async (req, res) => {
    const limit = parseLimit(req);
    const versions = [...(await deps.policies.versions())].sort((a, b) => b.version - a.version).slice(0, limit);
    res.json({
      data: versions.map((version) => ({
        time: version.createdAt,
        actor: version.by,
        action: `policy.${version.kind}`,
        version: version.version,
        ...(version.restoredFrom !== undefined ? { restoredFrom: version.restoredFrom } : {}),
        comment: version.comment ?? null,
        changes: version.changes,
      })),
    });
  });

  router.get("/policy/versions", async (_req, res) => {
    res.json({ data: await deps.policies.versions() });
  });

  router.get("/policy/versions/:version", async (req, res) => {
    const version = Number(req.params.version);
    if (!Number.isSafeInteger(version) || version < 1) throw invalidRequest(`version must be a positive integer; got "${req.params.version}".`, "version", "invalid_query");
    const found = await deps.policies.version(version);
    if (!found) {
      const latest = (await deps.policies.current()).version;
      throw new ApiError({ status: 404, type: "not_found_error", code: "policy_version_not_found", param: "version", message: `There is no policy version ${version}; versions run from 1 to ${latest}.` });
    }
    res.json(found);
  });

  router.post("/policy/rollback", deps.json, async (req, res) => {
    const { version, comment } = parseBody(rollbackSchema, req.body);
    const result = await storing(deps.policies.rollback(version, adminActor(req, res), comment));
    if (!result.ok) {
      const error = refused(result.problems);
      res.status(400).json({ error: { message: error.message, type: error.type, code: error.code, param: "version" }, problems: result.problems });
      return;
    }
    res.json(result.version);
  });

  router.get("/usage", async (req, res) => {
    const params = parseUsageQuery(req, ["day", "model", "project", "user", "team"], "team", deps.policy.current().timezone);
    const filter: { user?: string; team?: string } = {};
    if (typeof req.query.user === "string") filter.user = req.query.user;
    if (typeof req.query.team === "string") filter.team = req.query.team;
    res.json(await usageReport(deps.ledger, deps.policy.current(), params, filter));
  });

  router.get("/requests", adminRequestsHandler({ ledger: deps.ledger, refusals: deps.refusals, policy: deps.policy }));

  router.get("/health", async (_req, res) => {
    res.json(await adminHealth(deps.readiness));
  });

  // Each deployment of the current policy: healthy or cooling down (until when), and how it fared lately.
  router.get("/deployments", async (_req, res) => {
    const data = deploymentStates(deps.policy, deps.health);
    const fleet = deps.readiness.fleet;
    if (!fleet) return void res.json({ data } satisfies DeploymentsResponse);
    const brokers = (await fleet.brokers()).map(({ instanceId, lastSeen, info }) => {
      const reported = deploymentStatusSchema.array().safeParse((info as { deployments?: unknown } | null)?.deployments);
      return { instanceId, lastSeen, data: reported.success ? reported.data : [] };
    });
    res.json({ data, brokers } satisfies DeploymentsResponse);
  });

  return router;
}
