// Debian's Chromium, headless, driven by playwright-core (which downloads no browser of its own).
import { chromium, type Browser } from "playwright-core";

/** Flags that keep Chromium from reaching for the network or a GPU (../shared/notes/code-server-e2e.md). */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}
