import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigurationDoc } from "./configuration-doc.js";
import { buildProgram } from "./program.js";

describe("docs/configuration.md", () => {
  it("is generated from the command definitions (run `npm run docs` to regenerate)", () => {
    const written = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    expect(written).toBe(renderConfigurationDoc(buildProgram("(version)", () => undefined)));
  });

  it("documents every serve option, the ones once missing from the usage text included", () => {
    const doc = renderConfigurationDoc(buildProgram("(version)", () => undefined));
    for (const flag of ["--max-open-requests", "--headers-timeout", "--request-timeout", "--ledger-sync", "--database-url", "--outbox-max-rows"]) {
      expect(doc).toContain(`\`${flag} `);
    }
    expect(doc).toMatch(/\| `--database-url <url>` \|.*\| `TOLLGATE_DATABASE_URL` \|/);
  });
});
