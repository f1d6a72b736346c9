// POST /model/{modelId}/converse and /converse-stream: record the call, let the test's scenario
// decide, otherwise validate and answer like Bedrock would.

import { randomUUID } from "node:crypto";
import { BedrockError, defaultErrorMessage, errorShapeName } from "./bedrock-errors.js";
import type { ConverseRequestBody } from "./bedrock-request.js";
import { isRecord } from "./bedrock-request.js";
import { sendConverse, sendError, sendStream } from "./bedrock-responses.js";
import type { CallLog } from "./call-log.js";
import { defaultReply } from "./default-reply.js";
import type { Exchange } from "./exchange.js";
import { resolveModel } from "./model-profiles.js";
import { pause } from "./pause.js";
import type { PromptCache } from "./prompt-cache.js";
import type { ReasoningSigner } from "./reasoning-signature.js";
import type { ReplyPlan } from "./reply-plan.js";
import { outputTokens, reportedUsage, toReplyBlocks } from "./reply-plan.js";
import { sigV4Scope } from "./sigv4-scope.js";
import type { BedrockOperation, RecordedCall, RuntimeOptions, Scenario, ScenarioHandler } from "./types.js";
import { validateRequest } from "./validate-request.js";

export interface BedrockContext {
  log: CallLog;
  signer: ReasoningSigner;
  cache: PromptCache;
  options(): RuntimeOptions;
  handler(): ScenarioHandler | undefined;
}

const MODEL_PATH = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

/** The operation and decoded model id of a Bedrock path, or undefined for any other path. */
export function matchBedrockPath(path: string): { operation: BedrockOperation; modelId: string } | undefined {
  const match = MODEL_PATH.exec(path.split("?")[0] ?? path);
  if (match?.[1] === undefined) return undefined;
  return { operation: match[2] === "converse" ? "converse" : "converse-stream", modelId: decodePathSegment(match[1]) };
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function serveBedrock(
  exchange: Exchange,
  target: { operation: BedrockOperation; modelId: string },
  context: BedrockContext,
): Promise<void> {
  const receivedAt = Date.now();
  const raw = await exchange.readBody();
  const parsed = parseJson(raw);
  const scope = sigV4Scope(exchange.header("authorization"));
  const sessionToken = exchange.header("x-amz-security-token");
  const call: RecordedCall = {
    id: randomUUID(),
    ...target,
    region: scope.region,
    accessKeyId: scope.accessKeyId,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    body: isRecord(parsed) ? (parsed as ConverseRequestBody) : {},
    receivedAt,
    aborted: false,
    finished: false,
  };
  context.log.add(call);
  exchange.signal.addEventListener(
    "abort",
    () => {
      call.aborted = true;
      call.abortedAt = Date.now();
    },
    { once: true },
  );

  const options = context.options();
  let scenario: Scenario = {};
  let plan: ReplyPlan;
  try {
    scenario = runHandler(context.handler(), call);
    if (scenario.hang === true) return;
    if (parsed === undefined) throw new BedrockError("SerializationException", "The request body is not valid JSON.");
    if (scenario.error !== undefined) throw scenarioError(scenario.error);
    plan = planReply(call, parsed, scenario, options, context);
  } catch (error) {
    if (!(error instanceof BedrockError)) throw error;
    const delay = scenario.firstByteDelayMs ?? options.firstByteDelayMs;
    if (await pause(delay, exchange.signal)) sendError(exchange, call, error);
    return;
  }
  if (target.operation === "converse") await sendConverse(exchange, call, plan, context.log);
  else await sendStream(exchange, call, plan, context.log);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function runHandler(handler: ScenarioHandler | undefined, call: RecordedCall): Scenario {
  try {
    return handler?.(call) ?? {};
  } catch (error) {
    // Surfaces a broken test handler in the test's own assertion instead of a hung request.
    const reason = error instanceof Error ? error.message : String(error);
    throw new BedrockError("InternalServerException", `Bedrock emulator scenario handler threw: ${reason}`);
  }
}

function scenarioError(error: NonNullable<Scenario["error"]>): BedrockError {
  const name = errorShapeName(error.name);
  return new BedrockError(name, error.message ?? defaultErrorMessage(name), error.status, error.retryAfterSeconds);
}

function planReply(
  call: RecordedCall,
  parsed: unknown,
  scenario: Scenario,
  options: RuntimeOptions,
  context: BedrockContext,
): ReplyPlan {
  const model = resolveModel(call.modelId);
  const request = validateRequest(parsed, {
    model,
    signer: context.signer,
    contextWindowTokens: options.contextWindowTokens,
  });
  const reply = scenario.content === undefined ? defaultReply(request.body, call.modelId, request.maxTokens) : undefined;
  const blocks = toReplyBlocks(scenario.content ?? reply?.content ?? [], context.signer);
  const cached =
    request.cachePoints > 0 && model.cacheMinTokens !== undefined
      ? context.cache.apply(model.baseId, request.body, model.cacheMinTokens, call.receivedAt)
      : { cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
  const usage = reportedUsage(
    { inputTokens: request.inputTokens, outputTokens: outputTokens(blocks), ...cached },
    scenario.usage,
  );
  const stopReason =
    scenario.stopReason ?? reply?.stopReason ?? (blocks.some((block) => block.kind === "toolUse") ? "tool_use" : "end_turn");
  return {
    blocks,
    stopReason,
    usage,
    firstByteDelayMs: scenario.firstByteDelayMs ?? options.firstByteDelayMs,
    chunkDelayMs: scenario.chunkDelayMs ?? options.chunkDelayMs,
    chunks: scenario.chunks,
    midStreamError: scenario.midStreamError,
    dropAfterEvents: scenario.dropAfterEvents,
  };
}
