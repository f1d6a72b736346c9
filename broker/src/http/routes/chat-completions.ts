// POST /v1/chat/completions — OpenAI in, Bedrock out, streamed or not; admitted against the org's
// limits first, and accounted in the ledger before the response completes.
import type { Request, Response } from "express";
import { chatCompletionRequestSchema, costPicoUsd, type ModelPolicy, type UserPolicy } from "@tollgate/shared";
import { Meter, statusOf } from "../../accounting/meter.js";
import type { CallOutcome, ChatService } from "../../chat/chat-service.js";
import { routingOf, type FailedRouting, type ModelGate } from "../../routing/router.js";
import { ApiError, invalidRequest } from "../../errors.js";
import type { Ticket } from "../../limits/index.js";
import type { PolicyStore } from "../../policy/policy-store.js";
import { asApiError, toErrorBody } from "../error-response.js";
import { overheadHeader, type RequestContext } from "../request-context.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";
import { parseBody } from "../validate.js";
import { allowedModel } from "./model-access.js";
import { OutputCollector } from "../../telemetry/output-collector.js";
import type { AttemptRecord, RequestTrace } from "../../telemetry/request-trace.js";

/** Telemetry's view of chat requests: traces and metrics, fed after the ledger row is committed. */
export interface RequestObserver {
  /** Does an exporter take prompt text for this team? Only then is the content kept. */
  capturesContent(team: string): boolean;
  /** Must not block or throw: it only enqueues. */
  finished(trace: RequestTrace): void;
}

export interface ChatRouteDeps {
  policy: PolicyStore;
  chat: ChatService;
  meter: Meter;
  observer?: RequestObserver | undefined;
}

/** A client session (the Cline task) for traces: same characters as a project. */
const SESSION = /^[A-Za-z0-9 ._@:\/-]{1,128}$/;

declare module "express-serve-static-core" {
  interface Locals {
    outcome?: CallOutcome;
    cancelled?: boolean;
  }
}

/**
 * OpenAI's deprecated `functions` / `function_call` would otherwise be dropped as unknown fields, and
 * the model would answer without the tools the client meant to give it.
 */
function refuseLegacyFunctions(body: unknown): void {
  if (body === null || typeof body !== "object") return;
  for (const [legacy, current] of [["functions", "tools"], ["function_call", "tool_choice"]] as const) {
    if ((body as Record<string, unknown>)[legacy] !== undefined) {
      throw invalidRequest(`"${legacy}" is OpenAI's deprecated form of "${current}", which Tollgate does not translate: send "${current}" instead.`, legacy, "unsupported_parameter");
    }
  }
}

/** nginx's convention for "client closed the request". */
const CLIENT_CLOSED = 499;

export function chatCompletionsHandler(deps: ChatRouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const context = res.locals.context;
    const identity = res.locals.identity;
    if (!identity) throw new Error("chat route reached without an identity");
    refuseLegacyFunctions(req.body);
    const request = parseBody(chatCompletionRequestSchema, req.body);
    res.locals.requestedModel = request.model;
    // Read once: a policy pushed while this request runs does not change its rules.
    const policy = deps.policy.current();
    const model = allowedModel(policy.models.get(request.model), request.model, identity.user);
    res.locals.model = model.name;

    // Cline's cancel button closes the connection: stop paying for tokens nobody will read.
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) {
        res.locals.cancelled = true;
        controller.abort();
      }
    });

    const user = identity.user;
    const sessionHeader = req.headers["x-tollgate-session"];
    const session = typeof sessionHeader === "string" && SESSION.test(sessionHeader.trim()) ? sessionHeader.trim() : null;
    const attempts: AttemptRecord[] = [];
    const collector = deps.observer?.capturesContent(user.team) ? new OutputCollector(request.messages) : undefined;
    const prepared = deps.chat.prepare({ requestId: context.id, request, model, policy, user, signal: controller.signal, attempts });
    const admitStarted = performance.now();
    const admitted = await deps.meter.admit(policy, user, prepared);
    // From here every outcome is a ledger row (served, failed or cancelled), never a refusal.
    res.locals.admitted = true;
    const admitMs = performance.now() - admitStarted;
    res.set(admitted.headers as Record<string, string>);
    // Limits follow the model that serves: a fallback model must admit the request before it is tried.
    const charge = { ticket: admitted.ticket, model: model.name };
    const gate: ModelGate = async (fallback, translated) => {
      const moved = await deps.meter.transfer(policy, user, charge.ticket, fallback, translated);
      if (ApiError.is(moved)) return moved;
      charge.ticket = moved;
      charge.model = fallback.name;
      return undefined;
    };
    const trace = { observer: deps.observer, attempts, session, maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined, stream: request.stream === true, collector };
    const account = accountant(deps.meter, charge, context, user, identity.project, model.name, trace);

    if (!request.stream) {
      let completed;
      try {
        completed = await deps.chat.complete(prepared, gate);
      } catch (error) {
        const apiError = asApiError(error);
        await account(controller.signal.aborted ? CLIENT_CLOSED : apiError.status, apiError.code, undefined, controller.signal.aborted, routingOf(error));
        throw withServedBy(apiError, routingOf(error));
      }
      res.locals.outcome = completed.outcome;
      collector?.addCompletion(completed.completion);
      const ledgerStarted = performance.now();
      await account(200, null, completed.outcome, false);
      const ledgerMs = performance.now() - ledgerStarted;
      res.set({
        ...servedBy(completed.outcome),
        ...overheadHeader(context, completed.outcome.upstreamMs),
        // What limits and the ledger cost this request, for the benchmark and for operators.
        "server-timing": `admit;dur=${admitMs.toFixed(3)}, ledger;dur=${ledgerMs.toFixed(3)}, bedrock;dur=${completed.outcome.upstreamMs.toFixed(3)}`,
      });
      res.json(completed.completion);
      return;
    }

    let opened;
    try {
      opened = await deps.chat.openStream(prepared, request.stream_options?.include_usage === true, gate);
    } catch (error) {
      const apiError = asApiError(error);
      await account(controller.signal.aborted ? CLIENT_CLOSED : apiError.status, apiError.code, undefined, controller.signal.aborted, routingOf(error));
      throw withServedBy(apiError, routingOf(error));
    }
    res.locals.outcome = opened.outcome;
    startEventStream(res, { ...servedBy(opened.outcome), ...overheadHeader(context, opened.outcome.upstreamMs) });
    try {
      for await (const chunk of opened.chunks) {
        collector?.add(chunk);
        await writeEvent(res, chunk);
      }
    } catch (error) {
      if (controller.signal.aborted) {
        await account(CLIENT_CLOSED, "client_cancelled", opened.outcome, true);
        return;
      }
      // Headers are gone: end the stream with an error event the client can show, never hang.
      const apiError = asApiError(error);
      res.locals.errorCode = apiError.code;
      await account(apiError.status, apiError.code, opened.outcome, false).catch(() => undefined);
      await writeEvent(res, toErrorBody(apiError));
      res.end();
      return;
    }
    try {
      await account(200, null, opened.outcome, false);
    } catch (error) {
      await writeEvent(res, toErrorBody(asApiError(error)));
      res.end();
      return;
    }
    endEventStream(res);
  };
}

