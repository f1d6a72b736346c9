import { describe, expect, it } from "vitest";
import { duplicateKeyProblems } from "./duplicate-keys.js";
import { formatPolicyProblems, parsePolicyJson } from "./parse-policy.js";

const SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const KEY = `sha256:${"a".repeat(64)}`;

describe("repeated keys in a policy document", () => {
  it("names each repeat by its JSON path, with both positions", () => {
    const text = [
      "{",
      '  "timezone": "UTC",',
      `  "models": { "sonnet": { "route": [{ "id": "a", "modelId": "${SONNET}", "region": "us-east-1", "region": "us-west-2" }] } },`,
      '  "teams": { "eng": { "models": ["*"] } },',
      '  "users": {',
      `    "alice": { "team": "eng", "keys": ["${KEY}"] },`,
      `    "alice": { "team": "eng", "keys": [] }`,
      "  },",
      '  "timezone": "Europe/Paris"',
      "}",
    ].join("\n");
    const problems = duplicateKeyProblems(text);
    expect(problems.map((p) => p.path)).toEqual(["models.sonnet.route[0].region", "users.alice", "timezone"]);
    expect(problems[1]!.message).toBe('duplicate key "alice" at line 7, column 5 (first at line 6, column 5); JSON would keep only the last, so remove one');
    expect(problems[2]!.message).toMatch(/at line 9, column 3 \(first at line 2, column 3\)/);
  });

  it("parsePolicyJson refuses the document (JSON.parse alone would keep the last)", () => {
    const text = `{"models": {"sonnet": {"route": [{"id": "a", "modelId": "${SONNET}", "region": "us-east-1"}]}}, "timezone": "UTC", "timezone": "UTC"}`;
    expect(() => JSON.parse(text)).not.toThrow();
    const result = parsePolicyJson(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const [first, second] = [text.indexOf('"timezone"') + 1, text.lastIndexOf('"timezone"') + 1];
    expect(formatPolicyProblems(result.problems)).toEqual([
      `timezone: duplicate key "timezone" at line 1, column ${second} (first at line 1, column ${first}); JSON would keep only the last, so remove one`,
    ]);
  });

  it("allows the same key in different objects, and equal values in arrays", () => {
    const text = '{"a": {"id": 1}, "b": {"id": 2}, "c": [{"id": 1}, {"id": 1}], "d": ["x", "x"]}';
    expect(duplicateKeyProblems(text)).toEqual([]);
  });
});
