// A chart per metric key, a series per run, with the shared controls above them. Used by
// a run's page (one run) and the comparison (several): the histories come from
// metrics/get-history, every page of each, fetched in parallel.
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

// At most this many history calls at a time: 50 metrics of 10 runs must not queue 500
// requests in the browser at once.
const PARALLEL = 6;

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

async function loadHistories(runs: RunRef[], keys: string[]): Promise<Map<string, Series[]>> {
  const jobs = keys.flatMap((key) => runs.map((r) => ({ key, r })));
  const histories: Metric[][] = await inBatches(jobs, ({ key, r }) => api.getMetricHistory(r.runId, key));
  const out = new Map<string, Series[]>(keys.map((k) => [k, []]));
  jobs.forEach(({ key, r }, i) => {
    if (histories[i]!.length) out.get(key)!.push({ label: r.label, points: histories[i]! });
  });
  return out;
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
      {load.state === "ok" && <Charts histories={load.data} keys={keys} options={options} />}
    </div>
  );
}
