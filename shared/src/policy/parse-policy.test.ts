import { describe, expect, it } from "vitest";
import { formatPolicyProblems, parsePolicy, parsePolicyJson } from "./parse-policy.js";
import type { ModelPolicy, PolicyProblem } from "./types.js";

// ---- fixture builders ----------------------------------------------------------------------
type Json = Record<string, unknown>;

const SONNET_4_US = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const SONNET_4_5 = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const NOVA_PRO_US = "us.amazon.nova-pro-v1:0";
const LLAMA_3_3_US = "us.meta.llama3-3-70b-instruct-v1:0";
const APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3";

function deployment(fields: Json = {}): Json {
  return { id: "main", modelId: SONNET_4_US, region: "us-east-1", ...fields };
}

function model(fields: Json = {}): Json {
  return { route: [deployment()], ...fields };
}

function policyWith(models: Json, fields: Json = {}): Json {
  return { models, ...fields };
}

function problemsOf(input: unknown): PolicyProblem[] {
  const result = parsePolicy(input);
  if (result.ok) throw new Error("expected the policy to be rejected");
  return result.problems;
}

function resolved(entry: Json, name = "m"): ModelPolicy {
  const result = parsePolicy(policyWith({ [name]: entry }));
  if (!result.ok) throw new Error(formatPolicyProblems(result.problems).join("\n"));
  const found = result.policy.models.get(name);
  if (!found) throw new Error(`model ${name} missing`);
  return found;
}

function onlyProblem(input: unknown): PolicyProblem {
  const problems = problemsOf(input);
  expect(problems).toHaveLength(1);
  return problems[0] as PolicyProblem;
}

// ---- tests ---------------------------------------------------------------------------------
describe("parsePolicy: structure", () => {
  it("accepts a minimal policy and keeps the source", () => {
    const input = policyWith({ m: model() }, { $schema: "./policy.schema.json" });
    const result = parsePolicy(input);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.policy.source).toEqual(input);
  });

  it("reports unknown fields at any depth, one problem per key, with a hint", () => {
    const input = policyWith(
      {
        m: model({
          contextWindw: 1000,
          route: [deployment({ regoin: "us-east-1" })],
          promptCaching: { enabled: true, ttl: "5m" },
        }),
      },
      { tems: {}, version: 1 },
    );
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([
        { path: "models.m.contextWindw", message: 'unknown field "contextWindw" (did you mean "contextWindow"?)' },
        { path: "models.m.route[0].regoin", message: 'unknown field "regoin" (did you mean "region"?)' },
        { path: "models.m.promptCaching.ttl", message: 'unknown field "ttl"' },
        { path: "tems", message: 'unknown field "tems" (did you mean "teams"?)' },
        { path: "version", message: 'unknown field "version"' },
      ]),
    );
    expect(problemsOf(input)).toHaveLength(5);
  });

  it("rejects a bad region", () => {
    expect(onlyProblem(policyWith({ m: model({ route: [deployment({ region: "US East" })] }) }))).toEqual({
      path: "models.m.route[0].region",
      message: 'must be an AWS region such as "us-east-1"',
    });
  });

  it("accepts GovCloud regions", () => {
    const entry = model({
      route: [deployment({ modelId: "anthropic.claude-3-5-sonnet-20240620-v1:0", region: "us-gov-west-1" })],
    });
    expect(resolved(entry).route[0]?.region).toBe("us-gov-west-1");
  });

  it("rejects a negative price, bracketing keys that are not identifiers", () => {
    expect(onlyProblem(policyWith({ "claude-3.7": model({ pricing: { input: -1, output: 15 } }) }))).toEqual({
      path: 'models["claude-3.7"].pricing.input',
      message: "must be a non-negative number (USD per 1M tokens)",
    });
  });

  it("names missing required fields and wrong types", () => {
    const problems = problemsOf(policyWith({ m: { route: [{ id: "main", region: "us-east-1" }], maxOutputTokens: "lots" } }));
    expect(problems).toEqual([
      { path: "models.m.route[0].modelId", message: "is required" },
      { path: "models.m.maxOutputTokens", message: 'must be a number, not the string "lots"' },
    ]);
    expect(onlyProblem(policyWith({ m: model({ contextWindow: 1.5 }) }))).toEqual({
      path: "models.m.contextWindow",
      message: "must be a whole number",
    });
    expect(problemsOf({})).toEqual([{ path: "models", message: "is required" }]);
    expect(problemsOf(null)).toEqual([{ path: "(root)", message: "must be an object, not null" }]);
  });

  it("rejects invalid model names and still checks their entries", () => {
    const problems = problemsOf(policyWith({ "-bad name": { route: [] } }));
    expect(problems).toEqual([
      { path: 'models["-bad name"]', message: expect.stringMatching(/^model name must start with a letter or digit/) },
      { path: 'models["-bad name"].route', message: "must list at least one deployment" },
    ]);
  });

  it("needs at least one model", () => {
    expect(onlyProblem(policyWith({}))).toEqual({ path: "models", message: "must define at least one model" });
  });
});

