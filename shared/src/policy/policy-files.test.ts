import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderPolicySchemaJson } from "./json-schema.js";
import { formatPolicyProblems, parsePolicyJson } from "./parse-policy.js";

// Files shipped in shared/ beside src/.
function sharedFile(relative: string): string {
  return readFileSync(new URL(`../../${relative}`, import.meta.url), "utf8");
}

describe("shared/policy.schema.json", () => {
  it("is up to date with the zod schema (run `npm run schema` to regenerate)", () => {
    expect(sharedFile("policy.schema.json")).toBe(renderPolicySchemaJson());
  });

  it("forbids unknown fields and constrains model names for editors", () => {
    const schema = JSON.parse(renderPolicySchemaJson()) as {
      additionalProperties: unknown;
      properties: { models: { propertyNames: { pattern: string } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.models.propertyNames.pattern).toBe("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$");
  });
});

describe("shared/examples/policy.sample.json", () => {
  const result = parsePolicyJson(sharedFile("examples/policy.sample.json"));

  it("is a valid policy", () => {
    expect(result.ok ? [] : formatPolicyProblems(result.problems)).toEqual([]);
  });

  it("holds no key hashes, and neither does the README's example: examples must not authenticate anyone", () => {
    expect(sharedFile("examples/policy.sample.json")).not.toMatch(/sha256:[0-9a-f]{64}/);
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const jsonBlocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(jsonBlocks.length).toBeGreaterThan(0);
    for (const block of jsonBlocks) expect(block).not.toMatch(/sha256:[0-9a-f]{64}/);
  });

  it("offers the demo's models, all through us. profiles, first in us-east-1", () => {
    if (!result.ok) throw new Error("sample invalid");
    expect([...result.policy.models.keys()]).toEqual([
      "claude-sonnet-4-5",
      "claude-sonnet-4",
      "claude-haiku-4-5",
      "claude-3-7-sonnet",
      "nova-pro",
      "llama3-3-70b",
    ]);
    for (const model of result.policy.models.values()) {
      expect(model.route[0]?.region).toBe("us-east-1");
      for (const deployment of model.route) expect(deployment.modelId.startsWith("us.")).toBe(true);
    }
    // Routing shown: a second account through a role, fallbacks.
    expect(result.policy.models.get("claude-sonnet-4-5")?.route[1]?.role?.arn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(result.policy.models.get("claude-sonnet-4-5")?.routing.fallbacks).toEqual(["claude-sonnet-4", "claude-haiku-4-5"]);
    expect(result.policy.models.get("claude-sonnet-4-5")?.route[0]?.pricing.input).toBe(3.3);
    expect(result.policy.source.$schema).toBe("../policy.schema.json");
  });

  it("shows a time zone, teams, users without keys (add your own), and defaults", () => {
    if (!result.ok) throw new Error("sample invalid");
    const { timezone, teams, users, userByKeyHash } = result.policy;
    expect(timezone).toBe("America/New_York");
    expect([...teams.keys()]).toEqual(["platform", "research"]);
    expect(teams.get("research")?.models.size).toBe(result.policy.models.size);
    expect(users.get("alice")).toMatchObject({
      team: "platform",
      models: new Set(["claude-sonnet-4-5", "claude-haiku-4-5"]),
      limits: { rpm: 30, tpm: 400_000, concurrent: 4, dailyUsd: 20, monthlyUsd: 300 },
      disabled: false,
    });
    expect(users.get("bob")?.limits).toEqual({ rpm: 20, concurrent: 4, dailyUsd: 10, monthlyUsd: 150 });
    expect(userByKeyHash.size).toBe(0);
  });
});

describe("docs/policy.md", () => {
  const sample = (): unknown => JSON.parse(sharedFile("examples/policy.sample.json"));

  it("is up to date with the schema (run `npm run schema` to regenerate)", async () => {
    const { renderPolicyReference } = await import("./policy-reference.js");
    const written = readFileSync(new URL("../../../docs/policy.md", import.meta.url), "utf8");
    expect(written).toBe(renderPolicyReference(sample()));
  });

  it("gives every field that holds a value an example", async () => {
    const { policyReferenceRows } = await import("./policy-reference.js");
    const missing = policyReferenceRows(sample()).filter((row) => row.leaf && row.example === "").map((row) => row.path);
    expect(missing).toEqual([]);
  });

  it("takes the sample's value as a field's example where the sample uses it", async () => {
    const { policyReferenceRows } = await import("./policy-reference.js");
    const rows = new Map(policyReferenceRows(sample()).map((row) => [row.path, row.example]));
    expect(rows.get("timezone")).toBe('`"America/New_York"`');
    expect(rows.get("models.<name>.fallbacks")).toBe('`["claude-sonnet-4", "claude-haiku-4-5"]`');
    expect(rows.get("teams.<name>.limits.dailyUsd")).toBe("`200`");
    expect(rows.get("defaults")).toBe("");
  });

  it("shows examples for the fields the sample leaves out that the broker accepts, all together", async () => {
    const { FIELD_EXAMPLES, ILLUSTRATIVE_EXAMPLES } = await import("./policy-reference.js");
    const document = sample() as Record<string, unknown>;
    // Put each example into the first entry of every map that has the next field (else the first entry),
    // and the last item of every list.
    for (const [path, value] of Object.entries(FIELD_EXAMPLES)) {
      if (ILLUSTRATIVE_EXAMPLES.has(path) || path.endsWith("[]")) continue;
      let node = document;
      const segments = path.split(".");
      for (const [index, segment] of segments.entries()) {
        const last = index === segments.length - 1;
        const name = segment.replace(/\[\]$/, "");
        if (last) {
          node[name === "<name>" ? "x-example" : name] = value;
          break;
        }
        if (name === "<name>") {
          const next = segments[index + 1]!.replace(/\[\]$/, "");
          const entries = Object.values(node) as Array<Record<string, unknown>>;
          node = entries.find((entry) => next in entry) ?? entries[0]!;
          continue;
        }
        node[name] ??= {};
        const child = node[name];
        node = (segment.endsWith("[]") ? (child as unknown[]).at(-1) : child) as Record<string, unknown>;
      }
    }
    // weight only applies to weighted routing.
    ((document.models as Record<string, Record<string, unknown>>)["claude-sonnet-4-5"]!).strategy = "weighted";
    const result = parsePolicyJson(JSON.stringify(document));
    expect(result.ok ? [] : formatPolicyProblems(result.problems)).toEqual([]);
    const model = result.ok ? result.policy.models.get("claude-sonnet-4-5") : undefined;
    expect(model?.route[1]?.weight).toBe(FIELD_EXAMPLES["models.<name>.route[].weight"]);
    expect(model?.route[0]?.pricing.cacheWrite).toBe(FIELD_EXAMPLES["models.<name>.pricing.cacheWrite"]);
  });

  it("has a row for every field of the sample policy, with its meaning", async () => {
    const { renderPolicyReference } = await import("./policy-reference.js");
    const doc = renderPolicyReference(sample());
    for (const path of ["timezone", "models.<name>.route[].modelId", "teams.<name>.limits.dailyUsd", "users.<name>.keys", "defaults.userLimits"]) {
      expect(doc, path).toMatch(new RegExp(`^\\| \`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` \\| [^|]+ \\|[^|]*\\| [^|]{10,}`, "m"));
    }
  });
});
