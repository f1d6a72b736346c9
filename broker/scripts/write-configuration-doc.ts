// `npm run docs`: writes docs/configuration.md from the CLI's definitions.
import { writeFileSync } from "node:fs";
import { renderConfigurationDoc } from "../src/cli/configuration-doc.js";
import { buildProgram } from "../src/cli/program.js";

const file = new URL("../../docs/configuration.md", import.meta.url);
writeFileSync(file, renderConfigurationDoc(buildProgram("(version)", () => undefined)));
process.stdout.write(`wrote ${file.pathname}\n`);
