// The logging seam between core and host: the vscode layer backs it with a LogOutputChannel.
// Callers pass facts (paths, statuses, durations), never keys, tokens or prompt text.
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
