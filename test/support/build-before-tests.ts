// Vitest's global setup: the integration tests start the real `tollgate serve` from broker/dist, so
// build it from the source first. Editing a file and running `npx vitest` then never tests a stale
// bundle. esbuild takes about a second; `npm test` builds once more before the type check, harmlessly.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export default function buildBeforeTests(): void {
  for (const script of ["esbuild.config.mjs", "extension/esbuild.mjs"]) {
    execFileSync(process.execPath, [script], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  }
}
