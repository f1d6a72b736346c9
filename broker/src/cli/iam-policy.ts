import { iamForPolicy } from "../iam/iam-policy.js";
import { loadPolicyFile, PolicyFileError } from "../policy/load-policy-file.js";
import { CliError } from "./admin-client.js";
import type { OptionValues } from "./program.js";

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** `tollgate iam-policy --policy FILE`: the IAM the policy's routes need, least privilege. */
export async function iamPolicyCommand(values: OptionValues): Promise<number> {
  const file = String(values.policy);
  const instanceRoleArn = typeof values["instance-role-arn"] === "string" ? values["instance-role-arn"] : undefined;
  const accountId = typeof values["account-id"] === "string" ? values["account-id"] : undefined;
  if (instanceRoleArn !== undefined && !ROLE_ARN.test(instanceRoleArn)) throw new CliError(`--instance-role-arn ${JSON.stringify(instanceRoleArn)} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)`);
  if (accountId !== undefined && !ACCOUNT_ID.test(accountId)) throw new CliError(`--account-id must be 12 digits, got ${JSON.stringify(accountId)}`);
  let policy;
  try {
    policy = await loadPolicyFile(file);
  } catch (error) {
    if (error instanceof PolicyFileError) throw new CliError(`invalid policy ${error.message}`);
    throw error;
  }
  const iam = iamForPolicy(policy, { instanceRoleArn, accountId });
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(iam, null, 2)}\n`);
    return 0;
  }
  const json = (value: unknown): string => JSON.stringify(value, null, 2);
  const parts = [`# Attach to the broker hosts' instance role${instanceRoleArn ? ` (${instanceRoleArn})` : ""}:\n${json(iam.instanceRole)}`];
  for (const role of iam.roles) {
    parts.push(`# Attach to ${role.roleArn} (what its deployments call):\n${json(role.permissions)}`);
    parts.push(`# The trust policy of ${role.roleArn}:\n${json(role.trust)}`);
  }
  process.stdout.write(`${parts.join("\n\n")}\n`);
  return 0;
}
