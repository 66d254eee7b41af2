// #/serving: what the forja serve instances report (GET /api/2.0/forja/serving/instances;
// docs/ui.md "Serving and monitoring"): per instance its address and last report (an
// instance that missed its reports is marked stale), per model its routes (weights, a
// rollout's canary, the shadow), per version traffic, latency, errors, drift per column
// against the reference profile, quality from feedback and staleness; then the recent
// Alertmanager alerts. Reloaded every 15 s while open; each model's requests per second over
// its instance's last reports is a uPlot chart.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { LineChart } from "../charts/LineChart";
import type { ChartOptions } from "../charts/series";
import { AlertsTable } from "../components/AlertsTable";
import { ErrorBox } from "../components/ErrorBox";
import { formatTime } from "../format";
import { formatSeconds } from "../pipeline/PipelinePage";
import type { ModelAlert } from "../registryTypes";
import { href } from "../router";
import { useLoad } from "../session";
import type { Metric } from "../types";
import type { DriftReport, ServedModel, ServedRoute, ServedVersion, ServingInstance, ServingInstances } from "./types";

const REFRESH_MS = 15000;
const TIME_AXIS: ChartOptions = { x: "time", log: false, smoothing: 0 };

function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  return v < 0.001 ? `${(v * 1e6).toFixed(0)} µs` : `${num(v * 1000, 2)} ms`;
}

function percent(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  return `${num(v * 100, 2)}%`;
}

function age(s: number | null | undefined): string {
  return s === null || s === undefined ? "—" : formatSeconds(s);
}

function routeLine(r: ServedRoute): string {
  let line = `${r.ref} ${r.weight ?? 100}% → v${r.version ?? "?"}`;
  if (r.canary) line += `, canary v${r.canary.version ?? "?"} at ${r.canary.weight ?? 0}% (rollout ${r.canary.rollout ?? "?"})`;
  return line;
}

function DriftCell({ d }: { d?: DriftReport | null }) {
  if (!d) return <span class="muted">no profile</span>;
  if (!d.tested) return <span class="muted">{d.rows ? "nothing tested yet" : "no rows yet"}</span>;
  return (
    <span class={d.drift ? "verdict-bad" : "verdict-ok"}>
      {d.drift ? "drift" : "no drift"} ({d.drifted ?? 0}/{d.tested} columns)
    </span>
  );
}

function StaleCell({ v }: { v: ServedVersion }) {
  const s = v.staleness;
  if (!s) return <span class="muted">—</span>;
  return s.stale ? <span class="verdict-bad">stale: {(s.reasons ?? []).join(", ")}</span> : <span class="verdict-ok">fresh</span>;
}

function QualityCell({ v }: { v: ServedVersion }) {
  const q = v.quality;
  if (!q) return <span class="muted">not tracked</span>;
  const metrics = Object.entries(q.metrics ?? {}).filter(([, x]) => x !== null && x !== undefined);
  if (!q.labels || metrics.length === 0) return <span class="muted">no feedback yet</span>;
  return (
    <span>
      {metrics
        .slice(0, 3)
        .map(([k, x]) => `${k} ${num(x)}`)
        .join(", ")}{" "}
      <span class="muted">({q.labels} labels)</span>
    </span>
  );
}

