import { ALL_MODELS, DEFAULT_TIMEZONE, KEY_HASH_PREFIX, type LimitsEntry } from "./access-schema.js";
import type { PolicyFile } from "./schema.js";
import type { Limits, Policy, TeamPolicy, UserPolicy } from "./types.js";

export type AccessPolicy = Pick<Policy, "timezone" | "teams" | "users" | "userByKeyHash">;

/**
 * Teams and users with defaults applied and `"*"` expanded. Only for a file that passed validation
 * and checkAccess: every reference resolves and every key hash is unique.
 */
export function resolveAccess(file: PolicyFile): AccessPolicy {
  const modelNames = Object.keys(file.models);
  const teams = new Map<string, TeamPolicy>();
  for (const [name, entry] of Object.entries(file.teams ?? {})) {
    teams.set(name, {
      name,
      models: new Set(entry.models.includes(ALL_MODELS) ? modelNames : entry.models),
      limits: overlayLimits(file.defaults?.teamLimits, entry.limits),
      modelLimits: new Map(Object.entries(entry.modelLimits ?? {}).map(([model, limits]) => [model, overlayLimits(limits)])),
    });
  }

  const users = new Map<string, UserPolicy>();
  const userByKeyHash = new Map<string, string>();
  for (const [name, entry] of Object.entries(file.users ?? {})) {
    const team = teams.get(entry.team);
    if (team === undefined) throw new Error(`internal: users.${name}.team "${entry.team}" was not checked`);
    const narrowing = entry.models === undefined || entry.models.includes(ALL_MODELS) ? undefined : entry.models;
    const keyHashes = entry.keys.map((entryText) => entryText.slice(KEY_HASH_PREFIX.length));
    users.set(name, {
      name,
      team: entry.team,
      models: narrowing === undefined ? new Set(team.models) : new Set(narrowing.filter((model) => team.models.has(model))),
      limits: overlayLimits(file.defaults?.userLimits, entry.limits),
      disabled: entry.disabled === true,
      keyHashes,
    });
    for (const hash of keyHashes) userByKeyHash.set(hash, name);
  }
  return { timezone: file.timezone ?? DEFAULT_TIMEZONE, teams, users, userByKeyHash };
}

const LIMIT_FIELDS = ["rpm", "tpm", "concurrent", "dailyUsd", "monthlyUsd"] as const satisfies readonly (keyof Limits)[];
// Compile-time: a field added to the file's limits or to Limits must be added to LIMIT_FIELDS too.
type UnlistedLimitField = Exclude<keyof LimitsEntry | keyof Limits, (typeof LIMIT_FIELDS)[number]>;
const everyLimitFieldListed: [UnlistedLimitField] extends [never] ? true : never = true;

/** Field by field: a field set in a later layer wins; unset fields stay absent (unlimited). */
function overlayLimits(...layers: (LimitsEntry | undefined)[]): Limits {
  const limits: Limits = {};
  for (const layer of layers) {
    for (const field of LIMIT_FIELDS) {
      const value = layer?.[field];
      if (value !== undefined) limits[field] = value;
    }
  }
  return limits;
}
