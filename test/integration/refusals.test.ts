// Refused requests are visible: every chat request the broker answers with an error before calling
// Bedrock (no key, an unknown or revoked key, a model the user may not use, a rate limit, a budget)
// is recorded without its body, listed by GET /admin/requests and `tollgate requests`, counted in
// the metrics, and never counted as a request in the usage reports. In a fleet, one broker's
// refusals are seen from every broker.
import { keyHashEntry } from "@tollgate/shared";
import type { AdminRequestRecord } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { apiError } from "../support/api-error.js";
import { runCli } from "../support/broker-process.js";
import { startFleet, type Fleet } from "../support/fleet.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_POLICY, type Harness } from "../support/harness.js";

const key = (name: string): string => `tg_${name}-refusals-test-key-00000000000`;
const SECRET_PROMPT = "the launch codes are 0000 and this must never be stored";
const policy = {
  ...TEST_POLICY,
  teams: { eng: { models: ["*"] }, narrow: { models: ["claude-sonnet-4"] } },
  users: {
    ...TEST_POLICY.users,
    throttled: { team: "eng", keys: [keyHashEntry(key("throttled"))], limits: { rpm: 1 } },
    spender: { team: "eng", keys: [keyHashEntry(key("spender"))], limits: { dailyUsd: 0.0001 } },
    narrow: { team: "narrow", keys: [keyHashEntry(key("narrow"))] },
    gone: { team: "eng", keys: [keyHashEntry(key("gone"))], disabled: true },
  },
};

async function requests(call: (path: string, init?: RequestInit & { token?: string }) => Promise<Response>, query = ""): Promise<AdminRequestRecord[]> {
  const response = await call(`/admin/requests${query}`, { token: TEST_ADMIN_TOKEN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: AdminRequestRecord[] }).data;
}

