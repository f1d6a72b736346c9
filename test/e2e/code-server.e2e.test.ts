// End to end: the packaged extension in a real code-server, rendered by headless Chromium, talking to a
// real broker on the Bedrock emulator. What a developer sees: the status bar shows today's spend, a
// completion sent through the extension's local endpoint (as Cline sends it) raises it at once, and the
// usage panel shows the same numbers as the broker.
//
// Needs `bash test/e2e/install-code-server.sh` (Node 24, code-server, Chromium) and `npm run package`;
// `npm run test:e2e` does both first. Fails, never skips, when something is missing.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import OpenAI from "openai";
import type { FrameLocator, Locator } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatUsd, type MeResponse, type RequestsResponse } from "@tollgate/shared";
import { startHarness, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";
import { readManifest } from "./support/code-server.js";
import { openWorkbench, tollgateStatusItem, type Workbench } from "./support/workbench.js";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const SCREENSHOTS = join(REPO_ROOT, "test-results/e2e");
/** The README's screenshot, refreshed when TOLLGATE_E2E_UPDATE_DOCS=1 (a normal run leaves tracked files alone). */
const DOCS_STATUS_BAR = join(REPO_ROOT, "docs/images/status-bar.png");
const MODEL = "claude-sonnet-4";
/** The workspace folder's name: the extension sends it as the request's project. */
const PROJECT = "acme-web";
const DAILY_BUDGET_USD = 20;
/** What the emulator reports for every call: a Cline-sized prompt, so each request costs real cents ($0.36 here). */
const USAGE = { inputTokens: 100_000, outputTokens: 4_000, totalTokens: 104_000 };
/** What one such call costs at claude-sonnet-4's built-in prices ($3 in, $15 out per million tokens). */
const USAGE_COST_USD = 0.36;

/** The packaged extension: TOLLGATE_E2E_VSIX, or extension/tollgate-<version>.vsix from `npm run package`. */
function vsixPath(): string {
  if (process.env.TOLLGATE_E2E_VSIX) return resolve(process.env.TOLLGATE_E2E_VSIX);
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "extension/package.json"), "utf8")) as { version: string };
  const file = join(REPO_ROOT, `extension/tollgate-${version}.vsix`);
  if (!existsSync(file)) throw new Error(`the extension is not packaged (no ${file}): run \`npm run package\` (npm run test:e2e does)`);
  return file;
}

// The format the status bar and panel use (its rules are unit-tested in shared and extension).
const usd = (amount: number): string => formatUsd(amount);

/** User settings: a trusted workspace, nothing phoning home, no built-in chat taking the screenshots' space. */
function settings(colorTheme: string): Record<string, unknown> {
  return {
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "extensions.ignoreRecommendations": true,
    "update.mode": "none",
    "workbench.colorTheme": colorTheme,
    // A free port: other code-servers on this machine may hold the default 7601.
    "tollgate.localPort": 0,
  };
}

/** Why setting up failed: the suite's tests then fail with it (a missing code-server is a failure, never a skip). */
function setUpOnce(setUp: () => Promise<void>): void {
  let setupError: Error | undefined;
  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error instanceof Error ? error : new Error(String(error));
    }
  }, 240_000);
  beforeEach(() => {
    if (setupError) throw setupError;
  });
}

/** On a failing test: a screenshot, code-server's output and the extension's logs. */
function reportFailures(workbench: () => Workbench | undefined): void {
  beforeEach((context) => {
    context.onTestFailed(async () => {
      const bench = workbench();
      if (!bench) return;
      mkdirSync(SCREENSHOTS, { recursive: true });
      await bench.page.screenshot({ path: join(SCREENSHOTS, `failed-${context.task.name.replace(/\W+/g, "-")}.png`) }).catch(() => undefined);
      console.error(`code-server output:\n${bench.codeServer.output().slice(-4000)}\n\nextension logs:\n${extensionLogs(bench.dirs.userData)}`);
    });
  });
}

