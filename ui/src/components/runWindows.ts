// The runs table's data: windows of BLOCK rows fetched from /api/2.0/forja/runs/window as
// the visible range asks for them (debounced while scrolling), cached by window for the
// current query, the farthest dropped past MAX_BLOCKS. Windows come without the count (it
// reads every matching run: half a second for 50,000 matches where the first window takes
// milliseconds): the first window's rows show at once with a lower bound, and the count,
// asked for once they are in, sets the scroll height when it arrives. A new query (filter, sort, columns,
// login) starts a new generation: answers of an older one are dropped, never shown.
import { useContext, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type RunWindowQuery } from "../api";
import { SessionContext } from "../session";
import type { RunKeys, RunRow } from "../types";

export const BLOCK = 100;
const MAX_BLOCKS = 40;
const DEBOUNCE_MS = 60;

export interface RunWindows {
  total: number | null; // null until the first window answers; a lower bound until counted
  counted: boolean; // total is the count of every match
  columns: string[] | null; // the columns shown: the URL's, else the server's choice
  keys: RunKeys | null; // the experiment's keys, when the first window brought them
  error: ApiError | null;
  version: number; // bumped when a window arrives: the table re-renders
  rowAt(i: number): RunRow | undefined;
  want(first: number, last: number): void; // the rows [first, last] are on screen
}

export function useRunWindows(q: RunWindowQuery): RunWindows {
  const session = useContext(SessionContext);
  const key = JSON.stringify([q.experimentId, q.filter, q.orderBy, q.columns, session.generation]);
  const cache = useRef(new Map<number, RunRow[]>());
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const columnsRef = useRef<string[] | null>(q.columns);
  const range = useRef<[number, number]>([0, BLOCK - 1]);
  const timer = useRef<number | undefined>(undefined);
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

  const fetchCount = (gen: number) => {
    api.runsCount({ experimentId: q.experimentId, filter: q.filter }).then((a) => {
      if (gen !== generation.current) return;
      setState((s) => ({ ...s, total: a.total, counted: true, version: s.version + 1 }));
    }, failed(gen));
  };

  const fetchBlock = (block: number) => {
    if (cache.current.has(block) || inflight.current.has(block)) return;
    const gen = generation.current;
    inflight.current.add(block);
    api.runsWindow({ ...q, columns: columnsRef.current, offset: block * BLOCK, limit: BLOCK, count: false }).then(
      (a) => {
        if (gen !== generation.current) return; // an older query's answer
        inflight.current.delete(block);
        cache.current.set(block, a.runs);
        columnsRef.current = a.columns; // later windows ask for exactly these
        evict();
        // Until counted: the runs seen so far, one more when more follow (the last window: exact).
        const seen = block * BLOCK + a.runs.length;
        if (block === 0 && a.more) fetchCount(gen);
        setState((s) => ({
          total: s.counted ? s.total : a.more ? Math.max(s.total ?? 0, seen + 1) : seen,
          counted: s.counted || !a.more,
          columns: a.columns,
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

  // Keeps the blocks nearest the visible range.
  const evict = () => {
    if (cache.current.size <= MAX_BLOCKS) return;
    const mid = Math.floor((range.current[0] + range.current[1]) / 2 / BLOCK);
    const far = [...cache.current.keys()].sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
    for (const b of far.slice(0, cache.current.size - MAX_BLOCKS)) cache.current.delete(b);
  };

  const fetchRange = () => {
    const [first, last] = range.current;
    for (let b = Math.floor(first / BLOCK); b <= Math.floor(last / BLOCK); b++) fetchBlock(b);
  };

  // A layout effect: the first window is asked for before the first paint, not a frame after.
  useLayoutEffect(() => {
    generation.current++;
    cache.current = new Map();
    inflight.current = new Set();
    columnsRef.current = q.columns;
    range.current = [0, BLOCK - 1];
    setState({ total: null, counted: false, columns: q.columns, keys: null, error: null, version: 0 });
    fetchBlock(0); // the first window at once; the count after it
    return () => window.clearTimeout(timer.current);
  }, [key]);

  return {
    ...state,
    rowAt: (i) => cache.current.get(Math.floor(i / BLOCK))?.[i % BLOCK],
    want(first, last) {
      range.current = [first, last];
      if (state.total === null) return; // the first window answers first (and names the columns)
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(fetchRange, DEBOUNCE_MS);
    },
  };
}
