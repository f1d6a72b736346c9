import { describe, expect, it } from "vitest";
import { policyDiff } from "./diff.js";
import type { PolicyFile } from "./schema.js";
import { accessPolicy, allModels, keyHash, model, sourceOf, team, user, type Json } from "./test-builders.js";

function diff(before: Json, after: Json): string[] {
  return policyDiff(sourceOf(before), sourceOf(after));
}

const base = accessPolicy({
  teams: { platform: team({ models: ["claude-sonnet-4", "nova-pro"], limits: { rpm: 300 } }) },
  users: { alice: user({ keys: [keyHash("alice")], limits: { rpm: 30 } }) },
});

function edit(change: (policy: Json) => void): Json {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

function entries(policy: Json, field: string): Record<string, Json> {
  return policy[field] as Record<string, Json>;
}

describe("policyDiff", () => {
  it("is empty for the same file, whatever its key order or list order", () => {
    expect(diff(base, base)).toEqual([]);
    const reordered = edit((p) => {
      entries(p, "teams").platform = { limits: { rpm: 300 }, models: ["nova-pro", "claude-sonnet-4"] };
    });
    expect(diff(base, reordered)).toEqual([]);
  });

  it("ignores $schema", () => {
    expect(diff(base, { ...base, $schema: "./policy.schema.json" })).toEqual([]);
  });

  it("names added and removed models, teams and users", () => {
    const after = edit((p) => {
      delete entries(p, "models")["nova-pro"];
      entries(p, "teams").platform = team({ models: ["claude-sonnet-4"], limits: { rpm: 300 } });
      entries(p, "teams").research = team();
      entries(p, "users").bob = user({ team: "research", keys: [keyHash("bob")] });
      entries(p, "users").carol = user({ disabled: true });
    });
    expect(diff(base, after)).toEqual([
      "- model nova-pro",
      "~ teams.platform.models: -nova-pro",
      "+ team research",
      "+ user bob (team research)",
      "+ user carol (team platform, disabled)",
    ]);
    expect(diff(after, base)).toEqual([
      "+ model nova-pro",
      "~ teams.platform.models: +nova-pro",
      "- team research",
      "- user bob (team research)",
      "- user carol (team platform, disabled)",
    ]);
  });

  it("shows changed values with their path", () => {
    const after = edit((p) => {
      p.timezone = "Europe/Paris";
      entries(p, "users").alice = user({ keys: [keyHash("alice")], limits: { rpm: 60, dailyUsd: 20 }, disabled: true });
      entries(p, "teams").platform = team({ models: ["claude-sonnet-4", "nova-pro", "claude-opus-4-1"] });
    });
    expect(diff(base, after)).toEqual([
      '~ timezone: (unset) → "Europe/Paris"',
      "~ teams.platform.models: +claude-opus-4-1",
      "~ teams.platform.limits.rpm: 300 → (unset)",
      "~ users.alice.limits.rpm: 30 → 60",
      "~ users.alice.limits.dailyUsd: (unset) → 20",
      "~ users.alice.disabled: (unset) → true",
    ]);
  });

  it("shows objects added as a whole field by field, and lists added as a whole in full", () => {
    const after = edit((p) => {
      entries(p, "teams").platform = team({
        models: ["claude-sonnet-4", "nova-pro"],
        limits: { rpm: 300 },
        modelLimits: { "claude-opus-4-1": { rpm: 10, dailyUsd: 50 } },
      });
      entries(p, "users").alice = user({ keys: [keyHash("alice")], limits: { rpm: 30 }, models: ["claude-sonnet-4"] });
      p.defaults = { userLimits: { rpm: 20 } };
    });
    expect(diff(base, after)).toEqual([
      "~ teams.platform.modelLimits.claude-opus-4-1.rpm: (unset) → 10",
      "~ teams.platform.modelLimits.claude-opus-4-1.dailyUsd: (unset) → 50",
      '~ users.alice.models: (unset) → ["claude-sonnet-4"]',
      "~ defaults.userLimits.rpm: (unset) → 20",
    ]);
  });

  it("lists every team and user when a model-only file gains them", () => {
    const modelsOnly = { models: allModels() };
    expect(diff(modelsOnly, base)).toEqual(["+ team platform", "+ user alice (team platform)"]);
  });

  it("shows a user moving to another team", () => {
    const before = accessPolicy({ teams: { platform: team(), research: team() } });
    const after = accessPolicy({
      teams: { platform: team(), research: team() },
      users: { alice: user({ team: "research", keys: [keyHash("alice")] }) },
    });
    expect(diff(before, after)).toEqual(['~ users.alice.team: "platform" → "research"']);
  });

  it("compares a model's route position by position, bracketing names that are not identifiers", () => {
    const before = accessPolicy({ models: { ...allModels(), "claude-3.7": model("claude-sonnet-4") } });
    const withFallback = model("claude-sonnet-4");
    (withFallback.route as Json[]).push({ id: "west", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-west-2" });
    withFallback.maxOutputTokens = 32_000;
    const after = accessPolicy({ models: { ...allModels(), "claude-3.7": withFallback } });
    expect(diff(before, after)).toEqual([
      '~ models["claude-3.7"].route[1]: (unset) → {"id":"west","modelId":"us.anthropic.claude-sonnet-4-20250514-v1:0","region":"us-west-2"}',
      '~ models["claude-3.7"].maxOutputTokens: (unset) → 32000',
    ]);
    const moved = structuredClone(after);
    ((entries(moved, "models")["claude-3.7"]?.route as Json[])[1] as Json).region = "us-east-2";
    expect(diff(after, moved)).toEqual(['~ models["claude-3.7"].route[1].region: "us-west-2" → "us-east-2"']);
  });

  it("shows key changes with shortened hashes only", () => {
    const rotated = keyHash("alice-2");
    const after = edit((p) => {
      entries(p, "users").alice = user({ keys: [rotated], limits: { rpm: 30 } });
    });
    const lines = diff(base, after);
    expect(lines).toEqual([`~ users.alice.keys: +${rotated.slice(0, 15)}… -${keyHash("alice").slice(0, 15)}…`]);
    expect(lines.join("\n")).not.toContain(rotated);
  });

  it("never prints something that looks like a key in clear, even if handed one", () => {
    const key = "tg_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
    const before = sourceOf(base);
    const after = structuredClone(before) as PolicyFile & { users: Record<string, { keys: string[] }> };
    after.users.alice?.keys.push(key);
    const lines = policyDiff(before, after);
    expect(lines).toEqual(["~ users.alice.keys: +tg_…(redacted)"]);
  });

  it("shows a reordered fallback list, since fallbacks are tried in order", () => {
    const withFallbacks = (fallbacks: string[]) =>
      accessPolicy({ models: { ...allModels(), "claude-sonnet-4": model("claude-sonnet-4", { fallbacks }) } });
    expect(diff(withFallbacks(["nova-pro", "claude-haiku-4-5"]), withFallbacks(["claude-haiku-4-5", "nova-pro"]))).toEqual([
      '~ models.claude-sonnet-4.fallbacks: ["nova-pro","claude-haiku-4-5"] → ["claude-haiku-4-5","nova-pro"]',
    ]);
  });
});
