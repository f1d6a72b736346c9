import { KEY_HASH_PATTERN } from "./access-schema.js";
import { abbreviateKeyHash, API_KEY_PREFIX } from "./keys.js";
import { formatJsonPath, type PathSegment } from "./json-path.js";
import { policyFileSchema, type PolicyFile } from "./schema.js";

/*
 * What changed between two policy files, one line per change, for the admin API and
 * `tollgate policy diff`:
 *
 *   + model nova-pro                        a model, team or user added (- removed)
 *   + user bob (team platform)
 *   ~ users.alice.limits.rpm: 30 → 60       a value changed; "(unset)" when absent on one side
 *   ~ teams.platform.models: +claude-opus-4-1 -nova-pro
 *                                           lists of names compare as sets
 *
 * It compares the files as written (not the resolved policy), so a line names what the admin
 * edited. Key hashes are shortened, and anything that looks like a key in clear is redacted.
 */

type Collection = "models" | "teams" | "users";

const COLLECTION_KIND: Record<Collection, string> = { models: "model", teams: "team", users: "user" };

/** Ignored by Tollgate, so not a change worth reporting. */
const IGNORED_FIELDS = new Set(["$schema"]);

const UNSET = "(unset)";

export function policyDiff(oldSource: PolicyFile, newSource: PolicyFile): string[] {
  const lines: string[] = [];
  const before = oldSource as Record<string, unknown>;
  const after = newSource as Record<string, unknown>;
  // In the schema's order, whatever order the files use.
  for (const field of unionKeys(Object.keys(policyFileSchema.shape), before, after)) {
    if (IGNORED_FIELDS.has(field)) continue;
    if (isCollection(field)) diffCollection(field, before[field], after[field], lines);
    else diffValue([field], before[field], after[field], lines);
  }
  return lines;
}

function isCollection(field: string): field is Collection {
  return Object.hasOwn(COLLECTION_KIND, field);
}

function diffCollection(field: Collection, before: unknown, after: unknown, lines: string[]): void {
  const oldEntries = asObject(before) ?? {};
  const newEntries = asObject(after) ?? {};
  for (const name of unionKeys(Object.keys(oldEntries), oldEntries, newEntries)) {
    const oldEntry = oldEntries[name];
    const newEntry = newEntries[name];
    if (oldEntry === undefined) lines.push(`+ ${COLLECTION_KIND[field]} ${name}${entrySummary(field, newEntry)}`);
    else if (newEntry === undefined) lines.push(`- ${COLLECTION_KIND[field]} ${name}${entrySummary(field, oldEntry)}`);
    else diffValue([field, name], oldEntry, newEntry, lines);
  }
}

function entrySummary(field: Collection, entry: unknown): string {
  if (field !== "users") return "";
  const user = asObject(entry) ?? {};
  const details = [`team ${String(user.team)}`];
  if (user.disabled === true) details.push("disabled");
  return ` (${details.join(", ")})`;
}

/** String lists whose order matters (model names tried one after another). */
const ORDERED_LISTS: ReadonlySet<string> = new Set(["fallbacks", "contextFallbacks"]);

function diffValue(path: PathSegment[], before: unknown, after: unknown, lines: string[]): void {
  if (jsonEqual(before, after)) return;
  const oldObject = asObject(before);
  const newObject = asObject(after);
  // An object added or removed as a whole still shows field by field: "limits.rpm: (unset) → 30".
  const objects =
    (oldObject !== undefined || newObject !== undefined) &&
    (oldObject !== undefined || before === undefined) &&
    (newObject !== undefined || after === undefined);
  if (objects) {
    const oldFields = oldObject ?? {};
    const newFields = newObject ?? {};
    for (const key of unionKeys(Object.keys(oldFields), oldFields, newFields)) {
      diffValue([...path, key], oldFields[key], newFields[key], lines);
    }
    return;
  }
  if (isStringArray(before) && isStringArray(after) && ORDERED_LISTS.has(String(path.at(-1)))) {
    // Tried in order: a reordering changes behaviour, so show the whole list.
    lines.push(`~ ${formatJsonPath(path)}: ${render(before)} → ${render(after)}`);
    return;
  }
  if (isStringArray(before) && isStringArray(after)) {
    const added = after.filter((item) => !before.includes(item));
    const removed = before.filter((item) => !after.includes(item));
    // Only the order changed: these lists are sets.
    if (added.length === 0 && removed.length === 0) return;
    const changes = [
      ...unique(added).map((item) => `+${safeString(item)}`),
      ...unique(removed).map((item) => `-${safeString(item)}`),
    ];
    lines.push(`~ ${formatJsonPath(path)}: ${changes.join(" ")}`);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // Ordered lists of objects (a model's route): compare position by position.
    for (let index = 0; index < Math.max(before.length, after.length); index++) {
      const oldItem: unknown = before[index];
      const newItem: unknown = after[index];
      if (oldItem === undefined || newItem === undefined) {
        lines.push(`~ ${formatJsonPath([...path, index])}: ${render(oldItem)} → ${render(newItem)}`);
      } else {
        diffValue([...path, index], oldItem, newItem, lines);
      }
    }
    return;
  }
  lines.push(`~ ${formatJsonPath(path)}: ${render(before)} → ${render(after)}`);
}

/** A value as JSON, with key hashes shortened and anything that looks like a key in clear redacted. */
function render(value: unknown): string {
  if (value === undefined) return UNSET;
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "string" ? safeString(item) : item));
}

function safeString(text: string): string {
  if (KEY_HASH_PATTERN.test(text)) return abbreviateKeyHash(text);
  // The policy schema never accepts a key in clear, but a diff must not print one even if handed one.
  if (text.startsWith(API_KEY_PREFIX) && text.length > API_KEY_PREFIX.length + 8) return `${API_KEY_PREFIX}…(redacted)`;
  return text;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** `order` first, then keys of `a` and `b` not in it, each once; keys whose value is undefined on both sides are skipped. */
function unionKeys(order: readonly string[], a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = unique([...order, ...Object.keys(a), ...Object.keys(b)]);
  return keys.filter((key) => a[key] !== undefined || b[key] !== undefined);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const oa = asObject(a);
  const ob = asObject(b);
  if (oa === undefined || ob === undefined) return false;
  const keys = unionKeys([], oa, ob);
  return keys.every((key) => jsonEqual(oa[key], ob[key]));
}
