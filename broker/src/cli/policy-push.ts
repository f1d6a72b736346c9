import { readFile } from "node:fs/promises";
import type { OptionValues } from "./program.js";
import { parsePolicyJson, policyDiff, type PolicyFile } from "@tollgate/shared";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";


async function readText(file: string | undefined): Promise<string> {
  if (!file) throw new CliError("a policy FILE is required");
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

async function readDocument(file: string | undefined): Promise<unknown> {
  const text = await readText(file);
  const parsed = parsePolicyJson(text);
  // Syntax errors with their line and column, as `policy validate` and the broker report them.
  if (!parsed.ok && parsed.problems[0]?.path === "(root)") throw new CliError(`${file}: ${parsed.problems[0].message}`);
  return JSON.parse(text.replace(/^\uFEFF/, "")) as unknown;
}

/** `tollgate policy push FILE --url URL [--message TEXT]`: validate on the broker and swap it in. */
export async function policyPushCommand(file: string, values: OptionValues): Promise<number> {
  // The file's own text: the broker checks it as written (repeated keys, syntax with line and column).
  const text = await readText(file);
  const target = adminTarget(values);
  const params = new URLSearchParams();
  const message = values.message ?? values.comment;
  if (typeof message === "string") params.set("comment", message);
  if (values.force === true) params.set("force", "true");
  const query = params.size > 0 ? `?${params}` : "";
  const { status, body } = await adminFetch(target, `/admin/policy${query}`, { method: "PUT", body: text });
  if (status === 400) {
    const problems = (body as { problems?: string[] }).problems ?? [errorMessage(body)];
    process.stderr.write(`the broker refused the policy; it keeps serving the previous version:\n`);
    for (const problem of problems) process.stdout.write(`${problem}\n`);
    return 1;
  }
  if (status !== 200) throw new CliError(`push failed (${status}): ${errorMessage(body)}`);
  const result = body as { version: number; changes: string[] };
  process.stdout.write(`policy version ${result.version} is serving\n`);
  for (const change of result.changes) process.stdout.write(`  ${change}\n`);
  return 0;
}

/** `tollgate policy diff FILE --url URL`: what pushing FILE would change. */
export async function policyDiffCommand(file: string, values: OptionValues): Promise<number> {
  const document = await readDocument(file);
  const target = adminTarget(values);
  const { status, body } = await adminFetch(target, "/admin/policy");
  if (status !== 200) throw new CliError(`cannot read the broker's policy (${status}): ${errorMessage(body)}`);
  const serving = body as { version: number; document: PolicyFile };
  const changes = policyDiff(serving.document, document as PolicyFile);
  if (changes.length === 0) {
    process.stdout.write(`no changes from version ${serving.version}\n`);
    return 0;
  }
  process.stdout.write(`changes from version ${serving.version}:\n`);
  for (const change of changes) process.stdout.write(`  ${change}\n`);
  return 0;
}
