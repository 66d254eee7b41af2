// Alertmanager's alerts as forja recorded them (POST /api/2.0/forja/alerts): one table for a
// model version's page and for the serving page (which adds the model each alert is about).
import { formatTime } from "../format";
import type { ModelAlert } from "../registryTypes";
import { href } from "../router";

function ModelCell({ a }: { a: ModelAlert }) {
  if (!a.model) return <>—</>;
  if (!a.version) return <>{a.model}</>;
  return (
    <a href={href({ page: "model-version", name: a.model, version: a.version })}>
      {a.model} v{a.version}
    </a>
  );
}

export function AlertsTable({ alerts, empty, withModel }: { alerts: ModelAlert[]; empty: string; withModel?: boolean }) {
  if (alerts.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="grid alerts">
      <thead>
        <tr>
          <th scope="col">Alert</th>
          {withModel && <th scope="col">Model</th>}
          <th scope="col">Severity</th>
          <th scope="col">Status</th>
          <th scope="col">Since</th>
          <th scope="col">Summary</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr key={a.fingerprint + String(a.starts_at)}>
            <td>{a.name}</td>
            {withModel && (
              <td>
                <ModelCell a={a} />
              </td>
            )}
            <td>{a.severity || "—"}</td>
            <td>{a.status}</td>
            <td>{typeof a.starts_at === "number" ? formatTime(a.starts_at) : a.starts_at}</td>
            <td>{a.annotations?.summary ?? a.annotations?.description ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
