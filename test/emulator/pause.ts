import { setTimeout as sleep } from "node:timers/promises";

/** Waits `ms`; false when `signal` aborted first (the client left or the emulator closed). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
