export type {
  ActivityRow,
  ActualUsage,
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
