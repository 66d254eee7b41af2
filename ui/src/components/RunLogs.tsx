// A run's stage logs (GET /api/2.0/forja/runs/logs): when forja run made the run in the
// workspace forja server runs in, each stage's outcome, duration and the end of its log from
// .forja/runs/<id>/ (docs/ui.md "A run"). Otherwise one line says why there are none.
import { api } from "../api";
import { formatSeconds } from "../pipeline/PipelinePage";
import { useLoad } from "../session";
import { ErrorBox } from "./ErrorBox";

export function RunLogs({ runId }: { runId: string }) {
  const load = useLoad(() => api.runLogs(runId), [runId]);
  return (
    <section class="run-logs" aria-labelledby="run-logs-title">
      <h2 id="run-logs-title">Logs</h2>
      {load.state === "loading" ? (
        <p class="muted">Loading…</p>
      ) : load.state === "error" ? (
        <ErrorBox error={load.error} />
      ) : !load.data.available ? (
        <p class="muted no-logs">No logs: {load.data.reason}</p>
      ) : load.data.stages.length === 0 ? (
        <p class="muted no-logs">forja run {load.data.forja_run_id} left no stage log.</p>
      ) : (
        <>
          <p class="muted">
            From <code>.forja/runs/{load.data.forja_run_id}/</code>, the last {Math.round((load.data.tail_bytes ?? 8192) / 1024)} KB of each
            log:
          </p>
          {load.data.stages.map((s) => (
            <details key={s.stage} class="stage-log" data-stage={s.stage} open={load.data.stages.length <= 3}>
              <summary>
                <strong>{s.stage}</strong>
                {s.outcome ? ` — ${s.outcome}` : ""}
                {s.seconds !== undefined ? `, ${formatSeconds(s.seconds)}` : ""}
                {` (${s.log_bytes} bytes${s.log_truncated ? ", cut" : ""})`}
              </summary>
              <pre class="log-tail" tabIndex={0} aria-label={`The log of ${s.stage}`}>
                {s.log_tail}
              </pre>
            </details>
          ))}
        </>
      )}
    </section>
  );
}
