// A chart per metric key, a series per run, with the shared controls above them. Used by
// a run's page (one run) and the comparison (several): the histories come from
// forja/metrics/histories (histories.ts), or from the call the comparison made before it knew
// the keys (`early`).
import { useMemo, useState } from "preact/hooks";
import { useLoad } from "../session";
import { ErrorBox } from "../components/ErrorBox";
import { ChartControls } from "./ChartControls";
import { covers, loadHistories, seriesByKey, type Histories, type RunRef } from "./histories";
import { LineChart } from "./LineChart";
import type { ChartOptions, ColumnSeries } from "./series";

export type { RunRef } from "./histories";

// A metric logged once per run (a final score) is a value, not a curve: it is named, not drawn.
function Charts({ histories, keys, options }: { histories: Map<string, ColumnSeries[]>; keys: string[]; options: ChartOptions }) {
  const curve = (k: string) => histories.get(k)!.some((s) => s.values.length > 1);
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

export function MetricCharts({ runs, keys, early }: { runs: RunRef[]; keys: string[]; early?: Promise<Histories> | null }) {
  const [options, setOptions] = useState<ChartOptions>({ x: "step", log: false, smoothing: 0 });
  const runIds = runs.map((r) => r.runId);
  // The early answer when it has every series asked for; a failed one (a 401 included) is asked
  // again here, where the session sees its error.
  const load = useLoad(async (): Promise<Histories> => {
    const got = early ? await early.catch(() => null) : null;
    return got && covers(got, runIds, keys) ? got : loadHistories(runIds, keys);
  }, [runIds.join(), keys.join(), early]);
  // Kept while the runs and keys are the same: new series would make every chart again.
  const series = useMemo(
    () => (load.state === "ok" ? seriesByKey(load.data, runs, keys) : null),
    [load, runIds.join(), runs.map((r) => r.label).join("\n"), keys.join()],
  );
  if (keys.length === 0) return <p class="muted">No metrics logged.</p>;
  return (
    <div class="metric-charts">
      <ChartControls value={options} onChange={setOptions} />
      {load.state === "loading" && <p class="muted">Loading metric histories…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && load.data.truncated && (
        <p class="muted">Some histories are cut short: over a million points were asked for at once.</p>
      )}
      {series && <Charts histories={series} keys={keys} options={options} />}
    </div>
  );
}
