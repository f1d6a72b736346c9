import { describe, expect, it } from "vitest";
import { formatJsonPath } from "./json-path.js";

describe("formatJsonPath", () => {
  it("names the root", () => {
    expect(formatJsonPath([])).toBe("(root)");
  });

  it("joins identifiers with dots and indexes with brackets", () => {
    expect(formatJsonPath(["models", "claude-sonnet-4", "route", 0, "region"])).toBe(
      "models.claude-sonnet-4.route[0].region",
    );
  });

  it("brackets keys that are not identifiers, with JSON quoting", () => {
    expect(formatJsonPath(["models", "claude-3.7", "pricing", "input"])).toBe('models["claude-3.7"].pricing.input');
    expect(formatJsonPath(["$schema"])).toBe('["$schema"]');
    expect(formatJsonPath(["models", 'a"b'])).toBe('models["a\\"b"]');
    expect(formatJsonPath(["models", "4o"])).toBe('models["4o"]');
  });
});
