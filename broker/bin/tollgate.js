#!/usr/bin/env node
// Thin launcher: the CLI is bundled to dist/ by `npm run build` at the repository root.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("tollgate: not built yet; run `npm run build` at the repository root\n");
  process.exit(1);
}
await import(bundle.href);
