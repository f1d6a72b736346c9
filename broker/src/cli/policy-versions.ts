import { writeFile } from "node:fs/promises";
import type { OptionValues } from "./program.js";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";

interface VersionMeta {
  version: number;
  createdAt: string;
  kind: string;
  by: string;
  changes: string[];
  restoredFrom?: number;
  comment?: string;
}

function versionNumber(text: unknown, what: string): number {
  const version = Number(text);
  if (typeof text !== "string" || !/^\d+$/.test(text) || version < 1) throw new CliError(`${what} must be a version number (1, 2, …); got ${JSON.stringify(text)}`);
  return version;
}

/** `tollgate policy get [VERSION] [--output FILE]`: the serving document (or VERSION's), as JSON. */
export async function policyGetCommand(version: string | undefined, values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const path = version === undefined ? "/admin/policy" : `/admin/policy/versions/${versionNumber(version, "VERSION")}`;
  const { status, body } = await adminFetch(target, path);
  if (status !== 200) throw new CliError(`cannot read the policy (${status}): ${errorMessage(body)}`);
  const { version: served, document } = body as { version: number; document: unknown };
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (typeof values.output === "string") {
    await writeFile(values.output, text).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot write ${values.output as string} (${error.code ?? error.message})`);
    });
    process.stderr.write(`policy version ${served} written to ${values.output}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

/** `tollgate policy versions [--json]`: every version, newest first, with who, when, why and what changed. */
export async function policyVersionsCommand(values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const { status, body } = await adminFetch(target, "/admin/policy/versions");
  if (status !== 200) throw new CliError(`cannot list the policy versions (${status}): ${errorMessage(body)}`);
  const versions = [...(body as { data: VersionMeta[] }).data].sort((a, b) => b.version - a.version);
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
    return 0;
  }
  const lines = versions.map((v) => {
    const what = v.kind === "rollback" && v.restoredFrom !== undefined ? `rollback to v${v.restoredFrom}` : v.kind;
    const why = v.comment ? `  "${v.comment}"` : "";
    return `v${v.version}  ${v.createdAt}  ${what}  by ${v.by}  (${v.changes.length} change${v.changes.length === 1 ? "" : "s"})${why}`;
  });
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** `tollgate policy rollback VERSION [--message TEXT]`: serve VERSION's content again, as a new version. */
export async function policyRollbackCommand(version: string, values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const message = values.message ?? values.comment;
  const body = { version: versionNumber(version, "VERSION"), ...(typeof message === "string" ? { comment: message } : {}) };
  const { status, body: answer } = await adminFetch(target, "/admin/policy/rollback", { method: "POST", body: JSON.stringify(body) });
  if (status === 400) {
    const problems = (answer as { problems?: string[] }).problems ?? [errorMessage(answer)];
    process.stderr.write(`the broker refused the rollback; it keeps serving the current version:\n`);
    for (const problem of problems) process.stdout.write(`${problem}\n`);
    return 1;
  }
  if (status !== 200) throw new CliError(`rollback failed (${status}): ${errorMessage(answer)}`);
  const result = answer as { version: number; changes: string[] };
  process.stdout.write(`policy version ${result.version} (the content of version ${body.version}) is serving\n`);
  for (const change of result.changes) process.stdout.write(`  ${change}\n`);
  return 0;
}
