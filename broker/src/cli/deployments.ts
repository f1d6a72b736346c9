import type { OptionValues } from "./program.js";
import type { DeploymentsResponse, DeploymentStatus } from "@tollgate/shared";
import { adminFetch, adminTarget, CliError, errorMessage } from "./admin-client.js";

/** `tollgate deployments --url URL`: each deployment's state and recent health, as a table. */
export async function deploymentsCommand(values: OptionValues): Promise<number> {
  const target = adminTarget(values);
  const { status, body } = await adminFetch(target, "/admin/deployments");
  if (status !== 200) throw new CliError(`deployments query failed (${status}): ${errorMessage(body)}`);
  const response = body as DeploymentsResponse;
  if (!response.brokers) {
    process.stdout.write(renderDeployments(response.data, Date.now()));
    return 0;
  }
  // Fleet mode: routing health is each broker's own; one table per broker.
  for (const broker of response.brokers) {
    process.stdout.write(`broker ${broker.instanceId} (last seen ${broker.lastSeen})\n${renderDeployments(broker.data, Date.now())}\n`);
  }
  return 0;
}

export function renderDeployments(deployments: readonly DeploymentStatus[], now: number): string {
  const header = ["model", "deployment", "region", "state", "in flight", "5 min: requests", "errors", "p50 ms", "p95 ms", "last error"];
  const rows = deployments.map((d) => [
    d.model,
    d.deployment,
    d.roleArn ? `${d.region} (${accountOf(d.roleArn)})` : d.region,
    d.state === "cooling_down" && d.coolingDownUntil ? `cooling ${Math.max(0, Math.ceil((Date.parse(d.coolingDownUntil) - now) / 1000))} s` : "healthy",
    String(d.inFlight),
    String(d.recent.requests),
    d.recent.requests === 0 ? "-" : `${(d.recent.errorRate * 100).toFixed(1)}%`,
    d.recent.latencyMsP50 === null ? "-" : String(d.recent.latencyMsP50),
    d.recent.latencyMsP95 === null ? "-" : String(d.recent.latencyMsP95),
    d.lastError ? d.lastError.code : "-",
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return `${[line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")}\n`;
}

function accountOf(roleArn: string): string {
  return /::(\d{12}):/.exec(roleArn)?.[1] ?? "role";
}
