// The end-to-end tests: one real code-server and Chromium at a time, with room for their start-up.
// Run by `npm run test:e2e` (part of `npm test`), after test/e2e/install-code-server.sh and `npm run package`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/e2e/**/*.e2e.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 240_000,
    pool: "forks",
    fileParallelism: false,
  },
});
