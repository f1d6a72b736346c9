import { parsePolicy, type Policy } from "@tollgate/shared";
import { describe, expect, it } from "vitest";
import { iamForPolicy, INVOKE_ACTIONS } from "./iam-policy.js";

function policyOf(route: Array<Record<string, unknown>>): Policy {
  const result = parsePolicy({ models: { m: { route, pricing: { input: 3, output: 15 }, contextWindow: 200_000, maxOutputTokens: 64_000 } } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

const ROLE = "arn:aws:iam::222222222222:role/bedrock-invoke";
const INSTANCE = "arn:aws:iam::111111111111:role/tollgate-broker";
const APP_PROFILE = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/a1b2c3";

describe("iamForPolicy", () => {
  it("a cross-Region profile: the profile in its source region, its model in every region but only through it", () => {
    const iam = iamForPolicy(policyOf([{ id: "a", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1" }]), { accountId: "111111111111" });
    const profile = "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0";
    expect(iam.instanceRole.Statement).toEqual([
      { Sid: "InvokeTheDeployments", Effect: "Allow", Action: [...INVOKE_ACTIONS], Resource: [profile] },
      {
        Sid: "InvokeThroughTheProfiles",
        Effect: "Allow",
        Action: [...INVOKE_ACTIONS],
        Resource: ["arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"],
        Condition: { StringEquals: { "bedrock:InferenceProfileArn": [profile] } },
      },
    ]);
    expect(iam.roles).toEqual([]);
  });

  it("a global profile also reaches the region-less foundation-model ARN; without an account the profile ARN is matched with StringLike", () => {
    const iam = iamForPolicy(policyOf([{ id: "g", modelId: "global.anthropic.claude-sonnet-4-5-20250929-v1:0", region: "us-west-2" }]));
    const [direct, via] = iam.instanceRole.Statement;
    expect(direct!.Resource).toEqual(["arn:aws:bedrock:us-west-2:*:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0"]);
    expect(via!.Resource).toEqual([
      "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
      "arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    expect(via!.Condition).toEqual({ StringLike: { "bedrock:InferenceProfileArn": ["arn:aws:bedrock:us-west-2:*:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0"] } });
  });

  it("an application inference profile: its ARN, and what it routes to only through it; a foundation model id: that model in its region", () => {
    const iam = iamForPolicy(
      policyOf([
        { id: "app", modelId: APP_PROFILE, region: "us-east-1" },
        { id: "base", modelId: "anthropic.claude-3-7-sonnet-20250219-v1:0", region: "eu-central-1" },
      ]),
    );
    const [direct, via] = iam.instanceRole.Statement;
    expect(direct!.Resource).toEqual([APP_PROFILE, "arn:aws:bedrock:eu-central-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0"].sort());
    expect(via!.Resource).toEqual(["arn:aws:bedrock:*:*:inference-profile/*", "arn:aws:bedrock:*::foundation-model/*"]);
    expect(via!.Condition).toEqual({ StringEquals: { "bedrock:InferenceProfileArn": [APP_PROFILE] } });
  });

  it("an assumed role: the instance role may assume exactly it; the role gets its deployments and a trust policy naming the instance role and the external id", () => {
    const iam = iamForPolicy(
      policyOf([
        { id: "own", modelId: "us.amazon.nova-pro-v1:0", region: "us-east-1" },
        { id: "other", modelId: "us.amazon.nova-pro-v1:0", region: "us-east-1", roleArn: ROLE, externalId: "tollgate-prod" },
      ]),
      { instanceRoleArn: INSTANCE },
    );
    expect(iam.instanceRole.Statement.at(-1)).toEqual({ Sid: "AssumeTheDeploymentRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: [ROLE] });
    expect(iam.roles).toHaveLength(1);
    const role = iam.roles[0]!;
    expect(role.roleArn).toBe(ROLE);
    expect(role.permissions.Statement[0]!.Resource).toEqual(["arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.amazon.nova-pro-v1:0"]);
    expect(role.trust.Statement).toEqual([
      { Sid: "TheTollgateBrokers", Effect: "Allow", Principal: { AWS: INSTANCE }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "tollgate-prod" } } },
    ]);
    // Nothing beyond what the routes call: no wildcard actions, no other models.
    const all = JSON.stringify(iam);
    expect(all).not.toMatch(/"bedrock:\*"|"\*:\*"|InvokeModel\*/);
  });
});
