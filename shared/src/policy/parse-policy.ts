import { asRecord } from "./draft.js";
import { formatJsonPath } from "./json-path.js";
import { resolveModel } from "./resolve-model.js";
import { MODEL_NAME_PATTERN, modelEntrySchema, policyFileSchema } from "./schema.js";
import type { ModelPolicy, PolicyParseResult, PolicyProblem } from "./types.js";
import { issuesToProblems, policyErrorMap, type RawProblem } from "./zod-problems.js";

/**
 * Validates a policy document and resolves it into the runtime shape. Reports every problem it can
 * find, structural (zod) and semantic (catalogue), each with the JSON path it concerns.
 */
export function parsePolicy(input: unknown): PolicyParseResult {
  const parsed = policyFileSchema.safeParse(input, { error: policyErrorMap });
  const problems: RawProblem[] = parsed.success ? [] : issuesToProblems(parsed.error.issues, policyFileSchema);

  const models = new Map<string, ModelPolicy>();
  const modelsValue = asRecord(input).models;
  const rawModels = asRecord(modelsValue);
  for (const [name, rawModel] of Object.entries(rawModels)) {
    if (!MODEL_NAME_PATTERN.test(name)) {
      // zod skips the value of a record entry whose key is invalid; check it anyway.
      const entry = modelEntrySchema.safeParse(rawModel, { error: policyErrorMap });
      if (!entry.success) problems.push(...prefixed(["models", name], issuesToProblems(entry.error.issues, modelEntrySchema)));
    }
    const resolution = resolveModel(name, rawModel);
    problems.push(...resolution.problems);
    if (resolution.model) models.set(name, resolution.model);
  }
  if (rawModels === modelsValue && Object.keys(rawModels).length === 0) {
    problems.push({ path: ["models"], message: "must define at least one model" });
  }

  if (!parsed.success || problems.length > 0) return { ok: false, problems: problems.map(formatProblem) };
  return { ok: true, policy: { models, source: parsed.data } };
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
  return parsePolicy(document);
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
  const offset = position !== undefined ? Number(position) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return `invalid JSON: ${reason}`;
  const { line, column } = lineAndColumn(text, offset);
  return `invalid JSON at line ${line}, column ${column}: ${reason}`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
