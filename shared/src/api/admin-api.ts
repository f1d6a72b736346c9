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

/**
 * A managed user key as `/admin/keys` shows it: never the key, only its first characters (enough
 * to recognise it) and where it is in its life. `team` is the owner's team in the serving policy.
 */
export const keyViewSchema = z.object({
  id: z.string(),
  /** The key's first characters, e.g. "tg_8fK2mQ"; the key itself is shown once, at creation. */
  prefix: z.string(),
  user: z.string(),
  team: z.string().nullable(),
  label: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  /** The key this one replaced (`rotate`). */
  rotatedFrom: z.string().nullable(),
  state: z.enum(["active", "expired", "revoked"]),
});

export const keysResponseSchema = z.object({ data: z.array(keyViewSchema) });

/** `POST /admin/keys` and `POST /admin/keys/{id}/rotate` answer with the new key, shown only then. */
export const createdKeySchema = keyViewSchema.extend({
  key: z.string(),
  /** `rotate`: the old key, still valid until its (shortened) `expiresAt`. */
  previous: keyViewSchema.optional(),
});

export const KEY_LABEL_MAX = 100;
export const createKeyRequestSchema = z
  .object({
    user: z.string().min(1, "must name a user of the policy"),
    label: z.string().trim().min(1, "must not be empty").max(KEY_LABEL_MAX, `must be at most ${KEY_LABEL_MAX} characters`).optional(),
    /** ISO 8601 time with its offset; absent: the key does not expire. */
    expiresAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time with its offset, e.g. 2027-03-01T00:00:00Z" }).optional(),
  })
  .strict();

/** Longest grace an old key keeps after a rotation. */
export const MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600;
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
export const rotateKeyRequestSchema = z
  .object({
    /** How long the old key keeps working (default a day, at most 30 days; 0: revoked at once). */
    graceSeconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS, "must be at most 30 days (2592000 seconds)").optional(),
    /** The new key's expiry; absent: as long a life as the old key had (none if it had none). */
    expiresAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time with its offset, e.g. 2027-03-01T00:00:00Z" }).optional(),
  })
  .strict();

export type KeyView = z.infer<typeof keyViewSchema>;
export type CreatedKey = z.infer<typeof createdKeySchema>;
export type CreateKeyRequest = z.infer<typeof createKeyRequestSchema>;
export type RotateKeyRequest = z.infer<typeof rotateKeyRequestSchema>;
