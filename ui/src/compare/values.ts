// The runs of a comparison as columns of values: params as logged, metrics at their latest
// value; an axis over them (numeric when every value is a number, else categories in order).
import { formatMetric } from "../format";
import type { Run } from "../types";

export interface Column {
  id: string; // "params.lr", "metrics.rmse"
  label: string;
  values: (string | undefined)[]; // one per run, as shown
}

export function columns(runs: Run[]): { params: Column[]; metrics: Column[] } {
  const keys = (pick: (r: Run) => { key: string }[] | undefined) => [...new Set(runs.flatMap((r) => (pick(r) ?? []).map((x) => x.key)))].sort();
  const params = keys((r) => r.data.params).map((k) => ({
    id: "params." + k,
    label: k,
    values: runs.map((r) => r.data.params?.find((p) => p.key === k)?.value),
  }));
  const metrics = keys((r) => r.data.metrics).map((k) => ({
    id: "metrics." + k,
    label: k,
    values: runs.map((r) => {
      const m = r.data.metrics?.find((x) => x.key === k);
      return m === undefined ? undefined : formatMetric(m.value);
    }),
  }));
  return { params, metrics };
}

export function allEqual(c: Column): boolean {
  return c.values.every((v) => v === c.values[0]);
}

export interface Axis {
  label: string;
  positions: (number | null)[]; // per run; null: no value
  min: number;
  max: number;
  categories: string[] | null; // the names of positions 0..n-1 for a categorical axis
  log: boolean; // positions are log10 of the values (positive numbers over two decades or more)
}

// The text for a position on the axis.
export function tickText(a: Axis, pos: number): string {
  if (a.categories) return a.categories[Math.round(pos)] ?? "";
  return String(Number((a.log ? Math.pow(10, pos) : pos).toPrecision(3)));
}

export function axisOf(c: Column): Axis {
  const nums = c.values.map((v) => (v === undefined || v.trim() === "" ? null : Number(v)));
  const numeric = nums.every((n, i) => c.values[i] === undefined || (n !== null && Number.isFinite(n)));
  if (numeric) {
    const present = nums.filter((n): n is number => n !== null);
    const min = Math.min(...present);
    const max = Math.max(...present);
    if (min > 0 && max / min >= 100) {
      const positions = nums.map((n) => (n === null ? null : Math.log10(n)));
      return { label: c.label, positions, min: Math.log10(min), max: Math.log10(max), categories: null, log: true };
    }
    return { label: c.label, positions: nums, min, max, categories: null, log: false };
  }
  const categories = [...new Set(c.values.filter((v): v is string => v !== undefined))].sort();
  return {
    label: c.label,
    positions: c.values.map((v) => (v === undefined ? null : categories.indexOf(v))),
    min: 0,
    max: Math.max(categories.length - 1, 0),
    categories,
    log: false,
  };
}
