// POST /v1/chat/completions — OpenAI in, Bedrock out, streamed or not.
import type { Request, Response } from "express";
import { chatCompletionRequestSchema } from "@tollgate/shared";
import type { ChatService, CallOutcome } from "../../chat/chat-service.js";
import { unknownModel } from "../../errors.js";
import type { PolicyStore } from "../../policy/policy-store.js";
import { asApiError, toErrorBody } from "../error-response.js";
import { overheadHeader } from "../request-context.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";
import { parseBody } from "../validate.js";

export interface ChatRouteDeps {
  policy: PolicyStore;
  chat: ChatService;
}

declare module "express-serve-static-core" {
  interface Locals {
    outcome?: CallOutcome;
    cancelled?: boolean;
  }
}

export function chatCompletionsHandler(deps: ChatRouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const context = res.locals.context;
    const request = parseBody(chatCompletionRequestSchema, req.body);
    const policy = deps.policy.current();
    const model = policy.models.get(request.model);
    if (!model) throw unknownModel(request.model, [...policy.models.keys()]);
    res.locals.model = model.name;

    // Cline's cancel button closes the connection: stop paying for tokens nobody will read.
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) {
        res.locals.cancelled = true;
        controller.abort();
      }
    });
    const call = { requestId: context.id, request, model, signal: controller.signal };

    if (!request.stream) {
      const { completion, outcome } = await deps.chat.complete(call);
      res.locals.outcome = outcome;
      res.set({ ...servedBy(model.name, outcome), ...overheadHeader(context, outcome.upstreamMs) });
      res.json(completion);
      return;
    }

    const opened = await deps.chat.openStream(call, request.stream_options?.include_usage === true);
    res.locals.outcome = opened.outcome;
    startEventStream(res, { ...servedBy(model.name, opened.outcome), ...overheadHeader(context, opened.outcome.upstreamMs) });
    try {
      for await (const chunk of opened.chunks) await writeEvent(res, chunk);
      endEventStream(res);
    } catch (error) {
      if (controller.signal.aborted) return;
      // Headers are gone: end the stream with an error event the client can show, never hang.
      const apiError = asApiError(error);
      res.locals.errorCode = apiError.code;
      await writeEvent(res, toErrorBody(apiError));
      res.end();
    }
  };
}

function servedBy(model: string, outcome: CallOutcome): Record<string, string> {
  return { "x-tollgate-model": model, "x-tollgate-deployment": outcome.deployment.id };
}