interface TraceContext {
  observer: RequestObserver | undefined;
  attempts: AttemptRecord[];
  session: string | null;
  maxTokens: number | undefined;
  stream: boolean;
  collector: OutputCollector | undefined;
}

/** Settles the limits and commits the ledger row; a failed commit surfaces as a 503 (never unaccounted service). */
function accountant(meter: Meter, charge: { ticket: Ticket; model: string }, context: RequestContext, user: UserPolicy, project: string | null, requestedModel: string, trace: TraceContext) {
  const time = Date.now();
  return async (httpStatus: number, errorCode: string | null, outcome: CallOutcome | undefined, cancelled: boolean, failed?: FailedRouting): Promise<void> => {
    const row = {
          id: context.id,
          time,
          user: user.name,
          team: user.team,
          project,
          requestedModel,
          // The model whose limits hold the request: the one that served, or was tried last.
          servedModel: outcome?.model.name ?? charge.model,
          deployment: outcome?.deployment.id ?? failed?.deployment ?? null,
          status: statusOf(httpStatus, cancelled),
          httpStatus,
          latencyMs: Math.round(performance.now() - context.startedAt),
          ttftMs: outcome?.timeToFirstTokenMs === undefined ? null : Math.round(outcome.timeToFirstTokenMs),
          fallbacks: outcome?.fallbacks ?? failed?.fallbacks ?? 0,
          errorCode,
          usageEstimated: outcome?.usageEstimated === true,
    };
    try {
      await meter.finish(charge.ticket, row, outcome);
    } catch (error) {
      throw new ApiError({
        status: 503,
        type: "server_error",
        code: "ledger_unavailable",
        message: "The broker could not record this request's usage, so it will not complete it. Your Tollgate admin should check the broker's data dir.",
        cause: error,
      });
    }
    // Once the row is durable: traces and metrics say what the ledger says.
    trace.observer?.finished({
      requestId: row.id,
      startedAt: time,
      endedAt: Date.now(),
      user: row.user,
      team: row.team,
      project,
      session: trace.session,
      requestedModel,
      servedModel: row.servedModel,
      servedModelId: outcome?.deployment.modelId,
      maxTokens: trace.maxTokens,
      stream: trace.stream,
      httpStatus,
      status: row.status,
      errorCode,
      finishReason: outcome?.stopReason,
      usage: outcome?.usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      usageEstimated: row.usageEstimated,
      // Exactly the ledger's figure (integer pico-USD).
      costUsd: outcome ? costPicoUsd(outcome.usage, outcome.deployment.pricing) / 1e12 : 0,
      timeToFirstTokenMs: row.ttftMs,
      fallbacks: row.fallbacks,
      attempts: trace.attempts,
      content: trace.collector?.content(),
    });
  };
}

/** What served the request, for the client and for operators reading responses. */
function servedBy(outcome: CallOutcome): Record<string, string> {
  return {
    "x-tollgate-model": outcome.model.name,
    "x-tollgate-deployment": outcome.deployment.id,
    "x-tollgate-fallbacks": String(outcome.fallbacks),
  };
}

/** A failed request still says where it was tried last. */
function withServedBy(error: ApiError, failed: FailedRouting | undefined): ApiError {
  if (!failed) return error;
  Object.assign(error.headers, {
    "x-tollgate-model": failed.model,
    "x-tollgate-deployment": failed.deployment,
    "x-tollgate-fallbacks": String(failed.fallbacks),
  });
  return error;
}
