// The usage panel (a WebviewPanel titled "Tollgate Usage") and the same page as a view in
// Tollgate's activity-bar container. Data comes from the host over postMessage (no HTTP from the
// webview); the page is locked down with a nonce CSP and loads only the extension's own files.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { MeResponse } from "../core/api.js";
import { BrokerError, type BrokerClient } from "../core/broker-client.js";
import type { Logger } from "../core/log.js";
import { loadPanelData } from "../core/panel-data.js";
import { parseWebviewMessage } from "../core/webview-messages.js";
import type { HostMessage, PanelState, WebviewMessage } from "../protocol.js";

export const USAGE_VIEW_ID = "tollgate.usageView";
const PANEL_TYPE = "tollgate.usage";

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString("base64");
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview.js"));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "usage.css"));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${title}</title>
</head>
<body>
<main id="root" aria-live="polite" aria-busy="true"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

export class UsageWebviews implements vscode.Disposable, vscode.WebviewViewProvider {
  private panel: vscode.WebviewPanel | undefined;
  private view: vscode.WebviewView | undefined;
  private state: PanelState = { status: "loading" };
  private loading: Promise<void> | undefined;
  private again = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: BrokerClient,
    private readonly hasKey: () => Promise<boolean>,
    private readonly log: Logger,
    /** Sees each /v1/me the panel loads, so the status bar never lags behind the panel. */
    private readonly onMe: (me: MeResponse, askedAt: number) => void = () => undefined,
  ) {}

  private webviewOptions(): vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, "dist"), vscode.Uri.joinPath(this.extensionUri, "media")],
    };
  }

  /** Opens (or reveals) the "Tollgate Usage" panel. */
  show(): void {
    if (this.panel) {
      this.panel.reveal();
      void this.refresh();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, "Tollgate Usage", vscode.ViewColumn.Active, this.webviewOptions());
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, "media", "tollgate.svg");
    this.panel = panel;
    this.attach(panel.webview, "Tollgate Usage");
    panel.onDidChangeViewState(() => panel.visible && void this.refresh(), undefined, this.disposables);
    panel.onDidDispose(() => (this.panel = undefined), undefined, this.disposables);
    void this.refresh();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = this.webviewOptions();
    this.attach(view.webview, "Tollgate");
    view.onDidChangeVisibility(() => view.visible && void this.refresh(), undefined, this.disposables);
    view.onDidDispose(() => (this.view = undefined), undefined, this.disposables);
    void this.refresh();
  }

  private attach(webview: vscode.Webview, title: string): void {
    webview.html = webviewHtml(webview, this.extensionUri, title);
    webview.onDidReceiveMessage((raw: unknown) => this.onMessage(webview, parseWebviewMessage(raw)), undefined, this.disposables);
  }

  private onMessage(webview: vscode.Webview, message: WebviewMessage | undefined): void {
    if (!message) return;
    switch (message.type) {
      case "ready":
        this.post(webview);
        return;
      case "refresh":
        void this.refresh();
        return;
      case "run":
        void vscode.commands.executeCommand(`tollgate.${message.command}`);
        return;
    }
  }

  private post(webview: vscode.Webview): void {
    const message: HostMessage = { type: "state", state: this.state, now: new Date().toISOString() };
    void webview.postMessage(message);
  }

  private broadcast(): void {
    if (this.panel) this.post(this.panel.webview);
    if (this.view) this.post(this.view.webview);
  }

  get isOpen(): boolean {
    return Boolean(this.panel?.visible || this.view?.visible);
  }

  /** Reloads from the broker when a page is open (coalesces concurrent calls). */
  refresh(): Promise<void> {
    if (!this.panel && !this.view) return Promise.resolve();
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    if (!(await this.hasKey())) {
      this.state = { status: "signed-out" };
      this.broadcast();
      return;
    }
    const last = this.state.status === "ready" ? this.state.data : this.state.status === "problem" ? this.state.data : undefined;
    try {
      this.state = { status: "ready", data: await loadPanelData(this.client, Date.now(), this.onMe) };
    } catch (error) {
      const offline = BrokerError.is(error, "unreachable");
      if (BrokerError.is(error, "no-key")) this.state = { status: "signed-out" };
      else this.state = { status: "problem", message: (error as Error).message, offline, data: last };
      this.log.warn(`usage panel: ${(error as Error).message}`);
    }
    this.broadcast();
  }

  dispose(): void {
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
