import { describe, expect, it } from "vitest";
import { hashApiKey } from "./keys.js";
import {
  accessPolicy,
  keyHash,
  model,
  onlyProblem,
  parsed,
  problemsOf,
  team,
  user,
  type Json,
} from "./test-builders.js";

const ALL = ["claude-sonnet-4", "claude-haiku-4-5", "claude-opus-4-1", "nova-pro"];

function withTeam(fields: Json): Json {
  return accessPolicy({ teams: { platform: team(fields) } });
}

function withUser(fields: Json): Json {
  return accessPolicy({ users: { alice: user(fields) } });
}

describe("parsePolicy: teams, users and limits are optional", () => {
  it("keeps a model-only file valid, with UTC and nobody allowed in", () => {
    const policy = parsed({ models: { m: model("claude-sonnet-4") } });
    expect(policy.timezone).toBe("UTC");
    expect(policy.teams.size).toBe(0);
    expect(policy.users.size).toBe(0);
    expect(policy.userByKeyHash.size).toBe(0);
  });

  it("keeps the source exactly as written (no defaults filled in)", () => {
    const input = accessPolicy();
    expect(parsed(input).source).toEqual(input);
  });
});

describe("parsePolicy: validation of the access part", () => {
  it("rejects an unknown time zone", () => {
    expect(onlyProblem(accessPolicy({ timezone: "Mars/Olympus" }))).toEqual({
      path: "timezone",
      message: 'unknown time zone "Mars/Olympus"; use an IANA name such as "UTC" or "Europe/Paris"',
    });
    expect(onlyProblem(accessPolicy({ timezone: 1 }))).toEqual({ path: "timezone", message: "must be a string, not number 1" });
  });

  it("rejects a team model that is not in models, suggesting a near name", () => {
    expect(onlyProblem(withTeam({ models: ["claude-haiku-4-5", "claude-sonet-4"] }))).toEqual({
      path: "teams.platform.models[1]",
      message: 'unknown model "claude-sonet-4" (did you mean "claude-sonnet-4"?)',
    });
  });

  it('rejects "*" among other models', () => {
    expect(onlyProblem(withTeam({ models: ["nova-pro", "*"] }))).toEqual({
      path: "teams.platform.models[1]",
      message: '"*" means every model and must be the only entry',
    });
  });

  it("rejects a model listed twice", () => {
    expect(onlyProblem(withTeam({ models: ["nova-pro", "claude-sonnet-4", "nova-pro"] }))).toEqual({
      path: "teams.platform.models[2]",
      message: '"nova-pro" is listed twice (first at [0])',
    });
  });

  it("requires a team's models", () => {
    expect(onlyProblem(accessPolicy({ teams: { platform: {} } }))).toEqual({
      path: "teams.platform.models",
      message: "is required",
    });
  });

  it("rejects a per-model team limit for a model that is not in models", () => {
    expect(onlyProblem(withTeam({ modelLimits: { "gpt-4o": { rpm: 10 } } }))).toEqual({
      path: "teams.platform.modelLimits.gpt-4o",
      message: 'unknown model "gpt-4o"',
    });
  });

  it("checks the values of per-model team limits", () => {
    expect(onlyProblem(withTeam({ modelLimits: { "claude-opus-4-1": { rpm: -1, dailyUsd: 50 } } }))).toEqual({
      path: "teams.platform.modelLimits.claude-opus-4-1.rpm",
      message: "must not be negative",
    });
  });

  it("rejects a user whose team does not exist", () => {
    expect(onlyProblem(withUser({ team: "platfrom" }))).toEqual({
      path: "users.alice.team",
      message: 'unknown team "platfrom" (did you mean "platform"?)',
    });
    const noTeams = accessPolicy({ teams: undefined });
    expect(onlyProblem(noTeams)).toEqual({ path: "users.alice.team", message: 'unknown team "platform" (`teams` defines none)' });
  });

  it("requires a user's team and keys", () => {
    expect(problemsOf(accessPolicy({ users: { alice: {} } }))).toEqual([
      { path: "users.alice.team", message: "is required" },
      { path: "users.alice.keys", message: "is required" },
    ]);
  });

  it("rejects a malformed key hash, pointing at the item", () => {
    expect(onlyProblem(withUser({ keys: [keyHash("a"), "sha256:abc"] }))).toEqual({
      path: "users.alice.keys[1]",
      message: 'must be "sha256:" followed by 64 lowercase hex digits (the SHA-256 of the key)',
    });
    expect(onlyProblem(withUser({ keys: [keyHash("a").toUpperCase()] })).path).toBe("users.alice.keys[0]");
    expect(onlyProblem(withUser({ keys: [hashApiKey("tg_x")] })).path).toBe("users.alice.keys[0]");
  });

  it("recognises a key pasted in clear and never repeats it", () => {
    const key = "tg_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
    const problem = onlyProblem(withUser({ keys: [key] }));
    expect(problem).toEqual({
      path: "users.alice.keys[0]",
      message: 'looks like an API key in clear; write its hash instead, "sha256:" followed by 64 lowercase hex digits',
    });
    expect(JSON.stringify(problemsOf(withUser({ keys: [key] })))).not.toContain(key.slice(3));
  });

  it("rejects the same key hash in two users, naming both places", () => {
    const shared = keyHash("shared");
    const input = accessPolicy({
      users: { alice: user({ keys: [keyHash("a"), shared] }), bob: user({ keys: [shared] }) },
    });
    expect(onlyProblem(input)).toEqual({
      path: "users.bob.keys[0]",
      message: "the same key hash is already at users.alice.keys[1]; a key must belong to one user, once",
    });
  });

  it("rejects the same key hash twice in one user, even next to a malformed one", () => {
    const input = withUser({ keys: [keyHash("a"), "sha256:nope", keyHash("a")] });
    expect(problemsOf(input)).toEqual([
      { path: "users.alice.keys[1]", message: expect.stringMatching(/^must be "sha256:"/) },
      {
        path: "users.alice.keys[2]",
        message: "the same key hash is already at users.alice.keys[0]; a key must belong to one user, once",
      },
    ]);
  });

  it("rejects a user model the team does not allow", () => {
    const input = accessPolicy({
      teams: { platform: team({ models: ["claude-sonnet-4", "claude-haiku-4-5"] }) },
      users: { alice: user({ models: ["claude-sonnet-4", "nova-pro"] }) },
    });
    expect(onlyProblem(input)).toEqual({
      path: "users.alice.models[1]",
      message: 'model "nova-pro" is not allowed for team "platform" (see teams.platform.models)',
    });
  });

  it("rejects a user model that does not exist at all", () => {
    expect(onlyProblem(withUser({ models: ["gpt-4o"] }))).toEqual({
      path: "users.alice.models[0]",
      message: 'unknown model "gpt-4o"',
    });
  });

  it("takes disabled as true or false only", () => {
    expect(onlyProblem(withUser({ disabled: "yes" }))).toEqual({
      path: "users.alice.disabled",
      message: 'must be true or false, not the string "yes"',
    });
  });

  it.each([
    [{ rpm: 1.5 }, "users.alice.limits.rpm", "must be a whole number"],
    [{ tpm: -1 }, "users.alice.limits.tpm", "must not be negative"],
    [{ concurrent: "4" }, "users.alice.limits.concurrent", 'must be a number, not the string "4"'],
    [{ dailyUsd: "10" }, "users.alice.limits.dailyUsd", 'must be a number, not the string "10"'],
    [{ monthlyUsd: -0.01 }, "users.alice.limits.monthlyUsd", "must not be negative (USD)"],
    [{ dailyUsd: Number.POSITIVE_INFINITY }, "users.alice.limits.dailyUsd", "must be a number, not number Infinity"],
  ])("checks user limits %j", (limits, path, message) => {
    expect(onlyProblem(withUser({ limits }))).toEqual({ path, message });
  });

  it("checks team limits and defaults the same way", () => {
    expect(onlyProblem(withTeam({ limits: { concurrent: 2.5 } }))).toEqual({
      path: "teams.platform.limits.concurrent",
      message: "must be a whole number",
    });
    expect(onlyProblem(accessPolicy({ defaults: { userLimits: { rpm: -5 } } }))).toEqual({
      path: "defaults.userLimits.rpm",
      message: "must not be negative",
    });
    expect(onlyProblem(accessPolicy({ defaults: { teamLimits: { monthlyUsd: null } } }))).toEqual({
      path: "defaults.teamLimits.monthlyUsd",
      message: "must be a number, not null",
    });
  });

  it("rejects invalid team and user names, and still checks their entries", () => {
    const input = accessPolicy({
      teams: { platform: team(), "-ops": team({ limits: { rpm: -1 } }) },
      users: { alice: user({ keys: [keyHash("alice")] }), "alice smith": user({ keys: ["x"] }) },
    });
    expect(problemsOf(input)).toEqual([
      {
        path: 'teams["-ops"]',
        message: "team name must start with a letter or digit and use only letters, digits and . _ @ - (max 64)",
      },
      {
        path: 'users["alice smith"]',
        message: "user name must start with a letter or digit and use only letters, digits and . _ @ - (max 64)",
      },
      { path: 'teams["-ops"].limits.rpm', message: "must not be negative" },
      { path: 'users["alice smith"].keys[0]', message: expect.stringMatching(/^must be "sha256:"/) },
    ]);
  });

  it("limits names to 64 characters", () => {
    expect(parsed(accessPolicy({ users: { ["a".repeat(64)]: user() } })).users.size).toBe(1);
    expect(onlyProblem(accessPolicy({ users: { ["a".repeat(65)]: user() } })).path).toBe(`users.${"a".repeat(65)}`);
  });

  it("accepts e-mail-like user names", () => {
    expect(parsed(accessPolicy({ users: { "alice.b@example.com": user() } })).users.has("alice.b@example.com")).toBe(true);
  });

  it("reports unknown fields anywhere in the access part, with hints", () => {
    const input = accessPolicy({
      timezone: "UTC",
      teams: { platform: team({ limit: {}, modelLimits: { "claude-opus-4-1": { rpd: 1 } } }) },
      users: { alice: user({ key: [], limits: { rph: 1 } }) },
      defaults: { userLimit: {} },
    });
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([
        { path: "teams.platform.limit", message: 'unknown field "limit" (did you mean "limits"?)' },
        { path: "teams.platform.modelLimits.claude-opus-4-1.rpd", message: 'unknown field "rpd" (did you mean "rpm"?)' },
        { path: "users.alice.key", message: 'unknown field "key" (did you mean "keys"?)' },
        { path: "users.alice.limits.rph", message: 'unknown field "rph" (did you mean "rpm"?)' },
        { path: "defaults.userLimit", message: 'unknown field "userLimit" (did you mean "userLimits"?)' },
      ]),
    );
    expect(problemsOf(input)).toHaveLength(5);
  });

  it("does not blame teams for a model whose own entry is broken", () => {
    const input = accessPolicy({
      models: { "claude-sonnet-4": model("claude-sonnet-4", { contextWindow: 0 }) },
      teams: { platform: team({ models: ["claude-sonnet-4"] }) },
    });
    expect(onlyProblem(input).path).toBe('models.claude-sonnet-4.contextWindow');
  });

  it("reports every problem at once across models, teams and users", () => {
    const input = accessPolicy({
      timezone: "Nowhere",
      teams: { platform: team({ models: ["nova-pr"], limits: { rpm: "many" } }) },
      users: {
        alice: user({ team: "plat", keys: ["sha256:"], limits: { tpm: -1 } }),
        bob: user({ models: ["claude-opus-4-1"], disabled: 1 }),
      },
    });
    expect(
      problemsOf(input)
        .map((p) => p.path)
        .sort(),
    ).toEqual(
      [
        "timezone",
        "teams.platform.limits.rpm",
        "teams.platform.models[0]",
        "users.alice.team",
        "users.alice.keys[0]",
        "users.alice.limits.tpm",
        "users.bob.disabled",
        "users.bob.models[0]",
      ].sort(),
    );
  });
});

