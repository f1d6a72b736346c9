// The one status bar item: renders core/status.ts's view of the StatusModel.
import * as vscode from "vscode";
import { statusView, type StatusModel } from "../core/status.js";

export class TollgateStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private ticker: NodeJS.Timeout | undefined;
  private readonly subscription: { dispose(): void };

  constructor(private readonly model: StatusModel) {
    this.item = vscode.window.createStatusBarItem("tollgate.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Tollgate";
    this.item.command = "tollgate.showUsage";
    this.subscription = model.onChange(() => this.render());
    this.render();
    this.item.show();
  }

  render(): void {
    const view = statusView(this.model.facts, Date.now());
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = false;
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: view.accessibilityLabel, role: "button" };
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    // Count down while rate-limited; stop ticking once it frees.
    if (view.retryInSeconds !== undefined && !this.ticker) {
      this.ticker = setInterval(() => this.render(), 1000);
    } else if (view.retryInSeconds === undefined && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.item.dispose();
  }
}
