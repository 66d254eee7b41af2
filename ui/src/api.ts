// The one way the UI talks to forja server: MLflow's REST API under /api/2.0/mlflow/.
// The token (when the server needs one) comes from the login form and is kept in
// sessionStorage: it lasts as long as the tab, and is sent only to this origin.
import type { Experiment, Run, SearchExperimentsAnswer, SearchRunsAnswer } from "./types";

const TOKEN_KEY = "forja.token";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// A failed call: the HTTP status and MLflow's {error_code, message}, shown to the user as is.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

type Query = Record<string, string | string[] | undefined>;

async function call<T>(method: "GET" | "POST", route: string, body?: unknown, query?: Query): Promise<T> {
  let url = "/api/2.0/mlflow/" + route;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    }
    url += "?" + q.toString();
  }
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "NETWORK", "cannot reach forja server: " + String(e));
  }
  const text = await res.text();
  let json: unknown = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, "BAD_ANSWER", `${method} ${route}: the server answered ${res.status} with no JSON`);
  }
  if (!res.ok) {
    const err = json as { error_code?: string; message?: string };
    throw new ApiError(res.status, err.error_code ?? "HTTP_" + res.status, err.message ?? `${method} ${route}: ${res.status}`);
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

  async getRun(id: string): Promise<Run> {
    const a = await call<{ run: Run }>("GET", "runs/get", undefined, { run_id: id });
    return a.run;
  },
};
