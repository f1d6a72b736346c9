// The broker's HTTP app, built by a factory so tests and the CLI create it the same way and
// nothing lives in module globals.
import express, { type Express } from "express";
import type { Meter } from "./accounting/meter.js";
import type { AdminToken } from "./auth/admin-token.js";
import { requireUser } from "./auth/user-auth.js";
import type { ChatService } from "./chat/chat-service.js";
import { ApiError } from "./errors.js";
import { accessLog } from "./http/access-log.js";
import { requireAdmin } from "./http/admin-auth.js";
import { errorHandler } from "./http/error-response.js";
import { requestContext } from "./http/request-context.js";
import type { OpenRequestLimit } from "./http/load-shedding.js";
import { verifyUtf8 } from "./http/validate.js";
import { adminRouter } from "./http/routes/admin.js";
import { chatCompletionsHandler } from "./http/routes/chat-completions.js";
import { meHandler, meRequestsHandler, meUsageHandler } from "./http/routes/me.js";
import { modelHandler, modelsHandler } from "./http/routes/models.js";
import type { RefusalLog, UsageLedger } from "./ledger/types.js";
import { recordRefusals } from "./http/refusal-recorder.js";
import type { LimitStore } from "./limits/index.js";
import type { Logger } from "./log.js";
import type { PolicyService } from "./policy/policy-service.js";
import type { PolicyStore } from "./policy/policy-store.js";
import { healthz, readyz } from "./http/routes/health.js";
import type { InFlightRequests } from "./lifecycle/in-flight.js";
import type { DeploymentHealthRegistry } from "./routing/deployment-health.js";
import type { FleetStatus } from "./http/routes/health.js";
import type { BrokerMetrics } from "./metrics/broker-metrics.js";
import type { RequestObserver } from "./http/routes/chat-completions.js";

/** Who may scrape /metrics: admins (the admin token, as Prometheus' credentials_file), anyone, or no one. */
export const METRICS_ACCESS = ["admin-token", "open", "off"] as const;
export type MetricsAccess = (typeof METRICS_ACCESS)[number];

export interface AppDeps {
  policy: PolicyStore;
  policies: PolicyService;
  chat: ChatService;
  meter: Meter;
  limits: LimitStore;
  ledger: UsageLedger;
  adminToken: AdminToken | undefined;
  logger: Logger;
  health: DeploymentHealthRegistry;
  inFlight: InFlightRequests;
  checkCredentials(): Promise<void>;
  ledgerHealthy(): boolean;
  /** Fleet mode: the shared stores' health and the other brokers (absent in embedded mode). */
  fleet?: FleetStatus | undefined;
  /** Largest accepted request body; agents send long histories and images, so the default is generous. */
  maxBodyBytes: number;
  /** Chat requests open at once; past it new ones get 503 `overloaded`. */
  openRequests: OpenRequestLimit;
  metrics?: BrokerMetrics | undefined;
  metricsAccess?: MetricsAccess | undefined;
  /** Traces and metrics of chat requests. */
  observer?: RequestObserver | undefined;
  /** Where chat requests refused before Bedrock are recorded (the ledger's refusal log). */
  refusals?: RefusalLog | undefined;
  /** A refusal left unrecorded by the recorder's rate cap. */
  onRefusalUnrecorded?: (() => void) | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("query parser", "simple");

  app.use(requestContext);
  // While draining, every response closes its connection, so kept-alive clients reconnect (elsewhere).
  app.use((_req, res, next) => {
    if (deps.inFlight.draining) res.set("connection", "close");
    next();
  });
  app.use(accessLog(deps.logger));

  app.get("/healthz", healthz);
  app.get("/readyz", readyz(deps));
  const metrics = deps.metrics;
  const metricsAccess = deps.metricsAccess ?? "admin-token";
  if (metrics && metricsAccess !== "off") {
    const scrape: express.RequestHandler = (_req, res, next) => {
      metrics.text().then(({ contentType, body }) => res.type(contentType).send(body), next);
    };
    if (metricsAccess === "open") app.get("/metrics", scrape);
    else app.get("/metrics", requireAdmin(deps.adminToken), scrape);
    // Every chat request once its response is done, refusals (401, 403, 429, 402 …) included.
    app.use("/v1/chat/completions", (req, res, next) => {
      if (req.method === "POST") {
        res.on("close", () => {
          const identity = res.locals.identity;
          metrics.countRequest({
            model: res.locals.model ?? "",
            team: identity?.user.team ?? "",
            user: identity?.user.name,
            status: res.locals.cancelled ? 499 : res.statusCode,
            code: res.locals.cancelled ? "client_cancelled" : (res.locals.errorCode ?? null),
          });
        });
      }
      next();
    });
  }

  if (deps.refusals) {
    const recorder = recordRefusals(deps.refusals, { onUnrecorded: deps.onRefusalUnrecorded });
    app.use("/v1/chat/completions", (req, res, next) => (req.method === "POST" ? recorder(req, res, next) : next()));
  }

  // Invalid UTF-8 is refused rather than silently replaced with U+FFFD and sent on to Bedrock.
  const jsonTypes = ["application/json", "application/*+json"];
  const json = express.json({ limit: deps.maxBodyBytes, type: jsonTypes, verify: verifyUtf8 });
  const jsonText = express.text({ limit: deps.maxBodyBytes, type: jsonTypes, verify: verifyUtf8 });

  // The user API: every route needs a user key.
  const v1 = express.Router();
  v1.use(requireUser(deps.policy));
  v1.get("/models", modelsHandler(deps.policy));
  v1.get("/models/*id", modelHandler(deps.policy));
  const chat = chatCompletionsHandler({ policy: deps.policy, chat: deps.chat, meter: deps.meter, observer: deps.observer });
  v1.post("/chat/completions", refuseWhileDraining(deps.inFlight), deps.openRequests.middleware(), json, (req, res) => deps.inFlight.track(() => chat(req, res)));
  const me = { policy: deps.policy, limits: deps.limits, ledger: deps.ledger };
  v1.get("/me", meHandler(me));
  v1.get("/me/usage", meUsageHandler(me));
  v1.get("/me/requests", meRequestsHandler(me));
  app.use("/v1", v1);

  // The admin API: only the admin token.
  app.use("/admin", requireAdmin(deps.adminToken), adminRouter({ policies: deps.policies, policy: deps.policy, ledger: deps.ledger, refusals: deps.refusals, health: deps.health, json, jsonText, readiness: deps }));

  app.use((req, _res, next) => {
    next(
      new ApiError({
        status: 404,
        type: "not_found_error",
        code: "unknown_route",
        message: `No route ${req.method} ${req.path}. This broker serves POST /v1/chat/completions, GET /v1/models, GET /v1/models/{model}, GET /v1/me, GET /v1/me/usage and GET /v1/me/requests to users, and /admin/… to admins (see the README's API section).`,
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

/** During shutdown a request on a kept-alive connection is turned away (the client retries elsewhere). */
function refuseWhileDraining(inFlight: InFlightRequests): express.RequestHandler {
  return (_req, res, next) => {
    if (!inFlight.draining) return next();
    res.set("connection", "close");
    next(
      new ApiError({
        status: 503,
        type: "server_error",
        code: "shutting_down",
        message: "This Tollgate broker is shutting down; retry in a moment.",
        headers: { "retry-after": "1" },
      }),
    );
  };
}
