// Builds every package that ships: the broker's CLI bundle (and, later, the extension).
// Workspace sources (@tollgate/shared) are bundled in; third-party packages stay external for the
// broker because it always runs from an npm install with node_modules beside it.
import { build } from "esbuild";
import { readFileSync } from "node:fs";

const brokerPkg = JSON.parse(readFileSync(new URL("./broker/package.json", import.meta.url), "utf8"));
const external = Object.keys(brokerPkg.dependencies ?? {});

/** What both broker entries share: one ESM file each for Node 20, npm dependencies left external. */
const broker = { bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: true, external, logLevel: "warning" };

await build({
  ...broker,
  entryPoints: ["broker/src/cli.ts"],
  outfile: "broker/dist/cli.js",
  // Bundled third-party code (the shared package's dependencies) as ES modules: jsonc-parser's "main"
  // is a UMD build whose dynamic requires an ESM bundle can't keep.
  mainFields: ["module", "main"],
  define: { TOLLGATE_VERSION: JSON.stringify(brokerPkg.version) },
});
// The ledger's writer thread runs from its own file (a worker thread), next to the CLI.
await build({ ...broker, entryPoints: ["broker/src/ledger/writer-thread.ts"], outfile: "broker/dist/ledger-writer-thread.js" });
console.log("built broker/dist/cli.js and broker/dist/ledger-writer-thread.js");
