// Typed errors, each carrying what the client must see. They are converted to OpenAI's error shape
// in exactly one place (http/error-response.ts), so a route never hand-writes an error body.

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_exceeded"
  | "budget_exceeded"
  | "upstream_error"
  | "timeout_error"
  | "server_error";

export interface ApiErrorOptions {
  status: number;
  type: ErrorType;
  code: string;
  message: string;
  param?: string | undefined;
  /** Extra response headers, e.g. retry-after. */
  headers?: Record<string, string> | undefined;
  /** A refusal by one of the policy's limits: which one, of which scope (for the refusal log and metrics). */
  limit?: { name: string; scope: string } | undefined;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;
  readonly limit: { name: string; scope: string } | undefined;

  constructor(options: ApiErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = "ApiError";
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param;
    this.headers = options.headers ?? {};
    this.limit = options.limit;
  }

  static is(value: unknown): value is ApiError {
    return value instanceof ApiError;
  }
}

export function invalidRequest(message: string, param?: string, code = "invalid_request"): ApiError {
  return new ApiError({ status: 400, type: "invalid_request_error", code, message, param });
}

export function unknownModel(model: string, available: readonly string[]): ApiError {
  const list = available.length > 0 ? available.join(", ") : "(none configured)";
  return new ApiError({
    status: 404,
    type: "not_found_error",
    code: "model_not_found",
    param: "model",
    message: `The model "${model}" does not exist on this Tollgate broker. Available models: ${list}.`,
  });
}
