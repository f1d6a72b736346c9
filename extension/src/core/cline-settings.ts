// Writing Cline's "OpenAI Compatible" provider settings, where Cline keeps them in files.
//
// What is known (see the report in the commit): Cline's standalone/CLI builds keep VS Code-style
// state in ~/.cline/data/globalState.json and secrets.json (CLINE_DIR / CLINE_DATA_DIR override the
// folders), with the provider id "openai" for OpenAI Compatible and the keys below. The VS Code
// extension in code-server keeps its settings in VS Code's own storage, which another extension
// cannot write: there the developer pastes the values (Configure Cline copies them).
// Nothing is written without the developer's confirmation, and each file is backed up first.
import { copyFileSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface ClineFiles {
  dataDir: string;
  globalState: string;
  secrets: string;
}

export function clineDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLINE_DATA_DIR?.trim()) return env.CLINE_DATA_DIR.trim();
  const root = env.CLINE_DIR?.trim() || join(env.HOME?.trim() || homedir(), ".cline");
  return join(root, "data");
}

/** Cline's settings files, when Cline has made them on this machine. */
export function findClineFiles(env: NodeJS.ProcessEnv = process.env): ClineFiles | undefined {
  const dataDir = clineDataDir(env);
  const globalState = join(dataDir, "globalState.json");
  try {
    if (!statSync(globalState).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return { dataDir, globalState, secrets: join(dataDir, "secrets.json") };
}

export interface ClineProviderSettings {
  baseUrl: string;
  apiKey: string;
  modelId: string;
  /** What the broker's /v1/models says of the model; without it Cline assumes a 128k window. */
  model?: { contextWindow: number; maxOutputTokens: number; vision: boolean } | undefined;
}

/**
 * The global-state keys Tollgate sets (both plan and act mode use the OpenAI Compatible provider).
 * `existing` is Cline's current state: its model info objects keep the fields Tollgate doesn't set.
 */
export function clineGlobalStatePatch(settings: ClineProviderSettings, existing: Record<string, unknown> = {}): Record<string, unknown> {
  const patch: Record<string, unknown> = {
    actModeApiProvider: "openai",
    planModeApiProvider: "openai",
    openAiBaseUrl: settings.baseUrl,
    actModeOpenAiModelId: settings.modelId,
    planModeOpenAiModelId: settings.modelId,
  };
  if (settings.model) {
    // Cline sizes its context management (when to truncate the history) from contextWindow.
    const info = { contextWindow: settings.model.contextWindow, maxTokens: settings.model.maxOutputTokens, supportsImages: settings.model.vision };
    for (const key of ["actModeOpenAiModelInfo", "planModeOpenAiModelInfo"]) {
      const current = existing[key];
      patch[key] = { ...(current !== null && typeof current === "object" && !Array.isArray(current) ? current : {}), ...info };
    }
  }
  return patch;
}

function readJsonObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  if (!text.trim()) return {};
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${file} is not a JSON object; leaving it alone.`);
  return value as Record<string, unknown>;
}

export interface ClineWriteResult {
  backups: string[];
  changedKeys: string[];
}

/** Backs up and updates Cline's files. Keeps every other key; secrets.json stays 0600. */
export function writeClineSettings(files: ClineFiles, settings: ClineProviderSettings, now = new Date()): ClineWriteResult {
  const state = readJsonObject(files.globalState);
  const secrets = readJsonObject(files.secrets);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const backups: string[] = [];
  const backup = (file: string): void => {
    try {
      const mode = statSync(file).mode & 0o777;
      const target = `${file}.tollgate-backup-${stamp}`;
      copyFileSync(file, target);
      chmodSync(target, mode & 0o600);
      backups.push(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  };
  const patch = clineGlobalStatePatch(settings, state);
  const changedKeys = Object.keys(patch).filter((key) => JSON.stringify(state[key]) !== JSON.stringify(patch[key]));
  if (secrets.openAiApiKey !== settings.apiKey) changedKeys.push("openAiApiKey (secrets.json)");
  backup(files.globalState);
  backup(files.secrets);
  const stateMode = statSync(files.globalState).mode & 0o777;
  writeFileSync(files.globalState, `${JSON.stringify({ ...state, ...patch }, null, 2)}\n`, { mode: stateMode });
  writeFileSync(files.secrets, `${JSON.stringify({ ...secrets, openAiApiKey: settings.apiKey }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(files.secrets, 0o600);
  return { backups, changedKeys };
}

/** Model ids Cline v3 treats as recent families (native tool calling). A heuristic for the hint. */
export function looksLikeRecentFamily(modelId: string): boolean {
  return /claude-(?:[a-z]+-)?(?:4|[5-9])|claude-(?:sonnet|opus|haiku)-4|gpt-5|gpt-4\.1|o[34]|gemini-2\.5|gemini-3/i.test(modelId);
}

/** The version numbers in a model id, without a date or a Bedrock "-v1:0" suffix: "claude-sonnet-4-5-20250929-v1:0" → [4, 5]. */
function modelVersion(modelId: string): number[] {
  const bare = modelId.replace(/[-_]v\d+(?::\d+)?$/i, "").replace(/[-_.]?\d{6,}/g, "");
  return (bare.match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff) return diff;
  }
  return 0;
}

/**
 * The model id to suggest for Cline: among the recent families (else the broker's first id), a Sonnet first
 * (Cline's usual choice: Opus costs five times as much, Haiku is weaker at agentic work), then the
 * newest version (claude-sonnet-4-5 over claude-sonnet-4), then the broker's order.
 */
export function suggestedModel(models: readonly string[]): string | undefined {
  const recent = models.filter(looksLikeRecentFamily);
  if (!recent.length) return models[0];
  const sonnet = (id: string) => (/sonnet/i.test(id) ? 1 : 0);
  return recent
    .map((id, index) => ({ id, index, version: modelVersion(id) }))
    .sort((a, b) => sonnet(b.id) - sonnet(a.id) || compareVersions(b.version, a.version) || a.index - b.index)[0]?.id;
}
