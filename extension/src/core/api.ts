// The broker's user-API contracts, from the browser-safe part of @tollgate/shared.
// `@tollgate/shared`'s index also pulls in node:crypto (key hashing) and the policy schema; the
// extension and its webview need only the API contracts, so they import this one folder directly.
export {
  meResponseSchema,
  modelEntrySchema,
  usageResponseSchema,
  requestsResponseSchema,
  RATE_LIMIT_HEADERS,
  type BudgetStatus,
  type LimitStatus,
  type MeResponse,
  type RequestRecord,
  type UsageResponse,
  type UsageRow,
} from "../../../shared/src/api/index.js";
