import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shared/src/**/*.test.ts", "broker/src/**/*.test.ts", "extension/src/**/*.test.ts", "test/**/*.test.ts"],
    // The code-server end-to-end tests have their own config and run after these (npm run test:e2e).
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    // Builds broker/dist (and the extension) from the source before any test starts a broker process.
    globalSetup: ["test/support/build-before-tests.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on port 0; files run in parallel across workers.
    pool: "forks",
  },
});
