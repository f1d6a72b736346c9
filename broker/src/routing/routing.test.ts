import { parsePolicy, type ModelPolicy, type Policy } from "@tollgate/shared";
import { describe, expect, it } from "vitest";
import { bedrockErrorToApiError } from "../bedrock/errors.js";
import { ApiError } from "../errors.js";
import { DeploymentHealthRegistry, FAILURES_BEFORE_COOLDOWN } from "./deployment-health.js";
import { orderDeployments } from "./order-deployments.js";
import { routingOf, Router, type Lease } from "./router.js";

const SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

function policyWith(sonnet: Record<string, unknown> = {}, userModels: string[] = ["*"]): Policy {
  const result = parsePolicy({
    models: {
      sonnet: {
        route: [
          { id: "a", modelId: SONNET, region: "us-east-1" },
          { id: "b", modelId: SONNET, region: "us-west-2" },
          { id: "c", modelId: SONNET, region: "us-east-2" },
        ],
        fallbacks: ["haiku"],
        cooldown: { initialMs: 1_000, maxMs: 8_000 },
        ...sonnet,
      },
      haiku: { route: [{ id: "h", modelId: HAIKU, region: "us-east-1" }] },
    },
    teams: { eng: { models: userModels } },
    users: { u: { team: "eng", keys: [] } },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A Bedrock throttle as the SDK raises it, with Bedrock's retry-after when given, mapped as the broker maps it. */
const throttled = (retryAfter?: number) =>
  bedrockErrorToApiError(
    { name: "ThrottlingException", message: "Too many requests", $response: { headers: retryAfter ? { "retry-after": String(retryAfter) } : {} } },
    { model: "sonnet", id: "x", modelId: "m", region: "us-east-1" },
  );
const serverError = () => new ApiError({ status: 502, type: "upstream_error", code: "upstream_error", message: "boom" });
const tooLong = () => new ApiError({ status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: "too long" });
const badRequest = () => new ApiError({ status: 400, type: "invalid_request_error", code: "upstream_validation_error", message: "bad" });

function model(policy: Policy, name: string): ModelPolicy {
  const found = policy.models.get(name);
  if (!found) throw new Error(name);
  return found;
}

const translated = { body: { messages: [] }, maxTokens: 100, cachePoints: 0, thinkingDroppedForHistory: false } as never;

function routeRequest(policy: Policy, signal = new AbortController().signal) {
  return {
    policy,
    user: policy.users.get("u")!,
    requested: model(policy, "sonnet"),
    translated,
    translate: () => translated,
    signal,
  };
}

/** Runs the router with attempts that fail per deployment id as `failures` says; returns who was tried. */
async function run(router: Router, policy: Policy, failures: Record<string, () => ApiError>, gate = async () => undefined as ApiError | undefined) {
  const tried: string[] = [];
  try {
    const { lease } = await router.run(routeRequest(policy), gate, async (lease: Lease) => {
      tried.push(lease.target.deployment.id);
      const fail = failures[lease.target.deployment.id];
      if (fail) throw fail();
      lease.succeeded();
      lease.end();
      return lease.target.deployment.id;
    });
    return { tried, served: lease.target.deployment.id, fallbacks: lease.fallbacks, error: undefined };
  } catch (error) {
    return { tried, served: undefined, fallbacks: undefined, error: error as ApiError };
  }
}

describe("orderDeployments", () => {
  it("ordered: policy order, leaving out deployments that cool down", () => {
    const policy = policyWith();
    const health = new DeploymentHealthRegistry(() => 0);
    health.of("sonnet", "b").coolingUntil = 10;
    expect(orderDeployments(model(policy, "sonnet"), health, 5).map((d) => d.id)).toEqual(["a", "c"]);
    expect(orderDeployments(model(policy, "sonnet"), health, 10).map((d) => d.id)).toEqual(["a", "b", "c"]);
  });

  it("least-busy: fewest in flight first, ties in policy order", () => {
    const policy = policyWith({ strategy: "least-busy" });
    const health = new DeploymentHealthRegistry(() => 0);
    health.of("sonnet", "a").inFlight = 3;
    health.of("sonnet", "b").inFlight = 1;
    expect(orderDeployments(model(policy, "sonnet"), health, 0).map((d) => d.id)).toEqual(["c", "b", "a"]);
  });

  it("weighted: the first pick follows the weights", () => {
    const policy = policyWith({
      strategy: "weighted",
      route: [
        { id: "a", modelId: SONNET, region: "us-east-1", weight: 3 },
        { id: "b", modelId: SONNET, region: "us-west-2", weight: 1 },
      ],
    });
    const health = new DeploymentHealthRegistry(() => 0);
    const sonnet = model(policy, "sonnet");
    expect(orderDeployments(sonnet, health, 0, () => 0.74).map((d) => d.id)).toEqual(["a", "b"]);
    expect(orderDeployments(sonnet, health, 0, () => 0.75).map((d) => d.id)).toEqual(["b", "a"]);
    // Over many draws, about 3 in 4 start with "a".
    let seed = 1;
    const lcg = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let firstA = 0;
    for (let i = 0; i < 4000; i++) if (orderDeployments(sonnet, health, 0, lcg)[0]?.id === "a") firstA++;
    expect(firstA / 4000).toBeGreaterThan(0.72);
    expect(firstA / 4000).toBeLessThan(0.78);
  });
});

describe("DeploymentHealth cool-downs", () => {
  const cooldown = { initialMs: 1_000, maxMs: 8_000 };

  it("a throttle cools down at once, for retry-after when longer, doubling on repeats up to maxMs", () => {
    const health = new DeploymentHealthRegistry(() => 0).of("m", "d");
    health.failed(0, 5, { code: "upstream_throttled", message: "t" }, cooldown);
    expect(health.coolingUntil).toBe(1_000);
    health.failed(0, 5, { code: "upstream_throttled", message: "t", retryAfterMs: 3_000 }, cooldown);
    expect(health.coolingUntil).toBe(3_000);
    health.failed(0, 5, { code: "upstream_throttled", message: "t" }, cooldown);
    expect(health.coolingUntil).toBe(4_000);
    for (let i = 0; i < 10; i++) health.failed(0, 5, { code: "upstream_throttled", message: "t" }, cooldown);
    expect(health.coolingUntil).toBe(8_000);
    health.succeeded(9_000, 5);
    expect(health.isCooling(9_000)).toBe(false);
    expect(health.consecutiveFailures).toBe(0);
  });

  it("a success from a call sent before the failure does not end the cool-down", () => {
    const health = new DeploymentHealthRegistry(() => 0).of("m", "d");
    health.failed(1_000, 5, { code: "upstream_throttled", message: "t" }, cooldown);
    health.succeeded(1_050, 200); // sent at 850, before the throttle
    expect(health.isCooling(1_100)).toBe(true);
    expect(health.consecutiveFailures).toBe(1);
    health.succeeded(2_500, 100); // sent at 2400, after it
    expect(health.isCooling(2_500)).toBe(false);
    expect(health.consecutiveFailures).toBe(0);
  });

  it(`other failures cool down only after ${FAILURES_BEFORE_COOLDOWN} in a row`, () => {
    const health = new DeploymentHealthRegistry(() => 0).of("m", "d");
    for (let i = 1; i < FAILURES_BEFORE_COOLDOWN; i++) {
      health.failed(0, 5, { code: "upstream_error", message: "x" }, cooldown);
      expect(health.isCooling(0)).toBe(false);
    }
    health.failed(0, 5, { code: "upstream_error", message: "x" }, cooldown);
    expect(health.isCooling(0)).toBe(true);
  });

  it("reports recent error rate and latency percentiles", () => {
    const registry = new DeploymentHealthRegistry(() => 100);
    const health = registry.of("m", "d");
    for (let i = 1; i <= 9; i++) health.succeeded(100, i * 10);
    health.failed(100, 1, { code: "upstream_error", message: "x" }, cooldown);
    expect(health.state(100)).toMatchObject({
      state: "healthy",
      recent: { requests: 10, errors: 1, errorRate: 0.1, latencyMsP50: 50, latencyMsP95: 90 },
      lastError: { code: "upstream_error" },
    });
  });
});

describe("Router", () => {
  it("tries deployments in order, then the fallback model; counts the failures", async () => {
    const policy = policyWith();
    const router = new Router(new DeploymentHealthRegistry(clock().now));
    expect(await run(router, policy, { a: throttled, b: serverError })).toMatchObject({ tried: ["a", "b", "c"], served: "c", fallbacks: 2 });
    // "a" cools down after its throttle; "b" failed once, which doesn't cool it down yet.
    const next = await run(router, policy, { b: throttled, c: throttled });
    expect(next).toMatchObject({ tried: ["b", "c", "h"], served: "h", fallbacks: 2 });
  });

  it("skips cooling deployments on later requests; when every one is cooling, asks Bedrock on the one whose cool-down ends first", async () => {
    const time = clock();
    const policy = policyWith({ fallbacks: [] });
    const router = new Router(new DeploymentHealthRegistry(time.now));
    const first = await run(router, policy, { a: () => throttled(4), b: throttled, c: throttled });
    expect(first.tried).toEqual(["a", "b", "c"]);
    expect(first.error?.code).toBe("upstream_throttled");
    // "b" and "c" cool for the policy's initialMs (1 s), not the 2 s the client is told when Bedrock sends no retry-after.
    expect(first.error?.headers["retry-after"]).toBe("2");
    time.advance(300);
    // All three cool down; "a" under Bedrock's own retry-after, "b" and "c" under the broker's guess,
    // "b" ending first: it is asked rather than everyone refused until the guess runs out.
    const second = await run(router, policy, { b: throttled });
    expect(second.tried).toEqual(["b"]);
    expect(second.error?.code).toBe("upstream_throttled");
    time.advance(100);
    const third = await run(router, policy, {});
    expect(third).toMatchObject({ tried: ["c"], served: "c", fallbacks: 0 });
  });

  it("a model with one deployment is never cooled into refusing everyone", async () => {
    const time = clock();
    const policy = policyWith({ route: [{ id: "only", modelId: SONNET, region: "us-east-1" }], fallbacks: [] });
    const router = new Router(new DeploymentHealthRegistry(time.now));
    expect((await run(router, policy, { only: throttled })).tried).toEqual(["only"]);
    expect((await run(router, policy, { only: throttled })).tried).toEqual(["only"]);
    expect(await run(router, policy, {})).toMatchObject({ tried: ["only"], served: "only" });
  });

  it("honours Bedrock's retry-after: a deployment it told to wait is not asked early, and the client is told when to come back", async () => {
    const time = clock();
    const policy = policyWith({ fallbacks: [] });
    const router = new Router(new DeploymentHealthRegistry(time.now));
    await run(router, policy, { a: () => throttled(4), b: () => throttled(3), c: () => throttled(5) });
    time.advance(1_000);
    const refused = await run(router, policy, {});
    expect(refused.tried).toEqual([]);
    expect(refused.error).toMatchObject({ status: 429, code: "upstream_throttled" });
    expect(refused.error?.headers["retry-after"]).toBe("2");
    expect(refused.error?.message).toMatch(/cooling down/);
    time.advance(2_000);
    expect(await run(router, policy, {})).toMatchObject({ tried: ["b"], served: "b" });
  });

  it("a fallback model must pass the gate (limits) and the user's policy", async () => {
    const router = new Router(new DeploymentHealthRegistry(clock().now));
    const allThrottled = { a: throttled, b: throttled, c: throttled };
    const refused = await run(router, policyWith({ cooldown: { initialMs: 1, maxMs: 1 } }), allThrottled, async () =>
      new ApiError({ status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded", message: "team limit" }),
    );
    expect(refused.tried).toEqual(["a", "b", "c"]);
    expect(refused.error?.code).toBe("upstream_throttled");

    const denied = await run(new Router(new DeploymentHealthRegistry(clock().now)), policyWith({}, ["sonnet"]), allThrottled);
    expect(denied.tried).toEqual(["a", "b", "c"]);
    expect(denied.served).toBeUndefined();

    const served = await run(new Router(new DeploymentHealthRegistry(clock().now)), policyWith(), allThrottled);
    expect(served).toMatchObject({ tried: ["a", "b", "c", "h"], served: "h", fallbacks: 3 });
  });

  it("too long → only the context fallbacks; a request error → no fail-over at all", async () => {
    const policy = policyWith({ contextFallbacks: ["haiku"], fallbacks: [] });
    const router = new Router(new DeploymentHealthRegistry(clock().now));
    expect(await run(router, policy, { a: tooLong })).toMatchObject({ tried: ["a", "h"], served: "h", fallbacks: 1 });
    const bad = await run(router, policy, { a: badRequest });
    expect(bad.tried).toEqual(["a"]);
    expect(bad.error?.code).toBe("upstream_validation_error");
    expect(routingOf(bad.error)).toEqual({ model: "sonnet", deployment: "a", fallbacks: 0 });
  });

  it("a cancelled request stops at once and does not count against the deployment", async () => {
    const policy = policyWith();
    const health = new DeploymentHealthRegistry(clock().now);
    const router = new Router(health);
    const controller = new AbortController();
    const tried: string[] = [];
    const error = await router
      .run(routeRequest(policy, controller.signal), async () => undefined, async (lease) => {
        tried.push(lease.target.deployment.id);
        controller.abort();
        throw Object.assign(new Error("aborted"), { name: "AbortError" });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(tried).toEqual(["a"]);
    expect(health.of("sonnet", "a").consecutiveFailures).toBe(0);
    expect(health.of("sonnet", "a").inFlight).toBe(0);
  });
});