/** Refusals commit with the ledger's next write, a tick after the response: wait for them to be listed. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("refused requests (embedded mode)", () => {
  let h: Harness;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness({ policy });
    const refuse = async (name: string, request: Promise<unknown>): Promise<void> => {
      const error = await apiError(request);
      ids[name] = error.headers?.get("x-request-id") ?? "";
    };
    const messages = [user(SECRET_PROMPT)];
    await h.clientFor(key("throttled")).chat.completions.create({ model: "claude-sonnet-4", messages });
    await refuse("rpm", h.clientFor(key("throttled")).chat.completions.create({ model: "claude-sonnet-4", messages }));
    await h.clientFor(key("spender")).chat.completions.create({ model: "claude-sonnet-4", messages });
    await refuse("budget", h.clientFor(key("spender")).chat.completions.create({ model: "claude-sonnet-4", messages }));
    await refuse("model", h.clientFor(key("narrow")).chat.completions.create({ model: "llama3-3-70b", messages }));
    await refuse("revoked", h.clientFor(key("gone")).chat.completions.create({ model: "claude-sonnet-4", messages }));
    await refuse("unknown", h.clientFor("tg_not-a-key-this-broker-knows-000000000").chat.completions.create({ model: "claude-sonnet-4", messages }));
    const invalid = await fetch(`${h.broker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key("narrow")}`, "content-type": "application/json" },
      body: `{"model": "claude-sonnet-4", "messages": [{"role": "user", "content": "${SECRET_PROMPT}"}`,
    });
    expect(invalid.status).toBe(400);
    ids.invalid = invalid.headers.get("x-request-id") ?? "";
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("lists each refusal with who, what and why, and no prompt text", async () => {
    const all = await eventually(() => requests(h.call, "?limit=100"), (rows) => rows.filter((r) => r.status === "refused").length >= 6);
    const byId = new Map(all.map((r) => [r.id, r]));
    expect(byId.get(ids.rpm!)).toMatchObject({ status: "refused", httpStatus: 429, user: "throttled", team: "eng", model: "claude-sonnet-4", errorCode: "rate_limit_exceeded", limit: { name: "rpm", scope: "user throttled" }, costUsd: 0 });
    expect(byId.get(ids.rpm!)!.reason).toBe("user throttled: 1 request per minute; retry in 60 s");
    expect(byId.get(ids.budget!)).toMatchObject({ httpStatus: 402, user: "spender", errorCode: "budget_exceeded", limit: { name: "dailyUsd", scope: "user spender" } });
    expect(byId.get(ids.budget!)!.reason).toMatch(/daily budget of \$0\.0001 reached/);
    expect(byId.get(ids.model!)).toMatchObject({ httpStatus: 403, user: "narrow", team: "narrow", model: "llama3-3-70b", limit: null });
    // A revoked key names its owner; an unknown one only a prefix of its digest (the key itself is never kept).
    expect(byId.get(ids.revoked!)).toMatchObject({ httpStatus: 401, user: "gone", team: "eng", errorCode: "invalid_api_key", keyHashPrefix: null });
    const unknown = byId.get(ids.unknown!)!;
    expect(unknown).toMatchObject({ httpStatus: 401, user: null, team: null, model: null });
    expect(keyHashEntry("tg_not-a-key-this-broker-knows-000000000")).toMatch(new RegExp(`^sha256:${unknown.keyHashPrefix}`));
    expect(unknown.keyHashPrefix).toHaveLength(12);
    expect(unknown.client).toMatch(/127\.0\.0\.1/);
    // A 400's message may quote the body (a JSON parse error does): only its code is kept.
    expect(byId.get(ids.invalid!)).toMatchObject({ httpStatus: 400, user: "narrow", errorCode: "invalid_json", reason: null });
    expect(JSON.stringify(all)).not.toContain("launch codes");
    // The served requests are there too, as the ledger has them.
    expect(all.filter((r) => r.status === "ok").map((r) => r.user).sort()).toEqual(["spender", "throttled"]);
  });

  it("filters by status, class, user, team and refused-or-not", async () => {
    expect((await requests(h.call, "?status=429")).map((r) => r.id)).toEqual([ids.rpm]);
    expect((await requests(h.call, "?status=4xx")).map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
    expect((await requests(h.call, "?user=spender")).map((r) => r.status)).toEqual(["refused", "ok"]);
    expect((await requests(h.call, "?team=narrow&refused=only")).map((r) => r.id).sort()).toEqual([ids.invalid, ids.model].sort());
    expect((await requests(h.call, "?refused=exclude")).every((r) => r.status !== "refused")).toBe(true);
    const bad = await h.call("/admin/requests?status=42", { token: TEST_ADMIN_TOKEN });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('status must be an HTTP status such as 429 or a class such as 4xx; got "42".');
  });

  it("refusals are not requests in the usage reports", async () => {
    const usage = (await (await h.call("/admin/usage?groupBy=user", { token: TEST_ADMIN_TOKEN })).json()) as { total: { requests: number } };
    expect(usage.total.requests).toBe(2);
  });

  it("`tollgate requests --status 429` shows who was throttled and why; --json gives the records", async () => {
    const env = { TOLLGATE_URL: h.broker.url, TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const table = await runCli(["requests", "--status", "429"], env);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^time +user +team +model +status +code +tokens +cost +ms$/);
    expect(lines[2]).toMatch(/^\S+Z +throttled +eng +claude-sonnet-4 +429 refused +rate_limit_exceeded +0 +\$0\.00 +\d+$/);
    expect(lines[3]).toBe("    user throttled: 1 request per minute; retry in 60 s");
    expect(lines).toHaveLength(4);
    const unknown = await runCli(["requests", "--status", "401", "--refused", "--json"], env);
    const records = JSON.parse(unknown.stdout) as AdminRequestRecord[];
    expect(records.map((r) => r.user)).toEqual([null, "gone"]);
    const none = await runCli(["requests", "--user", "nobody"], env);
    expect(none.stdout).toBe("no requests match\n");
  });

  it("counts refusals in the metrics by status and code", async () => {
    const text = await (await h.call("/metrics", { token: TEST_ADMIN_TOKEN })).text();
    expect(text).toMatch(/tollgate_requests_total\{model="claude-sonnet-4",team="eng",status="429",code="rate_limit_exceeded",user=""\} 1/);
    expect(text).toMatch(/tollgate_requests_total\{model="",team="",status="401",code="invalid_api_key",user=""\} 2/);
  });
});

describe("refused requests (fleet mode)", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ size: 2, policy });
  }, 90_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it("a refusal on one broker is listed by the other, from PostgreSQL", async () => {
    const [b1, b2] = fleet.brokers as [Fleet["brokers"][number], Fleet["brokers"][number]];
    const error = await apiError(b1.client(key("narrow")).chat.completions.create({ model: "llama3-3-70b", messages: [user(SECRET_PROMPT)] }));
    expect(error.status).toBe(403);
    const id = error.headers?.get("x-request-id");
    const seen = await eventually(() => requests(b2.call, "?refused=only"), (rows) => rows.some((r) => r.id === id));
    expect(seen.find((r) => r.id === id)).toMatchObject({ status: "refused", httpStatus: 403, user: "narrow", team: "narrow", model: "llama3-3-70b" });
    const rows = await fleet.query<{ instance_id: string; code: string }>("SELECT instance_id, code FROM refusals WHERE id = $1", [id]);
    expect(rows).toEqual([{ instance_id: "b1", code: error.code }]);
  });
});
