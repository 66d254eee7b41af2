// #/pipelines: the workspace's pipeline (GET /api/2.0/forja/pipeline/status): the DAG drawn
// as SVG, each stage's state in colour and in words (up to date / would run, and why: what
// `forja status --pipeline` says), and the chosen stage's details with the last run's
// duration and log tail. The chosen stage is in the URL (#/pipelines?stage=train), so each
// stage is a link: reachable by keyboard and bookmarkable.
import { api, type ApiError } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { href } from "../router";
import { useLoad } from "../session";
import { layoutDag, NODE_H, NODE_W } from "./layout";
import type { PipelineStage, PipelineStatus } from "./types";

// The state's words and class (the class only adds colour: the words say it all).
function stateOf(s: PipelineStage): { label: string; cls: string; mark: string } {
  if (s.outcome === "up to date") return { label: "up to date", cls: "state-ok", mark: "✓" };
  if (s.outcome === "would run") return { label: "would run", cls: "state-run", mark: "●" };
  return { label: s.outcome ?? "unknown", cls: "state-other", mark: "?" };
}

export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return "—";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}

function Dag({ status, selected }: { status: PipelineStatus; selected: string }) {
  const names = status.stages.map((s) => s.name);
  const layout = layoutDag(names, status.edges);
  const byName = new Map(status.stages.map((s) => [s.name, s]));
  return (
    <div class="dag-wrap">
      <svg
        class="dag"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label={`Pipeline: ${names.length} stages, ${status.edges.length} dependencies`}
      >
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path key={e.from + "\u0000" + e.to} d={e.path} class="dag-edge" marker-end="url(#dag-arrow)">
            <title>{`${e.from} → ${e.to}`}</title>
          </path>
        ))}
        {layout.nodes.map((n) => {
          const s = byName.get(n.name)!;
          const st = stateOf(s);
          return (
            <a
              key={n.name}
              href={href({ page: "pipelines", stage: n.name })}
              class={`dag-node ${st.cls}${n.name === selected ? " selected" : ""}`}
              aria-current={n.name === selected ? "true" : undefined}
            >
              <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx="6" />
              <text x={n.x + 10} y={n.y + 19} class="dag-name">
                {shorten(n.name, 22)}
              </text>
              <text x={n.x + 10} y={n.y + 36} class="dag-state">
                {st.mark} {st.label}
                {s.last_run?.seconds !== undefined ? ` · ${formatSeconds(s.last_run.seconds)}` : ""}
              </text>
            </a>
          );
        })}
      </svg>
    </div>
  );
}

function List({ items }: { items: string[] }) {
  if (items.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="plain">
      {items.map((x) => (
        <li key={x}>
          <code>{x}</code>
        </li>
      ))}
    </ul>
  );
}

function StageDetails({ stage, runId }: { stage: PipelineStage; runId?: string }) {
  const st = stateOf(stage);
  const last = stage.last_run;
  return (
    <section class="stage-details" aria-labelledby="stage-title">
      <h2 id="stage-title">{stage.name}</h2>
      <p>
        <span class={`state-badge ${st.cls}`}>
          {st.mark} {st.label}
        </span>
      </p>
      {stage.reasons && stage.reasons.length > 0 && (
        <>
          <h3>{stage.outcome === "would run" ? "Why it would run" : "Note"}</h3>
          <ul class="reasons">
            {stage.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </>
      )}
      <table class="kv">
        <tbody>
          <tr>
            <th scope="row">Command</th>
            <td>
              {stage.cmd.map((c, i) => (
                <pre key={i} class="cmd">
                  {c}
                </pre>
              ))}
            </td>
          </tr>
          <tr>
            <th scope="row">Depends on stages</th>
            <td>
              {stage.upstream.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                stage.upstream.map((u, i) => (
                  <span key={u}>
                    {i > 0 && ", "}
                    <a href={href({ page: "pipelines", stage: u })}>{u}</a>
                  </span>
                ))
              )}
            </td>
          </tr>
          <tr>
            <th scope="row">Deps</th>
            <td>
              <List items={stage.deps} />
            </td>
          </tr>
          <tr>
            <th scope="row">Outs</th>
            <td>
              <List items={stage.outs} />
            </td>
          </tr>
          <tr>
            <th scope="row">Last run</th>
            <td>
              {last?.outcome ? `${last.outcome}, ${formatSeconds(last.seconds)}` : <span class="muted">not in the last run</span>}
              {runId ? <span class="muted"> (run {runId})</span> : null}
            </td>
          </tr>
        </tbody>
      </table>
      <h3>Log</h3>
      {last?.log_tail !== undefined ? (
        <>
          {last.log_truncated && (
            <p class="muted">The last {Math.round(last.log_tail.length / 1024)} KB of {Math.round((last.log_bytes ?? 0) / 1024)} KB:</p>
          )}
          <pre class="log-tail" tabIndex={0} aria-label={`The log of ${stage.name}`}>
            {last.log_tail}
          </pre>
        </>
      ) : (
        <p class="muted">No log from the last run (the stage printed nothing, or did not run).</p>
      )}
    </section>
  );
}

function NoWorkspace({ error }: { error: ApiError }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>This server has no workspace.</strong> Start <code>forja server</code> in a folder with a{" "}
        <code>forja.yaml</code> (or below it) to see its pipeline here.
      </p>
      <p class="muted">{error.message}</p>
    </div>
  );
}

export function PipelinePage({ stage }: { stage: string }) {
  const load = useLoad(() => api.pipelineStatus(), []);
  if (load.state === "loading") return <p class="muted">Loading…</p>;
  if (load.state === "error") {
    return (
      <section>
        <h1>Pipeline</h1>
        {load.error.status === 404 ? <NoWorkspace error={load.error} /> : <ErrorBox error={load.error} />}
      </section>
    );
  }
  const status = load.data;
  const wouldRun = status.stages.filter((s) => s.outcome === "would run").length;
  const chosen = status.stages.find((s) => s.name === stage);
  return (
    <section>
      <h1>Pipeline</h1>
      <p class="muted">
        {status.root} · {status.stages.length} stages ·{" "}
        {wouldRun === 0 ? "everything is up to date" : `${wouldRun} would run`}
        {status.last_run ? ` · last run ${status.last_run.run_id}` : " · never run"}
      </p>
      {status.stages.length === 0 ? (
        <p>No stages in forja.yaml.</p>
      ) : (
        <div class="pipeline">
          <Dag status={status} selected={stage} />
          {chosen ? (
            <StageDetails stage={chosen} runId={status.last_run?.run_id} />
          ) : (
            <p class="muted stage-hint">{stage ? `No stage named ${stage}.` : "Choose a stage for its command, reasons and log."}</p>
          )}
        </div>
      )}
    </section>
  );
}
