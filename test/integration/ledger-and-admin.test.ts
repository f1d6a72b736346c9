// The ledger as users and admins read it, and the admin API: pushes, bad pushes, versions, rollback.
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writePolicyFile } from "../support/broker-process.js";
import { user } from "../support/builders.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const BOB = "tg_bob-ledger-test-key-00000000000001";
const policy = {
  ...TEST_POLICY,
  teams: { eng: { models: ["*"], limits: { dailyUsd: 50, monthlyUsd: 500 } } },
  users: {
    tester: { ...TEST_POLICY.users.tester, limits: { dailyUsd: 5, monthlyUsd: 100, rpm: 1000 } },
    bob: { team: "eng", keys: [keyHashEntry(BOB)] },
  },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(async () => {
  await h?.close();
});

const json = async <T>(response: Response): Promise<T> => {
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

function priced(call: { usage?: { inputTokens: number; outputTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number } }): number {
  const u = call.usage;
  return ((u?.inputTokens ?? 0) * 3 + (u?.outputTokens ?? 0) * 15 + (u?.cacheReadInputTokens ?? 0) * 0.3 + (u?.cacheWriteInputTokens ?? 0) * 3.75) / 1e6;
}

describe("the user API reads the ledger", () => {
  it("records every request with its project, and /v1/me's spend equals what Bedrock reported", async () => {
    h.emulator.reset();
    for (const project of ["alpha", "alpha", "beta"]) {
      await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user(`work on ${project}`)] }, { headers: { "x-tollgate-project": project } });
    }
    await h.client.chat.completions.create({ model: "llama3-3-70b", messages: [user("no project")] });
    const stream = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("streamed")], stream: true }, { headers: { "x-tollgate-project": "beta" } });
    for await (const _chunk of stream) {
      // drain
    }
    const reportedUsd = h.emulator.calls.reduce((total, call) => total + (call.modelId.includes("llama") ? 0 : priced(call)), 0);
    const llama = h.emulator.calls.find((call) => call.modelId.includes("llama"));
    const llamaUsd = ((llama?.usage?.inputTokens ?? 0) * 0.72 + (llama?.usage?.outputTokens ?? 0) * 0.72) / 1e6;

    const me = await json<{ budgets: Array<{ scope: string; period: string; spentUsd: number; budgetUsd: number | null; remainingUsd: number | null }> }>(await h.call("/v1/me"));
    const day = me.budgets.find((budget) => budget.scope === "user tester" && budget.period === "day");
    expect(day?.spentUsd).toBeCloseTo(reportedUsd + llamaUsd, 12);
    expect(day?.budgetUsd).toBe(5);
    expect(day?.remainingUsd).toBeCloseTo(5 - (reportedUsd + llamaUsd), 12);
    expect(me.budgets.find((budget) => budget.scope === "team eng" && budget.period === "month")?.budgetUsd).toBe(500);

    const requests = await json<{ data: Array<{ project: string | null; status: string; outputTokens: number; costUsd: number }> }>(await h.call("/v1/me/requests?limit=5"));
    expect(requests.data.map((row) => row.project)).toEqual(["beta", null, "beta", "alpha", "alpha"]);
    expect(requests.data.every((row) => row.status === "ok" && row.outputTokens > 0)).toBe(true);

    const byProject = await json<{ rows: Array<{ key: string; requests: number; costUsd: number }>; total: { requests: number; costUsd: number } }>(
      await h.call("/v1/me/usage?groupBy=project"),
    );
    expect(Object.fromEntries(byProject.rows.map((row) => [row.key, row.requests]))).toEqual({ alpha: 2, beta: 2, "": 1 });
    expect(byProject.total.costUsd).toBeCloseTo(reportedUsd + llamaUsd, 12);

    const byModel = await json<{ rows: Array<{ key: string; requests: number }> }>(await h.call("/v1/me/usage?groupBy=model"));
    expect(Object.fromEntries(byModel.rows.map((row) => [row.key, row.requests]))).toEqual({ "claude-sonnet-4": 4, "llama3-3-70b": 1 });
  });

  it("keeps users' data apart", async () => {
    await h.clientFor(BOB).chat.completions.create({ model: "claude-sonnet-4", messages: [user("bob's request")] });
    const bob = await json<{ data: Array<{ user: string }> }>(await h.call("/v1/me/requests", { token: BOB }));
    expect(bob.data.map((row) => row.user)).toEqual(["bob"]);
  });

  it("refuses bad query parameters with a 400 naming them", async () => {
    const response = await h.call("/v1/me/usage?groupBy=user");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("groupBy");
  });
});

