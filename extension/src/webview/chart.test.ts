import { describe, expect, it } from "vitest";
import { layoutDailyChart, niceCeiling } from "./chart.js";

describe("daily chart layout", () => {
  it("rounds the scale up to a nice number", () => {
    expect(niceCeiling(0)).toBe(0.01);
    expect(niceCeiling(0.7)).toBe(1);
    expect(niceCeiling(3.2)).toBe(5);
    expect(niceCeiling(4.2)).toBe(5);
    expect(niceCeiling(12)).toBe(20);
    expect(niceCeiling(20)).toBe(20);
    expect(niceCeiling(210)).toBe(250);
  });

  it("draws one bar per day, proportional to cost, zero days flat, small days still visible", () => {
    const layout = layoutDailyChart(
      [
        { date: "d1", costUsd: 0, requests: 0 },
        { date: "d2", costUsd: 2.5, requests: 3 },
        { date: "d3", costUsd: 5, requests: 6 },
        { date: "d4", costUsd: 0.0001, requests: 1 },
      ],
      400,
      120,
      10,
      10,
      2,
    );
    expect(layout.maxUsd).toBe(5);
    const [zero, half, full, tiny] = layout.bars;
    expect(zero?.height).toBe(0);
    expect(full?.height).toBe(100);
    expect(full?.y).toBe(10);
    expect(half?.height).toBe(50);
    expect(tiny?.height).toBe(1);
    expect(layout.bars.map((bar) => bar.x)).toEqual([1, 101, 201, 301]);
    expect(full?.width).toBe(98);
  });
});
