// Builds the extension: the host bundle (CommonJS for VS Code's extension host, `vscode` external,
// zod and the shared contracts bundled in so the .vsix needs no node_modules) and the webview
// bundle (an IIFE for the browser; it imports only types and pure helpers).
import { build } from "esbuild";

const production = process.argv.includes("--production");
const root = new URL(".", import.meta.url).pathname;

await Promise.all([
  build({
    absWorkingDir: root,
    entryPoints: ["src/vscode/extension.ts"],
    outfile: "dist/extension.cjs",
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
    sourcemap: production ? false : "linked",
    minify: production,
    logLevel: "warning",
  }),
  build({
    absWorkingDir: root,
    entryPoints: ["src/webview/main.ts"],
    outfile: "dist/webview.js",
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    sourcemap: production ? false : "linked",
    minify: production,
    logLevel: "warning",
  }),
]);
console.log("built extension/dist/extension.cjs and extension/dist/webview.js");
