// Activation: wires the core (key sources, local endpoint, status model, poller) to VS Code
// (commands, status bar, webviews, settings). Everything registered is disposed on deactivate.
import * as vscode from "vscode";
import { BrokerError, createBrokerClient } from "../core/broker-client.js";
import { configDir } from "../core/config-dir.js";
import { EndpointCoordinator, type EndpointRole } from "../core/endpoint-coordinator.js";
import { signalExchange, watchExchanges } from "../core/exchange-signal.js";
import { createEndpointServer } from "../core/endpoint-server.js";
import { loadOrCreateLocalToken } from "../core/local-token.js";
import { Poller, type PollOutcome } from "../core/poller.js";
import { projectName } from "../core/project.js";
import { StatusModel } from "../core/status.js";
import { configureCline } from "./configure-cline.js";
import { KeyService } from "./key-service.js";
import { registerLmProvider } from "./lm-provider.js";
import { createLogger } from "./logger.js";
import { createSettings } from "./settings.js";
import { signIn, signOut } from "./sign-in.js";
import { TollgateStatusBar } from "./status-bar.js";
import { USAGE_VIEW_ID, UsageWebviews } from "./usage-webviews.js";

let coordinator: EndpointCoordinator | undefined;

const COMPLETION_PATHS = /^\/v1\/(chat\/)?completions$/;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const { channel, logger: log } = createLogger();
  context.subscriptions.push(channel);
  const version = String((context.extension.packageJSON as { version?: unknown }).version ?? "0");
  const settings = createSettings();
  const dir = configDir(process.env);
  log.info(`Tollgate ${version} starting; config dir ${dir}; broker ${settings.brokerUrl()}`);

  const keys = new KeyService(context.secrets, dir, log);
  context.subscriptions.push(keys);
  const project = (): string | undefined => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return projectName(settings.projectSetting(), folder ? { name: folder.name, path: folder.uri.fsPath } : undefined);
  };
  const model = new StatusModel();
  const client = createBrokerClient({ brokerUrl: settings.brokerUrl, developerKey: () => keys.key(), project });

  const webviews = new UsageWebviews(context.extensionUri, client, async () => Boolean(await keys.key()), log, (me, askedAt) => model.applyMe(me, askedAt));
  context.subscriptions.push(webviews, vscode.window.registerWebviewViewProvider(USAGE_VIEW_ID, webviews));

  const poller = new Poller({
    intervalMs: () => settings.pollSeconds() * 1000,
    run: async (): Promise<PollOutcome> => {
      const resolved = await keys.resolve();
      model.setSignedIn(Boolean(resolved.key));
      if (!resolved.key) return "idle";
      try {
        const askedAt = Date.now();
        model.applyMe(await client.me(), askedAt);
        if (webviews.isOpen) void webviews.refresh();
        return "ok";
      } catch (error) {
        if (BrokerError.is(error, "unreachable")) {
          model.applyOffline();
          return "offline";
        }
        if (BrokerError.is(error, "http") && error.status === 401) model.applyKeyRefused();
        log.warn(`status: ${(error as Error).message}`);
        return "error";
      }
    },
  });
  context.subscriptions.push({ dispose: () => poller.stop() });

  const statusBar = new TollgateStatusBar(model);
  context.subscriptions.push(statusBar);

  // The local endpoint for Cline.
  const localToken = loadOrCreateLocalToken(dir, log);
  const startEndpoint = async (): Promise<void> => {
    await coordinator?.dispose();
    coordinator = new EndpointCoordinator({
      configDir: dir,
      port: settings.localPort(),
      localToken,
      version,
      log,
      createServer: () =>
        createEndpointServer({
          localToken,
          brokerUrl: settings.brokerUrl,
          developerKey: () => keys.key(),
          project,
          log,
          version,
          onResponse: (event) => {
            if (COMPLETION_PATHS.test(event.path)) model.applyResponse(event.status, event.headers);
          },
          onExchangeEnd: (event) => {
            if (COMPLETION_PATHS.test(event.path) && event.outcome !== "local") {
              // Spend is known once the response ends: ask the broker where we stand now, here
              // and in the other windows that use this endpoint.
              poller.nudge(0);
              void webviews.refresh();
              try {
                signalExchange(dir);
              } catch (error) {
                log.warn(`exchange signal: ${(error as Error).message}`);
              }
            }
          },
          onBrokerUnreachable: () => model.applyOffline(),
        }),
      onRoleChange: (role: EndpointRole) => {
        if (role.kind === "conflict") void vscode.window.showWarningMessage(`Tollgate: the local endpoint cannot start: ${role.message}`);
      },
    });
    await coordinator.start();
  };
  context.subscriptions.push({ dispose: () => void coordinator?.dispose() });
  // Requests served by another window's endpoint: update here too.
  context.subscriptions.push(
    watchExchanges(
      dir,
      () => {
        if (coordinator?.role.kind === "serving") return; // this window already updated itself
        poller.nudge(0);
        void webviews.refresh();
      },
      log,
    ),
  );

  const refreshAll = (): void => {
    keys.invalidate();
    poller.nudge(0);
    void webviews.refresh();
  };
  context.subscriptions.push(
    vscode.commands.registerCommand("tollgate.signIn", () => signIn({ keys, client, brokerUrl: settings.brokerUrl, log, onChange: refreshAll })),
    vscode.commands.registerCommand("tollgate.signOut", () => signOut({ keys, log, onChange: refreshAll })),
    vscode.commands.registerCommand("tollgate.showUsage", () => webviews.show()),
    vscode.commands.registerCommand("tollgate.refresh", refreshAll),
    vscode.commands.registerCommand("tollgate.showLog", () => channel.show()),
    vscode.commands.registerCommand("tollgate.configureCline", () =>
      configureCline({ endpoint: () => (coordinator && "info" in coordinator.role ? coordinator.role.info : undefined), client, log }),
    ),
    keys.onDidChange(refreshAll),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("tollgate.localPort")) void startEndpoint();
      if (event.affectsConfiguration("tollgate.brokerUrl") || event.affectsConfiguration("tollgate.project") || event.affectsConfiguration("tollgate.pollSeconds")) {
        refreshAll();
      }
    }),
  );

  // Beyond: the org's models for other extensions through vscode.lm (where VS Code has the API).
  try {
    const lmProvider = registerLmProvider({
      client,
      brokerUrl: settings.brokerUrl,
      developerKey: () => keys.key(),
      project,
      log,
      onResponse: (status, headers) => model.applyResponse(status, headers),
      onDone: () => {
        poller.nudge(0);
        void webviews.refresh();
      },
    });
    if (lmProvider) context.subscriptions.push(lmProvider);
  } catch (error) {
    log.warn(`language models: could not register: ${(error as Error).message}`);
  }

  poller.start();
  try {
    await startEndpoint();
  } catch (error) {
    log.error(`local endpoint failed to start: ${(error as Error).message}`);
  }
}

export async function deactivate(): Promise<void> {
  await coordinator?.dispose();
  coordinator = undefined;
}
