import type { z } from "zod";
import { checkAccess } from "./access-checks.js";
import { TEAM_NAME_PATTERN, teamEntrySchema, USER_NAME_PATTERN, userEntrySchema } from "./access-schema.js";
import { asRecord } from "./draft.js";
import { formatJsonPath } from "./json-path.js";
import { resolveAccess } from "./resolve-access.js";
import { resolveModel } from "./resolve-model.js";
import { MODEL_NAME_PATTERN, modelEntrySchema, policyFileSchema } from "./schema.js";
import { parse as parseJsonc, type ParseError } from "jsonc-parser";
import { duplicateKeyProblems } from "./duplicate-keys.js";
import type { ModelPolicy, PolicyParseResult, PolicyProblem } from "./types.js";
import { issuesToProblems, policyErrorMap, type RawProblem } from "./zod-problems.js";

/** The named collections of the file: zod skips the value of an entry whose name is invalid. */
const NAMED_ENTRIES: readonly { field: string; pattern: RegExp; schema: z.ZodType }[] = [
  { field: "models", pattern: MODEL_NAME_PATTERN, schema: modelEntrySchema },
  { field: "teams", pattern: TEAM_NAME_PATTERN, schema: teamEntrySchema },
  { field: "users", pattern: USER_NAME_PATTERN, schema: userEntrySchema },
];

/**
 * Validates a policy document and resolves it into the runtime shape. Reports every problem it can
 * find, structural (zod) and semantic (catalogue, references between models, teams and users), each
 * with the JSON path it concerns.
 */
export function parsePolicy(input: unknown): PolicyParseResult {
  const parsed = policyFileSchema.safeParse(input, { error: policyErrorMap });
  const problems: RawProblem[] = parsed.success ? [] : issuesToProblems(parsed.error.issues, policyFileSchema);

  const root = asRecord(input);
  for (const { field, pattern, schema } of NAMED_ENTRIES) {
    for (const [name, raw] of Object.entries(asRecord(root[field]))) {
      if (pattern.test(name)) continue;
      // Check the entry behind an invalid name anyway, so every problem shows at once.
      const entry = schema.safeParse(raw, { error: policyErrorMap });
      if (!entry.success) problems.push(...prefixed([field, name], issuesToProblems(entry.error.issues, schema)));
    }
  }

  const models = new Map<string, ModelPolicy>();
  const modelsValue = root.models;
  const rawModels = asRecord(modelsValue);
  for (const [name, rawModel] of Object.entries(rawModels)) {
    const resolution = resolveModel(name, rawModel);
    problems.push(...resolution.problems);
    if (resolution.model) models.set(name, resolution.model);
  }
  if (rawModels === modelsValue && Object.keys(rawModels).length === 0) {
    problems.push({ path: ["models"], message: "must define at least one model" });
  }

  problems.push(...checkFallbackTargets(rawModels));
  problems.push(...checkAccess(input));

  if (!parsed.success || problems.length > 0) return { ok: false, problems: problems.map(formatProblem) };
  return { ok: true, policy: { models, source: parsed.data, ...resolveAccess(parsed.data) } };
}

/** Parses JSON text, reporting a syntax error as a problem at `(root)` with line and column. */
export function parsePolicyJson(text: string): PolicyParseResult {
  const withoutBom = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let document: unknown;
  try {
    document = JSON.parse(withoutBom);
  } catch (error) {
    return { ok: false, problems: [{ path: "(root)", message: describeSyntaxError(error, withoutBom) }] };
  }
  const duplicates = duplicateKeyProblems(withoutBom);
  const parsed = parsePolicy(document);
  if (duplicates.length === 0) return parsed;
  return { ok: false, problems: [...duplicates, ...(parsed.ok ? [] : parsed.problems)] };
}

/** One `json.path: message` line per problem. */
export function formatPolicyProblems(problems: readonly PolicyProblem[]): string[] {
  return problems.map((problem) => `${problem.path}: ${problem.message}`);
}

function formatProblem(problem: RawProblem): PolicyProblem {
  return { path: formatJsonPath(problem.path), message: problem.message };
}

function prefixed(prefix: RawProblem["path"], problems: readonly RawProblem[]): RawProblem[] {
  return problems.map((problem) => ({ path: [...prefix, ...problem.path], message: problem.message }));
}

function describeSyntaxError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 quotes the offending input after the message ("Unexpected token 'x', "{…}" is not valid JSON");
  // drop the quote, the file is right there.
  const reason = message.replace(/, ".*" is not valid JSON$/s, "").replace(/ (?:in JSON )?at position \d+.*$/s, "");
  const position = /at position (\d+)/.exec(message)?.[1];
  // V8 names a position for some errors only; jsonc-parser finds the first error's offset for all.
  const offset = position !== undefined ? Number(position) : /end of JSON input/.test(message) ? text.length : firstSyntaxErrorOffset(text);
  if (offset === undefined) return `invalid JSON: ${reason}`;
  const { line, column } = lineAndColumn(text, offset);
  return `invalid JSON at line ${line}, column ${column}: ${reason}`;
}

function firstSyntaxErrorOffset(text: string): number | undefined {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors[0]?.offset;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Every fallback names a model of this policy. */
function checkFallbackTargets(rawModels: Record<string, unknown>): RawProblem[] {
  const problems: RawProblem[] = [];
  for (const [name, rawModel] of Object.entries(rawModels)) {
    const fields = asRecord(rawModel);
    for (const field of ["fallbacks", "contextFallbacks"] as const) {
      const list = fields[field];
      if (!Array.isArray(list)) continue;
      list.forEach((target: unknown, index) => {
        if (typeof target === "string" && target !== name && !Object.hasOwn(rawModels, target)) {
          problems.push({ path: ["models", name, field, index], message: `no model "${target}" in this policy` });
        }
      });
    }
  }
  return problems;
}
