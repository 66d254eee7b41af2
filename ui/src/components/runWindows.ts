// The runs table's data: windows of BLOCK rows fetched from /api/2.0/forja/runs/window as
// the visible range asks for them (debounced while scrolling), cached by window for the
// current query, the farthest dropped past MAX_BLOCKS. Windows come without the count (it
// reads every matching run: a fifth of a second for 50,000 matches where the first window takes
// milliseconds): the first window's rows show at once with a lower bound, and the count,
// asked for once they are painted (so the server counts while the page is idle, not while it
// draws them), sets the scroll height when it arrives. A new query (filter, sort, columns,
// login) starts a new generation: answers of an older one are dropped, never shown.
// Without columns in the URL, the server chooses them from the experiment's keys (which it
// reads for that: most of the first window's time); a new filter or sort of the same
// experiment asks for the columns it chose then, with the keys it sent then. The choice is
// also kept in the tab's sessionStorage (as the token is): the page opened again asks for
// those columns at once, and asks the server's choice after the rows are painted, taking it
// (and reloading the rows) should it differ.
import { useContext, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type RunWindowQuery } from "../api";
import { SessionContext } from "../session";
import type { RunKeys, RunRow } from "../types";

export const BLOCK = 100;

// The first window of a query holds a screenful of rows, not a block: its answer is a third
// of a block's bytes and comes sooner (index.html's early fetch asks for the same number).
// The rest of its block is asked for once those rows are painted.
export function firstLimit(): number {
  return Math.min(BLOCK, Math.ceil(window.innerHeight / 30));
}

// The server's choice of columns for an experiment, and the keys it chose them from (null:
// remembered from an earlier page of this tab, not checked yet).
interface Choice {
  experimentId: string;
  columns: string[];
  keys: RunKeys | null;
}

const CHOICE_KEY = "forja.columns."; // + the experiment's id; index.html's early fetch reads it too

function rememberedChoice(experimentId: string): Choice | null {
  try {
    const v: unknown = JSON.parse(sessionStorage.getItem(CHOICE_KEY + experimentId) ?? "null");
    if (Array.isArray(v) && v.length > 0 && v.every((c) => typeof c === "string")) return { experimentId, columns: v, keys: null };
  } catch {
    /* not a list: ask the server */
  }
  return null;
}

function remember(c: Choice): void {
  try {
    sessionStorage.setItem(CHOICE_KEY + c.experimentId, JSON.stringify(c.columns));
  } catch {
    /* storage full or off: the next page asks the server */
  }
}

// Runs fn once the frame being prepared has been painted.
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => window.setTimeout(fn, 0));
}
const MAX_BLOCKS = 40;
const DEBOUNCE_MS = 60;
const CHECK_CHOICE_MS = 1000;

export interface RunWindows {
  total: number | null; // null until the first window answers; a lower bound until counted
  counted: boolean; // total is the count of every match
  columns: string[] | null; // the columns shown: the URL's, else the server's choice
  keys: RunKeys | null; // the experiment's keys, when the first window brought them
  error: ApiError | null;
  version: number; // bumped when a window arrives (the rows change)
  rowAt(i: number): RunRow | undefined;
  want(first: number, last: number): void; // the rows [first, last] are on screen
}

