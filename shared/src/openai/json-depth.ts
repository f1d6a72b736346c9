// Nesting depth of a JSON value, without recursion: a request can nest arrays 100k deep in a few
// hundred kilobytes, and whatever serializes such a value later (token estimates, the AWS SDK)
// recurses once per level and overflows the stack. Values the broker forwards are bounded here.

/** Deepest nesting accepted in a value the broker forwards (tool parameter schemas, tool arguments). */
export const MAX_JSON_DEPTH = 100;

/** Whether `value` nests objects/arrays more than `limit` levels deep (a scalar is depth 0). */
export function jsonDepthExceeds(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined || item.value === null || typeof item.value !== "object") continue;
    const depth = item.depth + 1;
    if (depth > limit) return true;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    for (const child of children) if (child !== null && typeof child === "object") stack.push({ value: child, depth });
  }
  return false;
}
