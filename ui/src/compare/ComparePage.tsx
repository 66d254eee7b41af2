// Runs side by side (#/compare-runs?runs=[...], MLflow's URL): their metric histories
// overlaid, the params and metrics that differ, a scatter and parallel coordinates.
import { api } from "../api";
import { MetricCharts } from "../charts/MetricCharts";
import { ErrorBox } from "../components/ErrorBox";
import { runName } from "../format";
import { href } from "../router";
import { useLoad } from "../session";
import type { Run } from "../types";
import { DiffTable } from "./DiffTable";
import { ParallelCoords } from "./ParallelCoords";
import { Scatter } from "./Scatter";
import { allEqual, columns } from "./values";

function Comparison({ runs }: { runs: Run[] }) {
  const labels = runs.map(runName);
  const { params, metrics } = columns(runs);
  const metricKeys = metrics.map((m) => m.label);
  return (
    <>
      <h1>Comparing {runs.length} runs</h1>
      <ul class="compared-runs">
        {runs.map((r, i) => (
          <li key={r.info.run_id}>
            <a href={href({ page: "run", experimentId: r.info.experiment_id, runId: r.info.run_id })}>{labels[i]}</a>
          </li>
        ))}
      </ul>
      <h2>Metrics over time</h2>
      <MetricCharts runs={runs.map((r, i) => ({ runId: r.info.run_id, label: labels[i]! }))} keys={metricKeys} />
      <h2>Parameters and metrics</h2>
      <DiffTable labels={labels} params={params} metrics={metrics} />
      <h2>Metric against param</h2>
      <Scatter labels={labels} params={params} metrics={metrics} />
      <h2>Parallel coordinates</h2>
      <ParallelCoords labels={labels} cols={[...params, ...metrics].filter((c) => !allEqual(c))} />
    </>
  );
}

export function ComparePage({ runIds }: { runIds: string[] }) {
  const load = useLoad(() => Promise.all(runIds.map((id) => api.getRun(id))), [runIds.join()]);
  return (
    <section class="compare">
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </p>
      {runIds.length < 2 && <p class="muted">Choose two runs or more in a runs table to compare them.</p>}
      {runIds.length >= 2 && load.state === "loading" && <p class="muted">Loading…</p>}
      {runIds.length >= 2 && load.state === "error" && <ErrorBox error={load.error} />}
      {runIds.length >= 2 && load.state === "ok" && <Comparison runs={load.data} />}
    </section>
  );
}
