// Metric histories turned into what uPlot draws: one shared, sorted x axis and one y array
// per series (null where a series has no point), smoothed and made log-safe on demand.
// Pure functions: the chart components only wire them to uPlot.
import type { Metric } from "../types";

export type XMode = "step" | "time" | "relative";

// A series as columns (the histories' form: forja/metrics/histories' arrays), or as points
// (a few, built by a page: the serving page's traffic).
export interface ColumnSeries {
  label: string;
  color?: string; // the chart's palette by position, unless given
  steps: ArrayLike<number>;
  timestamps: ArrayLike<number>; // ms
  values: ArrayLike<number>; // NaN and infinities as numbers
}
export interface PointSeries {
  label: string;
  color?: string;
  points: Metric[];
}
export type Series = ColumnSeries | PointSeries;

export interface ChartOptions {
  x: XMode;
  log: boolean;
  smoothing: number; // 0 (none) .. 0.99: the EMA's weight on the past
}

export type AlignedData = [ArrayLike<number>, ...ArrayLike<number | null>[]];

// "NaN", "Infinity" arrive as strings in points; nothing a chart can place.
export function numeric(v: number | string | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function columnsOf(s: Series): ColumnSeries {
  if (!("points" in s)) return s;
  const value = (m: Metric) => (typeof m.value === "number" ? m.value : NaN);
  return {
    label: s.label,
    steps: s.points.map((m) => m.step ?? 0),
    timestamps: s.points.map((m) => m.timestamp ?? 0),
    values: s.points.map(value),
  };
}

// Seconds for time axes (uPlot's unit), steps as they are.
function xsOf(s: ColumnSeries, mode: XMode): ArrayLike<number> {
  if (mode === "step") return s.steps;
  const t = s.timestamps;
  // A loop, not Math.min(...): a spread of 100,000 points overflows the call stack.
  let origin = Infinity;
  if (mode === "relative") for (let i = 0; i < t.length; i++) origin = Math.min(origin, t[i]! / 1000);
  const out = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = t[i]! / 1000 - (mode === "relative" ? origin : 0);
  return out;
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

// What a chart can place: finite, and above 0 on a log scale; else a gap.
function placeable(v: number | null | undefined, log: boolean): number | null {
  return v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0) ? null : v;
}

function increasing(xs: ArrayLike<number>): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i]! > xs[i - 1]!)) return false;
  return true;
}

function sameXs(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The y array of a series on its own xs: the values themselves when every one can be
// placed and none is smoothed (a comparison's usual case: no copy), else a cleaned copy.
function ysOf(values: ArrayLike<number>, opt: ChartOptions): ArrayLike<number | null> {
  if (opt.smoothing <= 0) {
    let clean = true;
    for (let i = 0; i < values.length && clean; i++) clean = placeable(values[i], opt.log) !== null;
    if (clean) return values;
  }
  const ys: (number | null)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) ys[i] = placeable(values[i], false);
  return ema(ys, opt.smoothing).map((y) => placeable(y, opt.log));
}

// uPlot's aligned data: [xs, ys1, ys2, ...]. Series logged at the same xs (runs of one
// training script) are used as they are; otherwise the xs are merged, each series keeps its
// last value at an x it logged twice (a step re-logged), and has gaps at the others' xs.
export function align(input: Series[], opt: ChartOptions): AlignedData {
  const series = input.map(columnsOf);
  const xs = series.map((s) => xsOf(s, opt.x));
  if (xs.length > 0 && increasing(xs[0]!) && xs.every((x) => sameXs(x, xs[0]!)))
    return [xs[0]!, ...series.map((s) => ysOf(s.values, opt))];
  const perSeries = series.map((s, i) => {
    const byX = new Map<number, number | null>();
    const x = xs[i]!;
    for (let j = 0; j < x.length; j++) byX.set(x[j]!, placeable(s.values[j], false));
    return byX;
  });
  const all = [...new Set(perSeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const ys = perSeries.map((byX) => {
    const sortedX = [...byX.keys()].sort((a, b) => a - b);
    const raw = ema(
      sortedX.map((x) => byX.get(x)!),
      opt.smoothing,
    );
    const smooth = new Map(sortedX.map((x, i) => [x, raw[i] ?? null]));
    return all.map((x) => placeable(smooth.get(x), opt.log));
  });
  return [all, ...ys];
}

export const PALETTE = ["#1a5fb4", "#c64600", "#26a269", "#9141ac", "#a51d2d", "#986a44", "#0b7285", "#5e5c64"];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
