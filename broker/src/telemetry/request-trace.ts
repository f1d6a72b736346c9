// What a finished chat request hands to telemetry: the ledger row's facts, the attempts that made
// it (one per deployment tried), and, only where an exporter opted in, its content.
import type { TokenUsage } from "@tollgate/shared";

/** One call to one Bedrock deployment. */
export interface AttemptRecord {
  model: string;
  deployment: string;
  modelId: string;
  region: string;
  roleArn: string | undefined;
  /** ms since the epoch. */
  startedAt: number;
  endedAt: number | undefined;
  /** Set when the attempt failed (and the router moved on, or gave up). */
  errorCode: string | undefined;
}

export interface CapturedContent {
  /** The request's messages as the client sent them (OpenAI shape). */
  messages: unknown[];
  /** What the model answered: text and tool calls. */
  output: { text: string; toolCalls: unknown[] } | undefined;
}

export interface RequestTrace {
  requestId: string;
  /** ms since the epoch. */
  startedAt: number;
  endedAt: number;
  user: string;
  team: string;
  project: string | null;
  /** The Cline task (or any client session) when the client names one. */
  session: string | null;
  requestedModel: string;
  servedModel: string;
  /** The Bedrock model id that served, when one did. */
  servedModelId: string | undefined;
  maxTokens: number | undefined;
  stream: boolean;
  httpStatus: number;
  status: "ok" | "error" | "cancelled";
  errorCode: string | null;
  finishReason: string | undefined;
  usage: TokenUsage;
  usageEstimated: boolean;
  costUsd: number;
  timeToFirstTokenMs: number | null;
  fallbacks: number;
  attempts: readonly AttemptRecord[];
  /** Present only when some exporter captures content for this team. */
  content?: CapturedContent | undefined;
}
