// Credentials and content the broker must keep to itself: admin and user credentials never stand in
// for each other; keys exist at rest only as hashes; no prompt, completion or key reaches a log line
// or a file the broker writes (canaries searched for in all of them, at trace log level); a request
// body can't make the broker fetch a URL.
import { hashApiKey, keyHashEntry } from "@tollgate/shared";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const id = randomUUID();
const ALICE_KEY = `tg_canary-key-${id}`;
const WRONG_KEY = `tg_canary-wrong-key-${id}`;
const PROMPT = `CANARY-PROMPT-${id}`;
const COMPLETION = `CANARY-COMPLETION-${id}`;
const REASONING = `CANARY-REASONING-${id}`;
const TOOL_INPUT = `CANARY-TOOL-${id}`;

const policy = {
  ...TEST_POLICY,
  users: { ...TEST_POLICY.users, alice: { team: "eng", keys: [keyHashEntry(ALICE_KEY)] } },
};

let h: Harness;
beforeAll(async () => {
  // Everything the broker can log, logged: the canaries must not be in any of it.
  process.env.TOLLGATE_LOG_LEVEL = "trace";
  h = await startHarness({ policy });
}, 60_000);
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.reset();
});

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }], ...extra });

describe("admin and user credentials are separate", () => {
  // access.test.ts covers GET /v1/models with the admin token and GET /admin/policy with a user key.
  it("refuses the admin token on every user route, by either header, without calling Bedrock", async () => {
    for (const [method, path] of [["POST", "/v1/chat/completions"], ["GET", "/v1/me"], ["GET", "/v1/me/usage"], ["GET", "/v1/me/requests"]] as const) {
      for (const headers of [{ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, { "x-api-key": TEST_ADMIN_TOKEN }] as Array<Record<string, string>>) {
        const response = await fetch(`${h.broker.url}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, ...(method === "POST" ? { body: chatBody() } : {}) });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(await errorCode(response)).toBe("invalid_api_key");
      }
    }
    expect(h.emulator.calls).toHaveLength(0);
  });

  it("refuses user keys on every admin route, by either header, and changes nothing", async () => {
    const before = await (await h.call("/admin/policy", { token: TEST_ADMIN_TOKEN })).text();
    const routes = [
      ["GET", "/admin/policy"],
      ["PUT", "/admin/policy"],
      ["GET", "/admin/policy/versions"],
      ["POST", "/admin/policy/rollback"],
      ["GET", "/admin/usage"],
      ["GET", "/admin/requests"],
      ["GET", "/admin/deployments"],
    ] as const;
    for (const [method, path] of routes) {
      for (const key of [TEST_KEY, ALICE_KEY]) {
        for (const headers of [{ authorization: `Bearer ${key}` }, { "x-api-key": key }] as Array<Record<string, string>>) {
          const body = method === "PUT" ? JSON.stringify(policy) : method === "POST" ? JSON.stringify({ version: 1 }) : undefined;
          const response = await fetch(`${h.broker.url}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, ...(body ? { body } : {}) });
          expect(response.status, `${method} ${path}`).toBe(401);
          expect(await errorCode(response)).toBe("invalid_admin_token");
        }
      }
    }
    // The admin token sent as x-api-key is not accepted either: the admin API reads only Authorization.
    expect((await fetch(`${h.broker.url}/admin/policy`, { headers: { "x-api-key": TEST_ADMIN_TOKEN } })).status).toBe(401);
    expect(await (await h.call("/admin/policy", { token: TEST_ADMIN_TOKEN })).text()).toBe(before);
  });

  it("refuses an admin token that only shares a prefix with the real one", async () => {
    for (const token of [TEST_ADMIN_TOKEN.slice(0, -1), `${TEST_ADMIN_TOKEN}x`, TEST_ADMIN_TOKEN.toUpperCase(), TEST_ADMIN_TOKEN.slice(1)]) {
      expect((await h.call("/admin/policy", { token })).status).toBe(401);
    }
  });
});

/** Every file under `dir`, with its bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/** Where `needle` occurs (as UTF-8 or UTF-16LE, as SQLite may store text either way). */
function occurrences(files: Array<{ path: string; bytes: Buffer }>, needle: string): string[] {
  return files
    .filter(({ bytes }) => bytes.includes(Buffer.from(needle, "utf8")) || bytes.includes(Buffer.from(needle, "utf16le")))
    .map(({ path }) => path);
}

