// zod at the HTTP boundary: a failed parse becomes a 400 that names the field.
import { isUtf8 } from "node:buffer";
import type { ZodType } from "zod";
import { invalidRequest } from "../errors.js";

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function parseBody<T>(schema: ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalidRequest("The request body must be a JSON object sent with content-type: application/json.", undefined, "invalid_body");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const param = first ? formatPath(first.path) : undefined;
  const described = issues.slice(0, 3).map((issue) => `${formatPath(issue.path) || "(body)"}: ${issue.message}`);
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
  throw invalidRequest(`Invalid request: ${described.join("; ")}${more}.`, param || undefined);
}

/** The `type` of the error `verifyUtf8` throws; error-response.ts answers it with a 400. */
export const INVALID_UTF8 = "body.invalid_utf8";

/**
 * A body-parser `verify` hook: JSON bodies must be valid UTF-8. Without it, invalid bytes are
 * silently replaced with U+FFFD and the mangled text is sent on to Bedrock.
 */
export function verifyUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding !== null && encoding.toLowerCase() !== "utf-8" && encoding.toLowerCase() !== "utf8") return;
  if (!isUtf8(body)) throw Object.assign(new Error("the request body is not valid UTF-8"), { type: INVALID_UTF8 });
}
