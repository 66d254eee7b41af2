// One run: its attributes, params, metrics (latest values) and tags. The page later
// sessions grow (metric charts, artifacts); for now it makes every run link land somewhere real.
import { api } from "../api";
import { formatDuration, formatMetric, formatTime } from "../format";
import { href } from "../router";
import { useLoad } from "../session";
import type { KeyValue } from "../types";
import { ErrorBox } from "./ErrorBox";

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

export function RunPage({ experimentId, runId }: { experimentId: string; runId: string }) {
  const load = useLoad(() => api.getRun(runId), [runId]);
  const back = href({ page: "runs", experimentId, query: new URLSearchParams() });
  return (
    <section>
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> / <a href={back}>Experiment {experimentId}</a> /
      </p>
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && (
        <>
          <h1>{load.data.info.run_name || runId}</h1>
          <KeyValues
            title="Run"
            rows={[
              { key: "run id", value: load.data.info.run_id },
              { key: "status", value: load.data.info.status ?? "" },
              { key: "started", value: formatTime(load.data.info.start_time) },
              { key: "duration", value: formatDuration(load.data.info.start_time, load.data.info.end_time) },
              { key: "user", value: load.data.info.user_id ?? "" },
            ]}
          />
          <KeyValues title="Parameters" rows={load.data.data.params ?? []} />
          <KeyValues title="Metrics" rows={(load.data.data.metrics ?? []).map((m) => ({ key: m.key, value: formatMetric(m.value) }))} />
          <KeyValues title="Tags" rows={(load.data.data.tags ?? []).filter((t) => !t.key.startsWith("mlflow.log-model"))} />
        </>
      )}
    </section>
  );
}
