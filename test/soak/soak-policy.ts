// The soak's org: three teams, seven users, three models with two deployments each and fallbacks.
// Limits are derived from the target rate so that most requests pass at any --rps, while a few
// limits bite on purpose: frank's rpm is 60% of his traffic, erin's concurrency is tight, and
// grace's daily budget runs out about 60% of the way through the run.
import { keyHashEntry } from "@tollgate/shared";

export interface SoakUser {
  name: string;
  team: string;
  /** Bearer key; the policy holds only its hash. */
  key: string;
  /** Share of all requests this user sends. */
  share: number;
  /** Models this user may use (the traffic only asks for these). */
  models: readonly string[];
}

export const MODELS = {
  sonnet45: "claude-sonnet-4-5",
  sonnet4: "claude-sonnet-4",
  haiku45: "claude-haiku-4-5",
} as const;

const ALL_MODELS = [MODELS.sonnet45, MODELS.sonnet4, MODELS.haiku45] as const;
const CONTRACTOR_MODELS = [MODELS.sonnet4, MODELS.haiku45] as const;

function soakUser(name: string, team: string, share: number, models: readonly string[]): SoakUser {
  return { name, team, key: `tg_soak-${name}-0123456789abcdef0123`, share, models };
}

export const SOAK_USERS: readonly SoakUser[] = [
  soakUser("alice", "platform", 0.2, ALL_MODELS),
  soakUser("bob", "platform", 0.15, ALL_MODELS),
  soakUser("carol", "platform", 0.15, ALL_MODELS),
  soakUser("dave", "research", 0.15, ALL_MODELS),
  soakUser("erin", "research", 0.1, ALL_MODELS),
  soakUser("frank", "contractors", 0.15, CONTRACTOR_MODELS),
  soakUser("grace", "contractors", 0.1, CONTRACTOR_MODELS),
];

/** Regions: the emulator throttles a share of every call in THROTTLED_REGION (see soak-traffic.ts). */
export const THROTTLED_REGION = "us-east-1";
export const OTHER_REGION = "us-west-2";

/** Bedrock model ids (cross-region profiles; prices from the built-in table). */
export const MODEL_IDS: Record<string, string> = {
  [MODELS.sonnet45]: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  [MODELS.sonnet4]: "us.anthropic.claude-sonnet-4-20250514-v1:0",
  [MODELS.haiku45]: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
};

/**
 * Upper bound of the admission estimate of one soak request (input estimate + max_tokens), used to
 * size tpm limits. The mix's prompts are ~1,700–3,000 tokens and max_tokens ≤ 1,024.
 */
const ESTIMATED_TOKENS_PER_REQUEST = 4_000;
/**
 * Mean cost of one of grace's requests (sonnet-4 / haiku-4-5 mix, the system prompt mostly read from the cache), measured in
 * trial runs from the ledger; it only sizes her budget so that it runs out part-way through.
 */
const GRACE_COST_PER_REQUEST_USD = 0.0022;
/** Share of the run after which grace's budget is spent. */
const GRACE_BUDGET_FRACTION = 0.6;

const GENEROUS_USD = 100_000;

export interface PolicyShape {
  rps: number;
  durationSeconds: number;
}

/** The limits each user gets at this rate (exported for the report). */
export function userLimits(user: SoakUser, shape: PolicyShape): Record<string, number> {
  const rate = shape.rps * user.share;
  const rpm = rate * 60;
  const limits: Record<string, number> = {
    rpm: Math.ceil(2 * rpm) + 20,
    tpm: Math.ceil(3 * rpm * ESTIMATED_TOKENS_PER_REQUEST),
    concurrent: Math.max(20, Math.ceil(rate * 2)),
    dailyUsd: GENEROUS_USD,
  };
  if (user.name === "frank") limits.rpm = Math.max(1, Math.floor(0.6 * rpm));
  if (user.name === "erin") limits.concurrent = Math.max(3, Math.ceil(rate * 0.25));
  if (user.name === "grace") {
    const requests = rate * shape.durationSeconds;
    limits.dailyUsd = Math.max(0.01, Number((GRACE_BUDGET_FRACTION * requests * GRACE_COST_PER_REQUEST_USD).toFixed(2)));
  }
  return limits;
}

function teamRate(team: string, shape: PolicyShape): number {
  return SOAK_USERS.filter((u) => u.team === team).reduce((sum, u) => sum + u.share, 0) * shape.rps;
}

function teamLimits(team: string, shape: PolicyShape): Record<string, number> {
  const rpm = teamRate(team, shape) * 60;
  return {
    rpm: Math.ceil(2 * rpm) + 50,
    tpm: Math.ceil(3 * rpm * ESTIMATED_TOKENS_PER_REQUEST),
    concurrent: Math.max(100, Math.ceil(teamRate(team, shape) * 4)),
    dailyUsd: GENEROUS_USD,
    monthlyUsd: GENEROUS_USD,
  };
}

function route(model: string): Array<Record<string, string>> {
  const modelId = MODEL_IDS[model] as string;
  return [
    { id: "use1", modelId, region: THROTTLED_REGION },
    { id: "usw2", modelId, region: OTHER_REGION },
  ];
}

// Short cool-downs, so a deployment throttled now and then keeps taking part in the run.
const COOLDOWN = { initialMs: 200, maxMs: 2_000 };

export function soakPolicy(shape: PolicyShape): unknown {
  const platformRpm = teamRate("platform", shape) * 60;
  return {
    timezone: "UTC",
    models: {
      [MODELS.sonnet45]: { route: route(MODELS.sonnet45), strategy: "ordered", fallbacks: [MODELS.haiku45], cooldown: COOLDOWN },
      [MODELS.sonnet4]: { route: route(MODELS.sonnet4), strategy: "weighted", fallbacks: [MODELS.sonnet45, MODELS.haiku45], cooldown: COOLDOWN },
      [MODELS.haiku45]: { route: route(MODELS.haiku45), strategy: "least-busy", fallbacks: [MODELS.sonnet4], cooldown: COOLDOWN },
    },
    teams: {
      platform: {
        models: ["*"],
        limits: teamLimits("platform", shape),
        modelLimits: {
          [MODELS.sonnet45]: { rpm: Math.ceil(2 * platformRpm * 0.5) + 20, dailyUsd: GENEROUS_USD },
          [MODELS.haiku45]: { rpm: Math.ceil(2 * platformRpm) + 20 },
        },
      },
      research: { models: ["*"], limits: teamLimits("research", shape) },
      contractors: { models: [...CONTRACTOR_MODELS], limits: teamLimits("contractors", shape) },
    },
    users: Object.fromEntries(
      SOAK_USERS.map((user) => [
        user.name,
        { team: user.team, keys: [keyHashEntry(user.key)], models: [...user.models], limits: userLimits(user, shape) },
      ]),
    ),
    defaults: { userLimits: { concurrent: 50, monthlyUsd: GENEROUS_USD }, teamLimits: { concurrent: 500 } },
  };
}
