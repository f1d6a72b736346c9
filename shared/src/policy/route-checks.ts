import { parseBedrockModelId } from "../pricing/model-id.js";
import type { GeographicPrefix } from "../pricing/types.js";
import type { Draft, ReportProblem } from "./draft.js";
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
