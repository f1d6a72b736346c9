import { parseBedrockModelId } from "../pricing/model-id.js";
import type { GeographicPrefix } from "../pricing/types.js";
import type { Draft, ModelDraft, ReportProblem } from "./draft.js";
import type { DeploymentEntry } from "./schema.js";

/** Deployment ids must be unique within a model: logs and usage records name deployments by id. */
export function checkDeploymentIds(route: readonly Draft<DeploymentEntry>[], report: ReportProblem): void {
  const firstIndexById = new Map<string, number>();
  route.forEach((deployment, index) => {
    const id = deployment.values.id;
    if (id === undefined) return;
    const first = firstIndexById.get(id);
    if (first === undefined) firstIndexById.set(id, index);
    else report(["route", index, "id"], `duplicate deployment id "${id}" (already used by route[${first}])`);
  });
}

const ARN_REGION = /^arn:aws(?:-[a-z]+)*:bedrock:([a-z0-9-]+):/;

// Bedrock only accepts a profile from its own geography's source regions; a coarse prefix check
// catches the likely mistakes (eu. profile called in us-east-1) without a region list to maintain.
const REGION_PREFIX_BY_GEOGRAPHY: Record<GeographicPrefix, string> = {
  us: "us-",
  "us-gov": "us-gov-",
  eu: "eu-",
  apac: "ap-",
  jp: "ap-",
  au: "ap-",
  ca: "ca-",
};

/** The region must be one the modelId can be called from. */
export function checkDeploymentRegions(route: readonly Draft<DeploymentEntry>[], report: ReportProblem): void {
  route.forEach((deployment, index) => {
    const { modelId, region } = deployment.values;
    if (modelId === undefined || region === undefined) return;
    const arnRegion = ARN_REGION.exec(modelId)?.[1];
    if (arnRegion !== undefined && arnRegion !== region) {
      report(["route", index, "region"], `"${region}" differs from the region in the modelId ARN ("${arnRegion}")`);
      return;
    }
    const geography = parseBedrockModelId(modelId)?.geography;
    if (geography === undefined) return;
    const prefix = REGION_PREFIX_BY_GEOGRAPHY[geography];
    const fits = region.startsWith(prefix) && !(geography === "us" && region.startsWith("us-gov-"));
    if (!fits) {
      report(
        ["route", index, "region"],
        `"${region}" cannot call the "${geography}." inference profile; use a region starting with "${prefix}"`,
      );
    }
  });
}

/** externalId and sessionName only mean something when a role is assumed. */
export function checkRoleFields(route: readonly Draft<DeploymentEntry>[], report: ReportProblem): void {
  route.forEach((deployment, index) => {
    if (deployment.given("roleArn")) return;
    for (const field of ["externalId", "sessionName"] as const) {
      if (deployment.given(field)) report(["route", index, field], "only applies with roleArn (the role to assume); add roleArn or remove it");
    }
  });
}

/** A weight under another strategy would be silently ignored: say so instead. */
export function checkWeights(model: ModelDraft, report: ReportProblem): void {
  if (model.values.strategy === "weighted") return;
  model.route.forEach((deployment, index) => {
    if (deployment.given("weight") && model.values.strategy !== "weighted") {
      report(["route", index, "weight"], 'only applies with "strategy": "weighted"');
    }
  });
}

/** fallbacks and contextFallbacks: no self-reference, no repeats (existence is checked across models). */
export function checkRoutingLists(name: string, model: ModelDraft, report: ReportProblem): void {
  for (const field of ["fallbacks", "contextFallbacks"] as const) {
    const list = model.values[field];
    if (!list) continue;
    const seen = new Set<string>();
    list.forEach((target, index) => {
      if (target === name) report([field, index], `"${target}" is this model itself; list other models`);
      else if (seen.has(target)) report([field, index], `"${target}" is listed twice`);
      seen.add(target);
    });
  }
}
