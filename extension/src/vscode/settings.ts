// Reads the tollgate.* settings (with the environment fallbacks the issue defines).
import * as vscode from "vscode";

export const DEFAULT_BROKER_URL = "http://127.0.0.1:7600";
export const DEFAULT_LOCAL_PORT = 7601;

export interface Settings {
  brokerUrl(): string;
  localPort(): number;
  projectSetting(): string;
  pollSeconds(): number;
}

/** Setting tollgate.brokerUrl, else env TOLLGATE_BROKER_URL, else http://127.0.0.1:7600. */
export function resolveBrokerUrl(setting: string | undefined, env: NodeJS.ProcessEnv): string {
  return (setting?.trim() || env.TOLLGATE_BROKER_URL?.trim() || DEFAULT_BROKER_URL).replace(/\/+$/, "");
}

export function createSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration("tollgate");
  return {
    brokerUrl: () => resolveBrokerUrl(config().get<string>("brokerUrl"), env),
    localPort: () => {
      const port = config().get<number>("localPort", DEFAULT_LOCAL_PORT);
      return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : DEFAULT_LOCAL_PORT;
    },
    projectSetting: () => config().get<string>("project", ""),
    pollSeconds: () => Math.max(5, config().get<number>("pollSeconds", 30)),
  };
}
