// Errors of the central store, typed so callers can tell "PostgreSQL is down" (serve degraded, retry)
// from "this cannot work" (refuse to start, say what to fix).
export type CentralStoreErrorCode = "invalid_config" | "unreachable" | "schema_too_new" | "query_failed";

export class CentralStoreError extends Error {
  override readonly name = "CentralStoreError";
  constructor(
    readonly code: CentralStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static is(error: unknown): error is CentralStoreError {
    return error instanceof CentralStoreError;
  }
}

/** Connection-level failures (refused, reset, timed out, server shutting down) as opposed to bad SQL or data. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);

export function isUnreachable(error: unknown): boolean {
  if (CentralStoreError.is(error)) return error.code === "unreachable";
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(message);
}

/** Rethrows pg's error as a CentralStoreError saying what failed. */
export function centralError(error: unknown, what: string): CentralStoreError {
  if (CentralStoreError.is(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return isUnreachable(error)
    ? new CentralStoreError("unreachable", `central store unreachable (${what}): ${detail}`, { cause: error })
    : new CentralStoreError("query_failed", `central store ${what} failed: ${detail}`, { cause: error });
}
