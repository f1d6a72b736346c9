import { readFile } from "node:fs/promises";
import { formatPolicyProblems, parsePolicyJson, type Policy } from "@tollgate/shared";

export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${problems.join("; ")}`);
    this.name = "PolicyFileError";
  }
}

export async function loadPolicyFile(file: string): Promise<Policy> {
  return (await loadPolicyFileWithDocument(file)).policy;
}

/** The validated policy and the JSON it came from (stored as the seed version). */
export async function loadPolicyFileWithDocument(file: string): Promise<{ policy: Policy; document: unknown }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (code ?? String(error));
    throw new PolicyFileError(file, [`cannot read ${file}: ${why}`]);
  }
  const result = parsePolicyJson(text);
  if (!result.ok) throw new PolicyFileError(file, formatPolicyProblems(result.problems));
  return { policy: result.policy, document: JSON.parse(text.replace(/^\uFEFF/, "")) as unknown };
}
