import * as vscode from "vscode";
import type { Logger } from "../core/log.js";

/** The "Tollgate" LogOutputChannel as the core's Logger. Messages carry no keys or prompt text. */
export function createLogger(): { channel: vscode.LogOutputChannel; logger: Logger } {
  const channel = vscode.window.createOutputChannel("Tollgate", { log: true });
  const logger: Logger = {
    trace: (message) => channel.trace(message),
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
  return { channel, logger };
}
