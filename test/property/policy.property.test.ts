// The policy validator on generated, mutated and arbitrary policies: it never throws; every problem
// points at a JSON path that exists in the input (or names a key missing from an object that does);
// valid policies round-trip through their validated source unchanged.
import { readFileSync } from "node:fs";
import { parsePolicy, parsePolicyJson, type PolicyProblem } from "@tollgate/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accessPolicy, keyHash, MODEL_IDS } from "../../shared/src/policy/test-builders.js";
import { REPO_ROOT } from "../support/broker-process.js";
import { caseTally, mutate, mutationArb, runs, type JsonPath } from "./support.js";

const count = caseTally("policy");

const SAMPLE = JSON.parse(readFileSync(`${REPO_ROOT}/shared/examples/policy.sample.json`, "utf8")) as Record<string, unknown>;

const nonNegativeUsd = fc.double({ min: 0, max: 1e6, noNaN: true }).map((usd) => usd + 0); // + 0: no -0 in JSON
const limits = fc.record(
  { rpm: fc.nat(10_000), tpm: fc.nat(10_000_000), concurrent: fc.nat(500), dailyUsd: nonNegativeUsd, monthlyUsd: nonNegativeUsd },
  { requiredKeys: [] },
);

/** A valid policy: catalogue models, teams allowed some of them, users with unique key hashes. */
const validPolicy: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    models: fc.subarray(Object.keys(MODEL_IDS) as Array<keyof typeof MODEL_IDS>, { minLength: 1 }),
    caching: fc.array(fc.option(fc.boolean(), { nil: undefined }), { minLength: 4, maxLength: 4 }),
    efforts: fc.array(fc.option(fc.constantFrom("none", "low", "medium", "high"), { nil: undefined }), { minLength: 4, maxLength: 4 }),
    teams: fc.uniqueArray(fc.constantFrom("platform", "research", "ops.team", "qa-1"), { minLength: 1, maxLength: 3 }),
    teamModels: fc.array(fc.option(fc.subarray([0, 1, 2, 3]), { nil: undefined }), { minLength: 4, maxLength: 4 }),
    teamLimits: fc.array(fc.option(limits, { nil: undefined }), { minLength: 4, maxLength: 4 }),
    modelLimits: fc.array(fc.option(limits, { nil: undefined }), { minLength: 4, maxLength: 4 }),
    users: fc.uniqueArray(fc.constantFrom("alice", "bob", "carol", "dave.o", "eve@corp"), { maxLength: 5 }),
    userTeams: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
    userKeys: fc.array(fc.nat(3), { minLength: 5, maxLength: 5 }),
    userNarrow: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    userLimits: fc.array(fc.option(limits, { nil: undefined }), { minLength: 5, maxLength: 5 }),
    disabled: fc.array(fc.option(fc.boolean(), { nil: undefined }), { minLength: 5, maxLength: 5 }),
    defaults: fc.option(fc.record({ userLimits: limits, teamLimits: limits }, { requiredKeys: [] }), { nil: undefined }),
    timezone: fc.option(fc.constantFrom("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"), { nil: undefined }),
  })
  .map((g) => {
    const models: Record<string, unknown> = {};
    g.models.forEach((name, index) => {
      const entry: Record<string, unknown> = { route: [{ id: "main", modelId: MODEL_IDS[name], region: "us-east-1" }] };
      if (g.caching[index] !== undefined) entry.promptCaching = { enabled: g.caching[index] };
      if (name.startsWith("claude") && g.efforts[index] !== undefined) entry.reasoning = { defaultEffort: g.efforts[index] };
      models[name] = entry;
    });
    const teams: Record<string, Record<string, unknown>> = {};
    const allowedByTeam = new Map<string, string[]>();
    g.teams.forEach((team, index) => {
      const picked = g.teamModels[index];
      const allowed = picked === undefined ? g.models : [...new Set(picked.map((i) => g.models[i % g.models.length] as string))];
      allowedByTeam.set(team, allowed);
      const entry: Record<string, unknown> = { models: picked === undefined ? ["*"] : allowed };
      if (g.teamLimits[index] !== undefined) entry.limits = g.teamLimits[index];
      const limited = g.modelLimits[index];
      if (limited !== undefined && g.models[0] !== undefined) entry.modelLimits = { [g.models[0]]: limited };
      teams[team] = entry;
    });
    const users: Record<string, unknown> = {};
    g.users.forEach((user, index) => {
      const team = g.teams[(g.userTeams[index] ?? 0) % g.teams.length] as string;
      const entry: Record<string, unknown> = { team, keys: Array.from({ length: g.userKeys[index] ?? 0 }, (_, k) => keyHash(`${user}-${k}`)) };
      const allowed = allowedByTeam.get(team) ?? [];
      if (g.userNarrow[index] && allowed.length > 0) entry.models = allowed.slice(0, 1);
      if (g.userLimits[index] !== undefined) entry.limits = g.userLimits[index];
      if (g.disabled[index] !== undefined) entry.disabled = g.disabled[index];
      users[user] = entry;
    });
    const policy: Record<string, unknown> = { models, teams, users };
    if (g.defaults !== undefined) policy.defaults = g.defaults;
    if (g.timezone !== undefined) policy.timezone = g.timezone;
    return policy;
  });

