// Hash routes, in MLflow's URL scheme, so the links MLflow clients print
// (http://host:5000/#/experiments/1/runs/abc) open the same thing here:
//   #/                                  the experiments
//   #/experiments/ID?filter=..&sort=..&dir=..&cols=..&group=..  one experiment's runs (a saved view)
//   #/experiments/ID/runs/RUN           one run
//   #/compare-runs?runs=["a","b"]       runs side by side (MLflow's URL; #/compare?runs=a,b too)
//   #/models?q=NAME                     the registered models (q: a name to search for)
//   #/models/NAME                       one model: its versions and promotion history
//   #/models/NAME/versions/N            one version (MLflow's URL)
//   #/pipelines?stage=NAME              the workspace's pipeline (stage: the one shown in detail)
//   #/serving                           what forja serve instances report: traffic, drift, alerts
// A hash route needs nothing from the server: forja server answers index.html at /.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "experiments" }
  | { page: "runs"; experimentId: string; query: URLSearchParams }
  | { page: "run"; experimentId: string; runId: string }
  | { page: "compare"; runIds: string[]; experimentIds: string[] }
  | { page: "models"; search: string }
  | { page: "model"; name: string }
  | { page: "model-version"; name: string; version: string }
  | { page: "pipelines"; stage: string }
  | { page: "serving" }
  | { page: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const q = text.indexOf("?");
  const path = q < 0 ? text : text.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : text.slice(q + 1));
  const parts = path.split("/").filter((p) => p !== "").map(safeDecode);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "experiments")) return { page: "experiments" };
  if (parts[0] === "experiments" && parts.length === 2) return { page: "runs", experimentId: parts[1]!, query };
  if (parts[0] === "experiments" && parts.length === 4 && parts[2] === "runs")
    return { page: "run", experimentId: parts[1]!, runId: parts[3]! };
  if (parts.length === 1 && (parts[0] === "compare-runs" || parts[0] === "compare"))
    return { page: "compare", runIds: idList(query.get("runs")), experimentIds: idList(query.get("experiments")) };
  if (parts[0] === "models" && parts.length === 1) return { page: "models", search: query.get("q") ?? "" };
  if (parts[0] === "models" && parts.length === 2) return { page: "model", name: parts[1]! };
  if (parts[0] === "models" && parts.length === 4 && parts[2] === "versions")
    return { page: "model-version", name: parts[1]!, version: parts[3]! };
  if (parts.length === 1 && parts[0] === "pipelines") return { page: "pipelines", stage: query.get("stage") ?? "" };
  if (parts.length === 1 && parts[0] === "serving") return { page: "serving" };
  return { page: "not-found", path };
}

// MLflow writes ["a","b"] (JSON); a,b is accepted too, for URLs typed by hand.
function idList(v: string | null): string[] {
  if (!v) return [];
  if (v.startsWith("[")) {
    try {
      const a: unknown = JSON.parse(v);
      if (Array.isArray(a)) return a.map(String).filter((x) => x !== "");
    } catch {
      /* not JSON: read it as a comma list */
    }
  }
  return v.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// The hash for a route: what links point at.
export function href(route: Route): string {
  switch (route.page) {
    case "experiments":
      return "#/experiments";
    case "runs": {
      const q = route.query.toString();
      return `#/experiments/${encodeURIComponent(route.experimentId)}${q ? "?" + q : ""}`;
    }
    case "run":
      return `#/experiments/${encodeURIComponent(route.experimentId)}/runs/${encodeURIComponent(route.runId)}`;
    case "compare": {
      const q = new URLSearchParams({ runs: JSON.stringify(route.runIds) });
      if (route.experimentIds.length) q.set("experiments", JSON.stringify(route.experimentIds));
      return "#/compare-runs?" + q.toString();
    }
    case "models":
      return "#/models" + (route.search ? "?" + new URLSearchParams({ q: route.search }).toString() : "");
    case "model":
      return `#/models/${encodeURIComponent(route.name)}`;
    case "model-version":
      return `#/models/${encodeURIComponent(route.name)}/versions/${encodeURIComponent(route.version)}`;
    case "pipelines":
      return "#/pipelines" + (route.stage ? "?" + new URLSearchParams({ stage: route.stage }).toString() : "");
    case "serving":
      return "#/serving";
    case "not-found":
      return "#" + route.path;
  }
}

// useRoute's callers, told by navigate() at once: the hashchange event comes a task later,
// queued behind whatever the page does, and a submitted filter would wait for it to fetch.
const routeListeners = new Set<() => void>();

export function navigate(route: Route): void {
  const h = href(route);
  if (location.hash === h) return;
  // pushState, not location.hash = h: that scrolls to the fragment, a layout of the whole page
  // (13 ms with the runs table on a loaded machine) before the new route can start. Back and
  // forward still fire hashchange between these entries.
  history.pushState(null, "", h);
  for (const l of routeListeners) l();
}

// The current route; re-renders the caller on every hash change.
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    let shown = location.hash;
    const onChange = () => {
      if (location.hash === shown) return; // navigate() has shown it already
      shown = location.hash;
      setRoute(parseRoute(shown));
    };
    routeListeners.add(onChange);
    window.addEventListener("hashchange", onChange);
    return () => {
      routeListeners.delete(onChange);
      window.removeEventListener("hashchange", onChange);
    };
  }, []);
  return route;
}
