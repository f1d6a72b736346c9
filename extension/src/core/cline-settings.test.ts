import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findClineFiles, looksLikeRecentFamily, suggestedModel, writeClineSettings } from "./cline-settings.js";
import { tempDir } from "./test-builders.js";

describe("Cline settings files", () => {
  it("are found only where Cline made them", () => {
    const home = tempDir();
    expect(findClineFiles({ HOME: home })).toBeUndefined();
    mkdirSync(join(home, ".cline", "data"), { recursive: true });
    writeFileSync(join(home, ".cline", "data", "globalState.json"), "{}");
    expect(findClineFiles({ HOME: home })?.globalState).toBe(join(home, ".cline", "data", "globalState.json"));
    expect(findClineFiles({ HOME: home, CLINE_DATA_DIR: join(home, "elsewhere") })).toBeUndefined();
  });

  it("get the OpenAI-compatible provider, keeping other keys, with backups and a 0600 secrets file", () => {
    const home = tempDir();
    const dataDir = join(home, ".cline", "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "globalState.json"), JSON.stringify({ actModeApiProvider: "anthropic", telemetrySetting: "disabled" }));
    writeFileSync(join(dataDir, "secrets.json"), JSON.stringify({ apiKey: "sk-ant-old" }));
    chmodSync(join(dataDir, "secrets.json"), 0o600);
    const files = findClineFiles({ HOME: home })!;
    const result = writeClineSettings(files, { baseUrl: "http://127.0.0.1:7601/v1", apiKey: "tgl_token", modelId: "claude-sonnet-4-5" });
    expect(JSON.parse(readFileSync(files.globalState, "utf8"))).toEqual({
      actModeApiProvider: "openai",
      planModeApiProvider: "openai",
      openAiBaseUrl: "http://127.0.0.1:7601/v1",
      actModeOpenAiModelId: "claude-sonnet-4-5",
      planModeOpenAiModelId: "claude-sonnet-4-5",
      telemetrySetting: "disabled",
    });
    expect(JSON.parse(readFileSync(files.secrets, "utf8"))).toEqual({ apiKey: "sk-ant-old", openAiApiKey: "tgl_token" });
    expect(statSync(files.secrets).mode & 0o777).toBe(0o600);
    expect(result.backups).toHaveLength(2);
    expect(readdirSync(dataDir).filter((name) => name.includes(".tollgate-backup-"))).toHaveLength(2);
    const secretsBackup = result.backups.find((file) => file.includes("secrets.json"))!;
    expect(JSON.parse(readFileSync(secretsBackup, "utf8"))).toEqual({ apiKey: "sk-ant-old" });
    expect(statSync(secretsBackup).mode & 0o077).toBe(0);
  });

  it("get the model's context window, output limit and vision, keeping Cline's other model-info fields", () => {
    const home = tempDir();
    const dataDir = join(home, ".cline", "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "globalState.json"), JSON.stringify({ actModeOpenAiModelInfo: { contextWindow: 128_000, temperature: 0.2 } }));
    const files = findClineFiles({ HOME: home })!;
    const model = { contextWindow: 200_000, maxOutputTokens: 64_000, vision: true };
    const result = writeClineSettings(files, { baseUrl: "u", apiKey: "k", modelId: "claude-sonnet-4", model });
    const state = JSON.parse(readFileSync(files.globalState, "utf8")) as Record<string, unknown>;
    expect(state.actModeOpenAiModelInfo).toEqual({ contextWindow: 200_000, maxTokens: 64_000, supportsImages: true, temperature: 0.2 });
    expect(state.planModeOpenAiModelInfo).toEqual({ contextWindow: 200_000, maxTokens: 64_000, supportsImages: true });
    expect(result.changedKeys).toEqual(expect.arrayContaining(["actModeOpenAiModelInfo", "planModeOpenAiModelInfo"]));
    // Writing the same again changes nothing.
    expect(writeClineSettings(files, { baseUrl: "u", apiKey: "k", modelId: "claude-sonnet-4", model }).changedKeys).toEqual([]);
  });

  it("leave a file that is not a JSON object alone", () => {
    const home = tempDir();
    const dataDir = join(home, ".cline", "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "globalState.json"), "[1]");
    expect(() => writeClineSettings(findClineFiles({ HOME: home })!, { baseUrl: "u", apiKey: "k", modelId: "m" })).toThrow(/not a JSON object/);
    expect(readFileSync(join(dataDir, "globalState.json"), "utf8")).toBe("[1]");
  });

  it("recognise recent model families by name", () => {
    expect(looksLikeRecentFamily("claude-sonnet-4-5")).toBe(true);
    expect(looksLikeRecentFamily("claude-opus-4-1")).toBe(true);
    expect(looksLikeRecentFamily("team-default")).toBe(false);
    expect(looksLikeRecentFamily("llama3-3-70b")).toBe(false);
  });

  it("suggest the newest Sonnet the user may use", () => {
    // The e2e policy's order: the older family first.
    expect(suggestedModel(["claude-sonnet-4", "claude-sonnet-4-5", "llama3-3-70b"])).toBe("claude-sonnet-4-5");
    expect(suggestedModel(["claude-sonnet-4-5", "claude-sonnet-4"])).toBe("claude-sonnet-4-5");
    expect(suggestedModel(["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"])).toBe("claude-sonnet-4-5");
    expect(suggestedModel(["claude-haiku-4-5", "claude-sonnet-4"])).toBe("claude-sonnet-4");
    expect(suggestedModel(["claude-opus-4", "claude-opus-4-1", "claude-haiku-4-5"])).toBe("claude-haiku-4-5");
    expect(suggestedModel(["anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"])).toBe("anthropic.claude-sonnet-4-5-20250929-v1:0");
    expect(suggestedModel(["team-default", "llama3-3-70b"])).toBe("team-default");
    expect(suggestedModel([])).toBeUndefined();
  });
});
