// The one place errors become HTTP responses, always in OpenAI's shape.
import type { ErrorRequestHandler, Response } from "express";
import type { OpenAiErrorBody } from "@tollgate/shared";
import { ApiError, invalidRequest } from "../errors.js";
import { INVALID_UTF8 } from "./validate.js";

export function toErrorBody(error: ApiError): OpenAiErrorBody {
  return { error: { message: error.message, type: error.type, code: error.code, param: error.param ?? null } };
}

export function sendApiError(res: Response, error: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).json(toErrorBody(error));
}

/** Anything thrown that is not an ApiError is a bug: answer 500 without leaking internals. */
export function asApiError(error: unknown): ApiError {
  if (ApiError.is(error)) return error;
  const bodyError = fromBodyParserError(error);
  if (bodyError) return bodyError;
  return new ApiError({
    status: 500,
    type: "server_error",
    code: "internal_error",
    message: "The Tollgate broker hit an internal error; the request id in x-request-id helps your admin find it in the logs.",
    cause: error,
  });
}

interface BodyParserError {
  type?: string;
  limit?: number;
  length?: number;
  message?: string;
  status?: number;
  expose?: boolean;
  body?: unknown;
}

function isJsonScalar(body: unknown): boolean {
  if (typeof body !== "string") return false;
  try {
    const value: unknown = JSON.parse(body);
    return value === null || typeof value !== "object";
  } catch {
    return false;
  }
}

function fromBodyParserError(error: unknown): ApiError | undefined {
  const e = error as BodyParserError | undefined;
  switch (e?.type) {
    case "entity.too.large":
      return invalidRequest(
        `The request body is ${e.length ?? "over"} bytes, above the broker's limit of ${e.limit} bytes (an admin can raise it with --max-body-bytes).`,
        undefined,
        "request_too_large",
      );
    case "entity.parse.failed":
      // body-parser refuses JSON that is not an object or array with a made-up syntax error.
      if (isJsonScalar(e.body)) return invalidRequest("The request body must be a JSON object sent with content-type: application/json.", undefined, "invalid_body");
      return invalidRequest(`The request body is not valid JSON: ${e.message ?? "parse error"}.`, undefined, "invalid_json");
    case "encoding.unsupported":
    case "charset.unsupported":
      return invalidRequest(`The request body's encoding is not supported: ${e.message ?? ""}. Send UTF-8 JSON.`, undefined, "unsupported_encoding");
    case INVALID_UTF8:
      return invalidRequest("The request body is not valid UTF-8; send JSON encoded as UTF-8.", undefined, "invalid_utf8");
    case "request.aborted":
      return invalidRequest("The client aborted while sending the request body.", undefined, "request_aborted");
    default:
      // Any other client error from reading the body (a gzip body that does not inflate, a body
      // shorter than its content-length): body-parser marks those 4xx and safe to show.
      if (e?.expose === true && typeof e.status === "number" && e.status >= 400 && e.status < 500) {
        return invalidRequest(`The request body could not be read: ${e.message ?? "unreadable body"}. Send UTF-8 JSON, uncompressed or correctly compressed.`, undefined, "unreadable_body");
      }
      return undefined;
  }
}

export function errorHandler(onInternalError: (error: unknown, req: Parameters<ErrorRequestHandler>[1]) => void): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = asApiError(error);
    if (apiError.status >= 500 && apiError.code === "internal_error") onInternalError(error, req);
    res.locals.errorCode = apiError.code;
    res.locals.error = apiError;
    sendApiError(res, apiError);
  };
}
