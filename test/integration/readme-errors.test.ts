// Every error code a client can receive is in the README's error table, so nobody meets one the docs
// never mention. The codes are read from the broker's source: `code: "…"` in errors it builds, and
// the code argument of invalidRequest(…).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/broker-process.js";

/** Codes of internal failures, never an HTTP answer: ledger writer replies, start-up refusals of a store's schema. */
const INTERNAL = new Set(["closed", "duplicate_id", "open_failed", "write_failed", "schema_too_new", "unsupported_schema"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [path] : [];
  });
}

function codesInSource(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(join(REPO_ROOT, "broker/src"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/\bcode: "([a-z_]+)"/g)) codes.add(match[1]!);
    // invalidRequest(message, param, code): the third argument.
    for (const match of text.matchAll(/invalidRequest\((?:[^()]|\([^()]*\))*?,\s*(?:undefined|[^,()]+),\s*"([a-z_]+)"\s*,?\s*\)/gs)) codes.add(match[1]!);
    // Codes listed in a string array passed on (e.g. the body parser's and the images' refusals).
    for (const match of text.matchAll(/^\s+"([a-z]+(?:_[a-z]+)+)",$/gm)) codes.add(match[1]!);
  }
  for (const internal of INTERNAL) codes.delete(internal);
  return codes;
}

describe("the README's error table", () => {
  it("lists every error code the broker can answer with", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("### Errors"), readme.indexOf("## Performance"));
    const documented = new Set([...table.matchAll(/`([a-z]+(?:_[a-z]+)*)`/g)].map((match) => match[1]!));
    const codes = codesInSource();
    expect(codes.size).toBeGreaterThan(30);
    expect([...codes].filter((code) => !documented.has(code)).sort()).toEqual([]);
  });
});
