// "Tollgate: Configure Cline": the base URL, API key (the local token) and model ids to paste into
// Cline's "OpenAI Compatible" provider, each one click to copy; and, where Cline keeps its
// settings in files (its CLI/standalone builds), an offer to write them after confirmation with a backup.
import * as vscode from "vscode";
import type { BrokerClient, BrokerModel } from "../core/broker-client.js";
import { findClineFiles, looksLikeRecentFamily, suggestedModel, writeClineSettings } from "../core/cline-settings.js";
import type { EndpointInfo } from "../core/endpoint-coordinator.js";
import type { Logger } from "../core/log.js";

// The naming note, as an item of its own under "Model ID": a placeholder is one line and cut off.
const NAMING_NOTE = {
  label: "$(info) Pick an id that names the model (e.g. claude-sonnet-4-5)",
  detail: "Cline uses native tool calling only for ids it recognises as recent model families.",
};

type Item = vscode.QuickPickItem & { run?: () => Promise<void> };

export async function configureCline(deps: {
  endpoint: () => EndpointInfo | undefined;
  client: BrokerClient;
  log: Logger;
}): Promise<void> {
  const endpoint = deps.endpoint();
  if (!endpoint) {
    void vscode.window.showErrorMessage("Tollgate: the local endpoint is not running (see the Tollgate log). Check the setting tollgate.localPort.");
    return;
  }
  let entries: BrokerModel[] = [];
  try {
    entries = await deps.client.models();
  } catch (error) {
    deps.log.warn(`configure Cline: could not list models: ${(error as Error).message}`);
  }
  const models = entries.map((entry) => entry.id);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const preferred = suggestedModel(models);

  const copy = (label: string, value: string) => async (): Promise<void> => {
    await vscode.env.clipboard.writeText(value);
    void vscode.window.showInformationMessage(`Tollgate: copied ${label} to the clipboard.`);
  };
  const items: Item[] = [
    { label: "Cline → API Provider: OpenAI Compatible", kind: vscode.QuickPickItemKind.Separator },
    { label: "$(copy) Base URL", description: endpoint.baseUrl, run: copy("the base URL", endpoint.baseUrl) },
    { label: "$(copy) API Key", description: "the local endpoint's token (tgl_…)", detail: "Not your Tollgate key: the local endpoint adds that.", run: copy("the API key", endpoint.apiKey) },
    { label: "Model ID", kind: vscode.QuickPickItemKind.Separator },
    { ...NAMING_NOTE, alwaysShow: true },
    ...models.map(
      (model): Item => ({
        label: `$(copy) ${model}`,
        description: model === preferred ? "suggested" : looksLikeRecentFamily(model) ? "" : "older family: Cline may describe tools in the prompt instead",
        // Cline's "Model Configuration" asks for these; its default (128k) would truncate early or late.
        detail: modelLimits(byId.get(model)),
        run: copy(`the model id ${model}`, model),
      }),
    ),
  ];
  if (!models.length) items.push({ label: "$(warning) No models listed", detail: "The broker could not be asked; see the Tollgate log.", alwaysShow: true });
  items.push({ label: "", kind: vscode.QuickPickItemKind.Separator });
  items.push({
    label: "$(copy) Copy all as JSON",
    run: copy("the settings", JSON.stringify({ apiProvider: "OpenAI Compatible", baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId: preferred ?? "" }, null, 2)),
  });
  const files = findClineFiles();
  if (files && preferred) {
    items.push({
      label: "$(edit) Write these into Cline's settings files…",
      detail: `${files.globalState} and secrets.json (backed up first)`,
      run: async () => {
        const model = await vscode.window.showQuickPick(models, { title: "Model for Cline (plan and act mode)", placeHolder: preferred });
        if (!model) return;
        const answer = await vscode.window.showWarningMessage(
          `Set Cline's provider to OpenAI Compatible with ${endpoint.baseUrl}, model ${model}, and the local token as its API key? ${files.globalState} and secrets.json are backed up first.`,
          { modal: true },
          "Write",
        );
        if (answer !== "Write") return;
        try {
          const result = writeClineSettings(files, { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId: model, model: clineModelInfo(byId.get(model)) });
          deps.log.info(`configure Cline: wrote ${result.changedKeys.join(", ") || "nothing new"}; backups: ${result.backups.join(", ") || "none"}`);
          void vscode.window.showInformationMessage(`Tollgate: Cline's settings updated (backups: ${result.backups.length}). Restart Cline's CLI to pick them up.`);
        } catch (error) {
          void vscode.window.showErrorMessage(`Tollgate: could not write Cline's settings: ${(error as Error).message}`);
        }
      },
    });
  }

  const pick = vscode.window.createQuickPick<Item>();
  pick.title = "Tollgate: Configure Cline";
  pick.placeholder = "Pick a value to copy";
  pick.items = items;
  pick.matchOnDescription = true;
  pick.ignoreFocusOut = true;
  await new Promise<void>((resolve) => {
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      if (!item?.run) return;
      if (item.label.startsWith("$(edit)")) pick.hide();
      void item.run();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve();
    });
    pick.show();
  });
}

/** "Context window 200,000 · max output 64,000 · images" for Cline's Model Configuration fields. */
function modelLimits(entry: BrokerModel | undefined): string | undefined {
  if (entry?.context_window === undefined || entry.max_output_tokens === undefined) return undefined;
  const n = (value: number): string => value.toLocaleString("en-US");
  return `Context window ${n(entry.context_window)} · max output ${n(entry.max_output_tokens)}${entry.vision ? " · images" : ""}`;
}

function clineModelInfo(entry: BrokerModel | undefined): { contextWindow: number; maxOutputTokens: number; vision: boolean } | undefined {
  if (entry?.context_window === undefined || entry.max_output_tokens === undefined) return undefined;
  return { contextWindow: entry.context_window, maxOutputTokens: entry.max_output_tokens, vision: entry.vision ?? false };
}
