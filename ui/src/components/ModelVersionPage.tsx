// #/models/NAME/versions/N (MLflow's URL): one version: its details, the run it came from
// and a link to that run's lineage (the run's page shows it), its tags, its alerts, its history, and, for a write or admin
// token, the promote and alias controls.
import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { formatTime } from "../format";
import { href } from "../router";
import type { ModelAlert } from "../registryTypes";
import { useLoad } from "../session";
import { useRole } from "../whoami";
import { AlertsTable } from "./AlertsTable";
import { ErrorBox } from "./ErrorBox";
import { AliasForm, PromoteForm } from "./ModelActions";
import { ModelHistory } from "./ModelHistory";
import { PackageHash, RunLink, runsOf } from "./ModelPage";
import { NotFound } from "./NotFound";

async function loadVersion(name: string, version: string) {
  // Versions are numbers: "latest" or "abc" in the URL is no version (not worth a 400 from the server).
  if (!/^[1-9][0-9]{0,17}$/.test(version)) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `no version ${version}`);
  const v = await api.getModelVersion(name, version);
  const [history, alerts, runs] = await Promise.all([
    api.modelHistory(name, version),
    api.modelAlerts(name, version).catch((): ModelAlert[] => []), // a server without alerts: none to show
    runsOf([v]),
  ]);
  return { v, history, alerts, runs };
}

function Row({ k, children }: { k: string; children: ComponentChildren }) {
  return (
    <tr>
      <th scope="row">{k}</th>
      <td>{children}</td>
    </tr>
  );
}

export function ModelVersionPage({ name, version }: { name: string; version: string }) {
  const [generation, setGeneration] = useState(0);
  const load = useLoad(() => loadVersion(name, version), [name, version, generation]);
  const role = useRole();
  // While a change reloads the page, the last answer stays on screen (and the form's message with it).
  const last = useRef<{ key: string; data: Awaited<ReturnType<typeof loadVersion>> } | null>(null);
  const key = name + "\n" + version;
  if (load.state === "ok") last.current = { key, data: load.data };
  const data = load.state === "ok" ? load.data : last.current?.key === key && load.state === "loading" ? last.current.data : null;

  if (load.state === "error" && load.error.status === 404)
    return (
      <NotFound what={`No version ${version} of a model named "${name}".`}>
        <p>
          <a href={href({ page: "model", name })}>{name}</a> · <a href="#/models">All models</a>
        </p>
      </NotFound>
    );
  const changed = () => setGeneration((g) => g + 1);
  return (
    <section>
      <p class="crumbs">
        <a href="#/models">Models</a> / <a href={href({ page: "model", name })}>{name}</a> /
      </p>
      {!data && load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {data && (
        <>
          <h1 class="version-title">
            {name} version {data.v.version}
          </h1>
          <table class="grid kv version-details">
            <tbody>
              <Row k="stage">
                <span class="stage">{data.v.current_stage || "None"}</span>
              </Row>
              <Row k="aliases">{(data.v.aliases ?? []).map((a) => "@" + a).join(" ") || <span class="muted">none</span>}</Row>
              <Row k="run">
                <RunLink runId={data.v.run_id} runs={data.runs} />
              </Row>
              <Row k="lineage">
                {data.v.run_id && data.runs.get(data.v.run_id) ? (
                  <a href={href({ page: "run", experimentId: data.runs.get(data.v.run_id)!.info.experiment_id, runId: data.v.run_id })}>
                    the run's inputs and outputs, by hash
                  </a>
                ) : (
                  <span class="muted">none recorded</span>
                )}
              </Row>
              <Row k="package">
                <PackageHash hash={data.v.forja_package_hash} />
              </Row>
              <Row k="source">
                <code>{data.v.source}</code>
              </Row>
              <Row k="status">{data.v.status ?? ""}</Row>
              <Row k="created">{formatTime(data.v.creation_timestamp)}</Row>
              <Row k="last updated">{formatTime(data.v.last_updated_timestamp)}</Row>
              <Row k="by">{data.v.user_id ?? ""}</Row>
              {data.v.description && <Row k="description">{data.v.description}</Row>}
            </tbody>
          </table>
          {role.canWrite && (
            <div class="actions">
              {/* keyed by the version: another version's page starts with fresh forms and no old message */}
              <PromoteForm key={key} v={data.v} role={role} onChanged={changed} />
              <AliasForm key={key} v={data.v} onChanged={changed} />
            </div>
          )}
          {role.known && !role.canWrite && <p class="hint">Your token can read the registry; promoting needs a write token.</p>}
          <h2>Tags</h2>
          {(data.v.tags ?? []).length === 0 ? (
            <p class="muted">No tags.</p>
          ) : (
            <table class="grid kv tags">
              <tbody>
                {[...(data.v.tags ?? [])]
                  .sort((a, b) => a.key.localeCompare(b.key))
                  .map((t) => (
                    <Row key={t.key} k={t.key}>
                      {t.value}
                    </Row>
                  ))}
              </tbody>
            </table>
          )}
          <h2>Alerts</h2>
          <AlertsTable alerts={data.alerts} empty="No alerts." />
          <h2>History</h2>
          <ModelHistory name={name} transitions={data.history} />
        </>
      )}
    </section>
  );
}
