import { z } from "zod";
import { requestRecordSchema } from "./user-api.js";

/** One deployment as `GET /admin/deployments` reports it. */
export const deploymentStatusSchema = z.object({
  model: z.string(),
  deployment: z.string(),
  modelId: z.string(),
  region: z.string(),
  roleArn: z.string().nullable(),
  /** "cooling_down": skipped by new requests until `coolingDownUntil`. */
  state: z.enum(["healthy", "cooling_down"]),
  coolingDownUntil: z.string().nullable(),
  inFlight: z.number(),
  consecutiveFailures: z.number(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  /** Attempts in the last `windowSeconds`; latency of the successful ones (first token for streams). */
  recent: z.object({
    windowSeconds: z.number(),
    requests: z.number(),
    errors: z.number(),
    errorRate: z.number(),
    latencyMsP50: z.number().nullable(),
    latencyMsP95: z.number().nullable(),
  }),
});

export const deploymentsResponseSchema = z.object({
  /** As the broker that answered sees them. */
  data: z.array(deploymentStatusSchema),
  /** Fleet mode: every broker's view, from its last heartbeat (routing health is per broker). */
  brokers: z.array(z.object({ instanceId: z.string(), lastSeen: z.string(), data: z.array(deploymentStatusSchema) })).optional(),
});

export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
export type DeploymentsResponse = z.infer<typeof deploymentsResponseSchema>;

/**
 * One chat request as `GET /admin/requests` lists it: a request the ledger recorded (served, failed
 * or cancelled), or one the broker refused before calling Bedrock (`status: "refused"`: no key, a
 * revoked key, a model the user may not use, a rate limit, a budget, overload). Refusals carry no
 * tokens or cost; who made them is null where the broker could not tell (an unknown key).
 */
export const adminRequestRecordSchema = requestRecordSchema.extend({
  user: z.string().nullable(),
  team: z.string().nullable(),
  model: z.string().nullable(),
  servedModel: z.string().nullable(),
  status: z.enum(["ok", "error", "cancelled", "refused"]),
  /** Refusals: what the client was told (never request text), e.g. which limit of which scope. */
  reason: z.string().nullable(),
  /** Refusals: the limit that refused, e.g. "rpm" or "monthlyUsd", and its scope ("team platform"). */
  limit: z.object({ name: z.string(), scope: z.string() }).nullable(),
  /** Refusals of a key the broker does not know: the first 12 hex digits of its SHA-256 (a policy's keyHash starts with them). */
  keyHashPrefix: z.string().nullable(),
  /** Refusals: the client's address as the broker saw it. */
  client: z.string().nullable(),
});

export const adminRequestsResponseSchema = z.object({ data: z.array(adminRequestRecordSchema) });

export type AdminRequestRecord = z.infer<typeof adminRequestRecordSchema>;
export type AdminRequestsResponse = z.infer<typeof adminRequestsResponseSchema>;
