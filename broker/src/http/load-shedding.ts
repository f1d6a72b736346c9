// Load shedding: past a bound on chat requests open at once, the broker answers 503 at once instead of
// buffering more bodies and Bedrock calls than the host can hold. A clear, retryable refusal beats the
// kernel silently dropping connections past the listen backlog, or memory running out.
import type { RequestHandler } from "express";
import { ApiError } from "../errors.js";

/** Chat requests open at once before new ones are refused: Cline streams last ~10–60 s each. */
export const DEFAULT_MAX_OPEN_REQUESTS = 1024;

export class OpenRequestLimit {
  private open = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max open requests must be a positive integer, got ${max}`);
  }

  /** Counts each request from its arrival (before its body is read) until its response closes; refuses past `max`. */
  middleware(): RequestHandler {
    return (_req, res, next) => {
      if (this.open >= this.max) {
        next(
          new ApiError({
            status: 503,
            type: "server_error",
            code: "overloaded",
            message: `This Tollgate broker is at its limit of ${this.max} requests in progress; retry in a second. If this persists, an admin should add brokers or raise --max-open-requests.`,
            headers: { "retry-after": "1" },
          }),
        );
        return;
      }
      this.open++;
      // "close" fires once for every response: finished, failed, or the client went away.
      res.once("close", () => this.open--);
      next();
    };
  }
}
