// The Converse request body as a well-behaved client sends it. Everything is optional because the
// body comes off the wire: the validator checks the shapes at run time before anything relies on them.

export interface CachePointBlock {
  cachePoint: { type?: string; ttl?: string };
}

export interface TextBlock {
  text: string;
}

export interface ImageBlock {
  image: { format?: string; source?: { bytes?: string } };
}

export interface ToolUseBlock {
  toolUse: { toolUseId?: string; name?: string; input?: unknown };
}

export interface ToolResultBlock {
  toolResult: {
    toolUseId?: string;
    content?: Array<{ text?: string; json?: unknown; image?: unknown; document?: unknown }>;
    status?: string;
  };
}

export interface ReasoningBlock {
  reasoningContent: { reasoningText?: { text?: string; signature?: string }; redactedContent?: string };
}

export type ContentBlock = Partial<
  TextBlock & ImageBlock & ToolUseBlock & ToolResultBlock & ReasoningBlock & CachePointBlock
> & { document?: unknown; guardContent?: unknown };

export interface Message {
  role?: string;
  content?: ContentBlock[];
}

export type SystemBlock = Partial<TextBlock & CachePointBlock> & { guardContent?: unknown };

export interface ToolSpec {
  name?: string;
  description?: string;
  inputSchema?: { json?: unknown };
}

export type ToolEntry = Partial<CachePointBlock> & { toolSpec?: ToolSpec; systemTool?: unknown };

export interface InferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

export interface ThinkingConfig {
  type?: string;
  budget_tokens?: number;
}

export interface ConverseRequestBody {
  messages?: Message[];
  system?: SystemBlock[];
  inferenceConfig?: InferenceConfig;
  toolConfig?: { tools?: ToolEntry[]; toolChoice?: unknown };
  additionalModelRequestFields?: { thinking?: ThinkingConfig; [field: string]: unknown };
  [field: string]: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The thinking settings when extended thinking is switched on, else undefined. */
export function enabledThinking(body: ConverseRequestBody): ThinkingConfig | undefined {
  const thinking = body.additionalModelRequestFields?.thinking;
  return isRecord(thinking) && thinking.type === "enabled" ? thinking : undefined;
}
