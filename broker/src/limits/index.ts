export type {
  ActivityRow,
  ActualUsage,
  Awaitable,
  Admission,
  AdmissionRequest,
  BudgetName,
  Clock,
  LimitName,
  LimitStatus,
  LimitStore,
  Limits,
  RateLimitHeaders,
  RateLimitName,
  Rejection,
  RestoreState,
  Scope,
  ScopedLimits,
  ScopeStatus,
  SpendRow,
  Ticket,
} from "./types.js";
export { MemoryLimitStore, type MemoryLimitStoreOptions } from "./memory-store.js";
export { ledgerScopes, scopeKey, scopeLabel } from "./scope.js";
export { budgetPeriods, formatZoneTime, type BudgetPeriods, type Period } from "./periods.js";
export { RedisLimitStore, type RebuildSource, type RedisLimitStoreOptions } from "./redis/redis-store.js";
export { ResilientLimitStore, type LimitsHealth, type ResilientLimitStoreOptions } from "./redis/resilient-store.js";
export { LimitStoreUnavailableError } from "./redis/errors.js";
