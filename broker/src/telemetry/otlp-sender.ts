// One OTLP/HTTP export: POST the protobuf to the backend and say whether a failure is worth
// retrying (OTLP/HTTP's rules: 429, 502, 503, 504 and network errors are; other answers are not).
export type SendResult =
  | { ok: true }
  | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number | undefined };

export interface OtlpRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Adds authentication that depends on the request itself (SigV4 signs the body). */
export type RequestSigner = (request: OtlpRequest) => Promise<Record<string, string>>;

export interface OtlpTarget {
  url: string;
  /** Sent with every export (content type included). */
  headers: Record<string, string>;
  sign?: RequestSigner | undefined;
  /** Longest wait for one export's answer. */
  timeoutMs: number;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export async function sendOtlp(target: OtlpTarget, body: Uint8Array): Promise<SendResult> {
  const request: OtlpRequest = { url: target.url, headers: { ...target.headers }, body };
  try {
    if (target.sign) Object.assign(request.headers, await target.sign(request));
  } catch (error) {
    return { ok: false, retryable: true, reason: `signing failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    const response = await fetch(request.url, { method: "POST", headers: request.headers, body, signal: AbortSignal.timeout(target.timeoutMs) });
    // Drain the body so the connection returns to the pool.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true };
    return {
      ok: false,
      retryable: RETRYABLE_STATUSES.has(response.status),
      reason: `HTTP ${response.status}`,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    };
  } catch (error) {
    const reason = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${target.timeoutMs} ms` : `${(error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error))}`;
    return { ok: false, retryable: true, reason };
  }
}
