// One chat completion from start to finish, independent of HTTP: translate, route to a deployment
// (failing over while nothing has reached the client), call Bedrock, translate back, and report what
// it cost and what served it. Routes stay thin around it.
import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Deployment, ModelPolicy, Policy, TokenUsage, UserPolicy } from "@tollgate/shared";
import { costUsd } from "@tollgate/shared";
import { estimateInputTokens } from "../accounting/estimate.js";
import { toBedrockRequest, type BedrockRequest } from "../bedrock/request/index.js";
import type { ReasoningStore } from "../bedrock/request/reasoning-store.js";
import { toChatCompletion } from "../bedrock/response/non-stream.js";
import { StreamTranslator } from "../bedrock/response/stream.js";
import type { BedrockUpstream } from "../bedrock/upstream.js";
import { attemptError, type Lease, type ModelGate, type Router } from "../routing/router.js";
import type { AttemptRecord } from "../telemetry/request-trace.js";

export interface ChatCall {
  requestId: string;
  request: ChatCompletionRequest;
  /** The model the client asked for, already allowed for `user`. */
  model: ModelPolicy;
  policy: Policy;
  user: UserPolicy;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Filled with one record per deployment tried (for the trace). */
  attempts?: AttemptRecord[] | undefined;
}

/** What a finished (or failed, or cancelled) call consumed and what served it. */
export interface CallOutcome {
  /** The model that served (a fallback's, after failing over). */
  model: ModelPolicy;
  deployment: Deployment;
  /** Failed attempts before the one that served. */
  fallbacks: number;
  usage: TokenUsage;
  /** Bedrock reported no usage (the stream ended early); `usage` is the broker's estimate. */
  usageEstimated: boolean;
  costUsd: number;
  stopReason: string | undefined;
  /** Milliseconds inside the Bedrock SDK call(s), for the broker's own overhead figure. */
  upstreamMs: number;
  timeToFirstTokenMs: number | undefined;
  cachePoints: number;
  thinkingDroppedForHistory: boolean;
}

/** A call translated for the requested model, ready to be admitted against limits and routed. */
export interface PreparedChat {
  call: ChatCall;
  translated: BedrockRequest;
  /** The deployment admission prices the estimate with (the first of the route). */
  deployment: Deployment;
}

export interface CompletedChat {
  completion: ChatCompletion;
  outcome: CallOutcome;
}

export interface OpenedChatStream {
  /** Chunks as Bedrock produces them; throws an ApiError if Bedrock fails or stalls mid-stream. */
  chunks: AsyncGenerator<ChatCompletionChunk, void, undefined>;
  /** Filled in as the stream progresses; complete once `chunks` is exhausted or has thrown. */
  outcome: CallOutcome;
}

export class ChatService {
  constructor(
    private readonly upstream: BedrockUpstream,
    private readonly reasoningStore: ReasoningStore,
    private readonly router: Router,
  ) {}

  /** Translates the request (400s surface here, before any limit is charged). */
  prepare(call: ChatCall): PreparedChat {
    const deployment = call.model.route[0];
    if (!deployment) throw new Error(`model ${call.model.name} has no deployments`);
    return { call, translated: this.translate(call, call.model), deployment };
  }

  async complete(prepared: PreparedChat, gate: ModelGate): Promise<CompletedChat> {
    const { call } = prepared;
    const started = performance.now();
    const { value: output, lease } = await this.router.run(this.routeRequest(prepared), gate, async (lease) => {
      const { deployment, translated, model } = lease.target;
      lease.attempt.arm(model.routing.timeouts.responseMs, "answer");
      const output = await this.upstream.converse(deployment, translated.body, lease.attempt.signal);
      lease.succeeded();
      lease.end();
      return output;
    });
    const { model, deployment, translated } = lease.target;
    const { completion, usage, stopReason } = toChatCompletion(output, {
      id: chatId(call.requestId),
      model: model.name,
      created: nowSeconds(),
      pricing: deployment.pricing,
      reasoningStore: this.reasoningStore,
    });
    return {
      completion,
      outcome: {
        model,
        deployment,
        fallbacks: lease.fallbacks,
        usage,
        usageEstimated: false,
        costUsd: completion.usage.cost,
        stopReason,
        upstreamMs: performance.now() - started,
        timeToFirstTokenMs: undefined,
        cachePoints: translated.cachePoints,
        thinkingDroppedForHistory: translated.thinkingDroppedForHistory,
      },
    };
  }

