// The local endpoint Cline talks to: 127.0.0.1 only, a local bearer token on every request, and a
// transparent proxy of /v1 to the broker that adds the developer's key and project.
//
// - Bodies stream both ways unbuffered (SSE chunks reach Cline as the broker writes them).
// - A client that goes away (Cline's cancel) destroys the broker request, so the broker aborts
//   its Bedrock call and frees the concurrency slot.
// - Broker answers, errors included, pass through unchanged; only "broker unreachable" (503),
//   "no key" (401) and "wrong local token" (401) are answered here, in OpenAI's error shape.
import { createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import https from "node:https";
import type { Logger } from "./log.js";
import { openAIError, sendJson } from "./openai-error.js";

export const HEALTH_PATH = "/tollgate/health";
export const ENDPOINT_SERVICE = "tollgate-endpoint";

export interface ExchangeStart {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
}

export interface ExchangeEnd {
  method: string;
  path: string;
  /** The broker's status, or the endpoint's own (401, 503). */
  status: number;
  outcome: "complete" | "client-aborted" | "upstream-failed" | "local";
  durationMs: number;
}

export interface EndpointOptions {
  localToken: string;
  /** The broker's base URL (without /v1), read per request so a settings change applies at once. */
  brokerUrl: () => string;
  /** The developer's key, read per request (sign-in and sign-out apply at once). */
  developerKey: () => Promise<string | undefined>;
  /** Sent as x-tollgate-project unless the client sent its own. */
  project: () => string | undefined;
  log: Logger;
  /** Reported when the broker's response headers arrive (rate-limit and budget headers). */
  onResponse?: (event: ExchangeStart) => void;
  /** Reported when an exchange ends, however it ended. */
  onExchangeEnd?: (event: ExchangeEnd) => void;
  /** Reported when the broker could not be reached. */
  onBrokerUnreachable?: (reason: string) => void;
  /** How long to wait for a TCP connection to the broker. */
  connectTimeoutMs?: number;
  version?: string;
  pid?: number;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EPIPE"]);

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Constant-time check of `authorization: Bearer <token>` (or `x-api-key`). */
export function hasLocalToken(headers: IncomingHttpHeaders, expected: Buffer): boolean {
  const auth = headers.authorization;
  const bearer = typeof auth === "string" ? /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] : undefined;
  const apiKey = typeof headers["x-api-key"] === "string" ? headers["x-api-key"] : undefined;
  const given = bearer ?? apiKey;
  return given !== undefined && timingSafeEqual(digest(given.trim()), expected);
}

function forwardedRequestHeaders(incoming: IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === "authorization" || name === "x-api-key" || name === "cookie") continue;
    out[name] = value;
  }
  return out;
}

