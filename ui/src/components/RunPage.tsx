// One run (#/experiments/ID/runs/RUN, MLflow's URL): its attributes, params, metric charts,
// tags, artifacts and lineage. A run the server does not know shows a not-found page.
import { api } from "../api";
import { ArtifactBrowser } from "../artifacts/ArtifactBrowser";
import { MetricCharts } from "../charts/MetricCharts";
import { formatDuration, formatMetric, formatTime, runName } from "../format";
import { href } from "../router";
import { useLoad } from "../session";
import type { KeyValue, Run } from "../types";
import { ErrorBox } from "./ErrorBox";
import { RunLineage } from "./RunLineage";
import { RunLogs } from "./RunLogs";

function KeyValues({ title, rows }: { title: string; rows: KeyValue[] }) {
  if (rows.length === 0) return null;
  return (
    <>
      <h2>{title}</h2>
      <table class="grid kv">
        <tbody>
          {[...rows]
            .sort((a, b) => a.key.localeCompare(b.key))
            .map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.key}</th>
                <td>{r.value}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </>
  );
}

function RunBody({ run }: { run: Run }) {
  const info = run.info;
  const metricKeys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
  return (
    <>
      <h1>{runName(run)}</h1>
      <KeyValues
        title="Run"
        rows={[
          { key: "run id", value: info.run_id },
          { key: "status", value: info.status ?? "" },
          { key: "started", value: formatTime(info.start_time) },
          { key: "duration", value: formatDuration(info.start_time, info.end_time) },
          { key: "user", value: info.user_id ?? "" },
        ]}
      />
      <KeyValues title="Parameters" rows={run.data.params ?? []} />
      <KeyValues title="Metrics" rows={(run.data.metrics ?? []).map((m) => ({ key: m.key, value: formatMetric(m.value) }))} />
      <h2>Metric charts</h2>
      <MetricCharts runs={[{ runId: info.run_id, label: runName(run) }]} keys={metricKeys} />
      <KeyValues title="Tags" rows={(run.data.tags ?? []).filter((t) => !t.key.startsWith("mlflow.log-model"))} />
      <h2>Artifacts</h2>
      <ArtifactBrowser runId={info.run_id} rootUri={info.artifact_uri ?? ""} />
      <RunLineage run={run} />
      <RunLogs runId={info.run_id} />
    </>
  );
}

export function RunPage({ experimentId, runId }: { experimentId: string; runId: string }) {
  const load = useLoad(() => api.getRun(runId), [runId]);
  const back = href({ page: "runs", experimentId, query: new URLSearchParams() });
  const missing = load.state === "error" && (load.error.status === 404 || load.error.code === "RESOURCE_DOES_NOT_EXIST");
  return (
    <section>
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> / <a href={back}>Experiment {experimentId}</a> /
      </p>
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {missing && (
        <div class="not-found">
          <h1>Run not found</h1>
          <p>
            forja server has no run <code>{runId}</code>. <a href={back}>Back to the experiment's runs</a>
          </p>
        </div>
      )}
      {load.state === "error" && !missing && <ErrorBox error={load.error} />}
      {load.state === "ok" && <RunBody run={load.data} />}
    </section>
  );
}
