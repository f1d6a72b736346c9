// What a failed attempt means for routing, from the ApiError code it was mapped to (bedrock/errors.ts):
// try the next deployment, switch to a model with a larger context, or give up and tell the client.

export type FailureKind =
  /** The deployment has no capacity now (throttling, model not ready, service unavailable): cool it down at once. */
  | "throttled"
  /** The deployment failed (5xx, timeout, network, credentials, access, unknown model id): try elsewhere. */
  | "failed"
  /** The input is too long for this model: only contextFallbacks can help. */
  | "too_long"
  /** The request itself is wrong; every deployment would refuse it. */
  | "final";

const THROTTLED = new Set(["upstream_throttled", "upstream_model_not_ready", "upstream_unavailable"]);
const FAILED = new Set([
  "upstream_timeout",
  "upstream_error",
  "upstream_unreachable",
  "aws_credentials_unavailable",
  "upstream_access_denied",
  "upstream_model_not_found",
]);

export function failureKind(code: string): FailureKind {
  if (THROTTLED.has(code)) return "throttled";
  if (FAILED.has(code)) return "failed";
  if (code === "context_length_exceeded") return "too_long";
  return "final";
}
