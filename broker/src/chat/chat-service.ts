// One chat completion from start to finish, independent of HTTP: pick the model's deployment,
// translate, call Bedrock, translate back, and report what it cost. Routes stay thin around it.
import type { ConverseCommandOutput, ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Deployment, ModelPolicy, TokenUsage } from "@tollgate/shared";
import { costUsd } from "@tollgate/shared";
import { bedrockErrorToApiError, type DeploymentRef } from "../bedrock/errors.js";
import { toBedrockRequest, type BedrockRequest } from "../bedrock/request/index.js";
import type { ReasoningStore } from "../bedrock/request/reasoning-store.js";
import { toChatCompletion } from "../bedrock/response/non-stream.js";
import { StreamTranslator } from "../bedrock/response/stream.js";
import type { BedrockUpstream } from "../bedrock/upstream.js";

export interface ChatCall {
  requestId: string;
  request: ChatCompletionRequest;
  model: ModelPolicy;
  signal: AbortSignal;
}

/** What a finished (or failed, or cancelled) call consumed, for logs and, later, the ledger. */
export interface CallOutcome {
  deployment: Deployment;
  usage: TokenUsage;
  costUsd: number;
  stopReason: string | undefined;
  /** Milliseconds inside the Bedrock SDK call, for the broker's own overhead figure. */
  upstreamMs: number;
  timeToFirstTokenMs: number | undefined;
  cachePoints: number;
  thinkingDroppedForHistory: boolean;
}

/** A call translated and bound to a deployment, ready to be admitted against limits and sent. */
export interface PreparedChat {
  call: ChatCall;
  deployment: Deployment;
  translated: BedrockRequest;
  ref: DeploymentRef;
}

export interface CompletedChat {
  completion: ChatCompletion;
  outcome: CallOutcome;
}

export interface OpenedChatStream {
  /** Chunks as Bedrock produces them; throws an ApiError if Bedrock fails mid-stream. */
  chunks: AsyncGenerator<ChatCompletionChunk, void, undefined>;
  /** Filled in as the stream progresses; complete once `chunks` is exhausted or has thrown. */
  outcome: CallOutcome;
}

export class ChatService {
  constructor(
    private readonly upstream: BedrockUpstream,
    private readonly reasoningStore: ReasoningStore,
  ) {}

  async complete(prepared: PreparedChat): Promise<CompletedChat> {
    const { call, deployment, translated, ref } = prepared;
    const started = performance.now();
    let output: ConverseCommandOutput;
    try {
      output = await this.upstream.converse(deployment, translated.body, call.signal);
    } catch (error) {
      throw bedrockErrorToApiError(error, ref);
    }
    const upstreamMs = performance.now() - started;
    const { completion, usage, stopReason } = toChatCompletion(output, {
      id: chatId(call.requestId),
      model: call.model.name,
      created: nowSeconds(),
      pricing: deployment.pricing,
      reasoningStore: this.reasoningStore,
    });
    return {
      completion,
      outcome: {
        deployment,
        usage,
        costUsd: completion.usage.cost,
        stopReason,
        upstreamMs,
        timeToFirstTokenMs: undefined,
        cachePoints: translated.cachePoints,
        thinkingDroppedForHistory: translated.thinkingDroppedForHistory,
      },
    };
  }

  /** Resolves once Bedrock accepted the call, so errors before the first byte can still be answered with a status. */
  async openStream(prepared: PreparedChat, includeUsage: boolean): Promise<OpenedChatStream> {
    const { call, deployment, translated, ref } = prepared;
    const started = performance.now();
    let events: AsyncIterable<ConverseStreamOutput>;
    try {
      events = await this.upstream.openStream(deployment, translated.body, call.signal);
    } catch (error) {
      throw bedrockErrorToApiError(error, ref);
    }
    const translator = new StreamTranslator({
      id: chatId(call.requestId),
      model: call.model.name,
      created: nowSeconds(),
      pricing: deployment.pricing,
      includeUsage,
      reasoningStore: this.reasoningStore,
    });
    const outcome: CallOutcome = {
      deployment,
      usage: translator.usage,
      costUsd: 0,
      stopReason: undefined,
      upstreamMs: performance.now() - started,
      timeToFirstTokenMs: undefined,
      cachePoints: translated.cachePoints,
      thinkingDroppedForHistory: translated.thinkingDroppedForHistory,
    };

    async function* chunks(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
      try {
        for await (const event of events) {
          if (outcome.timeToFirstTokenMs === undefined && (event.contentBlockDelta || event.contentBlockStart)) {
            outcome.timeToFirstTokenMs = performance.now() - started;
          }
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
        throw bedrockErrorToApiError(error, ref);
      }
    }
    return { chunks: chunks(), outcome };
  }

  /** Translates the request (400s surface here, before any limit is charged) and picks the deployment. */
  prepare(call: ChatCall): PreparedChat {
    const translated = toBedrockRequest(call.request, call.model, { reasoningStore: this.reasoningStore });
    // Routing across several deployments (and fallback) builds on this; today the first one serves.
    const deployment = call.model.route[0];
    if (!deployment) throw new Error(`model ${call.model.name} has no deployments`);
    return { call, deployment, translated, ref: { model: call.model.name, id: deployment.id, modelId: deployment.modelId, region: deployment.region } };
  }
}

function chatId(requestId: string): string {
  return `chatcmpl-${requestId}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
