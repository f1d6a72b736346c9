import type { OptionValues } from "./program.js";
import type { UsageResponse } from "@tollgate/shared";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";

/** `tollgate usage --url URL --group-by team`: spend and tokens as a readable table. */
export async function usageCommand(values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const query = new URLSearchParams({ groupBy: typeof values["group-by"] === "string" ? values["group-by"] : "team" });
  if (typeof values.from === "string") query.set("from", values.from);
  if (typeof values.to === "string") query.set("to", values.to);
  const { status, body } = await adminFetch(target, `/admin/usage?${query}`);
  if (status !== 200) throw new CliError(`usage query failed (${status}): ${errorMessage(body)}`);
  const usage = body as UsageResponse;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(usage, null, 2)}\n`);
    return 0;
  }
  if (values.csv === true) {
    process.stdout.write(renderCsv(usage));
    return 0;
  }
  process.stdout.write(`${usage.from} → ${usage.to}, by ${usage.groupBy}\n\n`);
  process.stdout.write(renderTable(usage));
  return 0;
}

export function renderTable(usage: UsageResponse): string {
  // "uncached input": the ledger's inputTokens; prompt_tokens in OpenAI's usage is it plus cache read and write.
  const header = [usage.groupBy, "requests", "uncached input", "cache read", "cache write", "output", "cost USD", "cache saved USD"];
  const row = (key: string, r: Omit<UsageResponse["rows"][number], "key">): string[] => [
    key,
    String(r.requests),
    String(r.inputTokens),
    String(r.cacheReadTokens),
    String(r.cacheWriteTokens),
    String(r.outputTokens),
    r.costUsd.toFixed(4),
    r.cacheSavingsUsd.toFixed(4),
  ];
  const rows = [header, ...usage.rows.map((r) => row(r.key, r)), row("total", usage.total)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  return `${[line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n")}\n`;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line per row; amounts in full precision (USD), tokens as integers; the period in the first two columns. */
export function renderCsv(usage: UsageResponse): string {
  const header = ["from", "to", usage.groupBy, "requests", "uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "cost_usd", "cache_savings_usd"];
  const lines = usage.rows.map((r) =>
    [usage.from, usage.to, r.key, r.requests, r.inputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.outputTokens, r.costUsd, r.cacheSavingsUsd].map(csvField).join(","),
  );
  return `${[header.join(","), ...lines].join("\r\n")}\r\n`;
}