function forwardedResponseHeaders(incoming: IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Joins the broker's base URL (which may carry a path prefix) with the request's path and query. */
export function upstreamUrl(brokerUrl: string, requestUrl: string): URL {
  const base = new URL(brokerUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  return new URL(`${base.origin}${prefix}${requestUrl}`);
}

export type EndpointHandler = RequestListener & { dispose(): void };

export function createEndpointHandler(options: EndpointOptions): EndpointHandler {
  const expected = digest(options.localToken);
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const path = url.split("?")[0] ?? "/";
    const local = (status: number, body: unknown, headers?: Record<string, string>): void => {
      req.resume();
      sendJson(res, status, body, headers);
      options.onExchangeEnd?.({ method, path, status, outcome: "local", durationMs: Date.now() - started });
    };

    if (!hasLocalToken(req.headers, expected)) {
      options.log.warn(`local endpoint: refused ${method} ${path} without the local token`);
      local(
        401,
        openAIError(
          "This is Tollgate's local endpoint: send the local token as the API key (Authorization: Bearer …). It is the apiKey in ~/.config/tollgate/endpoint.json; \"Tollgate: Configure Cline\" shows it.",
          "invalid_api_key",
        ),
      );
      return;
    }
    if (path === HEALTH_PATH) {
      local(200, { service: ENDPOINT_SERVICE, pid: options.pid ?? process.pid, version: options.version ?? "0" });
      return;
    }
    if (path !== "/v1" && !path.startsWith("/v1/")) {
      local(404, openAIError(`No route ${method} ${path}. Tollgate's local endpoint serves /v1 (e.g. POST /v1/chat/completions, GET /v1/models).`, "not_found"));
      return;
    }

    void (async () => {
      const key = await options.developerKey();
      if (!key) {
        local(
          401,
          openAIError(
            "Tollgate has no key for you: run \"Tollgate: Sign In\" in code-server, or set TOLLGATE_API_KEY, or put your key in ~/.config/tollgate/credentials (mode 600).",
            "tollgate_signed_out",
          ),
        );
        return;
      }
      const brokerUrl = options.brokerUrl();
      let target: URL;
      try {
        target = upstreamUrl(brokerUrl, url);
      } catch {
        local(503, openAIError(`Tollgate's broker URL "${brokerUrl}" is not a valid URL; fix the setting tollgate.brokerUrl.`, "broker_unreachable", "api_error"));
        return;
      }
      const headers = forwardedRequestHeaders(req.headers);
      headers.authorization = `Bearer ${key}`;
      const project = options.project();
      if (project && headers["x-tollgate-project"] === undefined) headers["x-tollgate-project"] = project;

      const secure = target.protocol === "https:";
      const upstream = (secure ? https : http).request(target, { method, headers, agent: secure ? agents.https : agents.http });
      let ended = false;
      const end = (status: number, outcome: ExchangeEnd["outcome"]): void => {
        if (ended) return;
        ended = true;
        options.onExchangeEnd?.({ method, path, status, outcome, durationMs: Date.now() - started });
      };
      let responseStatus = 0;

      // The client went away before the response finished: abort the broker request.
      res.on("close", () => {
        if (!res.writableFinished) {
          upstream.destroy();
          end(responseStatus, "client-aborted");
          options.log.info(`local endpoint: client cancelled ${method} ${path}; broker request aborted`);
        }
      });

      let connectTimer: NodeJS.Timeout | undefined;
      upstream.on("socket", (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), connectTimeoutMs);
        socket.once("connect", () => clearTimeout(connectTimer));
      });

      upstream.on("response", (upstreamRes) => {
        clearTimeout(connectTimer);
        responseStatus = upstreamRes.statusCode ?? 502;
        try {
          options.onResponse?.({ method, path, status: responseStatus, headers: upstreamRes.headers });
        } catch (error) {
          options.log.error(`local endpoint: response listener failed: ${(error as Error).message}`);
        }
        res.writeHead(responseStatus, upstreamRes.statusMessage, forwardedResponseHeaders(upstreamRes.headers));
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.on("end", () => end(responseStatus, "complete"));
        upstreamRes.on("aborted", () => {
          // The broker went away mid-response: end the client's stream too, never hang it.
          res.destroy();
          end(responseStatus, "upstream-failed");
        });
        upstreamRes.on("error", () => {
          res.destroy();
          end(responseStatus, "upstream-failed");
        });
        options.log.debug(`local endpoint: ${method} ${path} → ${responseStatus}`);
      });

      upstream.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (res.destroyed || res.writableEnded) return; // the client left first; nothing to answer
        if (res.headersSent) {
          res.destroy();
          end(responseStatus, "upstream-failed");
          return;
        }
        const code = error.code ?? "error";
        const reason = UNREACHABLE_CODES.has(code) ? code : `${code}: ${error.message}`;
        options.log.warn(`local endpoint: broker at ${target.origin} unreachable (${reason})`);
        options.onBrokerUnreachable?.(reason);
        sendJson(
          res,
          503,
          openAIError(
            `Tollgate's broker at ${brokerUrl} is unreachable (${reason}). Is \`tollgate serve\` running? Check the setting tollgate.brokerUrl.`,
            "broker_unreachable",
            "api_error",
          ),
        );
        end(503, "upstream-failed");
      });

      req.pipe(upstream);
    })().catch((error: unknown) => {
      options.log.error(`local endpoint: ${(error as Error).message}`);
      if (!res.headersSent) local(500, openAIError("Tollgate's local endpoint failed; see the Tollgate log.", "internal_error", "api_error"));
      else res.destroy();
    });
  };
  return Object.assign(handler, {
    dispose: () => {
      agents.http.destroy();
      agents.https.destroy();
    },
  });
}

export function createEndpointServer(options: EndpointOptions): http.Server {
  const handler = createEndpointHandler(options);
  const server = http.createServer(handler);
  server.on("close", () => handler.dispose());
  // Long SSE streams: no request timeout from the endpoint itself (the broker has its own).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  return server;
}
