export type {
  Deployment,
  Limits,
  ModelPolicy,
  ModelRouting,
  Policy,
  PolicyParseResult,
  PolicyProblem,
  ReasoningEffort,
  TeamPolicy,
  UserPolicy,
} from "./types.js";
export {
  DEFAULT_COOLDOWN,
  DEFAULT_REASONING_BUDGETS,
  DEFAULT_TIMEOUTS,
  ROUTING_STRATEGIES,
  type RoutingStrategy,
  DEPLOYMENT_ID_PATTERN,
  MODEL_NAME_PATTERN,
  REASONING_EFFORTS,
  REGION_PATTERN,
  policyFileSchema,
  type PolicyFile,
} from "./schema.js";
export {
  ALL_MODELS,
  DEFAULT_TIMEZONE,
  KEY_HASH_PATTERN,
  TEAM_NAME_PATTERN,
  USER_NAME_PATTERN,
  userNameSchema,
  type DefaultsEntry,
  type LimitsEntry,
  type TeamEntry,
  type UserEntry,
} from "./access-schema.js";
export { abbreviateKeyHash, API_KEY_PREFIX, generateApiKey, hashApiKey, keyChecksum, keyHashEntry } from "./keys.js";
export { formatPolicyProblems, parsePolicy, parsePolicyJson } from "./parse-policy.js";
export { policyDiff } from "./diff.js";
export { formatJsonPath } from "./json-path.js";
export { policyJsonSchema, renderPolicySchemaJson } from "./json-schema.js";
export { lockoutWarning } from "./lockout.js";
export {
  EXPORTER_NAME_PATTERN,
  telemetrySchema,
  type ContentCapture,
  type ExporterEntry,
  type SecretRef,
  type TelemetryEntry,
} from "./telemetry-schema.js";
