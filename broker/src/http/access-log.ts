// One log line per request, written when the response is done (or the client went away).
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log.js";

export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Read now: a mounted router strips its prefix from req.path while it handles the request, and
    // the query string stays out of the log (it may carry an admin's comment, or worse).
    const path = req.path;
    res.on("close", () => {
      const { context, outcome, model, errorCode, cancelled } = res.locals;
      logger.info(
        {
          requestId: context.id,
          method: req.method,
          path,
          status: res.statusCode,
          model,
          servedModel: outcome && outcome.model.name !== model ? outcome.model.name : undefined,
          deployment: outcome?.deployment.id,
          fallbacks: outcome?.fallbacks || undefined,
          inputTokens: outcome?.usage.inputTokens,
          cacheReadTokens: outcome?.usage.cacheReadTokens,
          cacheWriteTokens: outcome?.usage.cacheWriteTokens,
          outputTokens: outcome?.usage.outputTokens,
          costUsd: outcome?.costUsd,
          usageEstimated: outcome?.usageEstimated || undefined,
          cachePoints: outcome?.cachePoints,
          latencyMs: Math.round((performance.now() - context.startedAt) * 100) / 100,
          timeToFirstTokenMs: outcome?.timeToFirstTokenMs === undefined ? undefined : Math.round(outcome.timeToFirstTokenMs),
          errorCode,
          cancelled: cancelled || undefined,
        },
        "request",
      );
    });
    next();
  };
}
