import { describe, expect, it } from "vitest";
import { formatResetsIn, formatSeconds, formatTokenTriple } from "./format.js";

describe("formatSeconds", () => {
  it("uses seconds, minutes, hours, then days, two units at most", () => {
    expect(formatSeconds(0)).toBe("0s");
    expect(formatSeconds(12)).toBe("12s");
    expect(formatSeconds(11.2)).toBe("12s");
    expect(formatSeconds(95)).toBe("1m 35s");
    expect(formatSeconds(7260)).toBe("2h 1m");
    expect(formatSeconds(86_399)).toBe("23h 59m");
    expect(formatSeconds(86_400)).toBe("1d 0h");
    expect(formatSeconds(166 * 3600 + 13 * 60)).toBe("6d 22h");
    expect(formatSeconds(30 * 86_400 + 5 * 3600)).toBe("30d 5h");
  });

  it("never shows more than 24 hours", () => {
    for (const s of [86_400, 100_000, 598_380, 2_600_000]) {
      const match = /^(\d+)d (\d+)h$/.exec(formatSeconds(s));
      expect(match).not.toBeNull();
      expect(Number(match?.[2])).toBeLessThan(24);
    }
  });
});

describe("formatResetsIn", () => {
  const NOW = Date.parse("2026-11-24T12:00:00Z");
  it("says days for resets more than a day away", () => {
    expect(formatResetsIn(new Date(NOW + (166 * 3600 + 13 * 60) * 1000).toISOString(), NOW)).toBe("in 6d 22h");
    expect(formatResetsIn(new Date(NOW + 39_000).toISOString(), NOW)).toBe("in 39s");
    expect(formatResetsIn(new Date(NOW - 1).toISOString(), NOW)).toBe("now");
    expect(formatResetsIn(null, NOW)).toBe("");
  });
});

describe("formatTokenTriple", () => {
  it("is compact to read and exact to hear", () => {
    expect(formatTokenTriple(100_000, 0, 4000)).toEqual({ text: "100k / 0 / 4.0k", exact: "100,000 uncached in, 0 cache read, 4,000 out" });
    expect(formatTokenTriple(2_500_000, 1234, 999)).toEqual({ text: "2.5M / 1.2k / 999", exact: "2,500,000 uncached in, 1,234 cache read, 999 out" });
  });
});
