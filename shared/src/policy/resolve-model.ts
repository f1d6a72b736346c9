import { deploymentFacts, draftModel, type ReportProblem } from "./draft.js";
import type { PathSegment } from "./json-path.js";
import { resolveLimit, resolvePromptCaching, resolveReasoning, resolveVision } from "./resolve-capabilities.js";
import { resolveDeploymentPricing } from "./resolve-pricing.js";
import { checkDeploymentIds, checkDeploymentRegions, checkRoleFields, checkRoutingLists, checkWeights } from "./route-checks.js";
import { DEFAULT_COOLDOWN, DEFAULT_TIMEOUTS, modelEntrySchema, type ModelEntry } from "./schema.js";
import type { Deployment, ModelPolicy } from "./types.js";
import type { RawProblem } from "./zod-problems.js";

export interface ModelResolution {
  problems: RawProblem[];
  /** Present only when the entry is valid and every semantic check passed. */
  model?: ModelPolicy;
}

/** Semantic checks for one `models` entry and, if it is sound, the model with all defaults applied. */
export function resolveModel(name: string, raw: unknown): ModelResolution {
  const problems: RawProblem[] = [];
  const report: ReportProblem = (path: PathSegment[], message: string) =>
    problems.push({ path: ["models", name, ...path], message });

  const draft = draftModel(raw);
  const facts = deploymentFacts(draft.route);
  checkDeploymentIds(draft.route, report);
  checkDeploymentRegions(draft.route, report);
  checkRoleFields(draft.route, report);
  checkWeights(draft, report);
  checkRoutingLists(name, draft, report);
  const pricing = resolveDeploymentPricing(name, draft, facts, report);
  const contextWindow = resolveLimit("contextWindow", draft, facts, report);
  const maxOutputTokens = resolveLimit("maxOutputTokens", draft, facts, report);
  const promptCaching = resolvePromptCaching(draft, facts, report);
  const reasoning = resolveReasoning(draft, facts, maxOutputTokens, report);

  const entry = modelEntrySchema.safeParse(raw);
  if (
    !entry.success ||
    problems.length > 0 ||
    contextWindow === undefined ||
    maxOutputTokens === undefined ||
    promptCaching === undefined ||
    reasoning === undefined
  ) {
    return { problems };
  }
  const route = entry.data.route.map((deployment, index): Deployment => {
    const price = pricing.get(index);
    // Unreachable: a valid entry without semantic problems has a price for every deployment.
    if (price === undefined) throw new Error(`internal: no price resolved for models.${name}.route[${index}]`);
    return {
      id: deployment.id,
      modelId: deployment.modelId,
      region: deployment.region,
      pricing: price,
      weight: deployment.weight ?? 1,
      ...(deployment.roleArn === undefined
        ? {}
        : {
            role: {
              arn: deployment.roleArn,
              sessionName: deployment.sessionName ?? "tollgate",
              ...(deployment.externalId === undefined ? {} : { externalId: deployment.externalId }),
            },
          }),
    };
  });
  return {
    problems,
    model: { name, route, routing: resolveRouting(entry.data), contextWindow, maxOutputTokens, promptCaching, reasoning, vision: resolveVision(facts) },
  };
}

function resolveRouting(entry: ModelEntry): ModelPolicy["routing"] {
  return {
    strategy: entry.strategy ?? "ordered",
    fallbacks: entry.fallbacks ?? [],
    contextFallbacks: entry.contextFallbacks ?? [],
    timeouts: { ...DEFAULT_TIMEOUTS, ...entry.timeouts },
    cooldown: { ...DEFAULT_COOLDOWN, ...entry.cooldown },
  };
}
