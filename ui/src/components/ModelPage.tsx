// #/models/NAME: one registered model: its versions (stage, aliases, the run each came
// from, when, its package) and its promotion history with what every gate said.
import { api } from "../api";
import { formatTime } from "../format";
import { href } from "../router";
import type { ModelVersionDetails } from "../registryTypes";
import { useLoad } from "../session";
import type { Run } from "../types";
import { ErrorBox } from "./ErrorBox";
import { ModelHistory } from "./ModelHistory";
import { NotFound } from "./NotFound";

// The runs versions came from, by id: a run link needs its experiment (MLflow's run URL
// holds it). A run that is gone (deleted, or logged to another store) is left out.
export async function runsOf(versions: ModelVersionDetails[]): Promise<Map<string, Run>> {
  const ids = [...new Set(versions.map((v) => v.run_id).filter((id): id is string => !!id))];
  const got = await Promise.allSettled(ids.map((id) => api.getRun(id)));
  const out = new Map<string, Run>();
  got.forEach((r) => r.status === "fulfilled" && out.set(r.value.info.run_id, r.value));
  return out;
}

export function RunLink({ runId, runs }: { runId?: string; runs: Map<string, Run> }) {
  if (!runId) return <span class="muted">none</span>;
  const run = runs.get(runId);
  if (!run) return <span class="mono" title="this run is not in this server's store">{runId.slice(0, 12)}</span>;
  return (
    <a href={href({ page: "run", experimentId: run.info.experiment_id, runId })}>{run.info.run_name || runId.slice(0, 12)}</a>
  );
}

export function PackageHash({ hash }: { hash?: string }) {
  if (!hash) return <span class="muted">none</span>;
  return (
    <code class="hash" title={hash}>
      {hash.replace(/^sha256:/, "").slice(0, 12)}
    </code>
  );
}

async function loadModel(name: string) {
  const [model, versions, history] = await Promise.all([api.getModel(name), api.modelVersions(name), api.modelHistory(name)]);
  versions.sort((a, b) => Number(b.version) - Number(a.version));
  return { model, versions, history, runs: await runsOf(versions) };
}

export function ModelPage({ name }: { name: string }) {
  const load = useLoad(() => loadModel(name), [name]);
  if (load.state === "error" && load.error.status === 404)
    return (
      <NotFound what={`No registered model named "${name}".`}>
        <p>
          <a href="#/models">All models</a>
        </p>
      </NotFound>
    );
  return (
    <section>
      <p class="crumbs">
        <a href="#/models">Models</a> /
      </p>
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && (
        <>
          <h1 class="model-name">{load.data.model.name}</h1>
          {load.data.model.description && <p>{load.data.model.description}</p>}
          <h2>Versions</h2>
          {load.data.versions.length === 0 ? (
            <p class="muted">No versions yet.</p>
          ) : (
            <div class="table-wrap">
              <table class="grid versions">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Stage</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">Run</th>
                    <th scope="col">Created</th>
                    <th scope="col">Package</th>
                  </tr>
                </thead>
                <tbody>
                  {load.data.versions.map((v) => (
                    <tr key={v.version} data-version={v.version}>
                      <td class="version">
                        <a href={href({ page: "model-version", name, version: v.version })}>Version {v.version}</a>
                      </td>
                      <td class="stage">{v.current_stage || "None"}</td>
                      <td class="aliases">{(v.aliases ?? []).map((a) => "@" + a).join(" ")}</td>
                      <td>
                        <RunLink runId={v.run_id} runs={load.data.runs} />
                      </td>
                      <td>{formatTime(v.creation_timestamp)}</td>
                      <td>
                        <PackageHash hash={v.forja_package_hash} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Promotion history</h2>
          <ModelHistory name={name} transitions={load.data.history} />
        </>
      )}
    </section>
  );
}
