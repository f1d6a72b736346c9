// What the emulator needs to know about a model, resolved from whatever form of id the client used:
// base id, geo inference profile, foundation-model / inference-profile ARN, application profile ARN.

export type ModelFamily = "claude" | "nova" | "llama" | "other";

export interface ModelProfile {
  family: ModelFamily;
  /** Model id without geo prefix or ARN wrapper: the key of the prompt cache. */
  baseId: string;
  maxOutputTokens: number;
  /** Undefined: the model has no prompt caching. */
  cacheMinTokens: number | undefined;
  cachePointsInTools: boolean;
  supportsThinking: boolean;
}

const GEO_PREFIXES = ["us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "global."];

// Application inference profiles hide the model behind an opaque id; tests treat them as Sonnet 4.
const APPLICATION_PROFILE_MODEL = "anthropic.claude-sonnet-4-20250514-v1:0";

export function baseModelId(modelId: string): string {
  let id = modelId;
  if (id.startsWith("arn:")) {
    const resource = id.split(":").slice(5).join(":");
    const slash = resource.indexOf("/");
    const kind = slash < 0 ? resource : resource.slice(0, slash);
    const name = slash < 0 ? resource : resource.slice(slash + 1);
    if (kind === "application-inference-profile") return `application-inference-profile/${name}`;
    id = name;
  }
  const prefix = GEO_PREFIXES.find((candidate) => id.startsWith(candidate));
  return prefix === undefined ? id : id.slice(prefix.length);
}

const resolved = new Map<string, ModelProfile>();
const MAX_RESOLVED = 1000;

export function resolveModel(modelId: string): ModelProfile {
  let profile = resolved.get(modelId);
  if (profile === undefined) {
    profile = resolveUncached(modelId);
    if (resolved.size >= MAX_RESOLVED) resolved.clear();
    resolved.set(modelId, profile);
  }
  return profile;
}

function resolveUncached(modelId: string): ModelProfile {
  const baseId = baseModelId(modelId);
  const behaviourId = baseId.startsWith("application-inference-profile/")
    ? APPLICATION_PROFILE_MODEL
    : baseId;
  return { baseId, ...profileOf(behaviourId) };
}

function profileOf(id: string): Omit<ModelProfile, "baseId"> {
  if (id.startsWith("anthropic.claude")) return claudeProfile(id);
  if (id.startsWith("amazon.nova")) {
    return { family: "nova", maxOutputTokens: 10_000, cacheMinTokens: 1000, cachePointsInTools: false, supportsThinking: false };
  }
  const family: ModelFamily = id.startsWith("meta.llama") ? "llama" : "other";
  return { family, maxOutputTokens: 4096, cacheMinTokens: undefined, cachePointsInTools: false, supportsThinking: false };
}

function claudeProfile(id: string): Omit<ModelProfile, "baseId"> {
  const base = { family: "claude" as const, cachePointsInTools: true };
  if (id.includes("claude-3-5-haiku")) {
    return { ...base, maxOutputTokens: 8192, cacheMinTokens: 2048, supportsThinking: false };
  }
  if (id.includes("claude-3-5-sonnet") || id.includes("claude-3-haiku") || id.includes("claude-3-sonnet")) {
    return { ...base, maxOutputTokens: 8192, cacheMinTokens: 1024, supportsThinking: false };
  }
  if (id.includes("claude-haiku-4")) {
    return { ...base, maxOutputTokens: 64_000, cacheMinTokens: 4096, supportsThinking: true };
  }
  if (/claude-opus-4-[5-9]/.test(id)) {
    return { ...base, maxOutputTokens: 64_000, cacheMinTokens: 4096, supportsThinking: true };
  }
  if (id.includes("claude-opus-4")) {
    return { ...base, maxOutputTokens: 32_000, cacheMinTokens: 1024, supportsThinking: true };
  }
  // Sonnet 3.7, 4, 4.5 and any Claude this table does not know yet.
  return { ...base, maxOutputTokens: 64_000, cacheMinTokens: 1024, supportsThinking: true };
}