function VersionsTable({ model }: { model: ServedModel }) {
  const versions = model.versions ?? [];
  return (
    <table class="serving-versions">
      <caption>Versions of {model.name} served</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Role</th>
          <th scope="col">Reference</th>
          <th scope="col" class="num">req/s</th>
          <th scope="col" class="num">Requests</th>
          <th scope="col" class="num">Error rate</th>
          <th scope="col" class="num">p50</th>
          <th scope="col" class="num">p95</th>
          <th scope="col" class="num">p99</th>
          <th scope="col">Drift</th>
          <th scope="col">Quality</th>
          <th scope="col">Staleness</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version + (v.role ?? "")} data-version={v.version}>
            <td>
              <a href={href({ page: "model-version", name: model.name, version: v.version })}>v{v.version}</a>
            </td>
            <td>{v.role ?? "—"}</td>
            <td>
              <code>{v.ref ?? ""}</code>
            </td>
            <td class="num">{num(v.req_per_s, 2)}</td>
            <td class="num">{v.requests ?? 0}</td>
            <td class="num">{percent(v.error_rate)}</td>
            <td class="num">{ms(v.latency_s?.p50)}</td>
            <td class="num">{ms(v.latency_s?.p95)}</td>
            <td class="num">{ms(v.latency_s?.p99)}</td>
            <td>
              <DriftCell d={v.drift} />
            </td>
            <td>
              <QualityCell v={v} />
            </td>
            <td>
              <StaleCell v={v} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DriftTable({ model, v }: { model: string; v: ServedVersion }) {
  const d = v.drift;
  if (!d || !d.rows || !d.columns || d.columns.length === 0) return null; // nothing compared yet: the versions table says so
  return (
    <table class="drift-columns">
      <caption>
        Drift of {model} v{v.version} against its reference ({d.rows ?? 0} rows in the window
        {d.omitted ? `; ${d.omitted} more columns not reported` : ""})
      </caption>
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Test</th>
          <th scope="col" class="num">Value</th>
          <th scope="col" class="num">Threshold</th>
          <th scope="col">Verdict</th>
        </tr>
      </thead>
      <tbody>
        {d.columns.map((c) => (
          <tr key={c.name} data-column={c.name} class={c.drifted ? "drifted" : undefined}>
            <td>
              <code>{c.name}</code>
            </td>
            <td>{c.method ?? "—"}</td>
            <td class="num">{num(c.score, 4)}</td>
            <td class="num">{num(c.threshold, 4)}</td>
            <td class={c.drifted ? "verdict-bad" : c.verdict === "no_drift" ? "verdict-ok" : "muted"}>
              {c.drifted ? "drifted" : (c.verdict ?? "—").replace(/_/g, " ")}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StalenessList({ model, v }: { model: string; v: ServedVersion }) {
  const s = v.staleness;
  if (!s) return null;
  return (
    <p class="staleness-line">
      <strong>
        {model} v{v.version}:
      </strong>{" "}
      model age {age(s.model_age_s)}, data age {age(s.data_age_s)}, since promotion {age(s.since_promotion_s)}, drifting for{" "}
      {age(s.drifted_for_s)} — {s.stale ? `stale (${(s.reasons ?? []).join(", ")})` : "not stale"}
    </p>
  );
}

// Requests per second of the model's versions at each of the instance's last reports (up to 60:
// a quarter of an hour at the default interval; Grafana has the long history).
function TrafficChart({ model }: { model: ServedModel }) {
  const series = (model.versions ?? []).map((v) => ({
    label: `v${v.version} ${v.role ?? ""}`.trim(),
    points: (v.traffic ?? []).map(([t, x]): Metric => ({ key: "req/s", value: x, timestamp: t })),
  }));
  if (!series.some((s) => s.points.length >= 2)) return null; // one point is no line
  return <LineChart title={`Requests per second of ${model.name}`} series={series} options={TIME_AXIS} height={160} />;
}

function Instance({ inst }: { inst: ServingInstance }) {
  const r = inst.report;
  return (
    <section class={`instance${inst.stale ? " stale" : ""}`} data-instance={inst.instance} aria-labelledby={`inst-${inst.instance}`}>
      <h2 id={`inst-${inst.instance}`}>
        {inst.instance}{" "}
        {inst.stale ? <span class="badge stale-badge">stale</span> : <span class="badge live-badge">live</span>}
      </h2>
      <p class="muted">
        {r?.address ? (
          <>
            <code>{r.address}</code> ·{" "}
          </>
        ) : null}
        last report {formatSeconds(inst.age_s)} ago ({formatTime(inst.received)})
        {inst.stale ? ` — no report for more than ${formatSeconds(inst.stale_after_s)}` : ""}
        {r?.forja_version ? ` · forja ${r.forja_version}` : ""}
      </p>
      {inst.error ? <p class="error">This instance's report could not be read: {inst.error}</p> : null}
      {(r?.models ?? []).map((m) => (
        <div class="served-model" key={m.name} data-model={m.name}>
          <h3>
            <a href={href({ page: "model", name: m.name })}>{m.name}</a>
          </h3>
          <ul class="routes">
            {(m.routes ?? []).map((rt) => (
              <li key={rt.ref}>
                route <code>{routeLine(rt)}</code>
              </li>
            ))}
            {m.shadow ? (
              <li>
                shadow <code>{`${m.shadow.ref} → v${m.shadow.version ?? "?"}`}</code>
              </li>
            ) : null}
          </ul>
          <div class="table-scroll">
            <VersionsTable model={m} />
          </div>
          <TrafficChart model={m} />
          {(m.versions ?? []).map((v) => (
            <DriftTable key={"d" + v.version + v.role} model={m.name} v={v} />
          ))}
          {(m.versions ?? []).map((v) => (
            <StalenessList key={"s" + v.version + v.role} model={m.name} v={v} />
          ))}
        </div>
      ))}
    </section>
  );
}

function Empty({ expire }: { expire: number }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>No forja serve instance has reported here</strong> in the last {formatSeconds(expire)}.
      </p>
      <p>
        A <code>forja serve</code> that follows this server's registry reports what it serves every 15 seconds:
      </p>
      <pre class="cmd">forja serve churn@production --store {location.origin}</pre>
      <p class="muted">
        (<code>--report-interval S</code> changes how often, <code>--instance-id</code> its name here; one that follows a SQLite or
        PostgreSQL store writes its reports there, and this page shows them when this server uses the same store.)
      </p>
    </div>
  );
}

export function ServingPage() {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  const load = useLoad(async (): Promise<[ServingInstances, ModelAlert[]]> => Promise.all([api.servingInstances(), api.recentAlerts()]), [tick]);
  const [last, setLast] = useState<[ServingInstances, ModelAlert[]] | null>(null);
  useEffect(() => {
    if (load.state === "ok") setLast(load.data);
  }, [load]);
  const data = load.state === "ok" ? load.data : last; // keep showing the last answer while reloading
  if (!data) {
    if (load.state === "error") {
      return (
        <section>
          <h1>Serving and monitoring</h1>
          <ErrorBox error={load.error} />
        </section>
      );
    }
    return <p class="muted">Loading…</p>;
  }
  const [instances, alerts] = data;
  const live = instances.instances.filter((i) => !i.stale).length;
  // Live instances first, each group by id: a stable order, whatever order the reports came in.
  const ordered = [...instances.instances].sort((x, y) => Number(x.stale) - Number(y.stale) || x.instance.localeCompare(y.instance));
  return (
    <section class="serving-page">
      <h1>Serving and monitoring</h1>
      {instances.instances.length === 0 ? (
        <Empty expire={instances.expire_after_s} />
      ) : (
        <>
          <p class="muted">
            {instances.instances.length} instance{instances.instances.length === 1 ? "" : "s"} ({live} live); an instance is stale
            when it missed three reports (at least a minute), and leaves the list after {formatSeconds(instances.expire_after_s)}.
          </p>
          {ordered.map((i) => (
            <Instance key={i.instance} inst={i} />
          ))}
        </>
      )}
      <h2>Recent alerts</h2>
      <AlertsTable alerts={alerts} empty="No alert received from Alertmanager (POST /api/2.0/forja/alerts)." withModel />
    </section>
  );
}
