// The extension activated against a fake `vscode` module and a small fake broker: commands match
// the manifest, the status bar follows /v1/me and proxied responses, the usage panel gets its data
// over postMessage, and deactivation cleans up. (The real thing runs in code-server: test/e2e.)
import { existsSync, readFileSync, statSync } from "node:fs";
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { HostMessage } from "../protocol.js";
import { me } from "../core/test-builders.js";
import { tempDir } from "../core/test-builders.js";
import { createFakeVscode, fakeSecrets } from "./fake-vscode.js";

const harness = vi.hoisted(() => ({ current: undefined as unknown }));
vi.mock("vscode", () => harness.current as object);

const KEY = "tg_activation-test-key";
const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  contributes: { commands: Array<{ command: string; title: string; category?: string }> };
};

let broker: Server;
let brokerHits: Array<{ url: string; auth: string | undefined; project: string | undefined }> = [];
let spent = 4.2;
const lmBodies: Array<Record<string, unknown>> = [];
let fakes: ReturnType<typeof createFakeVscode>;
let extension: typeof import("./extension.js");
let home: string;
const savedEnv = { ...process.env };
const secrets = fakeSecrets();
const context = {
  subscriptions: [] as Array<{ dispose(): unknown }>,
  secrets,
  extensionUri: { fsPath: "/ext", toString: () => "/ext" },
  extension: { packageJSON: { version: "0.1.0" } },
};

beforeAll(async () => {
  broker = http.createServer((req, res) => {
    brokerHits.push({ url: req.url ?? "", auth: req.headers.authorization, project: req.headers["x-tollgate-project"] as string | undefined });
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => route(req, res, body));
  });
  const route = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${KEY}`) return json(401, { error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key", param: null } });
    const path = (req.url ?? "").split("?")[0];
    const usage = { from: "2026-10-24T00:00:00Z", to: "2026-11-24T00:00:00Z", groupBy: "day", rows: [], total: { requests: 0, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, costUsd: 0, cacheSavingsUsd: 0 } };
    switch (path) {
      case "/v1/me":
        return json(200, me({ user: "tester", budgets: [{ scope: "user tester", period: "day", budgetUsd: 20, spentUsd: spent, remainingUsd: 20 - spent, resetsAt: "2026-11-25T00:00:00Z" }] }));
      case "/v1/me/usage":
        return json(200, usage);
      case "/v1/me/requests":
        return json(200, { data: [] });
      case "/v1/models":
        return json(200, {
          object: "list",
          data: [{ id: "claude-sonnet-4-5", object: "model", created: 1_763_942_400, owned_by: "tollgate", context_window: 1_000_000, max_output_tokens: 64_000, vision: true }],
        });
      case "/v1/chat/completions":
        if (body.includes('"stream":true') && body.includes("claude-sonnet-4-5")) {
          lmBodies.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(200, { "content-type": "text/event-stream" });
          const chunk = (delta: unknown) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;
          res.end(
            chunk({ content: "Hello" }) +
              chunk({ content: " there" }) +
              chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "ls", arguments: '{"dir":' } }] }) +
              chunk({ tool_calls: [{ index: 0, function: { arguments: '"."}' } }] }) +
              "data: [DONE]\n\n",
          );
          return;
        }
        return json(429, { error: { message: "user tester: 30 requests per minute; retry in 9 s", type: "rate_limit_error", code: "rate_limit_exceeded", param: null } }, { "retry-after": "9" });
      default:
        return json(404, { error: { message: "no", type: "invalid_request_error", code: "not_found", param: null } });
    }
  };
  await new Promise<void>((resolve) => broker.listen(0, "127.0.0.1", resolve));
  home = tempDir("tollgate-activate-");
  process.env.HOME = home;
  delete process.env.XDG_CONFIG_HOME;
  process.env.TOLLGATE_API_KEY = KEY;
  process.env.TOLLGATE_BROKER_URL = `http://127.0.0.1:${(broker.address() as AddressInfo).port}`;
  fakes = createFakeVscode({ localPort: 0, pollSeconds: 30, project: "acme-web" });
  harness.current = fakes.fake;
  extension = await import("./extension.js");
  await extension.activate(context as never);
});

afterAll(async () => {
  for (const disposable of context.subscriptions) await disposable.dispose();
  await extension?.deactivate();
  await new Promise((resolve) => broker.close(resolve));
  process.env = savedEnv;
});

const item = () => fakes.statusBarItems.find((candidate) => candidate.id === "tollgate.status");

