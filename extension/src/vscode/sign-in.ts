// "Tollgate: Sign In" asks for the key and checks it against /v1/me before saving it in
// SecretStorage; "Sign Out" forgets it (and says when another source still provides one).
import * as vscode from "vscode";
import { BrokerError, type BrokerClient } from "../core/broker-client.js";
import { KEY_SOURCE_LABELS } from "../core/key-sources.js";
import type { Logger } from "../core/log.js";
import type { KeyService } from "./key-service.js";

export async function signIn(deps: { keys: KeyService; client: BrokerClient; brokerUrl: () => string; log: Logger; onChange: () => void }): Promise<void> {
  const key = (
    await vscode.window.showInputBox({
      title: "Tollgate: Sign In",
      prompt: `Your Tollgate key (tg_…, from your admin). It is checked with the broker at ${deps.brokerUrl()} and kept in VS Code's secret storage.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : "Paste your key"),
    })
  )?.trim();
  if (!key) return;
  try {
    const me = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Tollgate: checking your key…" }, () => deps.client.me(key));
    await deps.keys.store(key);
    deps.log.info(`signed in as ${me.user} (team ${me.team})`);
    void vscode.window.showInformationMessage(`Tollgate: signed in as ${me.user} (team ${me.team}).`);
    deps.onChange();
  } catch (error) {
    if (BrokerError.is(error, "http") && error.status === 401) {
      void vscode.window.showErrorMessage(`Tollgate: the broker refused this key (${error.message}). Nothing was saved.`);
      return;
    }
    if (BrokerError.is(error, "unreachable")) {
      const choice = await vscode.window.showWarningMessage(`Tollgate: ${error.message} The key could not be checked. Save it anyway?`, "Save", "Cancel");
      if (choice === "Save") {
        await deps.keys.store(key);
        deps.log.info("signed in (key not checked: broker unreachable)");
        deps.onChange();
      }
      return;
    }
    void vscode.window.showErrorMessage(`Tollgate: could not check the key: ${(error as Error).message}`);
  }
}

export async function signOut(deps: { keys: KeyService; log: Logger; onChange: () => void }): Promise<void> {
  await deps.keys.forget();
  deps.log.info("signed out (secret storage cleared)");
  const still = await deps.keys.resolve();
  deps.onChange();
  if (still.source) {
    void vscode.window.showInformationMessage(
      `Tollgate: signed out of this browser, but a key still comes from the ${KEY_SOURCE_LABELS[still.source]}; remove it there to sign out completely.`,
    );
  } else {
    void vscode.window.showInformationMessage("Tollgate: signed out.");
  }
}
