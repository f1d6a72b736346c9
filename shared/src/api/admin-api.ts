import { z } from "zod";

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