describe("the extension in code-server", () => {
  let harness: Harness | undefined;
  let bench: Workbench | undefined;

  /** The workbench; throws (failing the test) if it did not open. */
  const wb = (): Workbench => {
    if (!bench) throw new Error("the workbench is not open");
    return bench;
  };
  const broker = (): Harness => {
    if (!harness) throw new Error("the broker is not running");
    return harness;
  };
  const statusItem = (): Locator => wb().statusItem();
  const usagePanel = (): FrameLocator => wb().webview();

  async function me(): Promise<MeResponse> {
    const response = await broker().call("/v1/me");
    expect(response.status).toBe(200);
    return (await response.json()) as MeResponse;
  }
  async function spentToday(): Promise<number> {
    const budget = (await me()).budgets.find((b) => b.scope === "user tester" && b.period === "day");
    if (!budget) throw new Error("the broker's /v1/me has no daily budget for user tester");
    return budget.spentUsd;
  }
  const endpointFile = (): string => join(wb().dirs.home, ".config/tollgate/endpoint.json");
  function endpoint(): { baseUrl: string; apiKey: string; pid: number } {
    return JSON.parse(readFileSync(endpointFile(), "utf8")) as { baseUrl: string; apiKey: string; pid: number };
  }

  async function screenshot(name: string, locator?: Locator): Promise<string> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${name}.png`);
    if (locator) await locator.screenshot({ path });
    else await wb().page.screenshot({ path });
    return path;
  }

  setUpOnce(async () => {
    const manifest = readManifest();
    const vsix = vsixPath();
    // Limits as an org would set them; the user's daily budget is the tightest, so the status bar shows it.
    harness = await startHarness({
      policy: {
        ...TEST_POLICY,
        teams: { eng: { ...TEST_POLICY.teams.eng, limits: { dailyUsd: 200, monthlyUsd: 3000 } } },
        users: { tester: { ...TEST_POLICY.users.tester, limits: { rpm: 30, tpm: 10_000_000, dailyUsd: DAILY_BUDGET_USD, monthlyUsd: 300 } } },
      },
    });
    harness.emulator.setHandler(() => ({ usage: USAGE }));
    // Some spend from earlier today, so the status bar starts from a non-zero number.
    await harness.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Earlier today" }] });
    bench = await openWorkbench({
      manifest,
      vsix,
      project: PROJECT,
      settings: settings("Default Dark Modern"),
      env: { TOLLGATE_API_KEY: TEST_KEY, TOLLGATE_BROKER_URL: harness.broker.url },
    });
  });
  reportFailures(() => bench);

  afterAll(async () => {
    await bench?.close();
    await harness?.close();
  });

  it("shows today's spend against the daily budget in the status bar", async () => {
    const spent = await spentToday();
    expect(spent).toBeGreaterThan(0);
    await expect.poll(() => statusItem().innerText(), { timeout: 60_000 }).toContain(`${usd(spent)} / ${usd(DAILY_BUDGET_USD)}`);
    expect(await statusItem().getAttribute("aria-label")).toMatch(/^Tollgate/);
    await screenshot("01-workbench");
  });

  it("writes endpoint.json (0600) for local clients", async () => {
    await expect.poll(() => existsSync(endpointFile()), { timeout: 30_000 }).toBe(true);
    expect(statSync(endpointFile()).mode & 0o777).toBe(0o600);
    const { baseUrl, apiKey } = endpoint();
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(apiKey).not.toBe("");
    expect(apiKey).not.toBe(TEST_KEY);
  });

  it("a completion through the local endpoint raises the spend in the status bar at once", async () => {
    const before = await spentToday();
    const { baseUrl, apiKey } = endpoint();
    const client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hello from Cline" }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();

    const after = await spentToday();
    expect(after).toBeGreaterThan(before);
    // "At once": from the response's headers, well before the 30 s poll.
    await expect.poll(() => statusItem().innerText(), { timeout: 15_000 }).toContain(`${usd(after)} / ${usd(DAILY_BUDGET_USD)}`);
    await screenshot("02-status-bar", wb().page.locator('footer[role="status"]'));

    // The developer's identity and project were added by the extension.
    const requests = (await (await broker().call("/v1/me/requests?limit=1")).json()) as RequestsResponse;
    expect(requests.data[0]).toMatchObject({ user: "tester", model: MODEL, project: PROJECT, status: "ok" });
  });

  it("the status bar's tooltip and the README's screenshot", async () => {
    const { page } = wb();
    const item = statusItem();
    await item.hover();
    const hover = page.locator(".monaco-hover, .workbench-hover, [role='tooltip']").filter({ visible: true }).first();
    await hover.waitFor({ timeout: 10_000 });
    const itemBox = await item.boundingBox();
    const hoverBox = await hover.boundingBox();
    const viewport = page.viewportSize();
    if (!itemBox || !hoverBox || !viewport) throw new Error("the status bar item or its tooltip has no bounding box");
    // The bottom right of the window: the item with some of the status bar, and its tooltip above.
    const x = Math.max(0, Math.min(itemBox.x, hoverBox.x) - 160);
    const y = Math.max(0, hoverBox.y - 24);
    const path = join(SCREENSHOTS, "03-status-bar-tooltip.png");
    await page.screenshot({ path, clip: { x, y, width: viewport.width - x, height: viewport.height - y } });
    if (process.env.TOLLGATE_E2E_UPDATE_DOCS === "1") {
      mkdirSync(join(REPO_ROOT, "docs/images"), { recursive: true });
      copyFileSync(path, DOCS_STATUS_BAR);
    }
    await page.mouse.move(viewport.width / 2, viewport.height / 2);
  });

  it("the command palette has Tollgate: Show Usage", async () => {
    const { page, runCommand } = wb();
    await runCommand("Tollgate: Show Usage");
    const tab = page.locator('.tab[aria-label^="Tollgate Usage"]');
    await tab.waitFor({ timeout: 15_000 });
    await expect.poll(() => usagePanel().locator('[data-testid="spend-today"]').count(), { timeout: 30_000 }).toBe(1);
    // Closed again: the next test opens it from the status bar.
    await tab.hover();
    await tab.getByRole("button", { name: /^Close/ }).click();
    await tab.waitFor({ state: "detached", timeout: 10_000 });
  });

  it("clicking the status item opens the usage panel with the broker's numbers, and it refreshes live", async () => {
    await statusItem().click();
    const panel = usagePanel();
    const spent = await spentToday();
    await expect.poll(() => panel.locator('[data-testid="spend-today"]').innerText(), { timeout: 30_000 }).toBe(usd(spent));
    await expect(panel.locator('[data-testid="quota"]').innerText()).resolves.toContain(usd(DAILY_BUDGET_USD));
    const rows = panel.locator('[data-testid="requests"] tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    await expect(rows.first().innerText()).resolves.toContain(MODEL);
    await expect(panel.locator('[data-testid="daily-chart"] svg, svg[data-testid="daily-chart"]').count()).resolves.toBe(1);
    await screenshot("04-usage-panel");
    await panel.locator('[data-testid="requests"]').scrollIntoViewIfNeeded();
    await expect(rows.first().innerText()).resolves.toContain(usd(USAGE_COST_USD));
    await screenshot("04-usage-panel-requests");

    // Another completion while the panel is open, streamed as Cline sends it: the panel follows.
    const { baseUrl, apiKey } = endpoint();
    const stream = await new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 }).chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Again" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let cost: unknown;
    for await (const chunk of stream) if (chunk.usage) cost = (chunk.usage as { cost?: unknown }).cost;
    expect(cost).toBeCloseTo(USAGE_COST_USD, 6);
    const after = await spentToday();
    await expect.poll(() => panel.locator('[data-testid="spend-today"]').innerText(), { timeout: 40_000 }).toBe(usd(after));
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    await expect(statusItem().innerText()).resolves.toContain(usd(after));
    await screenshot("05-usage-panel-after");
  });

  it("Tollgate: Configure Cline lists the base URL and the models to paste into Cline", async () => {
    const { page, runCommand } = wb();
    await runCommand("Tollgate: Configure Cline");
    const list = page.locator(".quick-input-list");
    await expect.poll(() => list.innerText(), { timeout: 15_000 }).toContain(endpoint().baseUrl);
    const text = await list.innerText();
    for (const model of Object.keys(TEST_POLICY.models)) expect(text).toContain(model);
    // Each model with the limits Cline's Model Configuration asks for, from the broker's /v1/models.
    expect(text).toMatch(/Context window [\d,]+ · max output [\d,]+/);
    expect(text).not.toContain(endpoint().apiKey);
    expect(text).not.toContain(TEST_KEY);
    await screenshot("06-configure-cline");
    await page.keyboard.press("Escape");
    await list.waitFor({ state: "hidden", timeout: 10_000 });
  });

  it("a second window reuses the first one's endpoint and follows the spend too", async () => {
    const served = endpoint();
    const second = await wb().openWindow();
    try {
      const secondItem = tollgateStatusItem(second);
      let spent = await spentToday();
      await expect.poll(() => secondItem.innerText(), { timeout: 60_000 }).toContain(`${usd(spent)} / ${usd(DAILY_BUDGET_USD)}`);
      // Give the second extension host time to settle on an endpoint; the first window's one still serves.
      await second.waitForTimeout(2_000);
      expect(endpoint()).toEqual(served);

      await new OpenAI({ baseURL: served.baseUrl, apiKey: served.apiKey, maxRetries: 0 }).chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "From the second window's Cline" }] });
      spent = await spentToday();
      await expect.poll(() => statusItem().innerText(), { timeout: 15_000 }).toContain(usd(spent));
      await expect.poll(() => secondItem.innerText(), { timeout: 15_000 }).toContain(usd(spent));
    } finally {
      await second.close();
    }
  });

  it("the usage panel follows the theme", async () => {
    const { page, runCommand } = wb();
    await runCommand("Preferences: Color Theme", "Light Modern");
    await expect.poll(() => page.locator(".monaco-workbench").getAttribute("class"), { timeout: 15_000 }).toMatch(/(^|\s)vs(\s|$)/);
    // The webview receives the new theme's variables a moment later.
    await page.waitForTimeout(1_000);
    await screenshot("07-usage-panel-light");
  });

  it("warns at 80% of the budget, turns red when it is spent, and Cline gets the broker's 402 unchanged", async () => {
    const { page } = wb();
    const { baseUrl, apiKey } = endpoint();
    const client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 });
    const kind = (): Promise<string | null> => statusItem().locator("xpath=ancestor-or-self::*[contains(@class,'statusbar-item')][1]").getAttribute("class");

    // A big agent session: $15.00 more brings the day past 80% of $20.
    harness?.emulator.setHandler(() => ({ usage: { inputTokens: 4_990_000, outputTokens: 2_000, totalTokens: 4_992_000 } }));
    await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Refactor everything" }] });
    let spent = await spentToday();
    expect(spent / DAILY_BUDGET_USD).toBeGreaterThanOrEqual(0.8);
    await expect.poll(() => statusItem().innerText(), { timeout: 15_000 }).toContain(`${usd(spent)} / ${usd(DAILY_BUDGET_USD)}`);
    await expect.poll(kind, { timeout: 10_000 }).toMatch(/warning-kind/);
    await screenshot("10-status-bar-warning", page.locator('footer[role="status"]'));

    // $4.20 more: the day's budget is spent.
    harness?.emulator.setHandler(() => ({ usage: { inputTokens: 1_400_000, outputTokens: 0, totalTokens: 1_400_000 } }));
    await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "And the tests" }] });
    spent = await spentToday();
    expect(spent).toBeGreaterThanOrEqual(DAILY_BUDGET_USD);
    await expect.poll(() => statusItem().innerText(), { timeout: 15_000 }).toContain(`${usd(spent)} / ${usd(DAILY_BUDGET_USD)}`);
    await expect.poll(kind, { timeout: 10_000 }).toMatch(/error-kind/);
    await expect(statusItem().getAttribute("aria-label")).resolves.toMatch(/budget reached/);

    // The next request is refused by the broker; the local endpoint passes its answer through as it is.
    const refused = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "One more" }] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused).toMatchObject({ status: 402, code: "budget_exceeded" });
    expect((refused as InstanceType<typeof OpenAI.APIError>).headers?.get("x-should-retry")).toBe("false");
    await expect.poll(kind, { timeout: 10_000 }).toMatch(/error-kind/);
    await screenshot("11-status-bar-exhausted", page.locator('footer[role="status"]'));
    await usagePanel().locator('[data-testid="spend-today"]').scrollIntoViewIfNeeded();
    await expect.poll(() => usagePanel().locator('[data-testid="spend-today"]').innerText(), { timeout: 40_000 }).toBe(usd(spent));
    await screenshot("12-usage-panel-exhausted");
  });

  it("Tollgate's activity-bar view shows the same usage", async () => {
    const { page, runCommand } = wb();
    // Only one webview at a time, so the view's is the one found.
    await runCommand("View: Close All Editors");
    await page.locator('.tab[aria-label^="Tollgate Usage"]').waitFor({ state: "detached", timeout: 10_000 });
    await page.locator('.activitybar [aria-label^="Tollgate"]').first().click();
    const spent = await spentToday();
    await expect.poll(() => usagePanel().locator('[data-testid="spend-today"]').innerText(), { timeout: 30_000 }).toBe(usd(spent));
    await screenshot("13-usage-view");
  });
});

describe("a developer without a key", () => {
  let harness: Harness | undefined;
  let bench: Workbench | undefined;
  const wb = (): Workbench => {
    if (!bench) throw new Error("the workbench is not open");
    return bench;
  };

  setUpOnce(async () => {
    const manifest = readManifest();
    const vsix = vsixPath();
    harness = await startHarness({ policy: { ...TEST_POLICY, users: { tester: { ...TEST_POLICY.users.tester, limits: { dailyUsd: DAILY_BUDGET_USD } } } } });
    // No TOLLGATE_API_KEY and no ~/.config/tollgate/credentials: only the broker's address.
    bench = await openWorkbench({ manifest, vsix, project: PROJECT, settings: settings("Default Dark Modern"), env: { TOLLGATE_BROKER_URL: harness.broker.url } });
  });
  reportFailures(() => bench);

  afterAll(async () => {
    await bench?.close();
    await harness?.close();
  });

  it("sees Tollgate: Sign In in the status bar, signs in from there, then sees the spend", async () => {
    const { page, statusItem, webview } = wb();
    await expect.poll(() => statusItem().innerText(), { timeout: 60_000 }).toContain("Tollgate: Sign In");
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "20-sign-in.png") });

    // The item opens the usage panel, which explains and offers the sign-in.
    await statusItem().click();
    await webview().getByRole("button", { name: "Sign In" }).click({ timeout: 30_000 });
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ timeout: 15_000 });
    await expect(page.locator(".quick-input-widget").innerText()).resolves.toContain("Tollgate");
    await input.fill(TEST_KEY);
    await page.screenshot({ path: join(SCREENSHOTS, "21-sign-in-key.png") });
    await input.press("Enter");
    await expect.poll(() => statusItem().innerText(), { timeout: 30_000 }).toContain(`$0.00 / ${usd(DAILY_BUDGET_USD)}`);
    // The open panel turns into the usage panel.
    await expect.poll(() => webview().locator('[data-testid="spend-today"]').innerText(), { timeout: 30_000 }).toBe("$0.00");
    await page.screenshot({ path: join(SCREENSHOTS, "22-signed-in.png") });
  });
});

/** The extension's own log files (its LogOutputChannel) and the extension host's, for a failing test's report. */
function extensionLogs(userData: string): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/tollgate|exthost\.log$|remoteexthost\.log$/i.test(entry.name)) found.push(path);
    }
  };
  walk(join(userData, "logs"));
  return found.map((file) => `--- ${basename(file)}\n${readFileSync(file, "utf8").slice(-3000)}`).join("\n") || "(none)";
}
