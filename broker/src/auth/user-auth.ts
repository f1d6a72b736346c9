// Who is calling: a user key → its SHA-256 → the policy's key index. Keys are never stored or logged;
// the lookup is by digest, so response timing depends on the digest, not on the key's bytes.
import type { NextFunction, Request, Response } from "express";
import { hashApiKey, keyChecksum, type UserPolicy } from "@tollgate/shared";
import { ApiError, invalidRequest } from "../errors.js";
import type { PolicyStore } from "../policy/policy-store.js";
import { bearerToken } from "./bearer.js";

export interface Identity {
  user: UserPolicy;
  project: string | null;
}

declare module "express-serve-static-core" {
  interface Locals {
    identity?: Identity;
  }
}

const PROJECT = /^[\w.@:/ -]{1,128}$/;

export function invalidApiKey(message: string): ApiError {
  return new ApiError({ status: 401, type: "authentication_error", code: "invalid_api_key", message });
}

export function requireUser(policy: PolicyStore) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = bearerToken(req.headers.authorization, req.headers["x-api-key"]);
    if (!key) {
      next(invalidApiKey("No API key: send your Tollgate key as `Authorization: Bearer <key>`. Your Tollgate admin creates keys with `tollgate key create`."));
      return;
    }
    if (keyChecksum(key) === "mistyped") {
      next(invalidApiKey("This Tollgate key is mistyped: its last 6 characters are a checksum of the rest, and they do not match. Copy the key again from where you were given it."));
      return;
    }
    const current = policy.current();
    const hash = hashApiKey(key);
    const name = current.userByKeyHash.get(hash);
    const user = name === undefined ? undefined : current.users.get(name);
    if (!user || user.disabled) {
      // For the refusal log: whose revoked key it was, or which unknown key (a prefix of its digest).
      if (user) res.locals.keyOwner = { user: user.name, team: user.team };
      else res.locals.keyHashPrefix = hash.slice(0, 12);
      next(invalidApiKey("This API key is not valid on this Tollgate broker (unknown or revoked). Ask your Tollgate admin for a new key."));
      return;
    }
    const header = req.headers["x-tollgate-project"];
    const project = typeof header === "string" && header.trim() !== "" ? header.trim() : null;
    // A project the ledger can't record is refused, not silently dropped (its spend would go unattributed).
    if (project !== null && !PROJECT.test(project)) {
      next(invalidRequest(`The x-tollgate-project header must be 1-128 letters, digits, spaces or . _ @ : / - characters; got ${JSON.stringify(project.slice(0, 40))}.`, "x-tollgate-project", "invalid_project"));
      return;
    }
    res.locals.identity = { user, project };
    next();
  };
}
