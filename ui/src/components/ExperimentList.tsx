import { api } from "../api";
import { formatTime } from "../format";
import { href } from "../router";
import { useLoad } from "../session";
import { ErrorBox } from "./ErrorBox";

export function ExperimentList() {
  const load = useLoad(() => api.searchExperiments(), []);
  return (
    <section>
      <h1>Experiments</h1>
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && (
        <table class="grid experiments">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Last updated</th>
            </tr>
          </thead>
          <tbody>
            {(load.data.experiments ?? []).map((e) => (
              <tr key={e.experiment_id}>
                <td>
                  <a href={href({ page: "runs", experimentId: e.experiment_id, query: new URLSearchParams() })}>{e.name}</a>
                </td>
                <td class="mono">{e.experiment_id}</td>
                <td>{formatTime(e.last_update_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {load.state === "ok" && !load.data.experiments?.length && <p class="muted">No experiments yet.</p>}
    </section>
  );
}
