// Bedrock's wording for the request errors the emulator detects. Bedrock's own checks use Smithy
// constraint messages (1-based `member` paths) or prose (0-based paths); what the model rejects
// comes back as "The model returned the following errors: …".

import { BedrockError } from "./bedrock-errors.js";

const THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

export function invalid(message: string): BedrockError {
  return new BedrockError("ValidationException", message);
}

export function modelRejected(message: string): BedrockError {
  return invalid(`The model returned the following errors: ${message}`);
}

export function constraintViolated(value: unknown, path: string, constraint: string): BedrockError {
  const shown = typeof value === "string" ? value : JSON.stringify(value);
  return invalid(`1 validation error detected: Value '${shown}' at '${path}' failed to satisfy constraint: ${constraint}`);
}

export const messagesText = {
  noMessages: "The model returned the following errors: messages: at least one message is required",
  firstNotUser:
    "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
  notAlternating:
    "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
  emptyContent: (at: string) =>
    `The content field in the Message object at ${at} is empty. Add a ContentBlock object to the content field and try again.`,
  blankText: (objectName: string, at: string) =>
    `The text field in the ${objectName} object at ${at} is blank. Add text to the text field, and try again.`,
  emptyImage: (at: string) =>
    `The image source at ${at} is empty. Provide the image bytes and try again.`,
  toolInputNotObject: (at: string) =>
    `The format of the value at ${at}.toolUse.input is invalid. Provide a json object for the field and try again.`,
  toolConfigMissing: "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
  orphanToolResult: (at: string, id: string) =>
    `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
  missingToolResult: (at: string, ids: string) =>
    `${at}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${ids}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
  duplicateToolNames: "tools: Tool names must be unique.",
  tooManyCachePoints: (found: number) =>
    `A maximum of 4 blocks with cache_control may be provided. Found ${found}.`,
  noPromptCaching: "This model doesn't support prompt caching",
  noCachePointInTools: "The model returned the following errors: cachePoint is not supported in toolConfig for this model.",
  maxTokensAboveLimit: (limit: number) =>
    `The maximum tokens you requested exceeds the model limit of ${limit}. Try again with a maximum tokens value that is lower than ${limit}.`,
  thinkingUnsupported: "thinking: Extra inputs are not permitted",
  thinkingBudgetTooSmall: "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
  thinkingBudgetNotBelowMax:
    `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. Please consult our documentation at ${THINKING_DOCS}#max-tokens-and-context-window-size`,
  thinkingTemperature:
    `\`temperature\` may only be set to 1 when thinking is enabled. Please consult our documentation at ${THINKING_DOCS}#feature-compatibility`,
  thinkingTopP:
    `\`top_p\` must be unset when thinking is enabled. Please consult our documentation at ${THINKING_DOCS}#feature-compatibility`,
  thinkingForcedTool: "Thinking may not be enabled when tool_choice forces tool use.",
  thinkingBlockMissing: (at: string, found: string) =>
    `${at}.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at ${THINKING_DOCS}`,
  thinkingSignatureInvalid: (at: string) => `${at}: Invalid \`signature\` in \`thinking\` block`,
  inputTooLong: "Input is too long for requested model.",
} as const;
