// Metric histories turned into what uPlot draws: one shared, sorted x axis and one y array
// per series (null where a series has no point), smoothed and made log-safe on demand.
// Pure functions: the chart components only wire them to uPlot.
import type { Metric } from "../types";

export type XMode = "step" | "time" | "relative";

export interface Series {
  label: string;
  points: Metric[];
}

export interface ChartOptions {
  x: XMode;
  log: boolean;
  smoothing: number; // 0 (none) .. 0.99: the EMA's weight on the past
}

// "NaN", "Infinity" arrive as strings; nothing a chart can place.
export function numeric(v: number | string | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

// Seconds for time axes (uPlot's unit), steps as they are.
function xOf(m: Metric, mode: XMode, origin: number): number {
  if (mode === "step") return m.step ?? 0;
  const t = (m.timestamp ?? 0) / 1000;
  return mode === "time" ? t : t - origin;
}

// TensorBoard's debiased exponential moving average: the first points are not pulled to 0.
export function ema(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (y === null) return null;
    last = last * weight + (1 - weight) * y;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

// uPlot's aligned data: [xs, ys1, ys2, ...]. Each series keeps its last value at an x it
// logged twice (a step re-logged); on a log scale values <= 0 become gaps.
export function align(series: Series[], opt: ChartOptions): [number[], ...(number | null)[][]] {
  const perSeries = series.map((s) => {
    // A loop, not Math.min(...): a spread of 100,000 points overflows the call stack.
    let origin = Infinity;
    for (const m of s.points) origin = Math.min(origin, (m.timestamp ?? 0) / 1000);
    const byX = new Map<number, number | null>();
    for (const m of s.points) byX.set(xOf(m, opt.x, origin), numeric(m.value));
    return byX;
  });
  const xs = [...new Set(perSeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const ys = perSeries.map((byX) => {
    const raw = ema(
      [...byX.entries()].sort((a, b) => a[0] - b[0]).map(([, y]) => y),
      opt.smoothing,
    );
    const sortedX = [...byX.keys()].sort((a, b) => a - b);
    const smooth = new Map(sortedX.map((x, i) => [x, raw[i] ?? null]));
    return xs.map((x) => {
      const y = smooth.has(x) ? smooth.get(x)! : null;
      return opt.log && y !== null && y <= 0 ? null : y;
    });
  });
  return [xs, ...ys];
}

export const PALETTE = ["#1a5fb4", "#c64600", "#26a269", "#9141ac", "#a51d2d", "#986a44", "#0b7285", "#5e5c64"];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
