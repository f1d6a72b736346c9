// Who may call, and which models: user keys, revoked keys, admin/user credential separation, model lists.
import { generateApiKey, keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { apiError } from "../support/api-error.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const ALICE = "tg_alice-key-0000000000000000000001";
const ALICE_ROTATED = "tg_alice-key-0000000000000000000002";
const REVOKED = "tg_mallory-key-000000000000000000001";
/** A key in the current format (with its checksum), as `tollgate key create` makes them. */
const BOB = generateApiKey();

const policy = {
  ...TEST_POLICY,
  teams: {
    eng: { models: ["*"] },
    docs: { models: ["claude-sonnet-4", "llama3-3-70b"] },
  },
  users: {
    tester: TEST_POLICY.users.tester,
    alice: { team: "docs", keys: [keyHashEntry(ALICE), keyHashEntry(ALICE_ROTATED)], models: ["claude-sonnet-4"] },
    mallory: { team: "eng", keys: [keyHashEntry(REVOKED)], disabled: true },
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

describe("user keys", () => {
  it("refuses a request without a key, naming what to send", async () => {
    const response = await fetch(`${h.broker.url}/v1/models`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_api_key");
    expect(body.error.message).toMatch(/Authorization: Bearer/);
  });

  it("refuses unknown and revoked keys with 401 invalid_api_key", async () => {
    for (const key of ["tg_not-a-key-at-all-000000000000000", REVOKED]) {
      const error = await apiError(h.clientFor(key).chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
      expect(error.status).toBe(401);
      expect(error.code).toBe("invalid_api_key");
    }
    expect(h.emulator.calls).toHaveLength(0);
  });

  it("tells a mistyped key by its checksum, before any look-up; the key itself works", async () => {
    const last = BOB.at(-1) === "a" ? "b" : "a";
    const error = await apiError(h.clientFor(BOB.slice(0, -1) + last).chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_api_key");
    expect(error.message).toMatch(/This Tollgate key is mistyped: its last 6 characters are a checksum/);
    const served = await h.clientFor(BOB).chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] });
    expect(served.choices[0]?.message.content).toBeTruthy();
  });

  it("accepts every key of a user (rotation)", async () => {
    for (const key of [ALICE, ALICE_ROTATED]) {
      const completion = await h.clientFor(key).chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] });
      expect(completion.choices[0]?.message.content).toBeTruthy();
    }
  });

  it("never accepts the admin token as a user key, nor a user key on the admin API", async () => {
    const asUser = await apiError(h.clientFor(TEST_ADMIN_TOKEN).models.list());
    expect(asUser.status).toBe(401);
    const asAdmin = await h.call("/admin/policy", { token: TEST_KEY });
    expect(asAdmin.status).toBe(401);
    expect(((await asAdmin.json()) as { error: { code: string } }).error.code).toBe("invalid_admin_token");
    const admin = await h.call("/admin/policy", { token: TEST_ADMIN_TOKEN });
    expect(admin.status).toBe(200);
  });
});

describe("model access", () => {
  it("lists only the caller's models", async () => {
    const alice = await h.clientFor(ALICE).models.list();
    expect(alice.data.map((model) => model.id)).toEqual(["claude-sonnet-4"]);
    const tester = await h.client.models.list();
    expect(tester.data.map((model) => model.id).sort()).toEqual(["claude-sonnet-4", "claude-sonnet-4-5", "llama3-3-70b"]);
  });

  it("retrieves one model (models.retrieve), as the chat route judges access", async () => {
    const sonnet = await h.clientFor(ALICE).models.retrieve("claude-sonnet-4");
    expect(sonnet).toMatchObject({ id: "claude-sonnet-4", object: "model", owned_by: "tollgate" });
    const notHers = await apiError(h.clientFor(ALICE).models.retrieve("llama3-3-70b"));
    expect(notHers.status).toBe(403);
    expect(notHers.code).toBe("model_not_allowed");
    const unknown = await apiError(h.client.models.retrieve("gpt-4o"));
    expect(unknown.status).toBe(404);
    expect(unknown.code).toBe("model_not_found");
    expect(unknown.message).toMatch(/Available models: claude-sonnet-4, claude-sonnet-4-5, llama3-3-70b/);
    const unknownRoute = await h.call("/v1/nothing-here");
    expect(unknownRoute.status).toBe(404);
    expect(((await unknownRoute.json()) as { error: { message: string } }).error.message).toMatch(/GET \/v1\/models\/\{model\}, GET \/v1\/me, GET \/v1\/me\/usage/);
  });

  it("refuses a model the policy does not allow with 403 listing the allowed ones", async () => {
    const error = await apiError(h.clientFor(ALICE).chat.completions.create({ model: "llama3-3-70b", messages: [user("hi")] }));
    expect(error.status).toBe(403);
    expect(error.code).toBe("model_not_allowed");
    expect(error.message).toMatch(/Models you may use: claude-sonnet-4\./);
  });

  it("answers an unknown model with 404 listing only the caller's models", async () => {
    const error = await apiError(h.clientFor(ALICE).chat.completions.create({ model: "gpt-4o", messages: [user("hi")] }));
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/Available models: claude-sonnet-4\./);
  });

  it("answers /v1/me with identity, team and models", async () => {
    const me = (await (await h.call("/v1/me", { token: ALICE })).json()) as { user: string; team: string; models: string[] };
    expect(me).toMatchObject({ user: "alice", team: "docs", models: ["claude-sonnet-4"] });
  });
});