describe("the admin API", () => {
  const admin = (path: string, init: RequestInit = {}) => h.call(path, { ...init, token: TEST_ADMIN_TOKEN });

  it("reports the whole org's usage by team and by user", async () => {
    const byUser = await json<{ rows: Array<{ key: string; requests: number }> }>(await admin("/admin/usage?groupBy=user"));
    expect(byUser.rows.map((row) => row.key).sort()).toEqual(["bob", "tester"]);
    const byTeam = await json<{ rows: Array<{ key: string; requests: number }> }>(await admin("/admin/usage?groupBy=team"));
    expect(byTeam.rows).toHaveLength(1);
    const bobs = await json<{ data: Array<{ user: string }> }>(await admin("/admin/requests?user=bob"));
    expect(bobs.data).toHaveLength(1);
  });

  it("refuses an invalid policy with every problem, and the old one keeps serving", async () => {
    const bad = { ...policy, users: { ...policy.users, eve: { team: "nowhere", keys: ["sha256:xyz"] } }, timezone: "Mars/Olympus" };
    const response = await admin("/admin/policy", { method: "PUT", body: JSON.stringify(bad) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string }; problems: string[] };
    expect(body.error.code).toBe("invalid_policy");
    expect(body.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^timezone: /), expect.stringMatching(/^users\.eve\.team: /), expect.stringMatching(/^users\.eve\.keys\[0\]: /)]),
    );
    const completion = await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("still served")] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect((await json<{ version: number }>(await admin("/admin/policy"))).version).toBe(1);
  });

  it("refuses a pushed document with repeated keys or broken JSON, naming where (line and column)", async () => {
    const text = JSON.stringify(policy, null, 2).replace(/^\{/, '{\n  "timezone": "UTC",').replace(/\}$/, ',\n  "timezone": "Europe/Paris"\n}');
    const repeated = await admin("/admin/policy", { method: "PUT", body: text });
    expect(repeated.status).toBe(400);
    const body = (await repeated.json()) as { error: { code: string }; problems: string[] };
    expect(body.error.code).toBe("invalid_policy");
    expect(body.problems).toEqual([expect.stringMatching(/^timezone: duplicate key "timezone" at line \d+, column 3 \(first at line 2, column 3\)/)]);
    const broken = await admin("/admin/policy", { method: "PUT", body: '{\n  "models": {\n    "x": oops\n}' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { problems: string[] }).problems).toEqual([expect.stringMatching(/^\(root\): .*line 3, column 10/)]);
    expect((await json<{ version: number }>(await admin("/admin/policy"))).version).toBe(1);
  });

  it("swaps a valid push in atomically, lists versions with who changed what, and rolls back", async () => {
    const narrowed = { ...policy, teams: { eng: { ...policy.teams.eng, models: ["claude-sonnet-4"] } } };
    const badComment = await admin("/admin/policy?comment=", { method: "PUT", body: JSON.stringify(narrowed) });
    expect(badComment.status).toBe(400);
    expect(((await badComment.json()) as { error: { message: string } }).error.message).toMatch(/comment: must not be empty/);
    const pushed = await json<{ version: number; changes: string[]; comment: string }>(
      await admin(`/admin/policy?${new URLSearchParams({ comment: "eng: Sonnet only — budget review" })}`, { method: "PUT", body: JSON.stringify(narrowed) }),
    );
    expect(pushed.version).toBe(2);
    expect(pushed.comment).toBe("eng: Sonnet only — budget review");
    expect(pushed.changes.join("\n")).toMatch(/teams\.eng\.models/);
    expect((await h.client.models.list()).data.map((model) => model.id)).toEqual(["claude-sonnet-4"]);

    const versions = await json<{ data: Array<{ version: number; kind: string; by: string; changes: string[]; comment?: string }> }>(await admin("/admin/policy/versions"));
    expect(versions.data.map((entry) => entry.kind)).toEqual(["seed", "push"]);
    expect(versions.data[1]?.by).toMatch(/127\.0\.0\.1/);
    expect(versions.data.map((entry) => entry.comment)).toEqual([undefined, "eng: Sonnet only — budget review"]);

    const rolledBack = await json<{ version: number; restoredFrom: number }>(
      await admin("/admin/policy/rollback", { method: "POST", body: JSON.stringify({ version: 1, comment: "undo" }) }),
    );
    expect(rolledBack).toMatchObject({ version: 3, restoredFrom: 1, comment: "undo" });
    expect((await h.client.models.list()).data).toHaveLength(3);
  });

  it("the CLI pushes, diffs and prints usage as a table", async () => {
    const env = { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const file = writePolicyFile({ ...policy, users: { ...policy.users, tester: { ...policy.users.tester, limits: { dailyUsd: 7, monthlyUsd: 100, rpm: 1000 } } } });
    const diff = await runCli(["policy", "diff", file, "--url", h.broker.url], env);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/users\.tester\.limits\.dailyUsd: 5 → 7/);
    const push = await runCli(["policy", "push", file, "--url", h.broker.url, "--message", "tester: daily $7"], env);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/policy version 4 is serving/);
    const pushedComment = await json<{ data: Array<{ version: number; comment?: string }> }>(await admin("/admin/policy/versions"));
    expect(pushedComment.data.at(-1)).toMatchObject({ version: 4, comment: "tester: daily $7" });
    const badFile = writePolicyFile({ models: {}, bogus: true });
    const bad = await runCli(["policy", "push", badFile, "--url", h.broker.url], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^bogus: /m);
    const usage = await runCli(["usage", "--url", h.broker.url, "--group-by", "user"], env);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^user\s+requests\s+uncached input\s+cache read\s+cache write\s+output/m);
    expect(usage.stdout).toMatch(/^tester\s+\d+/m);
    expect(usage.stdout).toMatch(/^total\s+\d+/m);
    const refused = await runCli(["usage", "--url", h.broker.url], { TOLLGATE_ADMIN_TOKEN: TEST_KEY });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the admin token/);
  });

  it("serves the last pushed version after a restart, not the seed file", async () => {
    await h.restart();
    expect((await json<{ version: number }>(await admin("/admin/policy"))).version).toBe(4);
    expect(h.broker.output()).toMatch(/serving stored policy version 4/);
  });
});

describe("tollgate key create", () => {
  it("prints a new key once and the hash line to paste", async () => {
    const result = await runCli(["key", "create", "--user", "carol"]);
    expect(result.code).toBe(0);
    const key = /^key:\s+(tg_\S+)$/m.exec(result.stdout)?.[1];
    const hash = /^hash: "(sha256:[0-9a-f]{64})"$/m.exec(result.stdout)?.[1];
    expect(key).toBeDefined();
    expect(hash).toBe(keyHashEntry(key ?? ""));
    expect(result.stdout).toMatch(/users\.carol\.keys/);
  });
});
