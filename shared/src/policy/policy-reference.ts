// docs/policy.md: every field of the policy document, rendered from its JSON Schema (itself generated
// from the zod schema), so the reference can't drift from what the broker accepts. `npm run schema`
// writes both; a test fails when either is stale.
import { policyJsonSchema } from "./json-schema.js";

type Schema = Record<string, unknown>;

interface Row {
  path: string;
  type: string;
  required: boolean;
  description: string;
  rules: string[];
}

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(typeOf).join(" or ");
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((value) => JSON.stringify(value)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === "array") return `array of ${typeOf((schema.items as Schema | undefined) ?? {})}`;
  if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") return "map";
  return typeof schema.type === "string" ? schema.type : "any";
}

function rulesOf(schema: Schema): string[] {
  const rules: string[] = [];
  if (typeof schema.pattern === "string") rules.push(`pattern \`${schema.pattern}\``);
  for (const [key, label] of [["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"], ["minItems", "at least N items:"], ["maxItems", "at most N items:"], ["minLength", "length ≥"], ["maxLength", "length ≤"]] as const) {
    const value = schema[key];
    if (typeof value === "number") rules.push(label.includes("N") ? label.replace("N", String(value)).replace(":", "") : `${label} ${value}`);
  }
  if (schema.default !== undefined) rules.push(`default \`${JSON.stringify(schema.default)}\``);
  const names = schema.propertyNames as Schema | undefined;
  if (names && typeof names.pattern === "string") rules.push(`names match \`${names.pattern}\``);
  return rules;
}

function walk(schema: Schema, path: string, required: boolean, rows: Row[]): void {
  if (path !== "") rows.push({ path, type: typeOf(schema), required, description: String(schema.description ?? ""), rules: rulesOf(schema) });
  const options = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]) : [schema];
  for (const option of options) {
    if (option.type === "object" && option.properties) {
      const requiredNames = new Set((option.required as string[] | undefined) ?? []);
      for (const [name, child] of Object.entries(option.properties as Record<string, Schema>)) {
        if (name === "$schema") continue;
        walk(child, path === "" ? name : `${path}.${name}`, requiredNames.has(name), rows);
      }
    }
    if (option.type === "object" && option.additionalProperties && typeof option.additionalProperties === "object") {
      walk(option.additionalProperties as Schema, `${path}.<name>`, false, rows);
    }
    if (option.type === "array" && option.items) walk(option.items as Schema, `${path}[]`, false, rows);
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderPolicyReference(schema: Schema = policyJsonSchema()): string {
  const rows: Row[] = [];
  walk(schema, "", true, rows);
  // The same path can appear from several anyOf branches: keep the first.
  const seen = new Set<string>();
  const unique = rows.filter((row) => (seen.has(row.path) ? false : (seen.add(row.path), true)));
  return [
    "# Policy reference",
    "",
    "<!-- Generated from the policy schema (shared/src/policy) by `npm run schema`; edit the schema, not this file. -->",
    "",
    String(schema.description ?? ""),
    "",
    "Every field of the policy document. `<name>` stands for a key you choose (a model, team or user name);",
    "`[]` for each item of a list. `tollgate policy validate FILE` checks a file against exactly these rules",
    "(and the cross-field ones the broker adds, each reported with its JSON path). The machine-readable",
    "form is [shared/policy.schema.json](../shared/policy.schema.json); an example is",
    "[shared/examples/policy.sample.json](../shared/examples/policy.sample.json).",
    "",
    "| field | type | required | meaning | rules |",
    "|---|---|---|---|---|",
    ...unique.map((row) => `| \`${row.path}\` | ${cell(row.type)} | ${row.required ? "yes" : ""} | ${cell(row.description)} | ${cell(row.rules.join("; "))} |`),
    "",
  ].join("\n");
}
