// Shared by the property tests: how many runs, a tally of the cases each file ran (printed when the
// file ends, so the figures can be recorded), and JSON helpers that never recurse (the inputs nest
// 100k levels deep).
import fc from "fast-check";
import { afterAll } from "vitest";

/** `FC_NUM_RUNS=N` raises every property's runs to at least N; the defaults keep CI fast. */
export function runs(defaultRuns: number): number {
  const wanted = Number(process.env.FC_NUM_RUNS);
  return Number.isInteger(wanted) && wanted > defaultRuns ? wanted : defaultRuns;
}

/** Counts cases by kind and prints the totals after the file's tests: `[cases] http: bodies 300, …`. */
export function caseTally(file: string): (kind: string, n?: number) => void {
  const counts = new Map<string, number>();
  afterAll(() => {
    const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
    const parts = [...counts.entries()].map(([kind, n]) => `${kind} ${n}`).join(", ");
    console.log(`[cases] ${file}: ${total} cases (${parts})`);
  });
  return (kind, n = 1) => counts.set(kind, (counts.get(kind) ?? 0) + n);
}

/** `depth` arrays nested in one another, built without recursion. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

/** The JSON text of `depth` nested arrays, for bodies too deep for JSON.stringify. */
export function nestedArraysText(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

export type JsonPath = Array<string | number>;

/** Every path to a value in `value` (the root is `[]`), breadth first, down to `maxDepth` levels, up to `limit` paths. */
export function jsonPaths(value: unknown, limit = 2_000, maxDepth = 24): JsonPath[] {
  const paths: JsonPath[] = [];
  const queue: Array<{ value: unknown; path: JsonPath }> = [{ value, path: [] }];
  for (let next = 0; next < queue.length && paths.length < limit; next++) {
    const item = queue[next];
    if (item === undefined) break;
    paths.push(item.path);
    if (item.path.length >= maxDepth) continue;
    if (Array.isArray(item.value)) item.value.forEach((child, index) => queue.push({ value: child, path: [...item.path, index] }));
    else if (item.value !== null && typeof item.value === "object") {
      for (const [key, child] of Object.entries(item.value)) queue.push({ value: child, path: [...item.path, key] });
    }
  }
  return paths;
}

/** The container holding `path`'s last segment, or undefined when the path doesn't lead anywhere. */
export function parentOf(root: unknown, path: JsonPath): Record<string | number, unknown> | undefined {
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node !== null && typeof node === "object" ? (node as Record<string | number, unknown>) : undefined;
}

/** A deep copy of a JSON value, without recursion (structuredClone overflows at ~10k levels). */
export function cloneJson(value: unknown): unknown {
  const root: { value: unknown } = { value: undefined };
  const stack: Array<{ source: unknown; target: Record<string | number, unknown>; key: string | number }> = [{ source: value, target: root as Record<string, unknown>, key: "value" }];
  // defineProperty: a "__proto__" key (JSON.parse makes it an own property) must stay a key.
  const set = (target: object, key: string | number, value: unknown): void => {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  };
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) break;
    const { source, target, key } = item;
    if (Array.isArray(source)) {
      const copy: unknown[] = new Array<unknown>(source.length);
      set(target, key, copy);
      source.forEach((child, index) => stack.push({ source: child, target: copy as unknown as Record<number, unknown>, key: index }));
    } else if (source !== null && typeof source === "object") {
      const copy: Record<string, unknown> = {};
      set(target, key, copy);
      for (const [childKey, child] of Object.entries(source)) stack.push({ source: child, target: copy, key: childKey });
    } else {
      set(target, key, source);
    }
  }
  return root.value;
}

/** Mutations a fuzzer applies to a valid document at some path. */
export type Mutation =
  | { op: "delete" }
  | { op: "replace"; value: unknown }
  | { op: "deep"; depth: number }
  | { op: "repeat"; times: number }
  | { op: "wrap" }
  | { op: "unknown-key"; key: string; value: unknown };

/**
 * The most values a mutated document may hold. Mutations compound (nest 20,000 levels, then repeat
 * that 3,000 times: 60M values through shared references), and one such case takes a minute to copy
 * while saying nothing new; sizes beyond this are the oversized-body tests' job.
 */
export const MAX_MUTATED_VALUES = 200_000;

