import type { GeographicPrefix, ModelIdScope } from "./types.js";

export interface ParsedModelId {
  /** The foundation model id without profile prefix or ARN, e.g. "amazon.nova-pro-v1:0". */
  baseModelId: string;
  scope: ModelIdScope;
  /** Set when scope is "geographic". */
  geography?: GeographicPrefix;
}

const GEOGRAPHIC_PREFIXES: readonly GeographicPrefix[] = ["us", "eu", "apac", "jp", "au", "us-gov", "ca"];

// Partition may be aws, aws-us-gov, aws-cn…; foundation-model ARNs have an empty account field.
const FOUNDATION_MODEL_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+::foundation-model\/(.+)$/;
const INFERENCE_PROFILE_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:\d{12}:inference-profile\/(.+)$/;

/**
 * Splits a Bedrock model id into base id and scope. Understands base ids, `global.` and geographic
 * profile ids, foundation-model ARNs and system inference-profile ARNs. Anything else (application
 * inference profiles, provisioned models, other ARNs) is undefined: its underlying model is unknowable
 * from the id alone.
 */
export function parseBedrockModelId(modelId: string): ParsedModelId | undefined {
  const foundationArn = FOUNDATION_MODEL_ARN.exec(modelId);
  if (foundationArn?.[1] !== undefined) {
    const inner = parseProfileId(foundationArn[1]);
    return inner?.scope === "base" ? inner : undefined;
  }
  const profileArn = INFERENCE_PROFILE_ARN.exec(modelId);
  if (profileArn?.[1] !== undefined) {
    const inner = parseProfileId(profileArn[1]);
    return inner?.scope === "base" ? undefined : inner;
  }
  if (modelId.startsWith("arn:")) return undefined;
  return parseProfileId(modelId);
}

function parseProfileId(id: string): ParsedModelId | undefined {
  if (id.length === 0) return undefined;
  if (id.startsWith("global.")) return nonEmpty(id.slice("global.".length), { scope: "global" });
  for (const geography of GEOGRAPHIC_PREFIXES) {
    const prefix = `${geography}.`;
    if (id.startsWith(prefix)) return nonEmpty(id.slice(prefix.length), { scope: "geographic", geography });
  }
  return { baseModelId: id, scope: "base" };
}

function nonEmpty(
  baseModelId: string,
  rest: Omit<ParsedModelId, "baseModelId">,
): ParsedModelId | undefined {
  return baseModelId.length > 0 ? { baseModelId, ...rest } : undefined;
}
