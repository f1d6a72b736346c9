import { describe, expect, it } from "vitest";
import { DEFAULT_COOLDOWN, DEFAULT_TIMEOUTS } from "./schema.js";
import { accessPolicy, allModels, MODEL_IDS, model, onlyProblem, parsed, problemsOf } from "./test-builders.js";

const ROLE = "arn:aws:iam::222222222222:role/bedrock-invoke";

function withSonnet(fields: Record<string, unknown>) {
  return accessPolicy({ models: { ...allModels(), "claude-sonnet-4": model("claude-sonnet-4", fields) } });
}

const twoDeployments = [
  { id: "acct-a-use1", modelId: MODEL_IDS["claude-sonnet-4"], region: "us-east-1" },
  { id: "acct-b-usw2", modelId: MODEL_IDS["claude-sonnet-4"], region: "us-west-2", roleArn: ROLE, externalId: "org-7", sessionName: "tg-broker" },
];

describe("policy: routing", () => {
  it("resolves the issue's example: roles, strategy, fallbacks and timeouts", () => {
    const policy = parsed(
      withSonnet({
        route: twoDeployments,
        strategy: "ordered",
        fallbacks: ["claude-haiku-4-5"],
        contextFallbacks: ["nova-pro"],
        timeouts: { firstTokenMs: 30_000, idleMs: 60_000 },
      }),
    );
    const sonnet = policy.models.get("claude-sonnet-4");
    expect(sonnet?.route[0]).toMatchObject({ id: "acct-a-use1", weight: 1 });
    expect(sonnet?.route[0]?.role).toBeUndefined();
    expect(sonnet?.route[1]?.role).toEqual({ arn: ROLE, externalId: "org-7", sessionName: "tg-broker" });
    expect(sonnet?.routing).toEqual({
      strategy: "ordered",
      fallbacks: ["claude-haiku-4-5"],
      contextFallbacks: ["nova-pro"],
      timeouts: { firstTokenMs: 30_000, idleMs: 60_000, responseMs: DEFAULT_TIMEOUTS.responseMs },
      cooldown: DEFAULT_COOLDOWN,
    });
  });

  it("defaults: ordered, no fallbacks, default timeouts, session name tollgate", () => {
    const policy = parsed(withSonnet({ route: [{ ...twoDeployments[1], externalId: undefined, sessionName: undefined }] }));
    const sonnet = policy.models.get("claude-sonnet-4");
    expect(sonnet?.routing).toEqual({ strategy: "ordered", fallbacks: [], contextFallbacks: [], timeouts: DEFAULT_TIMEOUTS, cooldown: DEFAULT_COOLDOWN });
    expect(sonnet?.route[0]?.role).toEqual({ arn: ROLE, sessionName: "tollgate" });
  });

  it("weights apply under the weighted strategy and are refused elsewhere", () => {
    const weighted = twoDeployments.map((d, i) => ({ ...d, weight: i === 0 ? 3 : 1 }));
    expect(parsed(withSonnet({ route: weighted, strategy: "weighted" })).models.get("claude-sonnet-4")?.route.map((d) => d.weight)).toEqual([3, 1]);
    expect(onlyProblem(withSonnet({ route: [{ ...twoDeployments[0], weight: 2 }], strategy: "least-busy" }))).toEqual({
      path: "models.claude-sonnet-4.route[0].weight",
      message: 'only applies with "strategy": "weighted"',
    });
  });

  it("refuses an unknown strategy, a malformed role ARN, and role fields without a role", () => {
    const problems = problemsOf(
      withSonnet({
        strategy: "round-robin",
        route: [
          { id: "a", modelId: MODEL_IDS["claude-sonnet-4"], region: "us-east-1", roleArn: "arn:aws:iam::12:role/x" },
          { id: "b", modelId: MODEL_IDS["claude-sonnet-4"], region: "us-east-1", externalId: "org-7" },
        ],
      }),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "models.claude-sonnet-4.strategy",
        "models.claude-sonnet-4.route[0].roleArn",
        "models.claude-sonnet-4.route[1].externalId",
      ]),
    );
    expect(problems.find((p) => p.path.endsWith("route[1].externalId"))?.message).toMatch(/only applies with roleArn/);
  });

  it("fallbacks must name other models of the policy, once each", () => {
    const problems = problemsOf(
      withSonnet({ fallbacks: ["claude-sonnet-4", "nova-pro", "nova-pro", "gpt-9"], contextFallbacks: ["missing-1m"] }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: "models.claude-sonnet-4.fallbacks[0]", message: '"claude-sonnet-4" is this model itself; list other models' },
        { path: "models.claude-sonnet-4.fallbacks[2]", message: '"nova-pro" is listed twice' },
        { path: "models.claude-sonnet-4.fallbacks[3]", message: 'no model "gpt-9" in this policy' },
        { path: "models.claude-sonnet-4.contextFallbacks[0]", message: 'no model "missing-1m" in this policy' },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it("timeouts and cool-downs must be positive whole milliseconds", () => {
    const problems = problemsOf(withSonnet({ timeouts: { firstTokenMs: 0, idleMs: 1.5 }, cooldown: { maxMs: -1 } }));
    expect(problems.map((p) => p.path).sort()).toEqual([
      "models.claude-sonnet-4.cooldown.maxMs",
      "models.claude-sonnet-4.timeouts.firstTokenMs",
      "models.claude-sonnet-4.timeouts.idleMs",
    ]);
  });
});
