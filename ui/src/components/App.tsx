import type { ComponentType } from "preact";
import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import { getToken, setToken } from "../api";
import { useRoute } from "../router";
import { SessionContext, type Session } from "../session";
import { ExperimentList } from "./ExperimentList";
import { Login } from "./Login";
import { RunsPage } from "./RunsPage";

// The pages besides the experiments and their runs are chunks of their own, fetched when
// first shown: the runs page, where most visits start, then compiles only its own code
// (a third of the whole), which is time before its first rows.
function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let page: ComponentType<P> | null = null;
  let loading: Promise<ComponentType<P>> | null = null;
  return function LazyPage(props: P) {
    const [, setLoaded] = useState(false);
    const [error, setError] = useState<string | null>(null);
    // Asked for in the first render, and followed from a layout effect: an effect would wait
    // for the next frame to be painted, and the page a frame longer.
    if (!page) loading ??= load();
    useLayoutEffect(() => {
      if (page) return;
      let live = true;
      (loading ??= load()).then(
        (p) => {
          page = p;
          if (live) setLoaded(true);
        },
        (e: unknown) => {
          loading = null; // a later visit tries again
          if (live) setError(String(e));
        },
      );
      return () => {
        live = false;
      };
    }, []);
    const Page = page;
    if (Page) return <Page {...props} />;
    if (error !== null)
      return (
        <p class="error" role="alert">
          This page's code did not load ({error}): reload the page.
        </p>
      );
    return <p class="muted">Loading…</p>;
  };
}

const RunPage = lazyPage(() => import("./RunPage").then((m) => m.RunPage));
const ComparePage = lazyPage(() => import("../compare/ComparePage").then((m) => m.ComparePage));
const ModelsPage = lazyPage(() => import("./ModelsPage").then((m) => m.ModelsPage));
const ModelPage = lazyPage(() => import("./ModelPage").then((m) => m.ModelPage));
const ModelVersionPage = lazyPage(() => import("./ModelVersionPage").then((m) => m.ModelVersionPage));
const PipelinePage = lazyPage(() => import("../pipeline/PipelinePage").then((m) => m.PipelinePage));
const ServingPage = lazyPage(() => import("../serving/ServingPage").then((m) => m.ServingPage));

export function App() {
  const route = useRoute();
  const [generation, setGeneration] = useState(0);
  const [loginMessage, setLoginMessage] = useState<string | null>(null);
  const session = useMemo<Session>(() => ({ generation, requireLogin: (m) => setLoginMessage(m) }), [generation]);

  const login = (token: string) => {
    setToken(token);
    setLoginMessage(null);
    setGeneration((g) => g + 1);
  };
  const logout = () => {
    setToken(null);
    setGeneration((g) => g + 1);
  };

  let page;
  if (loginMessage !== null) page = <Login message={loginMessage} onLogin={login} />;
  else if (route.page === "experiments") page = <ExperimentList />;
  else if (route.page === "runs") page = <RunsPage experimentId={route.experimentId} query={route.query} />;
  else if (route.page === "run") page = <RunPage experimentId={route.experimentId} runId={route.runId} />;
  else if (route.page === "compare") page = <ComparePage runIds={route.runIds} />;
  else if (route.page === "models") page = <ModelsPage search={route.search} />;
  else if (route.page === "model") page = <ModelPage name={route.name} />;
  else if (route.page === "model-version") page = <ModelVersionPage name={route.name} version={route.version} />;
  else if (route.page === "pipelines") page = <PipelinePage stage={route.stage} />;
  else if (route.page === "serving") page = <ServingPage />;
  else page = <p class="error">No page at {route.path}. <a href="#/experiments">Experiments</a></p>;

  return (
    <SessionContext.Provider value={session}>
      <header class="top">
        <a class="brand" href="#/experiments">
          forja
        </a>
        <nav>
          <a href="#/experiments">Experiments</a>
          <a href="#/models">Models</a>
          <a href="#/pipelines">Pipeline</a>
          <a href="#/serving">Serving</a>
        </nav>
        <span class="spacer" />
        {getToken() ? (
          <button type="button" class="link" onClick={logout}>
            Log out
          </button>
        ) : null}
      </header>
      <main>{page}</main>
    </SessionContext.Provider>
  );
}
