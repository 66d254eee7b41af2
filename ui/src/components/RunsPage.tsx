// One experiment's runs: a filter in MLflow's grammar, a table sorted by the server
// (order_by) when a column's header is clicked, and further pages on demand. The filter
// and the sort live in the URL, so a view can be linked to and survives a reload.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { navigate } from "../router";
import { useLoad } from "../session";
import type { Run } from "../types";
import { ErrorBox } from "./ErrorBox";
import { FilterBox } from "./FilterBox";
import { RunsTable, type Sort } from "./RunsTable";

const PAGE = 100;

// "metrics.rmse" + desc -> "metrics.`rmse` DESC": backticks let any key through MLflow's grammar.
export function orderByClause(sort: Sort): string {
  const dot = sort.column.indexOf(".");
  const entity = sort.column.slice(0, dot);
  const key = sort.column.slice(dot + 1).replace(/`/g, "");
  return `${entity}.\`${key}\` ${sort.descending ? "DESC" : "ASC"}`;
}

function sortFrom(query: URLSearchParams): Sort | null {
  const column = query.get("sort");
  if (!column || column.indexOf(".") <= 0) return null;
  return { column, descending: query.get("dir") !== "asc" };
}

export function RunsPage({ experimentId, query }: { experimentId: string; query: URLSearchParams }) {
  const filter = query.get("filter") ?? "";
  const sort = sortFrom(query);
  const orderBy = sort ? [orderByClause(sort)] : [];
  const orderKey = orderBy.join();

  const experiment = useLoad(() => api.getExperiment(experimentId), [experimentId]);
  const first = useLoad(
    () => api.searchRuns({ experimentIds: [experimentId], filter, orderBy, maxResults: PAGE }),
    [experimentId, filter, orderKey],
  );

  // Pages after the first, appended by "Load more"; dropped when the search changes.
  const [more, setMore] = useState<{ runs: Run[]; token: string | undefined; error: ApiError | null }>({
    runs: [],
    token: undefined,
    error: null,
  });
  useEffect(() => {
    setMore({ runs: [], token: first.state === "ok" ? first.data.next_page_token : undefined, error: null });
  }, [first]);
  const loadMore = async () => {
    if (!more.token) return;
    try {
      const a = await api.searchRuns({ experimentIds: [experimentId], filter, orderBy, maxResults: PAGE, pageToken: more.token });
      setMore((m) => ({ runs: [...m.runs, ...(a.runs ?? [])], token: a.next_page_token, error: null }));
    } catch (e) {
      setMore((m) => ({ ...m, error: e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)) }));
    }
  };

  // Runs ticked for a comparison; kept across filters and sorts of this experiment.
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [experimentId]);
  const select = (id: string, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });

  const go = (next: { filter?: string; sort?: Sort | null }) => {
    const q = new URLSearchParams();
    const f = next.filter ?? filter;
    const s = next.sort === undefined ? sort : next.sort;
    if (f) q.set("filter", f);
    if (s) {
      q.set("sort", s.column);
      q.set("dir", s.descending ? "desc" : "asc");
    }
    navigate({ page: "runs", experimentId, query: q });
  };

  // A 400 on a search with a filter is the parser's message about that filter.
  const filterError = first.state === "error" && first.error.status === 400 && filter ? first.error : null;
  const runs = first.state === "ok" ? [...(first.data.runs ?? []), ...more.runs] : [];

  return (
    <section>
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </p>
      <h1 class="experiment-name">
        {experiment.state === "ok" ? experiment.data.name : experiment.state === "error" ? "Experiment " + experimentId : "…"}
      </h1>
      {experiment.state === "error" && <ErrorBox error={experiment.error} />}
      <FilterBox value={filter} error={filterError} onSubmit={(f) => go({ filter: f })} />
      {first.state === "loading" && <p class="muted">Loading…</p>}
      {first.state === "error" && !filterError && <ErrorBox error={first.error} />}
      {first.state === "ok" && (
        <>
          <p class="muted run-count">
            {runs.length} run{runs.length === 1 ? "" : "s"}
            {more.token ? " shown" : ""}
          </p>
          <div class="compare-bar">
            <button
              type="button"
              disabled={selected.size < 2}
              onClick={() => navigate({ page: "compare", runIds: [...selected], experimentIds: [experimentId] })}
            >
              Compare{selected.size ? ` ${selected.size} runs` : ""}
            </button>
            {selected.size < 2 && <span class="muted"> tick two runs or more to compare them</span>}
          </div>
          <RunsTable experimentId={experimentId} runs={runs} sort={sort} onSort={(s) => go({ sort: s })} selected={selected} onSelect={select} />
          {more.token && (
            <button type="button" class="more" onClick={loadMore}>
              Load more
            </button>
          )}
          {more.error && <ErrorBox error={more.error} />}
        </>
      )}
    </section>
  );
}
