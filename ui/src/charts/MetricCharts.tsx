// A chart per metric key, a series per run, with the shared controls above them. Used by
// a run's page (one run) and the comparison (several): the histories come from
// forja/metrics/histories, up to 100 runs x 100 keys a call, the calls in parallel.
import { useState } from "preact/hooks";
import { api } from "../api";
import { useLoad } from "../session";
import type { Metric } from "../types";
import { ErrorBox } from "../components/ErrorBox";
import { ChartControls } from "./ChartControls";
import { LineChart } from "./LineChart";
import type { ChartOptions, Series } from "./series";

export interface RunRef {
  runId: string;
  label: string;
}

// At most this many history calls at a time, each of at most CHUNK runs and CHUNK keys.
const PARALLEL = 6;
const CHUNK = 100;

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

interface Loaded {
  histories: Map<string, Series[]>;
  truncated: boolean; // the server cut some series (a million points a call)
}

async function inBatches<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

async function loadHistories(runs: RunRef[], keys: string[]): Promise<Loaded> {
  const jobs = chunks(keys).flatMap((ks) => chunks(runs).map((rs) => ({ ks, rs })));
  const answers = await inBatches(jobs, ({ ks, rs }) => api.metricHistories(rs.map((r) => r.runId), ks));
  const points = new Map<string, Metric[]>(); // by run id and key
  for (const a of answers)
    for (const h of a.histories)
      points.set(h.run_id + "\n" + h.key, h.steps.map((step, i) => ({ key: h.key, step, value: h.values[i]!, timestamp: h.timestamps[i]! })));
  // Series in the order of the runs asked for, whatever the answers' order.
  const out = new Map<string, Series[]>(keys.map((k) => [k, []]));
  for (const key of keys)
    for (const r of runs) {
      const p = points.get(r.runId + "\n" + key);
      if (p && p.length) out.get(key)!.push({ label: r.label, points: p });
    }
  return { histories: out, truncated: answers.some((a) => a.truncated) };
}

// A metric logged once per run (a final score) is a value, not a curve: it is named, not drawn.
function Charts({ histories, keys, options }: { histories: Map<string, Series[]>; keys: string[]; options: ChartOptions }) {
  const curve = (k: string) => histories.get(k)!.some((s) => s.points.length > 1);
  const single = keys.filter((k) => !curve(k));
  return (
    <>
      <div class="chart-grid">
        {keys.filter(curve).map((k) => (
          <LineChart key={k} title={k} series={histories.get(k)!} options={options} />
        ))}
      </div>
      {single.length > 0 && <p class="muted single-values">Logged once, so not charted: {single.join(", ")}.</p>}
    </>
  );
}

export function MetricCharts({ runs, keys }: { runs: RunRef[]; keys: string[] }) {
  const [options, setOptions] = useState<ChartOptions>({ x: "step", log: false, smoothing: 0 });
  const load = useLoad(() => loadHistories(runs, keys), [runs.map((r) => r.runId).join(), keys.join()]);
  if (keys.length === 0) return <p class="muted">No metrics logged.</p>;
  return (
    <div class="metric-charts">
      <ChartControls value={options} onChange={setOptions} />
      {load.state === "loading" && <p class="muted">Loading metric histories…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && load.data.truncated && (
        <p class="muted">Some histories are cut short: over a million points were asked for at once.</p>
      )}
      {load.state === "ok" && <Charts histories={load.data.histories} keys={keys} options={options} />}
    </div>
  );
}
