// Errors the ledger raises. The broker maps them once: `write_failed`/`closed` → 503 (and
// `SqliteLedger.healthy()` turns false), `invalid_record`/`duplicate_id` are broker bugs → 500,
// `invalid_query` → 400.

export type LedgerErrorCode =
  | "invalid_record"
  | "duplicate_id"
  | "write_failed"
  | "closed"
  | "open_failed"
  | "unsupported_schema"
  | "invalid_query";

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  /** SQLite's extended result code when SQLite raised it, e.g. "SQLITE_IOERR_WRITE", "SQLITE_FULL". */
  readonly sqliteCode: string | undefined;

  constructor(code: LedgerErrorCode, message: string, options: { cause?: unknown; sqliteCode?: string | undefined } = {}) {
    super(message, { cause: options.cause });
    this.name = "LedgerError";
    this.code = code;
    this.sqliteCode = options.sqliteCode ?? sqliteCodeOf(options.cause);
  }

  static is(value: unknown, code?: LedgerErrorCode): value is LedgerError {
    return value instanceof LedgerError && (code === undefined || value.code === code);
  }
}

export function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}