describe("parsePolicy: semantic checks", () => {
  it("rejects duplicate deployment ids", () => {
    const entry = model({ route: [deployment(), deployment({ modelId: `global.${SONNET_4_5}` })] });
    expect(onlyProblem(policyWith({ m: entry }))).toEqual({
      path: "models.m.route[1].id",
      message: 'duplicate deployment id "main" (already used by route[0])',
    });
  });

  it("refuses a deployment with no built-in price and no pricing, never costing it 0", () => {
    const entry = model({
      route: [deployment({ modelId: APP_PROFILE })],
      contextWindow: 200_000,
      maxOutputTokens: 8192,
    });
    expect(onlyProblem(policyWith({ "claude-3.7": entry }))).toEqual({
      path: 'models["claude-3.7"].route[0].modelId',
      message: `no built-in price for modelId "${APP_PROFILE}"; add models["claude-3.7"].pricing`,
    });
  });

  it("requires limits the catalogue cannot supply", () => {
    const problems = problemsOf(
      policyWith({ m: model({ route: [deployment({ modelId: APP_PROFILE })], pricing: { input: 1, output: 2 } }) }),
    );
    expect(problems.map((p) => p.path)).toEqual(["models.m.contextWindow", "models.m.maxOutputTokens"]);
    expect(problems[0]?.message).toBe(
      `is required because route[0] ("${APP_PROFILE}") is not in the built-in catalogue`,
    );
  });

  it("rejects reasoning on a model without extended thinking", () => {
    const entry = model({ route: [deployment({ modelId: NOVA_PRO_US })], reasoning: { defaultEffort: "low" } });
    expect(onlyProblem(policyWith({ m: entry }))).toEqual({
      path: "models.m.reasoning.defaultEffort",
      message: 'route[0] ("us.amazon.nova-pro-v1:0", Amazon Nova Pro) does not support reasoning (extended thinking); use "none"',
    });
  });

  it("allows reasoning effort none on any model", () => {
    const entry = model({ route: [deployment({ modelId: NOVA_PRO_US })], reasoning: { defaultEffort: "none" } });
    expect(resolved(entry).reasoning.supported).toBe(false);
  });

  it("rejects prompt caching on a model that cannot cache", () => {
    const entry = model({ route: [deployment({ modelId: LLAMA_3_3_US })], promptCaching: { enabled: true } });
    expect(onlyProblem(policyWith({ m: entry }))).toEqual({
      path: "models.m.promptCaching.enabled",
      message: 'route[0] ("us.meta.llama3-3-70b-instruct-v1:0", Llama 3.3 70B Instruct) cannot use prompt caching',
    });
  });

  it("rejects a geographic profile called from another geography, and an ARN from another region", () => {
    const entry = model({
      route: [
        deployment({ id: "eu", modelId: `eu.${SONNET_4_5}`, region: "us-east-1" }),
        deployment({ id: "arn", modelId: `arn:aws:bedrock:us-west-2::foundation-model/${SONNET_4_5}` }),
        deployment({ id: "gov", modelId: `us.${SONNET_4_5}`, region: "us-gov-west-1" }),
      ],
    });
    expect(problemsOf(policyWith({ m: entry }))).toEqual([
      {
        path: "models.m.route[0].region",
        message: '"us-east-1" cannot call the "eu." inference profile; use a region starting with "eu-"',
      },
      { path: "models.m.route[1].region", message: '"us-east-1" differs from the region in the modelId ARN ("us-west-2")' },
      {
        path: "models.m.route[2].region",
        message: '"us-gov-west-1" cannot call the "us." inference profile; use a region starting with "us-"',
      },
    ]);
  });

  it("keeps reasoning budgets ordered and below maxOutputTokens", () => {
    const problems = problemsOf(
      policyWith({ m: model({ maxOutputTokens: 16_000, reasoning: { budgets: { low: 4096, medium: 2048 } } }) }),
    );
    expect(formatPolicyProblems(problems)).toEqual([
      "models.m.reasoning.budgets.medium: 2048 must be at least budgets.low (4096)",
      "models.m.maxOutputTokens: 16000 must be more than the default high reasoning budget (24576); raise it, or set reasoning.budgets.high below it",
    ]);
  });

  it("puts a budget problem where the admin can fix it: at the written value, not at a default", () => {
    const problems = problemsOf(policyWith({ m: model({ reasoning: { budgets: { low: 10_000 } } }) }));
    expect(formatPolicyProblems(problems)).toEqual(["models.m.reasoning.budgets.low: 10000 must be at most the default medium budget (8192); set budgets.medium too"]);
  });

  it("reports every problem at once, structural and semantic, across models", () => {
    const input = policyWith(
      {
        a: model({
          route: [
            deployment({ region: "useast1" }),
            deployment({ modelId: "anthropic.claude-unknown-v1:0", regoin: "x" }),
          ],
          pricing: undefined,
          contextWindow: 0,
        }),
        "b.c": model({ route: [deployment({ modelId: LLAMA_3_3_US })], promptCaching: { enabled: true }, reasoning: { defaultEffort: "high" } }),
      },
      { extra: 1 },
    );
    const paths = problemsOf(input).map((p) => p.path);
    expect(paths.sort()).toEqual(
      [
        "extra",
        "models.a.contextWindow",
        "models.a.maxOutputTokens",
        "models.a.route[0].region",
        "models.a.route[1].regoin",
        "models.a.route[1].id",
        "models.a.route[1].modelId",
        'models["b.c"].promptCaching.enabled',
        'models["b.c"].reasoning.defaultEffort',
      ].sort(),
    );
  });
});

