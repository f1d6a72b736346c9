// The order in which one model's deployments are tried for a request, by the model's strategy.
// Deployments cooling down are left out: a later request should not pay for the same throttle.
import type { Deployment, ModelPolicy } from "@tollgate/shared";
import type { DeploymentHealthRegistry } from "./deployment-health.js";

/** Returns a number in [0, 1); injected so tests can fix the draw. */
export type Random = () => number;

export function orderDeployments(model: ModelPolicy, health: DeploymentHealthRegistry, now: number, random: Random = Math.random): Deployment[] {
  const available = model.route.filter((deployment) => !health.of(model.name, deployment.id).isCooling(now));
  switch (model.routing.strategy) {
    case "ordered":
      return available;
    case "least-busy":
      // Stable sort: equally busy deployments keep the policy's order.
      return available
        .map((deployment, index) => ({ deployment, index, busy: health.of(model.name, deployment.id).inFlight }))
        .sort((a, b) => a.busy - b.busy || a.index - b.index)
        .map((entry) => entry.deployment);
    case "weighted":
      return weightedShuffle(available, random);
  }
}

/** A random order where each deployment comes first with probability weight / total weight. */
function weightedShuffle(deployments: readonly Deployment[], random: Random): Deployment[] {
  const remaining = [...deployments];
  const ordered: Deployment[] = [];
  while (remaining.length > 0) {
    const total = remaining.reduce((sum, d) => sum + d.weight, 0);
    let draw = random() * total;
    let pick = remaining.length - 1;
    for (let i = 0; i < remaining.length; i++) {
      draw -= remaining[i]!.weight;
      if (draw < 0) {
        pick = i;
        break;
      }
    }
    ordered.push(...remaining.splice(pick, 1));
  }
  return ordered;
}
