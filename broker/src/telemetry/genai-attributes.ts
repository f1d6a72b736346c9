// The attribute names Tollgate's spans carry, in one place. OpenTelemetry's GenAI semantic
// conventions (Development status) for the model call; Langfuse's and our own next to them. The
// upstream package marks its gen_ai.* constants deprecated, so we keep ours.
export const GENAI = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  requestMaxTokens: "gen_ai.request.max_tokens",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  responseFinishReasons: "gen_ai.response.finish_reasons",
  responseTimeToFirstChunk: "gen_ai.response.time_to_first_chunk",
  /** Per the conventions, including cached tokens (Bedrock's inputTokens does not). */
  usageInputTokens: "gen_ai.usage.input_tokens",
  usageOutputTokens: "gen_ai.usage.output_tokens",
  usageCacheReadInputTokens: "gen_ai.usage.cache_read.input_tokens",
  usageCacheCreationInputTokens: "gen_ai.usage.cache_creation.input_tokens",
  /** Read by Langfuse as the total cost. */
  usageCost: "gen_ai.usage.cost",
  /** Opt-in content, JSON strings. */
  inputMessages: "gen_ai.input.messages",
  outputMessages: "gen_ai.output.messages",
  systemInstructions: "gen_ai.system_instructions",
} as const;

export const GENAI_OPERATION_CHAT = "chat";
/** docs/gen-ai/aws-bedrock.md of the conventions. */
export const GENAI_PROVIDER_BEDROCK = "aws.bedrock";

export const GENERAL = {
  userId: "user.id",
  sessionId: "session.id",
  errorType: "error.type",
  cloudRegion: "cloud.region",
  cloudAccountId: "cloud.account.id",
  serviceName: "service.name",
  serviceVersion: "service.version",
  serviceInstanceId: "service.instance.id",
} as const;

export const LANGFUSE = {
  userId: "langfuse.user.id",
  sessionId: "langfuse.session.id",
  observationType: "langfuse.observation.type",
  usageDetails: "langfuse.observation.usage_details",
  costDetails: "langfuse.observation.cost_details",
  traceName: "langfuse.trace.name",
} as const;

export const TOLLGATE = {
  requestId: "tollgate.request.id",
  team: "tollgate.team",
  project: "tollgate.project",
  deployment: "tollgate.deployment",
  deploymentModelId: "tollgate.deployment.model_id",
  roleArn: "tollgate.deployment.role_arn",
  fallbacks: "tollgate.fallbacks",
  errorCode: "tollgate.error.code",
  httpStatus: "http.response.status_code",
  status: "tollgate.status",
  usageEstimated: "tollgate.usage.estimated",
  uncachedInputTokens: "tollgate.usage.uncached_input_tokens",
  attempt: "tollgate.attempt",
  contentTruncated: "tollgate.content.truncated",
} as const;
