// The one way the UI talks to forja server: MLflow's REST API under /api/2.0/mlflow/.
// The token (when the server needs one) comes from the login form and is kept in
// sessionStorage: it lasts as long as the tab, and is sent only to this origin.
import type { PipelineStatus } from "./pipeline/types";
import type { RunLogs, ServingInstances } from "./serving/types";
import type { ModelAlert, ModelVersionDetails, Promotion, RegisteredModel, Transition, WhoAmI } from "./registryTypes";
import type { Experiment, Lineage, ModelVersion, Run, RunArtifacts, SearchExperimentsAnswer, SearchRunsAnswer } from "./types";
import type { RunGroups, RunKeys, RunWindow } from "./types";

const TOKEN_KEY = "forja.token";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: "Bearer " + token } : {};
}

// Where an artifact's bytes are: the server's artifact proxy, from the run's root URI
// (mlflow-artifacts:/1/RUN/artifacts) and the path inside it; null for a root the proxy
// does not serve (s3://, file://: the client wrote there directly).
export function artifactUrl(rootUri: string, path: string): string | null {
  const m = /^mlflow-artifacts:\/*(.*)$/.exec(rootUri);
  if (!m) return null;
  const rel = [m[1]!, path].filter((p) => p !== "").join("/");
  return "/api/2.0/mlflow-artifacts/artifacts/" + rel.split("/").map(encodeURIComponent).join("/");
}

// A failed call: the HTTP status and MLflow's {error_code, message}, shown to the user as is.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    // The error answer's other fields (the promote route's `gates`), for pages that show them as data.
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

type Query = Record<string, string | string[] | undefined>;

// index.html's inline scripts ask for a page's first data before this code has even compiled
// (a runs page's first window; a comparison's runs and histories); the first call for one of
// those exact URLs (and token) takes its answer instead of asking.
interface Early {
  url: string;
  token: string | null;
  response: Promise<Response>;
  first?: boolean; // its body is read as soon as it comes (readEarlyAnswers)
  answer?: Promise<{ status: number; text: string }>; // that body
}

function takeEarly(method: string, url: string): Early | null {
  const early = (window as { forjaEarly?: Early[] }).forjaEarly;
  const i = method === "GET" && early ? early.findIndex((e) => e.url === url && e.token === getToken()) : -1;
  return i < 0 ? null : early!.splice(i, 1)[0]!;
}

// Starts reading the bodies of the early answers index.html marks `first` (a runs page's first
// window and its experiment) as soon as they come, so the call that takes one has its text
// at once: when it came before the app's first render, the rows are drawn in the same task,
// with no frame (a style and layout of the whole page) in between. The first render does not
// wait for them: it draws the page around the rows while they are on their way.
export function readEarlyAnswers(): void {
  for (const e of (window as { forjaEarly?: Early[] }).forjaEarly ?? []) {
    if (!e.first) continue;
    e.answer = e.response.then(async (r) => ({ status: r.status, text: await r.text() }));
    e.answer.catch(() => {}); // the call that takes it says what went wrong
  }
}

async function call<T>(method: "GET" | "POST" | "DELETE", route: string, body?: unknown, query?: Query, bytes = false): Promise<T> {
  let url = route.startsWith("/") ? route : "/api/2.0/mlflow/" + route; // "/api/2.0/forja/...": forja's own
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    }
    url += "?" + q.toString();
  }
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const early = takeEarly(method, url);
  let status: number, text: string;
  try {
    if (early?.answer) ({ status, text } = await early.answer);
    else {
      const res = await (early?.response ?? fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
      // An answer that is not JSON (forja/metrics/histories' binary form): its bytes. Errors are JSON.
      if (bytes && res.ok) return (await res.arrayBuffer()) as T;
      status = res.status;
      text = await res.text();
    }
  } catch (e) {
    throw new ApiError(0, "NETWORK", "cannot reach forja server: " + String(e));
  }
  let json: unknown = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(status, "BAD_ANSWER", `${method} ${route}: the server answered ${status} with no JSON`);
  }
  if (status < 200 || status > 299) {
    const err = json as { error_code?: string; message?: string };
    const details = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
    throw new ApiError(status, err.error_code ?? "HTTP_" + status, err.message ?? `${method} ${route}: ${status}`, details);
  }
  return json as T;
}

export interface RunSearch {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

export interface RunWindowQuery {
  experimentId: string;
  filter: string;
  orderBy: string[];
  columns: string[] | null;
}

function windowParams(w: RunWindowQuery): Query {
  return {
    experiment_id: w.experimentId,
    filter: w.filter || undefined,
    order_by: w.orderBy,
    // "" (no column at all) differs from leaving it out (the server's choice).
    columns: w.columns === null ? undefined : w.columns.join(","),
  };
}

export const api = {
  searchExperiments(pageToken?: string): Promise<SearchExperimentsAnswer> {
    return call("POST", "experiments/search", {
      max_results: 1000,
      order_by: ["last_update_time DESC"],
      ...(pageToken ? { page_token: pageToken } : {}),
    });
  },

  async getExperiment(id: string): Promise<Experiment> {
    const a = await call<{ experiment: Experiment }>("GET", "experiments/get", undefined, { experiment_id: id });
    return a.experiment;
  },

  searchRuns(s: RunSearch): Promise<SearchRunsAnswer> {
    return call("POST", "runs/search", {
      experiment_ids: s.experimentIds,
      filter: s.filter ?? "",
      order_by: s.orderBy ?? [],
      max_results: s.maxResults ?? 100,
      ...(s.pageToken ? { page_token: s.pageToken } : {}),
    });
  },

  // ---- the runs table (components/RunsPage.tsx): windows, keys and groups of one experiment ----
  // columns: null lets the server choose (the experiment's params and metrics, capped).
  // count: false leaves out the count (it reads every matching run): rows come first, runsCount after.
  runsWindow(w: RunWindowQuery & { offset: number; limit: number; count?: boolean }): Promise<RunWindow> {
    return call("GET", "/api/2.0/forja/runs/window", undefined, {
      ...windowParams(w),
      offset: String(w.offset),
      limit: String(w.limit),
      ...(w.count === false ? { count: "false" } : {}),
    });
  },

  runsCount(w: { experimentId: string; filter: string }): Promise<{ total: number }> {
    return call("GET", "/api/2.0/forja/runs/count", undefined, { experiment_id: w.experimentId, filter: w.filter || undefined });
  },

  runsKeys(experimentId: string): Promise<RunKeys> {
    return call("GET", "/api/2.0/forja/runs/keys", undefined, { experiment_id: experimentId });
  },

  runsGroups(w: RunWindowQuery & { groupBy: string }): Promise<RunGroups> {
    return call("GET", "/api/2.0/forja/runs/groups", undefined, { ...windowParams(w), group_by: w.groupBy });
  },

  async getRun(id: string): Promise<Run> {
    const a = await call<{ run: Run }>("GET", "runs/get", undefined, { run_id: id });
    return a.run;
  },

  // Several runs in one call (forja/runs/get-many, at most 100), in the order asked: the
  // comparison's, beside its histories.
  async getRuns(ids: string[]): Promise<Run[]> {
    const a = await call<{ runs?: Run[] }>("GET", "/api/2.0/forja/runs/get-many", undefined, { run_ids: ids.join(",") });
    return a.runs ?? [];
  },

  // Many histories in one call (forja/metrics/histories: at most 100 runs and 100 keys, or
  // no keys: every key the runs logged; a million points in all, cut past that), in its
  // binary form, which charts/histories.ts reads.
  metricHistories(runIds: string[], keys?: string[]): Promise<ArrayBuffer> {
    const query = { run_ids: runIds.join(","), metric_keys: keys?.join(","), format: "binary" };
    return call("GET", "/api/2.0/forja/metrics/histories", undefined, query, true);
  },

  listArtifacts(runId: string, path: string): Promise<RunArtifacts> {
    return call("GET", "artifacts/list", undefined, { run_id: runId, path: path || undefined });
  },

  getLineage(runId: string): Promise<Lineage> {
    return call("GET", "/api/2.0/forja/lineage/get", undefined, { run_id: runId });
  },

  async searchModelVersionsOfRun(runId: string): Promise<ModelVersion[]> {
    const a = await call<{ model_versions?: ModelVersion[] }>("GET", "model-versions/search", undefined, {
      filter: `run_id = '${runId.replace(/'/g, "")}'`,
      max_results: "200",
    });
    return a.model_versions ?? [];
  },

  // An artifact's bytes through the server's artifact proxy, at most `limit` of them: a
  // preview never pulls a model file into the tab. `truncated` says there was more.
  async fetchArtifact(url: string, limit: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
    const res = await fetch(url, { headers: authHeaders() });
    if (!res.ok) throw new ApiError(res.status, "HTTP_" + res.status, `${url}: the server answered ${res.status}`);
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        break;
      }
    }
    const bytes = new Uint8Array(Math.min(size, limit));
    let at = 0;
    for (const p of parts) {
      const n = Math.min(p.length, bytes.length - at);
      bytes.set(p.subarray(0, n), at);
      at += n;
    }
    return { bytes, truncated: size > limit };
  },

  // ---- the registry (components/Model*.tsx; docs/ui.md "The registry") ----
  whoami(): Promise<WhoAmI> {
    return call("GET", "/api/2.0/forja/whoami");
  },

  // ---- the workspace's pipeline (pipeline/PipelinePage.tsx); 404 outside a workspace ----
  pipelineStatus(): Promise<PipelineStatus> {
    return call("GET", "/api/2.0/forja/pipeline/status");
  },

  // ---- what forja serve instances report (serving/ServingPage.tsx) and a run's logs ----
  servingInstances(): Promise<ServingInstances> {
    return call("GET", "/api/2.0/forja/serving/instances");
  },

  async recentAlerts(): Promise<ModelAlert[]> {
    const a = await call<{ alerts?: ModelAlert[] }>("GET", "/api/2.0/forja/alerts", undefined, { max_results: "50" });
    return a.alerts ?? [];
  },

  runLogs(runId: string): Promise<RunLogs> {
    return call("GET", "/api/2.0/forja/runs/logs", undefined, { run_id: runId });
  },

  searchModels(filter: string, pageToken?: string): Promise<{ registered_models?: RegisteredModel[]; next_page_token?: string }> {
    return call("GET", "registered-models/search", undefined, {
      filter: filter || undefined,
      max_results: "1000",
      order_by: "name ASC",
      page_token: pageToken,
    });
  },

  async getModel(name: string): Promise<RegisteredModel> {
    const a = await call<{ registered_model: RegisteredModel }>("GET", "registered-models/get", undefined, { name });
    return a.registered_model;
  },

  // Every version of a model, every page of them.
  async modelVersions(name: string): Promise<ModelVersionDetails[]> {
    const out: ModelVersionDetails[] = [];
    let token: string | undefined;
    do {
      const a = await call<{ model_versions?: ModelVersionDetails[]; next_page_token?: string }>(
        "GET", "model-versions/search", undefined,
        { filter: "name = " + quoted(name), max_results: "10000", page_token: token },
      );
      out.push(...(a.model_versions ?? []));
      token = a.next_page_token;
    } while (token);
    return out;
  },

  async getModelVersion(name: string, version: string): Promise<ModelVersionDetails> {
    const a = await call<{ model_version: ModelVersionDetails }>("GET", "model-versions/get", undefined, { name, version });
    return a.model_version;
  },

  async modelHistory(name: string, version?: string): Promise<Transition[]> {
    const a = await call<{ transitions?: Transition[] }>("GET", "/api/2.0/forja/models/history", undefined, { name, version });
    return a.transitions ?? [];
  },

  async modelAlerts(model: string, version: string): Promise<ModelAlert[]> {
    const a = await call<{ alerts?: ModelAlert[] }>("GET", "/api/2.0/forja/alerts", undefined, { model, version, max_results: "100" });
    return a.alerts ?? [];
  },

  // forja's promote: the gates of forja.yaml apply; `force` is an admin's override.
  async promote(p: Promotion): Promise<ModelVersionDetails> {
    const a = await call<{ model_version: ModelVersionDetails }>("POST", "/api/2.0/forja/models/promote", p);
    return a.model_version;
  },

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await call("POST", "registered-models/alias", { name, alias, version });
  },

  async deleteAlias(name: string, alias: string): Promise<void> {
    await call("DELETE", "registered-models/alias", { name, alias });
  },
};

// A string literal of MLflow's filter grammar, any text: quotes and backslashes escaped.
export function quoted(s: string): string {
  return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}
