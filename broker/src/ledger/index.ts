// The usage ledger: one durable row per request (never prompt or completion text).
export type {
  ActivityRow,
  RecentQuery,
  SpendByScope,
  UsageGroupBy,
  UsageLedger,
  UsageQuery,
  UsageRecord,
  UsageRow,
  UsageScope,
  UsageStatus,
  UsageTotals,
} from "./types.js";
export { teamModelKey } from "./types.js";
export { LedgerError, type LedgerErrorCode } from "./errors.js";
export {
  LEDGER_FILE_NAME,
  openSqliteLedger,
  SqliteLedger,
  type FlushEvent,
  type LedgerStats,
  type SqliteLedgerOptions,
} from "./sqlite-ledger.js";
export { assertSupportedVersion, LEDGER_SCHEMA_VERSION, MIGRATIONS, migrate, schemaVersion, type Migration } from "./schema.js";
export { dayBuckets, isValidTimeZone, localDateKey, startOfLocalDay, type DayBucket } from "./time-zone.js";