describe("keys at rest and canaries", () => {
  it("keeps only key hashes on disk, and no prompt, completion or key in any log line or file", async () => {
    // A key made the way an admin makes one, added to the policy through the admin API.
    const created = await runCli(["key", "create", "--user", "bob"]);
    const bobKey = /^key:\s+(tg_\S+)$/m.exec(created.stdout)?.[1] ?? "";
    const bobHash = /^hash: "(sha256:[0-9a-f]{64})"$/m.exec(created.stdout)?.[1] ?? "";
    expect(bobKey).toMatch(/^tg_/);
    const pushed = await h.call("/admin/policy", {
      method: "PUT",
      token: TEST_ADMIN_TOKEN,
      body: JSON.stringify({ ...policy, users: { ...policy.users, bob: { team: "eng", keys: [bobHash] } } }),
    });
    expect(pushed.status).toBe(200);

    h.emulator.setHandler(() => ({
      content: [{ reasoning: { text: `thinking about ${REASONING}` } }, { text: `Here you are: ${COMPLETION}` }, { toolUse: { name: "read_file", input: { path: TOOL_INPUT } } }],
    }));
    const conversation = {
      model: "claude-sonnet-4-5",
      tools: [{ type: "function", function: { name: "read_file", description: `reads ${PROMPT}`, parameters: { type: "object", properties: { path: { type: "string" } } } } }],
      messages: [
        { role: "system", content: `system ${PROMPT}` },
        { role: "user", content: `please ${PROMPT}` },
        { role: "assistant", content: `earlier ${COMPLETION}`, tool_calls: [{ id: "call_1", type: "function", function: { name: "read_file", arguments: JSON.stringify({ path: TOOL_INPUT }) } }] },
        { role: "tool", tool_call_id: "call_1", content: `file says ${PROMPT}` },
        { role: "user", content: `and now ${PROMPT}` },
      ],
    };
    for (const key of [ALICE_KEY, bobKey]) {
      for (const stream of [false, true]) {
        const response = await h.call("/v1/chat/completions", { token: key, method: "POST", body: JSON.stringify({ ...conversation, stream }) });
        expect(response.status).toBe(200);
        expect(await response.text()).toContain(COMPLETION);
      }
      // Also as x-api-key, and a refused request that carries the prompt.
      const viaHeader = await fetch(`${h.broker.url}/v1/chat/completions`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify(conversation) });
      expect(viaHeader.status).toBe(200);
      const refused = await h.call("/v1/chat/completions", { token: key, method: "POST", body: JSON.stringify({ ...conversation, max_tokens: PROMPT }) });
      expect(refused.status).toBe(400);
    }
    // An unknown key, and a Bedrock error whose message quotes the prompt.
    expect((await h.call("/v1/chat/completions", { token: WRONG_KEY, method: "POST", body: JSON.stringify(conversation) })).status).toBe(401);
    h.emulator.setHandler(() => ({ error: { name: "ValidationException", message: `The model returned the following errors: bad ${PROMPT}` } }));
    expect((await h.call("/v1/chat/completions", { token: ALICE_KEY, method: "POST", body: JSON.stringify(conversation) })).status).toBe(400);
    // A stream the client abandons half-way.
    h.emulator.setHandler(() => ({ content: [{ text: `${COMPLETION} `.repeat(8) }], chunks: 8, chunkDelayMs: 100 }));
    const controller = new AbortController();
    const abandoned = await h.call("/v1/chat/completions", { token: ALICE_KEY, method: "POST", body: JSON.stringify({ ...conversation, stream: true }), signal: controller.signal });
    await abandoned.body?.getReader().read();
    controller.abort();
    await expect.poll(() => h.emulator.calls.at(-1)?.aborted, { timeout: 5000 }).toBe(true);

    // Every request is in the ledger (so the files below hold what the broker recorded).
    const rows = (await (await h.call("/admin/requests?limit=100", { token: TEST_ADMIN_TOKEN })).json()) as { data: Array<{ user: string }> };
    expect(rows.data.filter((row) => row.user === "alice" || row.user === "bob").length).toBeGreaterThanOrEqual(8);
    // Stop the broker: the ledger is checkpointed and closed, every log line flushed.
    await h.broker.stop("SIGTERM");

    const files = filesUnder(h.broker.dataDir);
    expect(files.map((file) => file.path).join("\n")).toMatch(/ledger\.sqlite/);
    expect(files.map((file) => file.path).join("\n")).toMatch(/policy-versions/);
    const log = h.broker.output();
    expect(log.split("\n").length).toBeGreaterThan(10); // trace level: there is a lot to search
    const logFile = [{ path: "(broker stdout+stderr)", bytes: Buffer.from(log) }];
    for (const secret of [ALICE_KEY, bobKey, WRONG_KEY, TEST_KEY, TEST_ADMIN_TOKEN, PROMPT, COMPLETION, REASONING, TOOL_INPUT]) {
      expect(occurrences([...files, ...logFile], secret), `"${secret.slice(0, 24)}…" found`).toEqual([]);
    }
    // What is there instead: the hashes, in the policy versions.
    for (const key of [ALICE_KEY, bobKey]) {
      expect(occurrences(files, `sha256:${hashApiKey(key)}`).some((path) => path.includes("policy-versions"))).toBe(true);
    }
    await h.restart(); // for the tests after this one
  });
});

describe("request bodies can't make the broker fetch a URL", () => {
  let target: Server;
  let hits = 0;
  let base = "";
  beforeAll(async () => {
    target = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from("89504e470d0a1a0a", "hex"));
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    base = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => target.close(resolve));
  });

  it("refuses image URLs that aren't inline data with a 400, and nothing ever reaches the URL", async () => {
    const urls = [
      `http://${base}/cat.png`,
      `https://${base}/cat.png`,
      `HTTP://${base}/cat.png`,
      `//${base}/cat.png`,
      `http://localhost:${base.split(":")[1]}/cat.png`,
      `ftp://${base}/cat.png`,
      "file:///etc/passwd",
      `  http://${base}/cat.png`,
      `data:text/uri-list,http://${base}/cat.png`,
      `data:image/png,http://${base}/cat.png`,
    ];
    for (const url of urls) {
      for (const stream of [false, true]) {
        const response = await h.call("/v1/chat/completions", {
          method: "POST",
          body: JSON.stringify({ model: "claude-sonnet-4", stream, messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url } }] }] }),
        });
        expect(response.status, url).toBe(400);
        const body = (await response.json()) as { error: { code: string; param: string; message: string } };
        expect(body.error.param).toBe("messages[0].content[1].image_url.url");
        expect(body.error.code).toMatch(/^unsupported_image_(url|type)$/);
      }
    }
    // URLs elsewhere in the body are just text: passed to the model, never fetched.
    const asText = await h.call("/v1/chat/completions", { method: "POST", body: chatBody({ messages: [{ role: "user", content: `see http://${base}/cat.png` }], user: `http://${base}/u` }) });
    expect(asText.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hits).toBe(0);
    expect(h.emulator.calls).toHaveLength(1);
  });
});
