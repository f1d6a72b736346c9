// Lint with type information for what tsc does not catch about promises: one nobody awaits (an
// unhandled rejection, or work the caller thinks is done), a promise where a callback must return
// void (express handlers, event listeners), awaiting a non-promise, and throwing or rejecting with
// something that is not an Error. Runs in `npm test` (`npm run lint`).
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "extension/src/webview/**", "**/*.mjs", "**/*.cjs", "**/*.js", ".scratch/**"] },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: { allowDefaultProject: ["broker/scripts/*.ts", "shared/scripts/*.ts"] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "off" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      // Express 5 awaits async handlers (a rejection reaches the error handler), so a promise-returning handler is fine there.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/prefer-promise-reject-errors": "error",
    },
  },
);
