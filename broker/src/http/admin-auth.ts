// The admin API accepts only the admin token; user keys are refused here (and the admin token is
// refused on the user API, because it is never in the policy's key index).
import type { NextFunction, Request, Response } from "express";
import type { AdminToken } from "../auth/admin-token.js";
import { bearerToken } from "../auth/bearer.js";
import { ApiError } from "../errors.js";

export function requireAdmin(token: AdminToken | undefined) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!token) {
      next(new ApiError({ status: 403, type: "permission_error", code: "admin_api_disabled", message: "The admin API is disabled: start the broker with --admin-token-file FILE or TOLLGATE_ADMIN_TOKEN." }));
      return;
    }
    if (!token.matches(bearerToken(req.headers.authorization, undefined))) {
      next(new ApiError({ status: 401, type: "authentication_error", code: "invalid_admin_token", message: "The admin API needs the admin token as `Authorization: Bearer <token>`; user keys are not accepted here." }));
      return;
    }
    next();
  };
}
