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
import { color, type ChartOptions, type ColumnSeries } from "./series";

export type { RunRef } from "./histories";

// Several runs' charts share one legend, above them (each chart's own would repeat it, a table
// row per run per chart); hovering a chart shows its values at the cursor (LineChart).
function Legend({ runs }: { runs: RunRef[] }) {
  return (
    <ul class="chart-legend" aria-label="Runs in the charts">
      {runs.map((r, i) => (
        <li key={r.runId}>
          <span class="swatch" style={{ background: color(i) }} aria-hidden="true" />
          {r.label}
        </li>
      ))}
    </ul>
  );
}

// A metric logged once per run (a final score) is a value, not a curve: it is named, not drawn.
function Charts({
  histories,
  keys,
  options,
  legend,
}: {
  histories: Map<string, ColumnSeries[]>;
  keys: string[];
  options: ChartOptions;
  legend: boolean;
}) {
  const curve = (k: string) => histories.get(k)!.some((s) => s.values.length > 1);
  const single = keys.filter((k) => !curve(k));
  return (
    <>
      <div class="chart-grid">
        {keys.filter(curve).map((k) => (
          <LineChart key={k} title={k} series={histories.get(k)!} options={options} legend={legend} />
        ))}
      </div>
      {single.length > 0 && <p class="muted single-values">Logged once, so not charted: {single.join(", ")}.</p>}
    </>
  );
}

// `ready`: histories already in (the comparison waits for its early call), drawn in this very
// render when they hold every series asked for; else they are asked for here.
export function MetricCharts({
  runs,
  keys,
  early,
  ready,
}: {
  runs: RunRef[];
  keys: string[];
  early?: Promise<Histories> | null;
  ready?: Histories | null;
}) {
  const [options, setOptions] = useState<ChartOptions>({ x: "step", log: false, smoothing: 0 });
  const runIds = runs.map((r) => r.runId);
  const have = ready && covers(ready, runIds, keys) ? ready : null;
  // The early answer when it has every series asked for; a failed one (a 401 included) is asked
  // again here, where the session sees its error.
  const load = useLoad(async (): Promise<Histories> => {
    if (have) return have;
    const got = early ? await early.catch(() => null) : null;
    return got && covers(got, runIds, keys) ? got : loadHistories(runIds, keys);
  }, [runIds.join(), keys.join(), early, have]);
  const data = have ?? (load.state === "ok" ? load.data : null);
  // Kept while the histories, runs and keys are the same: new series would make every chart again.
  const series = useMemo(
    () => (data ? seriesByKey(data, runs, keys) : null),
    [data, runIds.join(), runs.map((r) => r.label).join("\n"), keys.join()],
  );
  if (keys.length === 0) return <p class="muted">No metrics logged.</p>;
  return (
    <div class="metric-charts">
      <ChartControls value={options} onChange={setOptions} />
      {!data && load.state === "loading" && <p class="muted">Loading metric histories…</p>}
      {!data && load.state === "error" && <ErrorBox error={load.error} />}
      {data?.truncated && <p class="muted">Some histories are cut short: over a million points were asked for at once.</p>}
      {series && runs.length > 1 && <Legend runs={runs} />}
      {series && <Charts histories={series} keys={keys} options={options} legend={runs.length === 1} />}
    </div>
  );
}
