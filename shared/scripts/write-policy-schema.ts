// Regenerates shared/policy.schema.json and docs/policy.md from the zod schema: `npm run schema`.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderPolicySchemaJson } from "../src/policy/json-schema.js";
import { renderPolicyReference } from "../src/policy/policy-reference.js";

const target = fileURLToPath(new URL("../policy.schema.json", import.meta.url));
writeFileSync(target, renderPolicySchemaJson());
console.log(`wrote ${target}`);
const reference = fileURLToPath(new URL("../../docs/policy.md", import.meta.url));
const sample: unknown = JSON.parse(readFileSync(new URL("../examples/policy.sample.json", import.meta.url), "utf8"));
writeFileSync(reference, renderPolicyReference(sample));
console.log(`wrote ${reference}`);
