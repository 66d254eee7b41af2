// The runs as a virtual table: its scroll height stands for every matching run, but only
// the rows on screen (and OVERSCAN more each side) are in the DOM; the rest are two spacer
// rows. Rows not fetched yet show as placeholders until their window arrives (runWindows.ts).
// Sorting is the server's (the caller turns a Sort into order_by), so it holds at any offset.
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

// The rows are drawn with the DOM's own calls rather than as Preact elements: a screenful of
// runs is some 500 cells, which Preact's first render (code not yet optimized) took 30-50 ms
// to build and diff, where these calls take a few (tests/ui/runs_page.mjs checks the rows;
// bench/ui/phases.mjs times them). Text goes in as textContent, never as markup.
interface Drawn {
  tr: HTMLTableRowElement;
  run: RunRow | undefined; // undefined: a placeholder for a row not fetched yet
  index: number;
  cols: Column[];
}

function cell(tr: HTMLTableRowElement, cls?: string): HTMLTableCellElement {
  const td = tr.insertCell();
  if (cls) td.className = cls;
  return td;
}

function runRow(r: RunRow, index: number, cols: Column[], experimentId: string): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "run";
  tr.dataset.runId = r.run_id;
  tr.setAttribute("aria-rowindex", String(index + 3));
  const name = r.run_name || r.run_id;
  const box = document.createElement("input");
  box.type = "checkbox";
  box.setAttribute("aria-label", "Compare " + name);
  cell(tr, "select").append(box);
  const a = document.createElement("a");
  a.href = href({ page: "run", experimentId, runId: r.run_id });
  a.textContent = name;
  cell(tr, "run-name").append(a);
  for (const c of cols) {
    const td = cell(tr, c.group === "metrics" ? "num" : undefined);
    const text = c.cell(r);
    td.textContent = text;
    if (c.group !== "attributes") td.title = text;
  }
  return tr;
}

function placeholderRow(index: number, width: number): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "run loading";
  tr.setAttribute("aria-rowindex", String(index + 3));
  const td = cell(tr, "muted");
  td.colSpan = width;
  td.textContent = "…";
  return tr;
}

// Puts rows first..last in the tbody, reusing the rows already drawn for the same
// run, place and columns; those stay where they are (a focused checkbox keeps its focus).
function drawRows(
  body: HTMLTableSectionElement,
  drawn: Map<string, Drawn>,
  data: RunWindows,
  first: number,
  last: number,
  cols: Column[],
  experimentId: string,
): Map<string, Drawn> {
  const next = new Map<string, Drawn>();
  for (let i = first; i <= last; i++) {
    const run = data.rowAt(i);
    const key = run ? run.run_id : "i" + i;
    let d = drawn.get(key);
    if (!d || d.run !== run || d.index !== i || d.cols !== cols)
      d = { tr: run ? runRow(run, i, cols, experimentId) : placeholderRow(i, cols.length + 2), run, index: i, cols };
    next.set(key, d);
  }
  for (const [key, d] of drawn) if (next.get(key) !== d) d.tr.remove();
  let at = body.firstChild;
  for (const d of next.values()) {
    if (d.tr === at) at = at.nextSibling;
    else body.insertBefore(d.tr, at);
  }
  return next;
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
  const body = useRef<HTMLTableSectionElement>(null);
  const drawn = useRef(new Map<string, Drawn>());
  const total = data.total ?? 0;

  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [resetKey]);

  const headHeight = head.current?.offsetHeight ?? 0;
  // The scroller is at most the window less 15rem (styles.css), and known once it is drawn.
  // Before, the rem is taken as 16 px: reading it would compute the page's style twice.
  const rem = scroller.current ? parseFloat(getComputedStyle(document.documentElement).fontSize) || 16 : 16;
  const onScreen = Math.ceil(Math.max(scroller.current?.clientHeight ?? 0, window.innerHeight - 15 * rem) / rowHeight);
  const top = Math.floor(Math.max(0, scrollTop - headHeight) / rowHeight);
  // No overscan until the first scroll: the first rows cost less to draw.
  const overscan = scrollTop > 0 ? OVERSCAN : 0;
  const first = Math.max(0, top - overscan);
  const last = Math.min(total - 1, top + onScreen + overscan);

  useEffect(() => data.want(first, Math.max(first, last)), [first, last, data.total, resetKey]);

  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setScrollTop(scroller.current?.scrollTop ?? 0));
  };

  const cols = useMemo(() => columnsFor(data.columns ?? []), [data.columns]);
  const span = (g: Column["group"]) => cols.filter((c) => c.group === g).length;
  const below = Math.max(0, total - 1 - last);

  // The rows change only with the windows, the range and the columns (an answer that changes
  // none of them, the count or the experiment's name, draws no row); the ticks are set on the
  // rows drawn whenever they change.
  useLayoutEffect(() => {
    drawn.current = drawRows(body.current!, drawn.current, data, first, last, cols, experimentId);
    // Once drawn, the real row height (fonts, zoom), so the spacers put far rows where the
    // scroll bar says. Only a fetched row is measured: were a placeholder a pixel shorter, the
    // two would take turns setting it and the table would re-render forever at a window's edge.
    const row = body.current!.querySelector<HTMLElement>("tr.run[data-run-id]");
    if (row && Math.abs(row.offsetHeight - rowHeight) > 0.5) setRowHeight(row.offsetHeight);
  }, [data.version, cols, first, last, experimentId, resetKey]);
  useLayoutEffect(() => {
    for (const d of drawn.current.values()) {
      const box = d.run ? d.tr.querySelector("input") : null;
      if (box) box.checked = selected.has(d.run!.run_id);
    }
  }, [selected, data.version, cols, first, last, experimentId, resetKey]);

  const onChange = (e: Event) => {
    const box = e.target as HTMLInputElement;
    const id = box.type === "checkbox" ? box.closest("tr")?.dataset.runId : undefined;
    if (id) onSelect(id, box.checked);
  };
  return (
    <div class="table-wrap runs-scroll" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label="Runs">
      {/* The spacers stand for the rows above and below those drawn. Outside the table: a new
          count changes their height without laying the table out again. */}
      <div class="spacer" aria-hidden="true" style={{ height: first * rowHeight + "px" }} />
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
        {/* Its rows are drawRows': Preact leaves a node it did not make alone. */}
        <tbody ref={body} onChange={onChange} />
      </table>
      <div class="spacer" aria-hidden="true" style={{ height: below * rowHeight + "px" }} />
    </div>
  );
}
