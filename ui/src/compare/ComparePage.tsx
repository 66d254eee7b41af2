// Runs side by side (#/compare-runs?runs=[...], MLflow's URL): their metric histories
// overlaid, the params and metrics that differ, a scatter and parallel coordinates.
import { api } from "../api";
import { loadHistories, type Histories } from "../charts/histories";
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

function Comparison({ runs, early, ready }: { runs: Run[]; early: Promise<Histories> | null; ready: Histories | null }) {
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
      <MetricCharts runs={runs.map((r, i) => ({ runId: r.info.run_id, label: labels[i]! }))} keys={metricKeys} early={early} ready={ready} />
      <h2>Parameters and metrics</h2>
      <DiffTable labels={labels} params={params} metrics={metrics} />
      <h2>Metric against param</h2>
      <Scatter labels={labels} params={params} metrics={metrics} />
      <h2>Parallel coordinates</h2>
      <ParallelCoords labels={labels} cols={[...params, ...metrics].filter((c) => !allEqual(c))} />
    </>
  );
}

interface Loaded {
  runs: Run[];
  early: Promise<Histories> | null; // every key's histories, asked for beside the runs
  ready: Histories | null; // that answer, when it came in soon after the runs
}

// How long the page waits, past its runs, for their histories, to draw everything in one render
// (one layout of the page, the charts made before it is painted); longer histories (a large
// comparison) come in under the runs' table.
const DRAW_TOGETHER_MS = 1000;

// Every run's histories are asked at once, beside the runs (whose metrics name the keys the
// charts will want, so that asking after them would wait a round trip for nothing): index.html's
// inline script asked for these URLs already.
async function loadComparison(runIds: string[]): Promise<Loaded> {
  const got: Loaded = { runs: [], early: null, ready: null };
  let drawable: Promise<unknown> = Promise.resolve();
  if (runIds.length >= 2 && runIds.length <= 100) {
    const early = loadHistories(runIds);
    early.then((h) => (got.ready = h), () => {}); // on failure MetricCharts asks again and shows the error
    drawable = early.catch(() => {});
    got.early = early;
  }
  // One call for every run (a call per run was more calls than the browser's six connections).
  got.runs = runIds.length <= 100 ? await api.getRuns(runIds) : await Promise.all(runIds.map((id) => api.getRun(id)));
  await Promise.race([drawable, new Promise<void>((done) => window.setTimeout(done, DRAW_TOGETHER_MS))]);
  return { ...got }; // `ready` as it is now: later, MetricCharts takes `early`
}

export function ComparePage({ runIds }: { runIds: string[] }) {
  const load = useLoad(() => loadComparison(runIds), [runIds.join()], true);
  return (
    <section class="compare">
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </p>
      {runIds.length < 2 && <p class="muted">Choose two runs or more in a runs table to compare them.</p>}
      {runIds.length >= 2 && load.state === "loading" && <p class="muted">Loading…</p>}
      {runIds.length >= 2 && load.state === "error" && <ErrorBox error={load.error} />}
      {runIds.length >= 2 && load.state === "ok" && <Comparison runs={load.data.runs} early={load.data.early} ready={load.data.ready} />}
    </section>
  );
}