describe("parsePolicy: resolution", () => {
  it("fills limits and capabilities from the catalogue", () => {
    const sonnet = resolved(model());
    expect(sonnet).toMatchObject({
      name: "m",
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
      promptCaching: { enabled: true, minTokens: 1024, cacheTools: true },
      reasoning: { supported: true, defaultEffort: "none", budgets: { low: 2048, medium: 8192, high: 24576 } },
      vision: true,
    });
    const nova = resolved(model({ route: [deployment({ modelId: NOVA_PRO_US })] }));
    expect(nova.promptCaching).toEqual({ enabled: true, minTokens: 1000, cacheTools: false });
    const llama = resolved(model({ route: [deployment({ modelId: LLAMA_3_3_US })] }));
    expect(llama).toMatchObject({ maxOutputTokens: 4096, promptCaching: { enabled: false }, vision: false });
  });

  it("lets the policy override catalogue defaults", () => {
    const entry = model({
      contextWindow: 100_000,
      maxOutputTokens: 32_000,
      promptCaching: { enabled: false, minTokens: 2048 },
      reasoning: { defaultEffort: "high", budgets: { high: 16_000 } },
    });
    expect(resolved(entry)).toMatchObject({
      contextWindow: 100_000,
      maxOutputTokens: 32_000,
      promptCaching: { enabled: false, minTokens: 2048, cacheTools: false },
      reasoning: { defaultEffort: "high", budgets: { low: 2048, medium: 8192, high: 16_000 } },
    });
  });

  it("takes the weakest deployment's limits and capabilities across a route", () => {
    const entry = model({
      route: [
        deployment({ id: "sonnet", modelId: SONNET_4_US }),
        deployment({ id: "opus", modelId: "us.anthropic.claude-opus-4-20250514-v1:0" }),
        deployment({ id: "nova", modelId: NOVA_PRO_US }),
      ],
    });
    expect(resolved(entry)).toMatchObject({
      contextWindow: 200_000,
      maxOutputTokens: 10_000,
      promptCaching: { enabled: true, minTokens: 1024, cacheTools: false },
      reasoning: { supported: false },
    });
  });

  it("prices each deployment for its exact modelId", () => {
    const entry = model({
      route: [
        deployment({ id: "us", modelId: `us.${SONNET_4_5}` }),
        deployment({ id: "global", modelId: `global.${SONNET_4_5}` }),
      ],
    });
    expect(resolved(entry).route.map((d) => d.pricing.input)).toEqual([3.3, 3]);
  });

  it("applies a policy price to every deployment, deriving cache prices from the catalogue ratios", () => {
    const entry = model({
      route: [
        deployment({ id: "us", modelId: `us.${SONNET_4_5}` }),
        deployment({ id: "global", modelId: `global.${SONNET_4_5}` }),
      ],
      pricing: { input: 2, output: 10 },
    });
    const route = resolved(entry).route;
    expect(route.map((d) => d.pricing)).toEqual([
      { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 },
      { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 },
    ]);
    const nova = resolved(model({ route: [deployment({ modelId: NOVA_PRO_US })], pricing: { input: 1, output: 4 } }));
    expect(nova.route[0]?.pricing).toEqual({ input: 1, output: 4, cacheRead: 0.25, cacheWrite: 1 });
  });

  it("keeps explicit cache prices and defaults unknown models to 0.1x / 1.25x input", () => {
    const entry = model({
      route: [deployment({ modelId: APP_PROFILE })],
      pricing: { input: 3, output: 15, cacheWrite: 6 },
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
    });
    const app = resolved(entry);
    expect(app.route[0]?.pricing).toEqual({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 6 });
    // Unknown models don't get capabilities by default, and vision isn't blocked.
    expect(app).toMatchObject({ promptCaching: { enabled: false }, reasoning: { supported: false }, vision: true });
  });

  it("lets the admin vouch for caching and reasoning on an unknown model", () => {
    const entry = model({
      route: [deployment({ modelId: APP_PROFILE })],
      pricing: { input: 3, output: 15 },
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
      promptCaching: { enabled: true, minTokens: 1024 },
      reasoning: { defaultEffort: "low" },
    });
    expect(resolved(entry)).toMatchObject({
      promptCaching: { enabled: true, minTokens: 1024, cacheTools: false },
      reasoning: { supported: true, defaultEffort: "low" },
    });
    const withoutMinimum = { ...entry, promptCaching: { enabled: true } };
    expect(onlyProblem(policyWith({ m: withoutMinimum })).path).toBe("models.m.promptCaching.minTokens");
  });
});

