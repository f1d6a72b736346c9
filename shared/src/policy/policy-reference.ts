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
  /** The schema node: a leaf (no properties, items or map values) needs an example. */
  leaf: boolean;
}

/**
 * Examples for the fields the sample policy does not use (the others take the sample's value, so an
 * example is always something the broker accepts; a test puts each of these into the sample and
 * parses it).
 */
export const FIELD_EXAMPLES: Readonly<Record<string, unknown>> = {
  "models.<name>.route[].sessionName": "tollgate-platform",
  "models.<name>.route[].weight": 3,
  "models.<name>.contextFallbacks": ["claude-sonnet-4"],
  "models.<name>.contextFallbacks[]": "claude-sonnet-4",
  "models.<name>.timeouts.responseMs": 300000,
  "models.<name>.cooldown.initialMs": 5000,
  "models.<name>.cooldown.maxMs": 300000,
  "models.<name>.pricing.input": 3,
  "models.<name>.pricing.output": 15,
  "models.<name>.pricing.cacheRead": 0.3,
  "models.<name>.pricing.cacheWrite": 3.75,
  "models.<name>.contextWindow": 200000,
  "users.<name>.keys": ["sha256:<hex SHA-256 of the key, from tollgate key create>"],
  "users.<name>.keys[]": "sha256:<hex SHA-256 of the key, from tollgate key create>",
  "users.<name>.disabled": true,
  "telemetry.exporters.<name>.headers.<name>": "tollgate-broker",
};

/** Fields whose example cannot be a working value: a key hash in the docs would be a key someone has. */
export const ILLUSTRATIVE_EXAMPLES: ReadonlySet<string> = new Set(["users.<name>.keys", "users.<name>.keys[]"]);

/** Every value at a reference path in a document ("<name>": each map entry, "[]": each item). */
export function valuesAtPath(document: unknown, path: string): unknown[] {
  let values: unknown[] = [document];
  for (const segment of path.split(".")) {
    const name = segment.replace(/\[\]$/, "");
    const next: unknown[] = [];
    for (const value of values) {
      if (!value || typeof value !== "object" || Array.isArray(value)) continue;
      const record = value as Record<string, unknown>;
      next.push(...(name === "<name>" ? Object.values(record) : name in record ? [record[name]] : []));
    }
    values = segment.endsWith("[]") ? next.flatMap((value) => (Array.isArray(value) ? value : [])) : next;
  }
  return values;
}

/** Worth showing: not an empty list, not an object (the sample shows those whole). */
function showable(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every((item) => item === null || typeof item !== "object");
  return value !== undefined && (value === null || typeof value !== "object");
}

// Limits have one shape wherever they appear: a field the sample sets in one limits object is an
// example for the same field in the others.
const LIMITS_OBJECTS = ["teams.<name>.limits", "teams.<name>.modelLimits.<name>", "users.<name>.limits", "defaults.userLimits", "defaults.teamLimits"];

// Secrets by reference too: {"env": …} or {"file": …} wherever one is asked for.
const SECRET_REFS = ["telemetry.exporters.<name>.secretKey", "telemetry.exporters.<name>.auth.bearer", "telemetry.exporters.<name>.headers.<name>"];

function sampleValue(sample: unknown, path: string): unknown {
  const exact = valuesAtPath(sample, path).find(showable);
  if (exact !== undefined) return exact;
  const secret = SECRET_REFS.find((prefix) => path === `${prefix}.env` || path === `${prefix}.file`);
  if (secret) return SECRET_REFS.flatMap((prefix) => valuesAtPath(sample, `${prefix}.${path.slice(secret.length + 1)}`)).find(showable);
  const limits = LIMITS_OBJECTS.find((prefix) => path.startsWith(`${prefix}.`) && !path.slice(prefix.length + 1).includes("."));
  if (!limits) return undefined;
  const field = path.slice(limits.length + 1);
  return LIMITS_OBJECTS.flatMap((prefix) => valuesAtPath(sample, `${prefix}.${field}`)).find(showable);
}

function exampleFor(row: Row, sample: unknown): string {
  if (!row.leaf) return "";
  const fromSample = sampleValue(sample, row.path);
  const value = fromSample !== undefined ? fromSample : FIELD_EXAMPLES[row.path];
  if (value === undefined) return "";
  const text = Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(", ")}]` : JSON.stringify(value);
  return `\`${text}\``;
}

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(typeOf).join(" or ");
  if (Array.isArray(schema.oneOf)) return (schema.oneOf as Schema[]).map(typeOf).join(" or ");
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
  const options0 = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]) : Array.isArray(schema.oneOf) ? (schema.oneOf as Schema[]) : [schema];
  const holdsFields = (option: Schema): boolean => option.type === "object" && Boolean(option.properties || (option.additionalProperties && typeof option.additionalProperties === "object"));
  const leaf = options0.every((option) => !holdsFields(option) && !(option.type === "array" && holdsFields((option.items as Schema | undefined) ?? {})));
  if (path !== "") rows.push({ path, type: typeOf(schema), required, description: String(schema.description ?? ""), rules: rulesOf(schema), leaf });
  for (const option of options0) {
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

export interface ReferenceRow {
  path: string;
  leaf: boolean;
  example: string;
}

function referenceRows(schema: Schema, sample: unknown): Array<Row & { example: string }> {
  const rows: Row[] = [];
  walk(schema, "", true, rows);
  // The same path can appear from several anyOf branches: keep the first.
  const seen = new Set<string>();
  // …except that the branches' types add up (an exporter's `type` is "langfuse", "mlflow" or "otlp").
  const types = new Map<string, string[]>();
  const descriptions = new Map<string, string[]>();
  for (const row of rows) {
    types.set(row.path, [...new Set([...(types.get(row.path) ?? []), row.type])]);
    descriptions.set(row.path, [...new Set([...(descriptions.get(row.path) ?? []), row.description].filter(Boolean))]);
  }
  return rows.filter((row) => (seen.has(row.path) ? false : (seen.add(row.path), true))).map((row) => ({ ...row, type: types.get(row.path)!.join(" or "), description: descriptions.get(row.path)!.join(" · ") })).map((row) => ({ ...row, example: exampleFor(row, sample) }));
}

/** Each field's path, whether it is a leaf, and the example the reference shows. */
export function policyReferenceRows(sample: unknown, schema: Schema = policyJsonSchema()): ReferenceRow[] {
  return referenceRows(schema, sample).map(({ path, leaf, example }) => ({ path, leaf, example }));
}

/** docs/policy.md; `sample` is shared/examples/policy.sample.json, whose values are the examples. */
export function renderPolicyReference(sample: unknown, schema: Schema = policyJsonSchema()): string {
  const unique = referenceRows(schema, sample);
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
    "[shared/examples/policy.sample.json](../shared/examples/policy.sample.json); the examples below are",
    "its values where it uses the field.",
    "",
    "| field | type | required | meaning | rules | example |",
    "|---|---|---|---|---|---|",
    ...unique.map((row) => `| \`${row.path}\` | ${cell(row.type)} | ${row.required ? "yes" : ""} | ${cell(row.description)} | ${cell(row.rules.join("; "))} | ${cell(row.example)} |`),
    "",
  ].join("\n");
}
