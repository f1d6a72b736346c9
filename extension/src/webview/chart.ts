// Geometry of the daily-spend bar chart (pure; the webview turns it into SVG elements).
import type { DailyPoint } from "../protocol.js";

export interface ChartBar {
  date: string;
  costUsd: number;
  requests: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartLayout {
  width: number;
  height: number;
  /** The y-axis top value (a "nice" number ≥ the highest day). */
  maxUsd: number;
  /** Where the plot starts and ends vertically. */
  top: number;
  bottom: number;
  bars: ChartBar[];
}

/** The smallest of 1, 2, 2.5, 5 × 10^n that is ≥ value (0 → 1 cent scale). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 0.01;
  const exponent = Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * 10 ** exponent;
    if (candidate >= value - 1e-12) return Number(candidate.toPrecision(12));
  }
  return 10 ** (exponent + 1);
}

export function layoutDailyChart(points: DailyPoint[], width = 600, height = 160, top = 10, bottom = 20, gap = 2): ChartLayout {
  const plotHeight = height - top - bottom;
  const maxUsd = niceCeiling(Math.max(0, ...points.map((point) => point.costUsd)));
  const slot = points.length ? width / points.length : width;
  const barWidth = Math.max(1, slot - gap);
  const bars = points.map((point, index) => {
    const barHeight = point.costUsd > 0 ? Math.max(1, (point.costUsd / maxUsd) * plotHeight) : 0;
    return {
      date: point.date,
      costUsd: point.costUsd,
      requests: point.requests,
      x: index * slot + gap / 2,
      y: top + plotHeight - barHeight,
      width: barWidth,
      height: barHeight,
    };
  });
  return { width, height, maxUsd, top, bottom: height - bottom, bars };
}
