// The least-privilege IAM for a policy document: what the broker's own (instance) role and each
// assumed role must allow so every deployment the policy routes to can be called, and nothing else.
//
// - A foundation model id in region R: bedrock:InvokeModel* on that model in R.
// - A system (cross-Region) inference profile (`us.`, `eu.`, `global.` …) in its source region R: the
//   profile's ARN in R, and the foundation model in every destination region. Destinations differ by
//   model and change as AWS adds regions, so they are not listed: the model is allowed in any region
//   but only through that profile (condition bedrock:InferenceProfileArn). Global profiles also reach
//   Bedrock's region-less foundation-model ARN.
// - An application inference profile ARN: the ARN, and whatever it routes to (system profile or
//   models), again only through it.
// - The instance role may sts:AssumeRole exactly the roles the policy names; each role's trust policy
//   names the instance role (and the external id when the policy sets one).
// InvokeModel and InvokeModelWithResponseStream are the actions Converse and ConverseStream authorize with.
import type { Deployment, Policy } from "@tollgate/shared";
import { parseBedrockModelId } from "@tollgate/shared";

export const INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"] as const;

export interface IamStatement {
  Sid: string;
  Effect: "Allow";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: IamStatement[];
}

export interface TrustStatement {
  Sid: string;
  Effect: "Allow";
  Principal: { AWS: string };
  Action: "sts:AssumeRole";
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface RoleIam {
  roleArn: string;
  /** Attach to the role: what its deployments call. */
  permissions: IamPolicyDocument;
  /** The role's trust policy: who may assume it. */
  trust: { Version: "2012-10-17"; Statement: TrustStatement[] };
}

export interface PolicyIam {
  /** Attach to the broker hosts' instance role. */
  instanceRole: IamPolicyDocument;
  roles: RoleIam[];
}

export interface IamOptions {
  /** The broker hosts' instance role ARN, named in each assumed role's trust policy. */
  instanceRoleArn?: string | undefined;
  /** The account of deployments that use the instance role (default: any, "*"). */
  accountId?: string | undefined;
}

const INSTANCE_ROLE_PLACEHOLDER = "arn:aws:iam::<BROKER-ACCOUNT-ID>:role/<BROKER-INSTANCE-ROLE>";

function partitionOf(arn: string): string {
  return /^arn:(aws(?:-[a-z]+)*):/.exec(arn)?.[1] ?? "aws";
}

function accountOfRole(roleArn: string): string {
  return /^arn:[^:]+:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? "*";
}

/** Resources one deployment needs, as plain resources and "only through this profile" ones. */
interface DeploymentResources {
  direct: string[];
  viaProfile: Array<{ profileArn: string; resources: string[] }>;
}

function resourcesFor(deployment: Deployment, account: string, partition: string): DeploymentResources {
  const { modelId, region } = deployment;
  if (modelId.startsWith("arn:") && /:application-inference-profile\//.test(modelId)) {
    return {
      direct: [modelId],
      viaProfile: [{ profileArn: modelId, resources: [`arn:${partition}:bedrock:*::foundation-model/*`, `arn:${partition}:bedrock:*:*:inference-profile/*`] }],
    };
  }
  const parsed = parseBedrockModelId(modelId);
  // Other ARNs (provisioned throughput, custom model deployments): the ARN itself.
  if (!parsed) return { direct: [modelId], viaProfile: [] };
  if (parsed.scope === "base") {
    return { direct: [modelId.startsWith("arn:") ? modelId : `arn:${partition}:bedrock:${region}::foundation-model/${parsed.baseModelId}`], viaProfile: [] };
  }
  const profileId = modelId.startsWith("arn:") ? modelId.slice(modelId.indexOf("inference-profile/") + "inference-profile/".length) : modelId;
  const profileArn = modelId.startsWith("arn:") ? modelId : `arn:${partition}:bedrock:${region}:${account}:inference-profile/${profileId}`;
  const models = [`arn:${partition}:bedrock:*::foundation-model/${parsed.baseModelId}`];
  if (parsed.scope === "global") models.push(`arn:${partition}:bedrock:::foundation-model/${parsed.baseModelId}`);
  return { direct: [profileArn], viaProfile: [{ profileArn, resources: models }] };
}

function permissionsFor(deployments: Deployment[], account: string, partition: string, extra: IamStatement[] = []): IamPolicyDocument {
  const direct = new Set<string>();
  const viaProfile = new Map<string, Set<string>>();
  for (const deployment of deployments) {
    const needed = resourcesFor(deployment, account, partition);
    for (const resource of needed.direct) direct.add(resource);
    for (const { profileArn, resources } of needed.viaProfile) {
      const set = viaProfile.get(profileArn) ?? new Set<string>();
      for (const resource of resources) set.add(resource);
      viaProfile.set(profileArn, set);
    }
  }
  const statements: IamStatement[] = [];
  if (direct.size > 0) statements.push({ Sid: "InvokeTheDeployments", Effect: "Allow", Action: [...INVOKE_ACTIONS], Resource: [...direct].sort() });
  // One statement per set of resources, with every profile that needs exactly that set.
  const bySet = new Map<string, { resources: string[]; profiles: string[] }>();
  for (const [profileArn, resources] of viaProfile) {
    const sorted = [...resources].sort();
    const key = sorted.join("\n");
    const entry = bySet.get(key) ?? { resources: sorted, profiles: [] };
    entry.profiles.push(profileArn);
    bySet.set(key, entry);
  }
  let n = 0;
  for (const { resources, profiles } of bySet.values()) {
    statements.push({
      Sid: `InvokeThroughTheProfiles${bySet.size > 1 ? ++n : ""}`,
      Effect: "Allow",
      Action: [...INVOKE_ACTIONS],
      Resource: resources,
      // StringLike: a profile ARN of the instance role's own account may carry "*" for the account.
      Condition: { [profiles.some((arn) => arn.includes("*")) ? "StringLike" : "StringEquals"]: { "bedrock:InferenceProfileArn": profiles.sort() } },
    });
  }
  return { Version: "2012-10-17", Statement: [...statements, ...extra] };
}

/** The IAM documents the policy's routes need. */
export function iamForPolicy(policy: Policy, options: IamOptions = {}): PolicyIam {
  const deployments = [...policy.models.values()].flatMap((model) => model.route);
  const own = deployments.filter((deployment) => !deployment.role);
  const byRole = new Map<string, Deployment[]>();
  for (const deployment of deployments) {
    if (!deployment.role) continue;
    const list = byRole.get(deployment.role.arn) ?? [];
    list.push(deployment);
    byRole.set(deployment.role.arn, list);
  }
  const roleArns = [...byRole.keys()].sort();
  const instancePartition = options.instanceRoleArn ? partitionOf(options.instanceRoleArn) : "aws";
  const assume: IamStatement[] = roleArns.length > 0 ? [{ Sid: "AssumeTheDeploymentRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArns }] : [];
  const instanceRole = permissionsFor(own, options.accountId ?? "*", instancePartition, assume);
  const roles = roleArns.map((roleArn): RoleIam => {
    const list = byRole.get(roleArn)!;
    const externalIds = [...new Set(list.flatMap((deployment) => (deployment.role?.externalId ? [deployment.role.externalId] : [])))];
    return {
      roleArn,
      permissions: permissionsFor(list, accountOfRole(roleArn), partitionOf(roleArn)),
      trust: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TheTollgateBrokers",
            Effect: "Allow",
            Principal: { AWS: options.instanceRoleArn ?? INSTANCE_ROLE_PLACEHOLDER },
            Action: "sts:AssumeRole",
            ...(externalIds.length > 0 ? { Condition: { StringEquals: { "sts:ExternalId": externalIds.length === 1 ? externalIds[0]! : externalIds } } } : {}),
          },
        ],
      },
    };
  });
  return { instanceRole, roles };
}
