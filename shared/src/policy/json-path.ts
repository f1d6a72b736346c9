export type PathSegment = string | number;

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `["models", "claude-3.7", "route", 0, "id"]` → `models["claude-3.7"].route[0].id`; the empty path
 * is `(root)`. Keys that are not plain identifiers are bracketed with JSON quoting so the path is
 * unambiguous.
 */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      text += `[${segment}]`;
      continue;
    }
    const key = typeof segment === "symbol" ? (segment.description ?? "") : segment;
    if (!BARE_KEY.test(key)) text += `[${JSON.stringify(key)}]`;
    else text += text === "" ? key : `.${key}`;
  }
  return text;
}
