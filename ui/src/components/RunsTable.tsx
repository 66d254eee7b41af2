// The runs as a table: fixed columns, then one per param and per metric the runs have.
// Sorting is the server's (the caller turns a Sort into order_by), so it holds across pages.
import { formatDuration, formatMetric, formatTime, runName } from "../format";
import { href } from "../router";
import type { Run } from "../types";

export interface Sort {
  column: string; // "attributes.start_time", "metrics.rmse", "params.lr"
  descending: boolean;
}

interface Column {
  id: string;
  label: string;
  group: "attributes" | "params" | "metrics";
  cell: (r: Run) => string;
}

function columnsFor(runs: Run[]): Column[] {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of runs) {
    for (const p of r.data.params ?? []) params.add(p.key);
    for (const m of r.data.metrics ?? []) metrics.add(m.key);
  }
  const cols: Column[] = [
    { id: "attributes.status", label: "Status", group: "attributes", cell: (r) => r.info.status ?? "" },
    { id: "attributes.start_time", label: "Started", group: "attributes", cell: (r) => formatTime(r.info.start_time) },
    { id: "", label: "Duration", group: "attributes", cell: (r) => formatDuration(r.info.start_time, r.info.end_time) },
  ];
  for (const k of [...params].sort())
    cols.push({ id: "params." + k, label: k, group: "params", cell: (r) => r.data.params?.find((p) => p.key === k)?.value ?? "" });
  for (const k of [...metrics].sort())
    cols.push({
      id: "metrics." + k,
      label: k,
      group: "metrics",
      cell: (r) => formatMetric(r.data.metrics?.find((m) => m.key === k)?.value),
    });
  return cols;
}

function SortHeader({ id, label, sort, onSort, title }: { id: string; label: string; sort: Sort | null; onSort: (s: Sort) => void; title?: string }) {
  if (!id) return <th scope="col">{label}</th>;
  const active = sort?.column === id;
  const ariaSort = active ? (sort!.descending ? "descending" : "ascending") : "none";
  return (
    <th scope="col" aria-sort={ariaSort} data-column={id} title={title}>
      <button type="button" class="sort" onClick={() => onSort({ column: id, descending: active ? !sort!.descending : true })}>
        {label}
        <span class="arrow" aria-hidden="true">
          {active ? (sort!.descending ? " ▼" : " ▲") : ""}
        </span>
      </button>
    </th>
  );
}

// `selected` holds the runs ticked for a comparison.
export function RunsTable({
  experimentId,
  runs,
  sort,
  onSort,
  selected,
  onSelect,
}: {
  experimentId: string;
  runs: Run[];
  sort: Sort | null;
  onSort: (s: Sort) => void;
  selected: Set<string>;
  onSelect: (runId: string, on: boolean) => void;
}) {
  if (runs.length === 0) return <p class="muted">No runs match.</p>;
  const cols = columnsFor(runs);
  const nParams = cols.filter((c) => c.group === "params").length;
  const nMetrics = cols.filter((c) => c.group === "metrics").length;
  return (
    <div class="table-wrap">
      <table class="grid runs">
        <thead>
          <tr class="groups">
            <th colSpan={5} />
            {nParams > 0 && <th colSpan={nParams}>Parameters</th>}
            {nMetrics > 0 && <th colSpan={nMetrics}>Metrics</th>}
          </tr>
          <tr>
            <th scope="col" class="select">
              <span class="visually-hidden">Compare</span>
            </th>
            <SortHeader id="attributes.run_name" label="Run" sort={sort} onSort={onSort} />
            {cols.map((c) => (
              <SortHeader key={c.id || c.label} id={c.id} label={c.label} sort={sort} onSort={onSort} title={c.id || undefined} />
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.info.run_id} data-run-id={r.info.run_id}>
              <td class="select">
                <input
                  type="checkbox"
                  aria-label={"Compare " + runName(r)}
                  checked={selected.has(r.info.run_id)}
                  onChange={(e) => onSelect(r.info.run_id, (e.target as HTMLInputElement).checked)}
                />
              </td>
              <td class="run-name">
                <a href={href({ page: "run", experimentId, runId: r.info.run_id })}>{runName(r)}</a>
              </td>
              {cols.map((c) => (
                <td key={c.id || c.label} class={c.group === "metrics" ? "num" : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
