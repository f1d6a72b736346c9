// Per-request identity and timing, attached once so every route and log line can use them.
import type { NextFunction, Request, Response } from "express";
import { randomBytes } from "node:crypto";

export interface RequestContext {
  id: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
}

declare module "express-serve-static-core" {
  interface Locals {
    context: RequestContext;
    errorCode?: string;
    model?: string;
  }
}

export function newRequestId(): string {
  return randomBytes(12).toString("base64url");
}

export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const context: RequestContext = { id: newRequestId(), startedAt: performance.now() };
  res.locals.context = context;
  res.setHeader("x-request-id", context.id);
  next();
}

/** The broker's own share of a request's time, excluding time spent waiting for Bedrock. */
export function overheadHeader(context: RequestContext, upstreamMs: number): Record<string, string> {
  const overhead = Math.max(0, performance.now() - context.startedAt - upstreamMs);
  return { "x-tollgate-overhead-ms": overhead.toFixed(3) };
}
