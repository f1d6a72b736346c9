// A valid policy can still lock everyone out: no users, or none with a key that isn't revoked. Every
// request would then get 401. Admins are told before it serves (validate warns; push wants --force).
import type { Policy } from "./types.js";

/** Why no request could be admitted under `policy`, or undefined when someone can sign in. */
export function lockoutWarning(policy: Policy): string | undefined {
  const signedIn = new Set([...policy.userByKeyHash.values()].filter((name) => policy.users.get(name)?.disabled === false));
  if (signedIn.size > 0) return undefined;
  if (policy.users.size === 0) return "users: the policy has no users, so every request will be refused (401 invalid_api_key)";
  return "users: no user has a key that isn't revoked, so every request will be refused (401 invalid_api_key)";
}
