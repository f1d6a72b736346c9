// The Bedrock emulator for tests, benchmarks and the offline demo.

export { startEmulator } from "./emulator.js";
export { estimateTokens, estimateInputTokens, contentBlockTokens, ATTACHMENT_TOKENS } from "./token-estimate.js";
export { resolveModel, baseModelId } from "./model-profiles.js";
export type { ModelProfile, ModelFamily } from "./model-profiles.js";
export { IMDS_ROLE_NAME } from "./fake-imds.js";
export type {
  AssumeRoleCall,
  BedrockOperation,
  Emulator,
  EmulatorOptions,
  EmulatorTotals,
  ImdsControl,
  RecordedCall,
  ReportedUsage,
  RuntimeOptions,
  Scenario,
  ScenarioContent,
  ScenarioHandler,
} from "./types.js";
export type { ConverseRequestBody } from "./bedrock-request.js";