describe("parsePolicyJson", () => {
  it("reports a syntax error at (root) with line and column", () => {
    const text = '{\n  "models": {\n    "m": {},\n  }\n}';
    expect(parsePolicyJson(text)).toEqual({
      ok: false,
      problems: [{ path: "(root)", message: "invalid JSON at line 4, column 3: Expected double-quoted property name" }],
    });
  });

  it("reports truncated input at its end", () => {
    const result = parsePolicyJson('{"models": {');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.message).toMatch(/^invalid JSON at line 1, column 13: /);
  });

  it("locates trailing garbage", () => {
    expect(parsePolicyJson('{"models": {}}\n}')).toEqual({
      ok: false,
      problems: [{ path: "(root)", message: "invalid JSON at line 2, column 1: Unexpected non-whitespace character after JSON" }],
    });
  });

  it("tolerates a byte-order mark and then validates", () => {
    const result = parsePolicyJson(`\uFEFF${JSON.stringify(policyWith({ m: model() }))}`);
    expect(result.ok).toBe(true);
  });
});

describe("formatPolicyProblems", () => {
  it("prints path: message lines", () => {
    expect(formatPolicyProblems([{ path: "models.m.route[0].region", message: "bad" }])).toEqual([
      "models.m.route[0].region: bad",
    ]);
  });
});
