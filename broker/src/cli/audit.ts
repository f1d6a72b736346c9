import type { OptionValues } from "./program.js";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";

interface AuditEntry {
  time: string;
  actor: string;
  action: string;
  version: number;
  restoredFrom?: number;
  comment: string | null;
  changes: string[];
}

/** `tollgate audit --url URL`: who changed the policy, when, why and what, newest first. */
export async function auditCommand(values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const limit = typeof values.limit === "string" ? values.limit : "50";
  const { status, body } = await adminFetch(target, `/admin/audit?limit=${encodeURIComponent(limit)}`);
  if (status !== 200) throw new CliError(`audit query failed (${status}): ${errorMessage(body)}`);
  const entries = (body as { data: AuditEntry[] }).data;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(renderAudit(entries));
  return 0;
}

export function renderAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "no policy changes recorded\n";
  return entries
    .map((entry) => {
      const head = `v${entry.version}  ${entry.time}  ${entry.action}${entry.restoredFrom !== undefined ? ` (restores v${entry.restoredFrom})` : ""}  by ${entry.actor}`;
      const lines = [head, ...(entry.comment ? [`  "${entry.comment}"`] : []), ...entry.changes.map((change) => `  - ${change}`)];
      return lines.join("\n");
    })
    .join("\n\n")
    .concat("\n");
}
