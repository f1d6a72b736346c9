// Tells every extension host of this user that a request through the shared local endpoint ended,
// so windows that reuse another window's endpoint update their status bar at once too (not only at
// the next poll). The serving host touches <configDir>/last-exchange; every host watches it.
import { watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { writePrivateFile, ensurePrivateDir } from "./secure-files.js";
import type { Logger } from "./log.js";

export const EXCHANGE_FILE = "last-exchange";

export function signalExchange(configDir: string, pid = process.pid): void {
  writePrivateFile(join(configDir, EXCHANGE_FILE), `${JSON.stringify({ at: new Date().toISOString(), pid })}\n`);
}

/** Calls `onSignal` (debounced) whenever any host signals an exchange. */
export function watchExchanges(configDir: string, onSignal: () => void, log?: Logger, debounceMs = 100): { dispose(): void } {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    ensurePrivateDir(configDir);
    watcher = watch(configDir, { persistent: false }, (_event, filename) => {
      if (filename !== EXCHANGE_FILE) return;
      clearTimeout(timer);
      timer = setTimeout(onSignal, debounceMs);
    });
    watcher.on("error", (error) => log?.warn(`exchange watch: ${error.message}`));
  } catch (error) {
    log?.warn(`cannot watch ${configDir}: ${(error as Error).message}; other windows' requests show at the next poll`);
  }
  return {
    dispose: () => {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
