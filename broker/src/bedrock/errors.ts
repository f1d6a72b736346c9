// Everything that can go wrong calling Bedrock, mapped once to what the client should see.
// Messages say who can fix what: the developer (too long, bad input) or the admin (access, model id).
import { ApiError } from "../errors.js";

export interface DeploymentRef {
  model: string;
  id: string;
  modelId: string;
  region: string;
  /** The role assumed for this deployment, if any. */
  roleArn?: string | undefined;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const TOO_LONG = /too long|too many (input )?tokens|context (length|window)|exceeds? the maximum|maximum context/i;

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The retry-after Bedrock itself sent, by the ApiError made from its error (the header on the ApiError may be our default). */
const bedrockRetryAfter = new WeakMap<ApiError, number>();

/** How long Bedrock asked us to wait before calling again, in ms; undefined when it didn't say. */
export function bedrockRetryAfterMs(error: ApiError): number | undefined {
  const seconds = bedrockRetryAfter.get(error);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** Remembers Bedrock's own retry-after (if any) for the ApiError made from `source`. */
function withBedrockRetryAfter(apiError: ApiError, source: SdkErrorLike): ApiError {
  const seconds = retryAfterSeconds(source);
  if (seconds !== undefined) bedrockRetryAfter.set(apiError, seconds);
  return apiError;
}

export function isAbortError(error: unknown): boolean {
  const candidate = error as SdkErrorLike | undefined;
  return candidate?.name === "AbortError";
}

export function bedrockErrorToApiError(error: unknown, where: DeploymentRef): ApiError {
  if (ApiError.is(error)) return error;
  const e = (error ?? {}) as SdkErrorLike;
  const name = e.name ?? "Error";
  const detail = (e.message ?? "").trim();
  const target = `model ${where.model} (deployment ${where.id}: ${where.modelId} in ${where.region})`;

  // STS refused AssumeRole (the SDK surfaces it from the credential provider, before any Bedrock call).
  if (where.roleArn !== undefined && (name === "AccessDenied" || /sts:AssumeRole/.test(detail))) {
    return new ApiError({
      status: 503,
      type: "server_error",
      code: "aws_credentials_unavailable",
      message:
        `The broker could not assume the role ${where.roleArn} for ${target}: ${detail} A Tollgate admin must allow ` +
        "sts:AssumeRole for the broker's instance role in that role's trust policy (and the external id, if set).",
      cause: error,
    });
  }

  switch (name) {
    case "ThrottlingException":
    case "ModelNotReadyException":
    case "ServiceQuotaExceededException": {
      const seconds = retryAfterSeconds(e) ?? (name === "ServiceQuotaExceededException" ? 60 : 2);
      const why = name === "ModelNotReadyException" ? "is not ready yet" : "is throttling requests";
      const apiError = new ApiError({
        status: 429,
        type: "rate_limit_exceeded",
        code: name === "ModelNotReadyException" ? "upstream_model_not_ready" : "upstream_throttled",
        message: `Amazon Bedrock ${why} for ${target}; retry in ${seconds} s. (${detail})`,
        headers: { "retry-after": String(seconds) },
        cause: error,
      });
      return withBedrockRetryAfter(apiError, e);
    }
    case "ValidationException":
      if (TOO_LONG.test(detail)) {
        return new ApiError({
          status: 400,
          type: "invalid_request_error",
          code: "context_length_exceeded",
          param: "messages",
          message: `The conversation is too long for ${where.model}: ${detail} Shorten it or start a new task.`,
          cause: error,
        });
      }
      return new ApiError({
        status: 400,
        type: "invalid_request_error",
        code: "upstream_validation_error",
        message: `Amazon Bedrock rejected the request for ${where.model}: ${detail}`,
        cause: error,
      });
    case "AccessDeniedException":
      return new ApiError({
        status: 403,
        type: "permission_error",
        code: "upstream_access_denied",
        message:
          `Amazon Bedrock denied the broker's AWS role access to ${target}: ${detail} ` +
          `A Tollgate admin must allow bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on this model for the broker's role, and enable access to the model in the Bedrock console in ${where.region}.`,
        cause: error,
      });
    case "ResourceNotFoundException":
      return new ApiError({
        status: 404,
        type: "not_found_error",
        code: "upstream_model_not_found",
        message: `Amazon Bedrock does not know ${target}: ${detail} A Tollgate admin must fix the modelId or region of this deployment in the policy.`,
        cause: error,
      });
    case "ModelTimeoutException":
    case "TimeoutError":
      return new ApiError({
        status: 504,
        type: "timeout_error",
        code: "upstream_timeout",
        message: `Amazon Bedrock timed out serving ${target}. Try again, or ask for a shorter answer.`,
        cause: error,
      });
    case "ServiceUnavailableException":
      return withBedrockRetryAfter(
        new ApiError({
          status: 503,
          type: "upstream_error",
          code: "upstream_unavailable",
          message: `Amazon Bedrock is unavailable for ${target}; retry shortly. (${detail})`,
          headers: { "retry-after": String(retryAfterSeconds(e) ?? 5) },
          cause: error,
        }),
        e,
      );
    case "CredentialsProviderError":
      return new ApiError({
        status: 503,
        type: "server_error",
        code: "aws_credentials_unavailable",
        message: `The broker could not obtain AWS credentials to call Bedrock in ${where.region}: ${sentence(detail)} On EC2, attach an instance role (IMDSv2 reachable); elsewhere configure the AWS default credential chain.`,
        cause: error,
      });
  }
  if (e.code && NETWORK_CODES.has(e.code)) {
    return new ApiError({
      status: 502,
      type: "upstream_error",
      code: "upstream_unreachable",
      message: `The broker could not reach Amazon Bedrock in ${where.region} (${e.code}) for ${target}.`,
      cause: error,
    });
  }
  // ModelErrorException, ModelStreamErrorException, InternalServerException, dropped streams, …
  return new ApiError({
    status: 502,
    type: "upstream_error",
    code: "upstream_error",
    message: `Amazon Bedrock failed while serving ${target}: ${name}${detail ? `: ${detail}` : ""}`,
    cause: error,
  });
}

function retryAfterSeconds(error: SdkErrorLike): number | undefined {
  const header = error.$response?.headers?.["retry-after"];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(60, Math.ceil(seconds)) : undefined;
}

/** The SDK's own text as a sentence (it often ends without a full stop), so ours can follow it. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