/** Whether `value` holds more than `limit` values, counting shared references each time; stops at the limit. */
export function holdsMoreThan(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    const item = stack.pop();
    if (++seen > limit) return true;
    if (Array.isArray(item)) for (const child of item) stack.push(child);
    else if (item !== null && typeof item === "object") for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

/**
 * Applies `mutation` at the `pick`-th path of `document` (a deep copy is mutated and returned).
 * A mutation that would make the document hold more than MAX_MUTATED_VALUES is not applied.
 */
export function mutate(document: unknown, pick: number, mutation: Mutation): unknown {
  const mutated = applyMutation(document, pick, mutation);
  return holdsMoreThan(mutated, MAX_MUTATED_VALUES) ? document : mutated;
}

function applyMutation(document: unknown, pick: number, mutation: Mutation): unknown {
  const copy = cloneJson(document);
  const paths = jsonPaths(copy);
  const path = paths[pick % paths.length] ?? [];
  if (path.length === 0) {
    if (mutation.op === "replace") return mutation.value;
    if (mutation.op === "deep") return nestedArrays(mutation.depth);
    if (mutation.op === "wrap") return [copy];
    if (mutation.op === "unknown-key" && copy !== null && typeof copy === "object" && !Array.isArray(copy)) {
      return { ...copy, [mutation.key]: mutation.value };
    }
    return copy;
  }
  const parent = parentOf(copy, path);
  const key = path.at(-1) as string | number;
  if (parent === undefined) return copy;
  const current = parent[key];
  switch (mutation.op) {
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case "replace":
      parent[key] = mutation.value;
      break;
    case "deep":
      parent[key] = nestedArrays(mutation.depth);
      break;
    case "repeat":
      parent[key] = Array.isArray(current) && current.length > 0 ? Array.from({ length: mutation.times }, () => current[0]) : Array.from({ length: mutation.times }, () => current);
      break;
    case "wrap":
      parent[key] = [current];
      break;
    case "unknown-key":
      if (current !== null && typeof current === "object" && !Array.isArray(current)) {
        Object.defineProperty(current, mutation.key, { value: mutation.value, writable: true, enumerable: true, configurable: true });
      } else {
        parent[key] = { [mutation.key]: mutation.value };
      }
      break;
  }
  return copy;
}

/** Wrong-typed, unexpected and extreme values for `mutate`. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ op: "delete" }),
  fc.record({ op: fc.constant("replace" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ op: fc.constant("replace" as const), value: fc.constantFrom<unknown>(null, true, 0, -1, 1.5, 1e308, "", "x", [], {}, "\u0000", "\ud800") }),
  fc.record({ op: fc.constant("deep" as const), depth: fc.constantFrom(50, 101, 1000, 20_000) }),
  fc.record({ op: fc.constant("repeat" as const), times: fc.constantFrom(2, 100, 3000) }),
  fc.constant<Mutation>({ op: "wrap" }),
  fc.record({ op: fc.constant("unknown-key" as const), key: fc.string({ maxLength: 12 }), value: fc.jsonValue({ maxDepth: 2 }) }),
);

/** JSON.stringify without recursion, for values nested deeper than the stack allows. */
export function toJsonText(value: unknown): string {
  const out: string[] = [];
  type Frame = { kind: "value"; value: unknown } | { kind: "text"; text: string };
  const stack: Frame[] = [{ kind: "value", value }];
  while (stack.length > 0) {
    const frame = stack.pop();
    if (frame === undefined) break;
    if (frame.kind === "text") {
      out.push(frame.text);
      continue;
    }
    const v = frame.value;
    if (Array.isArray(v)) {
      const frames: Frame[] = [{ kind: "text", text: "[" }];
      v.forEach((child, index) => {
        if (index > 0) frames.push({ kind: "text", text: "," });
        frames.push({ kind: "value", value: child === undefined ? null : child });
      });
      frames.push({ kind: "text", text: "]" });
      for (let i = frames.length - 1; i >= 0; i--) stack.push(frames[i] as Frame);
    } else if (v !== null && typeof v === "object") {
      const frames: Frame[] = [{ kind: "text", text: "{" }];
      Object.entries(v)
        .filter(([, child]) => child !== undefined)
        .forEach(([key, child], index) => {
          frames.push({ kind: "text", text: `${index > 0 ? "," : ""}${JSON.stringify(key)}:` });
          frames.push({ kind: "value", value: child });
        });
      frames.push({ kind: "text", text: "}" });
      for (let i = frames.length - 1; i >= 0; i--) stack.push(frames[i] as Frame);
    } else {
      out.push(JSON.stringify(v) ?? "null");
    }
  }
  return out.join("");
}
