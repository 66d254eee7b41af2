// One experiment's runs: a filter in MLflow's grammar, a virtual table of every matching run
// (windows fetched as it scrolls), sorted by the server (order_by) when a column's header is
// clicked, the columns chosen, or the runs grouped by a param. The filter, sort, columns
// (cols=) and grouping (group=) live in the URL, so a view can be linked to and survives a reload.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { formatCount } from "../format";
import { navigate } from "../router";
import { useLoad } from "../session";
import { ColumnPicker } from "./ColumnPicker";
import { ErrorBox } from "./ErrorBox";
import { FilterBox } from "./FilterBox";
import { RunGroupsTable } from "./RunGroups";
import { RunsTable, type Sort } from "./RunsTable";
import { useRunWindows } from "./runWindows";

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

// cols=params.lr,metrics.rmse (MLflow's keys have no commas); absent: the server's choice.
function colsFrom(query: URLSearchParams): string[] | null {
  const v = query.get("cols");
  if (v === null) return null;
  return v.split(",").filter((c) => /^(params|metrics|tags)\../.test(c));
}

interface View {
  filter: string;
  sort: Sort | null;
  cols: string[] | null;
  group: string;
}

export function RunsPage({ experimentId, query }: { experimentId: string; query: URLSearchParams }) {
  const view: View = { filter: query.get("filter") ?? "", sort: sortFrom(query), cols: colsFrom(query), group: query.get("group") ?? "" };
  const orderBy = view.sort ? [orderByClause(view.sort)] : [];
  const search = { experimentId, filter: view.filter, orderBy, columns: view.cols };

  const experiment = useLoad(() => api.getExperiment(experimentId), [experimentId]);
  const data = useRunWindows(search);
  // The keys for the column and grouping controls: the first window brings them when the server
  // chose the columns; with cols= in the URL they are asked for beside it, not before it.
  const askKeys = view.cols !== null;
  const asked = useLoad(() => (askKeys ? api.runsKeys(experimentId) : Promise.resolve(null)), [experimentId, askKeys]);
  const keys = (asked.state === "ok" ? asked.data : null) ?? data.keys;

  // Runs ticked for a comparison; kept across scrolling, filters and sorts of this experiment.
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [experimentId]);
  const select = (id: string, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });

  const go = (next: Partial<View>) => {
    const v = { ...view, ...next };
    const q = new URLSearchParams();
    if (v.filter) q.set("filter", v.filter);
    if (v.sort) {
      q.set("sort", v.sort.column);
      q.set("dir", v.sort.descending ? "desc" : "asc");
    }
    if (v.cols !== null) q.set("cols", v.cols.join(","));
    if (v.group) q.set("group", v.group);
    navigate({ page: "runs", experimentId, query: q });
  };

  // A 400 on a search with a filter is the parser's message about that filter.
  const filterError = data.error && data.error.status === 400 && view.filter ? data.error : null;
  const shown = data.columns ?? view.cols ?? [];
  const total = data.total;

  return (
    <section>
      <p class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </p>
      <h1 class="experiment-name">
        {experiment.state === "ok" ? experiment.data.name : experiment.state === "error" ? "Experiment " + experimentId : "…"}
      </h1>
      {experiment.state === "error" && <ErrorBox error={experiment.error} />}
      <FilterBox value={view.filter} error={filterError} onSubmit={(f) => go({ filter: f })} />
      <div class="table-controls">
        <ColumnPicker keys={keys} shown={shown} onChange={(cols) => go({ cols })} />
        <label class="group-by">
          Group by{" "}
          <select value={view.group} onChange={(e) => go({ group: (e.target as HTMLSelectElement).value })}>
            <option value="">(no grouping)</option>
            {(keys ? keys.params : view.group ? [view.group] : []).map((k) => (
              <option key={k} value={k}>
                params.{k}
              </option>
            ))}
          </select>
        </label>
      </div>
      {data.error && !filterError && <ErrorBox error={data.error} />}
      {total === null && !data.error && <p class="muted">Loading…</p>}
      {total !== null && (
        <>
          <p class="muted run-count">
            {data.counted ? `${formatCount(total)} run${total === 1 ? "" : "s"}` : `${formatCount(total - 1)}+ runs (counting…)`}
          </p>
          {view.group ? (
            <RunGroupsTable
              search={search}
              groupBy={view.group}
              onOpen={(clause) => go({ filter: view.filter ? `${view.filter} and ${clause}` : clause, group: "" })}
            />
          ) : (
            <>
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
              {total === 0 ? (
                <p class="muted">No runs match.</p>
              ) : (
                <RunsTable
                  experimentId={experimentId}
                  data={data}
                  resetKey={JSON.stringify(search)}
                  sort={view.sort}
                  onSort={(s) => go({ sort: s })}
                  selected={selected}
                  onSelect={select}
                />
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
