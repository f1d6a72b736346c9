// Regenerates shared/policy.schema.json from the zod schema: `npm run schema`.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderPolicySchemaJson } from "../src/policy/json-schema.js";

const target = fileURLToPath(new URL("../policy.schema.json", import.meta.url));
writeFileSync(target, renderPolicySchemaJson());
console.log(`wrote ${target}`);
