// The admin API accepts only the admin token; user keys are refused here (and the admin token is
// refused on the user API, because it is never in the policy's key index).
import type { NextFunction, Request, Response } from "express";
import type { AdminToken } from "../auth/admin-token.js";
import { bearerToken } from "../auth/bearer.js";
import { ApiError } from "../errors.js";

declare module "express-serve-static-core" {
  interface Locals {
    /** The name of the admin credential that authenticated this request. */
    admin?: string;
  }
}

export function requireAdmin(token: AdminToken | undefined) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!token) {
      next(new ApiError({ status: 403, type: "permission_error", code: "admin_api_disabled", message: "The admin API is disabled: start the broker with --admin-token-file FILE or TOLLGATE_ADMIN_TOKEN." }));
      return;
    }
    const presented = bearerToken(req.headers.authorization, undefined);
    const admin = token.identify(presented);
    if (admin === undefined) {
      // Say which mistake it is: no token, or a token that isn't this broker's admin token.
      const message = presented
        ? "The admin token is wrong: it is not the token this broker was started with (--admin-token-file or TOLLGATE_ADMIN_TOKEN). User keys are never accepted here."
        : "The admin API needs the admin token as `Authorization: Bearer <token>`.";
      next(new ApiError({ status: 401, type: "authentication_error", code: "invalid_admin_token", message }));
      return;
    }
    // Who, for the audit: the credential's name.
    _res.locals.admin = admin;
    next();
  };
}
