// The broker's HTTP app, built by a factory so tests and the CLI create it the same way and
// nothing lives in module globals.
import express, { type Express } from "express";
import type { ChatService } from "./chat/chat-service.js";
import { ApiError } from "./errors.js";
import { accessLog } from "./http/access-log.js";
import { errorHandler } from "./http/error-response.js";
import { requestContext } from "./http/request-context.js";
import { chatCompletionsHandler } from "./http/routes/chat-completions.js";
import { modelsHandler } from "./http/routes/models.js";
import type { Logger } from "./log.js";
import type { PolicyStore } from "./policy/policy-store.js";

export interface AppDeps {
  policy: PolicyStore;
  chat: ChatService;
  logger: Logger;
  /** Largest accepted request body; agents send long histories and images, so the default is generous. */
  maxBodyBytes: number;
}

export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("query parser", "simple");

  app.use(requestContext);
  app.use(accessLog(deps.logger));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  const json = express.json({ limit: deps.maxBodyBytes, type: ["application/json", "application/*+json"] });
  app.get("/v1/models", modelsHandler(deps.policy));
  app.post("/v1/chat/completions", json, chatCompletionsHandler({ policy: deps.policy, chat: deps.chat }));

  app.use((req, _res, next) => {
    next(
      new ApiError({
        status: 404,
        type: "not_found_error",
        code: "unknown_route",
        message: `No route ${req.method} ${req.path}. This broker serves POST /v1/chat/completions and GET /v1/models.`,
      }),
    );
  });
  app.use(
    errorHandler((error, req) => {
      deps.logger.error({ err: error, requestId: req.res?.locals.context.id }, "internal error");
    }),
  );
  return app;
}