const policyArb = fc.oneof({ arbitrary: validPolicy, weight: 4 }, fc.constant(SAMPLE), fc.constant(accessPolicy()));

/** `models["claude-3.7"].route[0].id` → `["models", "claude-3.7", "route", 0, "id"]`; `(root)` → `[]`. */
function parseProblemPath(text: string): JsonPath {
  if (text === "(root)") return [];
  const path: JsonPath = [];
  let rest = text;
  while (rest.length > 0) {
    const match =
      (path.length === 0 ? /^([A-Za-z_][A-Za-z0-9_-]*)/.exec(rest) : /^\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(rest)) ??
      /^\[(\d+)\]/.exec(rest) ??
      /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    if (!match?.[1]) throw new Error(`problem path ${JSON.stringify(text)} does not parse at ${JSON.stringify(rest)}`);
    const token = match[1];
    path.push(token.startsWith('"') ? (JSON.parse(token) as string) : /^\d+$/.test(token) && match[0].startsWith("[") ? Number(token) : token);
    rest = rest.slice(match[0].length);
  }
  return path;
}

/** The path leads to a value of `input`, or its last key is missing from an object that exists. */
function expectPathInInput(input: unknown, problem: PolicyProblem): void {
  const path = parseProblemPath(problem.path);
  let node: unknown = input;
  for (const [index, segment] of path.entries()) {
    const isLast = index === path.length - 1;
    const container = node !== null && typeof node === "object" ? (node as Record<string | number, unknown>) : undefined;
    if (container === undefined) throw new Error(`problem ${problem.path}: "${String(segment)}" is below a non-object value`);
    if (!Object.hasOwn(container, segment)) {
      if (isLast && !Array.isArray(container)) return; // names a missing key, e.g. "is required"
      throw new Error(`problem ${problem.path} (${problem.message}): "${String(segment)}" is not in the input`);
    }
    node = container[segment];
  }
}

function checkResult(input: unknown, kind: string): void {
  const result = parsePolicy(input);
  count(`${kind} (${result.ok ? "valid" : "refused"})`);
  if (result.ok) return;
  expect(result.problems.length).toBeGreaterThan(0);
  for (const problem of result.problems) {
    expect(problem.message.length).toBeGreaterThan(0);
    expectPathInInput(input, problem);
  }
}

describe("the policy validator", () => {
  it("accepts valid policies, and their validated source round-trips to the same policy", () => {
    fc.assert(
      fc.property(policyArb, (input) => {
        count("valid policies");
        const first = parsePolicy(input);
        if (!first.ok) throw new Error(`refused a valid policy: ${JSON.stringify(first.problems)}`);
        expect(first.policy.source).toEqual(input);
        const again = parsePolicy(JSON.parse(JSON.stringify(first.policy.source)));
        if (!again.ok) throw new Error(`refused its own source: ${JSON.stringify(again.problems)}`);
        expect(again.policy).toEqual(first.policy);
      }),
      { numRuns: runs(200) },
    );
  });

  it("never throws on mutated policies, and every problem points into the input", () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 3 }), (policy, mutations) => {
        let input: unknown = policy;
        for (const [pick, mutation] of mutations) input = mutate(input, pick, mutation);
        checkResult(input, "mutated policies");
      }),
      { numRuns: runs(600) },
    );
  });

  it("never throws on arbitrary JSON, and every problem points into the input", () => {
    const nearPolicy = fc.record(
      { models: fc.jsonValue({ maxDepth: 4 }), teams: fc.jsonValue({ maxDepth: 4 }), users: fc.jsonValue({ maxDepth: 4 }), defaults: fc.jsonValue({ maxDepth: 3 }), timezone: fc.jsonValue({ maxDepth: 1 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), nearPolicy), (input) => checkResult(input, "arbitrary JSON")),
      { numRuns: runs(400) },
    );
  });

  it("reports text that is not JSON at (root), never throwing", () => {
    const text = JSON.stringify(SAMPLE, null, 2);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.nat(text.length), fc.nat(20), fc.string({ maxLength: 3 })).map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut))), (candidate) => {
        const result = parsePolicyJson(candidate);
        let document: unknown;
        try {
          document = JSON.parse(candidate.replace(/^\uFEFF/, ""));
        } catch {
          count("policy texts (not JSON)");
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.problems).toEqual([{ path: "(root)", message: expect.stringMatching(/^invalid JSON/) }]);
          return;
        }
        count("policy texts (JSON)");
        if (!result.ok) for (const problem of result.problems) expectPathInInput(document, problem);
      }),
      { numRuns: runs(300) },
    );
  });
});
