// zod at the HTTP boundary: a failed parse becomes a 400 that names the field.
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
