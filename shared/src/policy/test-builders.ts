// Builders for policy tests (not exported from the package): a small valid policy, and helpers to
// vary one thing in it at a time.
import { keyHashEntry } from "./keys.js";
import { formatPolicyProblems, parsePolicy } from "./parse-policy.js";
import type { PolicyFile } from "./schema.js";
import type { Policy, PolicyProblem } from "./types.js";

export type Json = Record<string, unknown>;

export const MODEL_IDS = {
  "claude-sonnet-4": "us.anthropic.claude-sonnet-4-20250514-v1:0",
  "claude-haiku-4-5": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
  "claude-opus-4-1": "us.anthropic.claude-opus-4-1-20250805-v1:0",
  "nova-pro": "us.amazon.nova-pro-v1:0",
} as const;

export type ModelName = keyof typeof MODEL_IDS;

export function model(name: ModelName, fields: Json = {}): Json {
  return { route: [{ id: "main", modelId: MODEL_IDS[name], region: "us-east-1" }], ...fields };
}

export function allModels(): Json {
  return Object.fromEntries(Object.keys(MODEL_IDS).map((name) => [name, model(name as ModelName)]));
}

export function team(fields: Json = {}): Json {
  return { models: ["*"], ...fields };
}

export function user(fields: Json = {}): Json {
  return { team: "platform", keys: [], ...fields };
}

/** The policy file entry of a made-up key: the same seed always gives the same hash. */
export function keyHash(seed: string): string {
  return keyHashEntry(`tg_test_${seed}`);
}

/** Every model, team "platform" (all models) and user "alice" in it; `fields` replace top-level parts. */
export function accessPolicy(fields: Json = {}): Json {
  return {
    models: allModels(),
    teams: { platform: team() },
    users: { alice: user({ keys: [keyHash("alice")] }) },
    ...fields,
  };
}

export function parsed(input: unknown): Policy {
  const result = parsePolicy(input);
  if (!result.ok) throw new Error(`expected a valid policy:\n${formatPolicyProblems(result.problems).join("\n")}`);
  return result.policy;
}

/** The validated file, for diffs. */
export function sourceOf(input: unknown): PolicyFile {
  return parsed(input).source;
}

export function problemsOf(input: unknown): PolicyProblem[] {
  const result = parsePolicy(input);
  if (result.ok) throw new Error("expected the policy to be rejected");
  return result.problems;
}

export function onlyProblem(input: unknown): PolicyProblem {
  const problems = problemsOf(input);
  const [first] = problems;
  if (problems.length !== 1 || first === undefined) {
    throw new Error(`expected exactly one problem, got:\n${formatPolicyProblems(problems).join("\n")}`);
  }
  return first;
}
