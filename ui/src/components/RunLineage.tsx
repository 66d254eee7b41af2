// Where a run came from and what came of it: its git commit (the tag MLflow and forja run
// set), the pipeline stages `forja run` ran or restored (its tags), the inputs and outputs
// forja recorded by hash, and the registered model versions whose run_id is this run.
import { api } from "../api";
import { formatBytes } from "../artifacts/kind";
import { useLoad } from "../session";
import type { LineageItem, Run } from "../types";
import { ErrorBox } from "./ErrorBox";

async function loadLineage(runId: string) {
  const [lineage, versions] = await Promise.all([api.getLineage(runId), api.searchModelVersionsOfRun(runId)]);
  return { lineage, versions };
}

function Items({ title, items }: { title: string; items: LineageItem[] }) {
  if (items.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <table class="grid lineage">
        <thead>
          <tr>
            <th>Path</th>
            <th>Kind</th>
            <th>Size</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {items.map((l) => (
            <tr key={l.direction + l.path}>
              <td class="mono">{l.path}</td>
              <td>{l.kind}</td>
              <td class="num">{formatBytes(l.size)}</td>
              <td class="mono" title={l.hash}>
                {l.hash.replace(/^sha256:/, "").slice(0, 12)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Stages({ ran, restored }: { ran?: string; restored?: string }) {
  if (!ran && !restored) return null;
  const list = (v?: string) => (v ? v.split(",").filter((s) => s !== "") : []);
  return (
    <p class="stages">
      Pipeline stages:{" "}
      {list(ran).length > 0 && (
        <span class="stages-ran">
          ran <code>{list(ran).join(", ")}</code>
        </span>
      )}
      {list(ran).length > 0 && list(restored).length > 0 && "; "}
      {list(restored).length > 0 && (
        <span class="stages-restored">
          restored from the cache <code>{list(restored).join(", ")}</code>
        </span>
      )}
    </p>
  );
}

export function RunLineage({ run }: { run: Run }) {
  const load = useLoad(() => loadLineage(run.info.run_id), [run.info.run_id]);
  const tag = (k: string) => run.data.tags?.find((t) => t.key === k)?.value;
  const commit = tag("mlflow.source.git.commit");
  return (
    <section class="run-lineage">
      <h2>Lineage</h2>
      <p>
        Git commit: {commit ? <code class="git-commit">{commit}</code> : <span class="muted">not recorded</span>}
        {tag("mlflow.source.git.repoURL") && <span class="muted"> in {tag("mlflow.source.git.repoURL")}</span>}
      </p>
      <Stages ran={tag("forja.stages.ran")} restored={tag("forja.stages.restored")} />
      {load.state === "loading" && <p class="muted">Loading…</p>}
      {load.state === "error" && <ErrorBox error={load.error} />}
      {load.state === "ok" && (
        <>
          <Items title="Inputs" items={load.data.lineage.inputs ?? []} />
          <Items title="Outputs" items={load.data.lineage.outputs ?? []} />
          {!load.data.lineage.inputs?.length && !load.data.lineage.outputs?.length && <p class="muted">No inputs or outputs recorded.</p>}
          <h3>Registered model versions</h3>
          {load.data.versions.length === 0 ? (
            <p class="muted">None came from this run.</p>
          ) : (
            <ul class="model-versions">
              {load.data.versions.map((v) => (
                <li key={v.name + v.version}>
                  <a href={`#/models/${encodeURIComponent(v.name)}/versions/${encodeURIComponent(v.version)}`}>
                    {v.name} version {v.version}
                  </a>
                  {v.aliases?.length ? <span class="muted"> @{v.aliases.join(", @")}</span> : null}
                  {v.current_stage && v.current_stage !== "None" ? <span class="muted"> ({v.current_stage})</span> : null}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
