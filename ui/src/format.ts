// How values look in tables: times in the viewer's zone, numbers compact but exact enough.
import type { Run } from "./types";

// A run's name: its run_name, else MLflow's mlflow.runName tag, else its id.
export function runName(r: Run): string {
  return r.info.run_name || r.data.tags?.find((t) => t.key === "mlflow.runName")?.value || r.info.run_id;
}

export function formatTime(ms: number | undefined): string {
  if (!ms) return "";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(start: number | undefined, end: number | undefined): string {
  if (!start || !end || end < start) return "";
  const s = (end - start) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

// 100000 -> "100,000". Not toLocaleString: its first call in a page loads the locale's data
// (about 20 ms), which the runs page would pay before its first rows.
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

export function formatMetric(v: number | string | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}
