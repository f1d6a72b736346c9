import type { AdminRequestRecord } from "@tollgate/shared";
import { formatUsd } from "@tollgate/shared";
import type { OptionValues } from "./program.js";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";

/** `tollgate requests --status 429`: the org's recent requests, refusals included, newest first. */
export async function requestsCommand(values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const query = new URLSearchParams();
  for (const name of ["user", "team", "model", "status", "from", "to", "limit"] as const) {
    const value = values[name];
    if (typeof value === "string") query.set(name, value);
  }
  if (values.refused === true) query.set("refused", "only");
  if (values.refused === false) query.set("refused", "exclude");
  const { status, body } = await adminFetch(target, `/admin/requests?${query}`);
  if (status !== 200) throw new CliError(`requests query failed (${status}): ${errorMessage(body)}`);
  const records = (body as { data: AdminRequestRecord[] }).data;
  process.stdout.write(values.json === true ? `${JSON.stringify(records, null, 2)}\n` : renderRequests(records));
  return 0;
}

/** One line per request; a refusal's reason on the line below it. */
export function renderRequests(records: readonly AdminRequestRecord[]): string {
  if (records.length === 0) return "no requests match\n";
  const header = ["time", "user", "team", "model", "status", "code", "tokens", "cost", "ms"];
  const rows = records.map((r) => [
    r.time.replace(/\.\d{3}Z$/, "Z"),
    r.user ?? (r.keyHashPrefix ? `unknown key sha256:${r.keyHashPrefix}…` : "no key"),
    r.team ?? "-",
    r.model ?? "-",
    `${r.httpStatus} ${r.status}`,
    r.errorCode ?? "-",
    String(r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens + r.outputTokens),
    formatUsd(r.costUsd),
    String(r.latencyMs),
  ]);
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  records.forEach((record, i) => {
    out.push(line(rows[i]!));
    // The reason names the scope and limit already; the limit alone only when there is no reason.
    const why = record.reason ?? (record.limit ? `${record.limit.scope}: ${record.limit.name}` : undefined);
    if (why) out.push(`    ${why}`);
  });
  return `${out.join("\n")}\n`;
}
