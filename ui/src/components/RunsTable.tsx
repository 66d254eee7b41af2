// The runs as a virtual table: its scroll height stands for every matching run, but only
// the rows on screen (and OVERSCAN more each side) are in the DOM; the rest are two spacer
// rows. Rows not fetched yet show as placeholders until their window arrives (runWindows.ts).
// Sorting is the server's (the caller turns a Sort into order_by), so it holds at any offset.
import { Component } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { formatDuration, formatMetric, formatTime } from "../format";
import { href } from "../router";
import type { RunRow } from "../types";
import type { RunWindows } from "./runWindows";

export interface Sort {
  column: string; // "attributes.start_time", "metrics.rmse", "params.lr"
  descending: boolean;
}

const OVERSCAN = 10;
const DEFAULT_ROW_HEIGHT = 33; // px; measured from a rendered row once there is one

interface Column {
  id: string;
  label: string;
  group: "attributes" | "params" | "metrics" | "tags";
  cell: (r: RunRow) => string;
}

const GROUP_LABEL = { params: "Parameters", metrics: "Metrics", tags: "Tags" } as const;

// The fixed columns, then one per chosen column ("params.lr", "metrics.rmse", "tags.team").
function columnsFor(chosen: string[]): Column[] {
  const cols: Column[] = [
    { id: "attributes.status", label: "Status", group: "attributes", cell: (r) => r.status ?? "" },
    { id: "attributes.start_time", label: "Started", group: "attributes", cell: (r) => formatTime(r.start_time) },
    { id: "", label: "Duration", group: "attributes", cell: (r) => formatDuration(r.start_time, r.end_time) },
  ];
  for (const c of chosen) {
    const dot = c.indexOf(".");
    const group = c.slice(0, dot);
    const k = c.slice(dot + 1);
    if (group === "params") cols.push({ id: c, label: k, group, cell: (r) => r.params[k] ?? "" });
    else if (group === "metrics") cols.push({ id: c, label: k, group, cell: (r) => formatMetric(r.metrics[k]) });
    else if (group === "tags") cols.push({ id: c, label: k, group, cell: (r) => r.tags[k] ?? "" });
  }
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

interface RowProps {
  run: RunRow;
  index: number;
  cols: Column[];
  checked: boolean;
  onSelect: (runId: string, on: boolean) => void;
  experimentId: string;
}

// One fetched run. Drawn again only when its run, place, columns or tick change: ticking a
// run redraws that row alone, not every row on screen (the click's frame waits for it).
class Row extends Component<RowProps> {
  shouldComponentUpdate(n: RowProps): boolean {
    const p = this.props;
    return n.run !== p.run || n.index !== p.index || n.cols !== p.cols || n.checked !== p.checked || n.experimentId !== p.experimentId;
  }

  render({ run: r, index, cols, checked, experimentId }: RowProps) {
    const name = r.run_name || r.run_id;
    return (
      <tr class="run" data-run-id={r.run_id} aria-rowindex={index + 3}>
        <td class="select">
          <input
            type="checkbox"
            aria-label={"Compare " + name}
            checked={checked}
            onChange={(e) => this.props.onSelect(r.run_id, (e.target as HTMLInputElement).checked)}
          />
        </td>
        <td class="run-name">
          <a href={href({ page: "run", experimentId, runId: r.run_id })}>{name}</a>
        </td>
        {cols.map((c) => {
          const text = c.cell(r);
          return (
            <td key={c.id || c.label} class={c.group === "metrics" ? "num" : undefined} title={c.group === "attributes" ? undefined : text}>
              {text}
            </td>
          );
        })}
      </tr>
    );
  }
}

// The rows first to last: a placeholder for a row whose window has not arrived.
function runRows(
  data: RunWindows,
  first: number,
  last: number,
  cols: Column[],
  selected: Set<string>,
  onSelect: (runId: string, on: boolean) => void,
  experimentId: string,
) {
  const rows = [];
  for (let i = first; i <= last; i++) {
    const r = data.rowAt(i);
    if (!r) {
      rows.push(
        <tr key={"i" + i} class="run loading" aria-rowindex={i + 3}>
          <td colSpan={cols.length + 2} class="muted">
            …
          </td>
        </tr>,
      );
      continue;
    }
    rows.push(
      <Row key={r.run_id} run={r} index={i} cols={cols} checked={selected.has(r.run_id)} onSelect={onSelect} experimentId={experimentId} />,
    );
  }
  return rows;
}

// `selected` holds the runs ticked for a comparison (by id: it survives scrolling away).
// `resetKey` changes with the query: the table scrolls back to the top.
export function RunsTable({
  experimentId,
  data,
  resetKey,
  sort,
  onSort,
  selected,
  onSelect,
}: {
  experimentId: string;
  data: RunWindows;
  resetKey: string;
  sort: Sort | null;
  onSort: (s: Sort) => void;
  selected: Set<string>;
  onSelect: (runId: string, on: boolean) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLTableSectionElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [rowHeight, setRowHeight] = useState(DEFAULT_ROW_HEIGHT);
  const frame = useRef(0);
  const total = data.total ?? 0;

  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [resetKey]);

  const headHeight = head.current?.offsetHeight ?? 0;
  // The scroller is at most the window less 15rem (styles.css), and known once it is drawn.
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const onScreen = Math.ceil(Math.max(scroller.current?.clientHeight ?? 0, window.innerHeight - 15 * rem) / rowHeight);
  const top = Math.floor(Math.max(0, scrollTop - headHeight) / rowHeight);
  // No overscan until the first scroll: the first rows cost less to draw.
  const overscan = scrollTop > 0 ? OVERSCAN : 0;
  const first = Math.max(0, top - overscan);
  const last = Math.min(total - 1, top + onScreen + overscan);

  useEffect(() => data.want(first, Math.max(first, last)), [first, last, data.total, resetKey]);

  // The real row height (fonts, zoom), so the spacers put far rows where the scroll bar says.
  // Only a fetched row is measured: were a placeholder a pixel shorter, the two would take
  // turns setting it and the table would re-render forever at a window's edge.
  useLayoutEffect(() => {
    const row = scroller.current?.querySelector<HTMLElement>("tbody tr.run[data-run-id]");
    if (row && Math.abs(row.offsetHeight - rowHeight) > 0.5) setRowHeight(row.offsetHeight);
  });

  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setScrollTop(scroller.current?.scrollTop ?? 0));
  };

  const cols = useMemo(() => columnsFor(data.columns ?? []), [data.columns]);
  const span = (g: Column["group"]) => cols.filter((c) => c.group === g).length;
  const width = cols.length + 2;
  // The rows change only with the windows, the range, the columns and the ticks: an answer
  // that changes none of them (the count, the experiment's name) re-renders the page without
  // building or diffing a row.
  const rows = useMemo(
    () => runRows(data, first, last, cols, selected, onSelect, experimentId),
    [data.version, data.columns, first, last, selected, experimentId, resetKey],
  );
  const below = Math.max(0, total - 1 - last);
  return (
    <div class="table-wrap runs-scroll" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label="Runs">
      <table class="grid runs" aria-rowcount={total + 2}>
        <thead ref={head}>
          <tr class="groups" aria-rowindex={1}>
            <th colSpan={5} />
            {(["params", "metrics", "tags"] as const).map((g) => span(g) > 0 && <th key={g} colSpan={span(g)}>{GROUP_LABEL[g]}</th>)}
          </tr>
          <tr aria-rowindex={2}>
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
          {first > 0 && (
            <tr class="spacer" aria-hidden="true" style={{ height: first * rowHeight + "px" }}>
              <td colSpan={width} />
            </tr>
          )}
          {rows}
          {below > 0 && (
            <tr class="spacer" aria-hidden="true" style={{ height: below * rowHeight + "px" }}>
              <td colSpan={width} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
