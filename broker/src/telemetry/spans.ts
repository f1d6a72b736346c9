// A finished request as OpenTelemetry spans: the request (`chat {model}`, kind CLIENT, with usage
// and cost) and one child per Bedrock attempt, so fallbacks and cool-downs show in the trace.
// Built after the fact from what the request recorded: nothing on the request path waits for it.
import { randomBytes } from "node:crypto";
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { contentAttributes } from "./capture-content.js";
import { GENAI, GENAI_OPERATION_CHAT, GENAI_PROVIDER_BEDROCK, GENERAL, LANGFUSE, TOLLGATE } from "./genai-attributes.js";
import type { RequestTrace } from "./request-trace.js";

export interface SpanOptions {
  resource: Resource;
  /** Langfuse's user, session and usage/cost attributes. */
  langfuse: boolean;
  /** Attach the captured content (the exporter opted in for this team), cut at this many characters. */
  contentMaxChars: number | undefined;
}

const SCOPE = { name: "tollgate-broker" };

function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

function span(fields: {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  start: number;
  end: number;
  attributes: Attributes;
  error: string | null | undefined;
  resource: Resource;
}): ReadableSpan {
  const duration = Math.max(0, fields.end - fields.start);
  return {
    name: fields.name,
    kind: SpanKind.CLIENT,
    spanContext: () => ({ traceId: fields.traceId, spanId: fields.spanId, traceFlags: 1 }),
    parentSpanContext: fields.parentSpanId ? { traceId: fields.traceId, spanId: fields.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hrTime(fields.start),
    endTime: hrTime(fields.start + duration),
    duration: hrTime(duration),
    ended: true,
    status: fields.error ? { code: SpanStatusCode.ERROR, message: fields.error } : { code: SpanStatusCode.UNSET },
    attributes: fields.attributes,
    links: [],
    events: [],
    resource: fields.resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The account id in a role ARN, for `cloud.account.id` (the instance role's account is not known here). */
function accountOf(roleArn: string | undefined): string | undefined {
  return roleArn ? /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1] : undefined;
}

type AttributeInput = string | number | boolean | string[] | null | undefined;

/**
 * The attributes that have a value. Given as [key, value] pairs and copied into a fresh object
 * one by one: object spreads of thirty computed keys then a filter over Object.entries cost ~80 µs
 * a request and a third of the time in GC (measured), more than encoding the spans.
 */
function defined(base: Attributes | undefined, pairs: ReadonlyArray<readonly [string, AttributeInput]>): Attributes {
  const out: Attributes = {};
  if (base) for (const key in base) out[key] = base[key];
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!;
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

/** A request's trace and span ids: one random draw, shared by every exporter (the same trace id in Langfuse and MLflow). */
export interface TraceIds {
  traceId: string;
  /** The request span's, then one per attempt. */
  spanIds: string[];
}

export function newTraceIds(attempts: number): TraceIds {
  const hex = randomBytes(16 + 8 * (attempts + 1)).toString("hex");
  const spanIds: string[] = [];
  for (let i = 0; i <= attempts; i++) spanIds.push(hex.slice(32 + 16 * i, 48 + 16 * i));
  return { traceId: hex.slice(0, 32), spanIds };
}

export function requestSpans(trace: RequestTrace, options: SpanOptions, ids: TraceIds = newTraceIds(trace.attempts.length)): ReadableSpan[] {
  const { traceId } = ids;
  const rootId = ids.spanIds[0]!;
  const { usage } = trace;
  const session = trace.session ?? trace.project;
  // On every span, as Langfuse reads them (it groups by the user and session of any span).
  const identity = defined(undefined, [
    [GENERAL.userId, trace.user],
    [GENERAL.sessionId, session],
    [LANGFUSE.userId, options.langfuse ? trace.user : undefined],
    [LANGFUSE.sessionId, options.langfuse ? session : undefined],
    [TOLLGATE.team, trace.team],
    [TOLLGATE.project, trace.project],
    [TOLLGATE.requestId, trace.requestId],
  ]);
  const served = trace.attempts.at(-1);
  const allInput = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const langfuse = options.langfuse;
  const rootAttributes = defined(identity, [
    [GENAI.operationName, GENAI_OPERATION_CHAT],
    [GENAI.providerName, GENAI_PROVIDER_BEDROCK],
    [GENAI.requestModel, trace.requestedModel],
    [GENAI.responseModel, trace.servedModelId],
    [GENAI.responseId, `chatcmpl-${trace.requestId}`],
    [GENAI.requestMaxTokens, trace.maxTokens],
    [GENAI.responseFinishReasons, trace.finishReason ? [trace.finishReason] : undefined],
    [GENAI.responseTimeToFirstChunk, trace.timeToFirstTokenMs === null ? undefined : trace.timeToFirstTokenMs / 1000],
    [GENAI.usageInputTokens, allInput],
    [GENAI.usageOutputTokens, usage.outputTokens],
    [GENAI.usageCacheReadInputTokens, usage.cacheReadTokens],
    [GENAI.usageCacheCreationInputTokens, usage.cacheWriteTokens],
    [GENAI.usageCost, trace.costUsd],
    [TOLLGATE.uncachedInputTokens, usage.inputTokens],
    [TOLLGATE.usageEstimated, trace.usageEstimated || undefined],
    [TOLLGATE.deployment, served?.deployment],
    [GENERAL.cloudRegion, served?.region],
    [GENERAL.cloudAccountId, accountOf(served?.roleArn)],
    [TOLLGATE.fallbacks, trace.fallbacks],
    [TOLLGATE.httpStatus, trace.httpStatus],
    [TOLLGATE.status, trace.status],
    [TOLLGATE.errorCode, trace.errorCode],
    [GENERAL.errorType, trace.errorCode],
    [LANGFUSE.observationType, langfuse ? "generation" : undefined],
    [LANGFUSE.traceName, langfuse ? `chat ${trace.requestedModel}` : undefined],
    [
      LANGFUSE.usageDetails,
      langfuse ? JSON.stringify({ input: usage.inputTokens, output: usage.outputTokens, cache_read_input_tokens: usage.cacheReadTokens, cache_creation_input_tokens: usage.cacheWriteTokens }) : undefined,
    ],
    [LANGFUSE.costDetails, langfuse ? JSON.stringify({ total: trace.costUsd }) : undefined],
  ]);
  if (options.contentMaxChars !== undefined) Object.assign(rootAttributes, contentAttributes(trace.content, options.contentMaxChars, trace.finishReason));
  const spans = [
    span({ name: `${GENAI_OPERATION_CHAT} ${trace.requestedModel}`, traceId, spanId: rootId, parentSpanId: undefined, start: trace.startedAt, end: trace.endedAt, attributes: rootAttributes, error: trace.status === "ok" ? undefined : trace.errorCode ?? trace.status, resource: options.resource }),
  ];
  trace.attempts.forEach((attempt, index) => {
    spans.push(
      span({
        name: `bedrock ${attempt.model}/${attempt.deployment}`,
        traceId,
        spanId: ids.spanIds[index + 1]!,
        parentSpanId: rootId,
        start: attempt.startedAt,
        end: attempt.endedAt ?? trace.endedAt,
        attributes: defined(identity, [
          [GENAI.operationName, GENAI_OPERATION_CHAT],
          [GENAI.providerName, GENAI_PROVIDER_BEDROCK],
          [GENAI.requestModel, attempt.modelId],
          [TOLLGATE.deployment, attempt.deployment],
          [TOLLGATE.deploymentModelId, attempt.modelId],
          [TOLLGATE.roleArn, attempt.roleArn],
          [GENERAL.cloudRegion, attempt.region],
          [GENERAL.cloudAccountId, accountOf(attempt.roleArn)],
          [TOLLGATE.attempt, index + 1],
          [TOLLGATE.errorCode, attempt.errorCode],
          [GENERAL.errorType, attempt.errorCode],
          [LANGFUSE.observationType, langfuse ? "span" : undefined],
        ]),
        error: attempt.errorCode,
        resource: options.resource,
      }),
    );
  });
  return spans;
}
