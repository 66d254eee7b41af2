import { useMemo, useState } from "preact/hooks";
import { getToken, setToken } from "../api";
import { ComparePage } from "../compare/ComparePage";
import { PipelinePage } from "../pipeline/PipelinePage";
import { useRoute } from "../router";
import { ServingPage } from "../serving/ServingPage";
import { SessionContext, type Session } from "../session";
import { ExperimentList } from "./ExperimentList";
import { Login } from "./Login";
import { ModelPage } from "./ModelPage";
import { ModelsPage } from "./ModelsPage";
import { ModelVersionPage } from "./ModelVersionPage";
import { RunPage } from "./RunPage";
import { RunsPage } from "./RunsPage";

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
