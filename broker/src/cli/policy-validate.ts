import { lockoutWarning } from "@tollgate/shared";
import { loadPolicyFile, PolicyFileError } from "../policy/load-policy-file.js";

/** Exit 0 when valid; else 1 and one line per problem, `json.path: message`. */
export async function policyValidateCommand(file: string): Promise<number> {
  try {
    const policy = await loadPolicyFile(file);
    process.stdout.write(`${file}: valid (${policy.models.size} model${policy.models.size === 1 ? "" : "s"})\n`);
    const lockout = lockoutWarning(policy);
    if (lockout) process.stderr.write(`warning: ${lockout}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof PolicyFileError)) throw error;
    for (const problem of error.problems) process.stdout.write(`${problem}\n`);
    return 1;
  }
}
