// The developer's broker key, from the first source that has one:
//   1. VS Code SecretStorage (Tollgate: Sign In) — in code-server it lives in the browser profile,
//   2. the TOLLGATE_API_KEY environment variable of the code-server process,
//   3. the file <configDir>/credentials (mode 0600; refused when group or others may read it).
// The server-side sources (2, 3) keep a developer signed in whichever browser opens code-server.
import { join } from "node:path";
import { CONFIG_FILES } from "./config-dir.js";
import { octal, readPrivateFile } from "./secure-files.js";

export type KeySource = "secret-storage" | "environment" | "credentials-file";

export interface ResolvedKey {
  key: string | undefined;
  source: KeySource | undefined;
  /** Problems a person should fix (e.g. a credentials file others can read). Never contain the key. */
  warnings: string[];
}

export interface KeySourceInputs {
  secret: () => Promise<string | undefined>;
  env: NodeJS.ProcessEnv;
  configDir: string;
}

export const KEY_SOURCE_LABELS: Record<KeySource, string> = {
  "secret-storage": "signed in (VS Code secret storage)",
  environment: "TOLLGATE_API_KEY environment variable",
  "credentials-file": "credentials file",
};

/**
 * The key in a credentials file: the first line that is not blank or a `#` comment, either the key
 * itself or `TOLLGATE_API_KEY=<key>` / `api_key = <key>` (quotes allowed).
 */
export function parseCredentials(text: string): string | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const assignment = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    const value = (assignment ? assignment[2] ?? "" : line).trim().replace(/^(["'])(.*)\1$/, "$2").trim();
    if (assignment && !/^(TOLLGATE_API_KEY|api_key|key)$/i.test(assignment[1] ?? "")) continue;
    return value || undefined;
  }
  return undefined;
}

export async function resolveDeveloperKey(inputs: KeySourceInputs): Promise<ResolvedKey> {
  const warnings: string[] = [];
  const stored = (await inputs.secret())?.trim();
  if (stored) return { key: stored, source: "secret-storage", warnings };

  const fromEnv = inputs.env.TOLLGATE_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: "environment", warnings };

  const file = join(inputs.configDir, CONFIG_FILES.credentials);
  const read = readPrivateFile(file);
  switch (read.kind) {
    case "ok": {
      const key = parseCredentials(read.text);
      if (key) return { key, source: "credentials-file", warnings };
      warnings.push(`${file} holds no key (expected a line with the key, or TOLLGATE_API_KEY=<key>).`);
      break;
    }
    case "too-open":
      warnings.push(`Ignoring ${file}: its mode is ${octal(read.mode)}, so other users may read it. Run: chmod 600 ${file}`);
      break;
    case "unreadable":
      warnings.push(`Cannot read ${file}: ${read.reason}`);
      break;
    case "missing":
      break;
  }
  return { key: undefined, source: undefined, warnings };
}