export function useRunWindows(q: RunWindowQuery): RunWindows {
  const session = useContext(SessionContext);
  const key = JSON.stringify([q.experimentId, q.filter, q.orderBy, q.columns, session.generation]);
  const cache = useRef(new Map<number, RunRow[]>());
  const inflight = useRef(new Set<number>());
  const partial = useRef(new Set<number>()); // blocks holding their first rows only, more following
  const generation = useRef(0);
  const columnsRef = useRef<string[] | null>(q.columns);
  const range = useRef<[number, number]>([0, BLOCK - 1]);
  const timer = useRef<number | undefined>(undefined);
  const chosen = useRef<Choice | null>(null); // the server's choice, for queries without columns
  const startedKey = useRef<string | null>(null); // the query of the current generation
  const [state, setState] = useState<{
    total: number | null;
    counted: boolean;
    columns: string[] | null;
    keys: RunKeys | null;
    error: ApiError | null;
    version: number;
  }>({
    total: null,
    counted: false,
    columns: q.columns,
    keys: null,
    error: null,
    version: 0,
  });

  const failed = (gen: number) => (e: unknown) => {
    if (gen !== generation.current) return;
    const err = e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e));
    if (err.unauthenticated) session.requireLogin(err.message);
    setState((s) => ({ ...s, error: err, version: s.version + 1 }));
  };

  const fetchCount = (gen: number): Promise<void> =>
    api.runsCount({ experimentId: q.experimentId, filter: q.filter }).then((a) => {
      if (gen !== generation.current) return;
      setState((s) => ({ ...s, total: a.total, counted: true }));
    }, failed(gen));

  // The block's rows, or the rest of them when it holds its first rows only.
  const fetchBlock = (block: number): Promise<void> => {
    const have = cache.current.get(block);
    if ((have && !partial.current.has(block)) || inflight.current.has(block)) return Promise.resolve();
    const gen = generation.current;
    const from = have?.length ?? 0;
    inflight.current.add(block);
    const limit = have ? BLOCK - from : block === 0 ? firstLimit() : BLOCK;
    return api.runsWindow({ ...q, columns: columnsRef.current, offset: block * BLOCK + from, limit, count: false }).then(
      (a) => {
        if (gen !== generation.current) return; // an older query's answer
        inflight.current.delete(block);
        const rows = have ? have.concat(a.runs) : a.runs;
        cache.current.set(block, rows);
        if (a.more === true && rows.length < BLOCK) partial.current.add(block);
        else partial.current.delete(block);
        columnsRef.current = a.columns; // later windows ask for exactly these
        evict();
        // Until counted: the runs seen so far, one more when more follow (the last window: exact).
        const seen = block * BLOCK + rows.length;
        if (q.columns === null && a.keys && a.columns.length) {
          chosen.current = { experimentId: q.experimentId, columns: a.columns, keys: a.keys };
          remember(chosen.current);
        }
        if (!have && block === 0) afterPaint(() => afterFirstRows(gen, a.more === true, a.keys !== undefined));
        setState((s) => ({
          total: s.counted ? s.total : a.more ? Math.max(s.total ?? 0, seen + 1) : seen,
          counted: s.counted || !a.more,
          // The same list while it holds the same columns: the rows on screen are not redrawn.
          columns: s.columns?.join() === a.columns.join() ? s.columns : a.columns,
          keys: a.keys ?? s.keys,
          error: null,
          version: s.version + 1,
        }));
      },
      (e: unknown) => {
        if (gen === generation.current) inflight.current.delete(block);
        failed(gen)(e);
      },
    );
  };

  // Once the first rows are painted: the count, the rest of their block, and the server's
  // choice of columns when they came from this tab's memory. One at a time, each after the
  // last answered: the server works on one core, and the page's next input has the other.
  // The choice is checked a second later: it reads the keys of the experiment's newest runs
  // (30-60 ms of the server's time at 10,000 runs and more), which would share the machine with
  // the page's first click, while the remembered columns are almost always still the choice.
  const afterFirstRows = (gen: number, more: boolean, keysCame: boolean) => {
    const live = () => gen === generation.current;
    void (more ? fetchCount(gen).then(() => (live() ? fetchBlock(0) : undefined)) : Promise.resolve()).then(() => {
      if (live() && q.columns === null && !keysCame && !chosen.current?.keys)
        window.setTimeout(() => (live() ? void checkChoice(gen) : undefined), CHECK_CHOICE_MS);
    });
  };

  // The columns came from this tab's memory: the server's choice now, with the keys.
  const checkChoice = (gen: number): Promise<void> =>
    api.runsWindow({ ...q, columns: null, offset: 0, limit: 1, count: false }).then((a) => {
      if (gen !== generation.current || !a.keys) return;
      chosen.current = { experimentId: q.experimentId, columns: a.columns, keys: a.keys };
      remember(chosen.current);
      if (a.columns.join() !== columnsRef.current?.join()) start(); // it chooses otherwise now
      else setState((s) => ({ ...s, keys: a.keys ?? s.keys }));
    }, failed(gen));

  // Keeps the blocks nearest the visible range.
  const evict = () => {
    if (cache.current.size <= MAX_BLOCKS) return;
    const mid = Math.floor((range.current[0] + range.current[1]) / 2 / BLOCK);
    const far = [...cache.current.keys()].sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
    for (const b of far.slice(0, cache.current.size - MAX_BLOCKS)) cache.current.delete(b);
  };

  // A block holding its first rows only is completed when rows past them are on screen.
  const fetchRange = () => {
    const [first, last] = range.current;
    for (let b = Math.floor(first / BLOCK); b <= Math.floor(last / BLOCK); b++) {
      const have = cache.current.get(b);
      if (!have || (partial.current.has(b) && last >= b * BLOCK + have.length)) void fetchBlock(b);
    }
  };

  // A new generation: the first window at once; the count after it.
  const start = () => {
    generation.current++;
    startedKey.current = key;
    cache.current = new Map();
    inflight.current = new Set();
    partial.current = new Set();
    const known =
      q.columns !== null ? null : chosen.current?.experimentId === q.experimentId ? chosen.current : rememberedChoice(q.experimentId);
    columnsRef.current = q.columns ?? known?.columns ?? null;
    range.current = [0, BLOCK - 1];
    setState({ total: null, counted: false, columns: columnsRef.current, keys: known?.keys ?? null, error: null, version: 0 });
    void fetchBlock(0);
  };

  // A layout effect: the first window is asked for before the first paint, not a frame after.
  useLayoutEffect(() => {
    start();
    return () => window.clearTimeout(timer.current);
  }, [key]);

  return {
    ...state,
    // A new query's first render shows no rows of the old one (nor builds them): its layout
    // effect, which asks for the new rows, runs after the children's.
    total: startedKey.current === key ? state.total : null,
    rowAt: (i) => cache.current.get(Math.floor(i / BLOCK))?.[i % BLOCK],
    want(first, last) {
      range.current = [first, last];
      if (state.total === null) return; // the first window answers first (and names the columns)
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(fetchRange, DEBOUNCE_MS);
    },
  };
}