describe("activation", () => {
  it("registers exactly the manifest's commands, titled \"Tollgate: …\"", () => {
    const declared = manifest.contributes.commands.map((command) => command.command).sort();
    expect([...fakes.commands.keys()].sort()).toEqual(declared);
    expect(declared).toEqual(expect.arrayContaining(["tollgate.signIn", "tollgate.signOut", "tollgate.configureCline", "tollgate.showUsage"]));
    expect(manifest.contributes.commands.find((c) => c.command === "tollgate.signIn")).toMatchObject({ category: "Tollgate", title: "Sign In" });
    expect(fakes.viewProviders.has("tollgate.usageView")).toBe(true);
  });

  it("shows one status bar item with today's spend from /v1/me, opening the usage panel on click", async () => {
    expect(fakes.statusBarItems).toHaveLength(1);
    await expect.poll(() => item()?.text).toBe("$(pulse) $4.20 / $20.00");
    expect(item()).toMatchObject({ name: "Tollgate", command: "tollgate.showUsage", visible: true, backgroundColor: undefined });
    expect(item()?.accessibilityInformation?.label).toBe("Tollgate: $4.20 of $20.00 spent today (user tester daily budget)");
    expect(brokerHits.find((hit) => hit.url === "/v1/me")).toMatchObject({ auth: `Bearer ${KEY}`, project: "acme-web" });
  });

  it("serves the local endpoint, recorded in endpoint.json, and follows its responses' headers at once", async () => {
    const file = join(home, ".config", "tollgate", "endpoint.json");
    await expect.poll(() => existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const endpoint = JSON.parse(readFileSync(file, "utf8")) as { baseUrl: string; apiKey: string };
    const response = await fetch(`${endpoint.baseUrl}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${endpoint.apiKey}` }, body: "{}" });
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    await expect.poll(() => item()?.text).toMatch(/^\$\(pulse\) \$4\.20 \/ \$20\.00 · \$\(watch\) [89]s$/);
    expect(item()?.backgroundColor).toEqual({ id: "statusBarItem.errorBackground" });
  });

  it("opens the usage panel and answers its ready message with the data", async () => {
    spent = 17;
    await fakes.commands.get("tollgate.showUsage")?.();
    const panel = fakes.panels[0];
    expect(panel).toMatchObject({ title: "Tollgate Usage" });
    const html = panel!.webview.html;
    const nonce = /script-src 'nonce-([^']+)'/.exec(html)?.[1];
    expect(nonce).toBeTruthy();
    expect(html).toContain(`<script nonce="${nonce}" src="https://webview.test/ext/dist/webview.js">`);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/https?:\/\/(?!webview\.test)/);
    panel!.webview.receive({ type: "ready" });
    const ready = async (): Promise<HostMessage | undefined> =>
      (panel!.webview.posted as HostMessage[]).find((message) => message.type === "state" && message.state.status === "ready");
    await expect.poll(ready).toBeDefined();
    const state = (await ready())!.state;
    expect(state.status === "ready" && state.data.spendTodayUsd).toBe(17);
    // The panel's /v1/me also moved the status bar (warning at ≥ 80 %).
    await expect.poll(() => item()?.text).toMatch(/^\$\(pulse\) \$17\.00 \/ \$20\.00/);
    await expect.poll(() => item()?.backgroundColor?.id).toMatch(/statusBarItem\.(warning|error)Background/);
    panel!.webview.receive({ type: "run", command: "not-a-command" });
  });

  it("says Sign In once no source has a key, and back when signed in", async () => {
    delete process.env.TOLLGATE_API_KEY;
    await fakes.commands.get("tollgate.refresh")?.();
    await expect.poll(() => item()?.text).toBe("Tollgate: Sign In");
    await secrets.store("tollgate.apiKey", KEY);
    await expect.poll(() => item()?.text).toMatch(/^\$\(pulse\) \$17\.00 \/ \$20\.00/);
    expect(fakes.logLines.join("\n")).not.toContain(KEY);
  });

  it("offers the broker's models through vscode.lm and streams their answers, tool calls included", async () => {
    interface Provider {
      provideLanguageModelChatInformation(options: { silent: boolean }, token: unknown): Promise<Array<{ id: string; capabilities: object; maxInputTokens: number; maxOutputTokens: number }>>;
      provideLanguageModelChatResponse(model: { id: string }, messages: unknown[], options: unknown, progress: { report(part: unknown): void }, token: unknown): Promise<void>;
    }
    const provider = fakes.lmProviders.get("tollgate") as Provider | undefined;
    expect(provider).toBeDefined();
    const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };
    const models = await provider!.provideLanguageModelChatInformation({ silent: true }, token);
    expect(models.map((m) => m.id)).toEqual(["claude-sonnet-4-5"]);
    // The limits the broker's policy states, not a guess.
    expect(models[0]).toMatchObject({ maxInputTokens: 1_000_000, maxOutputTokens: 64_000 });
    const parts: unknown[] = [];
    const { LanguageModelTextPart, LanguageModelToolCallPart } = fakes.fake;
    await provider!.provideLanguageModelChatResponse(
      models[0]!,
      [{ role: 1, content: [new LanguageModelTextPart("Hi")], name: undefined }],
      { tools: [{ name: "ls", description: "List", inputSchema: { type: "object" } }], toolMode: 1 },
      { report: (part) => parts.push(part) },
      token,
    );
    expect(parts).toEqual([new LanguageModelTextPart("Hello"), new LanguageModelTextPart(" there"), new LanguageModelToolCallPart("call_1", "ls", { dir: "." })]);
    expect(lmBodies[0]).toMatchObject({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], tool_choice: "auto", stream: true });
    expect(brokerHits.filter((hit) => hit.url === "/v1/chat/completions").at(-1)).toMatchObject({ auth: `Bearer ${KEY}`, project: "acme-web" });
  });

  it("removes endpoint.json when deactivated", async () => {
    const file = join(home, ".config", "tollgate", "endpoint.json");
    await extension.deactivate();
    expect(existsSync(file)).toBe(false);
  });
});
