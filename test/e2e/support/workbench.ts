// One code-server with the packaged extension installed, opened in headless Chromium: what a developer
// has in front of them.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Browser, FrameLocator, Locator, Page } from "playwright-core";
import { launchChromium } from "./browser.js";
import { installExtension, makeDirs, startCodeServer, writeUserSettings, type CodeServer, type CodeServerDirs, type E2eManifest } from "./code-server.js";

export interface WorkbenchOptions {
  manifest: E2eManifest;
  vsix: string;
  /** The workspace folder's name. */
  project: string;
  settings: Record<string, unknown>;
  /** Extra environment of the code-server process (TOLLGATE_API_KEY, TOLLGATE_BROKER_URL). */
  env: Record<string, string>;
}

export interface Workbench {
  dirs: CodeServerDirs;
  codeServer: CodeServer;
  page: Page;
  /** The Tollgate status bar item. */
  statusItem(): Locator;
  /** The content of the active webview (the usage panel once it is open). */
  webview(): FrameLocator;
  /** Another browser tab on the same code-server: another window, with its own extension host. */
  openWindow(): Promise<Page>;
  /** Picks `title` in the command palette (F1), then `item` in the quick pick that follows, if given. */
  runCommand(title: string, item?: string): Promise<void>;
  close(): Promise<void>;
}

export async function openWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  const dirs = makeDirs();
  dirs.workspace = join(dirs.workspace, options.project);
  mkdirSync(dirs.workspace);
  writeUserSettings(dirs, options.settings);
  await installExtension(options.manifest, dirs, options.vsix);
  const codeServer = await startCodeServer(options.manifest, dirs, options.env);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(options.manifest.chromium);
    const opened = browser;
    const newWindow = async (): Promise<Page> => {
      const page = await opened.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
      await page.goto(codeServer.url);
      await page.locator(".statusbar").waitFor({ timeout: 60_000 });
      return page;
    };
    const page = await newWindow();
    return {
      dirs,
      codeServer,
      page,
      statusItem: () => tollgateStatusItem(page),
      webview: () => page.frameLocator("iframe.webview.ready").frameLocator("#active-frame"),
      openWindow: newWindow,
      async runCommand(title, item) {
        const input = page.locator(".quick-input-widget input");
        await page.keyboard.press("F1");
        await input.waitFor({ timeout: 10_000 });
        await input.fill(`>${title}`);
        await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click({ timeout: 15_000 });
        if (item === undefined) return;
        await input.fill(item);
        await page.locator(".quick-input-list .monaco-list-row", { hasText: item }).first().click({ timeout: 15_000 });
      },
      async close() {
        await opened.close();
        await codeServer.stop();
        rmSync(dirs.root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await codeServer.stop();
    throw new Error(`the workbench did not open: ${String(error)}\ncode-server output:\n${codeServer.output().slice(-4000)}`);
  }
}

/** The Tollgate status bar item of a window. */
export function tollgateStatusItem(page: Page): Locator {
  return page.locator('footer[role="status"] [aria-label^="Tollgate"]').first();
}