describe("parsePolicy: resolution of teams and users", () => {
  it("keeps the time zone as written", () => {
    expect(parsed(accessPolicy({ timezone: "Europe/Paris" })).timezone).toBe("Europe/Paris");
  });

  it('expands "*" to every model, and keeps an explicit list as it is', () => {
    const policy = parsed(
      accessPolicy({ teams: { platform: team(), research: team({ models: ["nova-pro", "claude-opus-4-1"] }) } }),
    );
    expect([...(policy.teams.get("platform")?.models ?? [])]).toEqual(ALL);
    expect([...(policy.teams.get("research")?.models ?? [])]).toEqual(["nova-pro", "claude-opus-4-1"]);
  });

  it("gives a user the team's models unless the user narrows them", () => {
    const policy = parsed(
      accessPolicy({
        teams: { platform: team({ models: ["claude-sonnet-4", "claude-haiku-4-5"] }) },
        users: {
          alice: user({ models: ["claude-sonnet-4"] }),
          bob: user(),
          carol: user({ models: ["*"] }),
          dave: user({ models: [] }),
        },
      }),
    );
    const modelsOf = (name: string) => [...(policy.users.get(name)?.models ?? [])];
    expect(modelsOf("alice")).toEqual(["claude-sonnet-4"]);
    expect(modelsOf("bob")).toEqual(["claude-sonnet-4", "claude-haiku-4-5"]);
    expect(modelsOf("carol")).toEqual(["claude-sonnet-4", "claude-haiku-4-5"]);
    expect(modelsOf("dave")).toEqual([]);
  });

  it("overlays user and team limits on the defaults field by field", () => {
    const policy = parsed(
      accessPolicy({
        teams: {
          platform: team({ limits: { rpm: 300, dailyUsd: 200 } }),
          research: team(),
        },
        users: {
          alice: user({ limits: { rpm: 30, tpm: 400_000, monthlyUsd: 0 } }),
          bob: user({ team: "research" }),
        },
        defaults: { userLimits: { rpm: 20, dailyUsd: 10 }, teamLimits: { concurrent: 5, dailyUsd: 100 } },
      }),
    );
    expect(policy.users.get("alice")?.limits).toEqual({ rpm: 30, tpm: 400_000, dailyUsd: 10, monthlyUsd: 0 });
    expect(policy.users.get("bob")?.limits).toEqual({ rpm: 20, dailyUsd: 10 });
    expect(policy.teams.get("platform")?.limits).toEqual({ rpm: 300, concurrent: 5, dailyUsd: 200 });
    expect(policy.teams.get("research")?.limits).toEqual({ concurrent: 5, dailyUsd: 100 });
  });

  it("leaves everything unlimited without defaults", () => {
    const policy = parsed(accessPolicy());
    expect(policy.users.get("alice")?.limits).toEqual({});
    expect(policy.teams.get("platform")?.limits).toEqual({});
    expect(policy.teams.get("platform")?.modelLimits.size).toBe(0);
  });

  it("keeps per-model team limits, also for a model the team cannot use", () => {
    const policy = parsed(
      withTeam({ models: ["claude-sonnet-4"], modelLimits: { "claude-opus-4-1": { rpm: 10, dailyUsd: 50 } } }),
    );
    expect(policy.teams.get("platform")?.modelLimits).toEqual(new Map([["claude-opus-4-1", { rpm: 10, dailyUsd: 50 }]]));
  });

  it("indexes every key hash by user, disabled users included", () => {
    const policy = parsed(
      accessPolicy({
        users: {
          alice: user({ keys: [keyHash("a1"), keyHash("a2")] }),
          bob: user({ keys: [keyHash("b")], disabled: true }),
          carol: user(),
        },
      }),
    );
    const hex = (seed: string) => keyHash(seed).slice("sha256:".length);
    expect(policy.users.get("alice")).toMatchObject({ team: "platform", disabled: false, keyHashes: [hex("a1"), hex("a2")] });
    expect(policy.users.get("bob")).toMatchObject({ disabled: true, keyHashes: [hex("b")] });
    expect(policy.users.get("carol")?.keyHashes).toEqual([]);
    expect(policy.userByKeyHash).toEqual(
      new Map([
        [hex("a1"), "alice"],
        [hex("a2"), "alice"],
        [hex("b"), "bob"],
      ]),
    );
    expect(policy.userByKeyHash.get(hashApiKey("tg_test_a2"))).toBe("alice");
  });
});
