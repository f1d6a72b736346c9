import { z } from "zod";
import { policyFileSchema } from "./schema.js";

/** JSON Schema of the policy file, for editors (committed as shared/policy.schema.json). */
export function policyJsonSchema(): Record<string, unknown> {
  // "input": the schema describes what an admin writes, before any parsing.
  return z.toJSONSchema(policyFileSchema, { io: "input" });
}

/** The exact text of shared/policy.schema.json; `npm run schema` writes it, a test compares it. */
export function renderPolicySchemaJson(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