  /**
   * Resolves once a deployment produced its first token: until then every failure (including no
   * first token within `firstTokenMs`) can still fail over, because nothing reached the client.
   */
  async openStream(prepared: PreparedChat, includeUsage: boolean, gate: ModelGate): Promise<OpenedChatStream> {
    const { call } = prepared;
    const started = performance.now();
    const { value, lease } = await this.router.run(this.routeRequest(prepared), gate, (lease) =>
      this.firstToken(call, lease, includeUsage, started),
    );
    const { iterator, translator, buffered, outcome, counter } = value;
    const { ref, model, deployment, translated } = lease.target;
    const idleMs = model.routing.timeouts.idleMs;

    async function* chunks(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
      try {
        yield* buffered;
        for (;;) {
          lease.attempt.arm(idleMs, "stream event");
          const next = await iterator.next();
          lease.attempt.disarm();
          if (next.done) break;
          const event = next.value;
          counter.count(event);
          const out = translator.translate(event);
          if (event.metadata) {
            outcome.usage = translator.usage;
            outcome.costUsd = costUsd(translator.usage, deployment.pricing);
          }
          if (event.messageStop) outcome.stopReason = translator.stopReason;
          for (const chunk of out) yield chunk;
        }
        if (!translator.usageReported) throw new Error("Bedrock's stream ended before it reported usage");
      } catch (error) {
        const apiError = attemptError(error, lease.attempt, ref);
        if (!lease.attempt.cancelledByClient) lease.failed(apiError);
        throw apiError;
      } finally {
        if (!translator.usageReported) {
          // Bedrock bills what it processed even when the stream is cut before its usage event;
          // record an estimate (flagged) rather than nothing, so cancelling can't dodge a budget.
          outcome.usage = estimatedUsage(translated.body, counter.outputChars);
          outcome.usageEstimated = true;
          outcome.costUsd = costUsd(outcome.usage, deployment.pricing);
        }
        lease.end();
        // Stops the SDK's reader if the consumer left early (client gone, write failed).
        await iterator.return?.().catch(() => undefined);
      }
    }
    return { chunks: chunks(), outcome };
  }

  private async firstToken(call: ChatCall, lease: Lease, includeUsage: boolean, started: number) {
    const { deployment, translated, model } = lease.target;
    lease.attempt.arm(model.routing.timeouts.firstTokenMs, "first token");
    const events = await this.upstream.openStream(deployment, translated.body, lease.attempt.signal);
    const iterator = events[Symbol.asyncIterator]() as AsyncIterator<ConverseStreamOutput>;
    const translator = new StreamTranslator({
      id: chatId(call.requestId),
      model: model.name,
      created: nowSeconds(),
      pricing: deployment.pricing,
      includeUsage,
      reasoningStore: this.reasoningStore,
    });
    const outcome: CallOutcome = {
      model,
      deployment,
      fallbacks: lease.fallbacks,
      usage: translator.usage,
      usageEstimated: false,
      costUsd: 0,
      stopReason: undefined,
      upstreamMs: 0,
      timeToFirstTokenMs: undefined,
      cachePoints: translated.cachePoints,
      thinkingDroppedForHistory: translated.thinkingDroppedForHistory,
    };
    // Hold what comes before the first token (the role chunk): failing over stays possible until then.
    const buffered: ChatCompletionChunk[] = [];
    const counter = new OutputCounter();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const event = next.value;
        counter.count(event);
        buffered.push(...translator.translate(event));
        if (event.metadata) {
          outcome.usage = translator.usage;
          outcome.costUsd = costUsd(translator.usage, deployment.pricing);
        }
        if (event.messageStop) outcome.stopReason = translator.stopReason;
        if (event.contentBlockDelta || event.contentBlockStart || event.messageStop) break;
      }
    } catch (error) {
      await iterator.return?.().catch(() => undefined);
      throw error;
    }
    lease.attempt.disarm();
    outcome.timeToFirstTokenMs = performance.now() - started;
    outcome.upstreamMs = outcome.timeToFirstTokenMs;
    lease.succeeded();
    return { iterator, translator, buffered, outcome, counter };
  }

  private routeRequest(prepared: PreparedChat) {
    const { call, translated } = prepared;
    return {
      policy: call.policy,
      user: call.user,
      requested: call.model,
      translated,
      translate: (model: ModelPolicy) => this.translate(call, model),
      signal: call.signal,
      attempts: call.attempts,
    };
  }

  private translate(call: ChatCall, model: ModelPolicy): BedrockRequest {
    return toBedrockRequest(call.request, model, { reasoningStore: this.reasoningStore });
  }
}

/** The same rough ratio as the admission estimate (bedrock/request/token-estimate.ts). */
const CHARS_PER_TOKEN = 4;

/** Characters of model output streamed so far (text, tool input, reasoning), for an estimate. */
class OutputCounter {
  outputChars = 0;

  count(event: ConverseStreamOutput): void {
    const delta = event.contentBlockDelta?.delta;
    if (!delta) return;
    this.outputChars += (delta.text?.length ?? 0) + (delta.toolUse?.input?.length ?? 0) + (delta.reasoningContent?.text?.length ?? 0);
  }
}

function estimatedUsage(body: BedrockRequest["body"], outputChars: number): TokenUsage {
  return { inputTokens: estimateInputTokens(body), outputTokens: Math.ceil(outputChars / CHARS_PER_TOKEN), cacheReadTokens: 0, cacheWriteTokens: 0 };
}

function chatId(requestId: string): string {
  return `chatcmpl-${requestId}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
