// The charts' metric histories, from forja/metrics/histories in its binary form (format=binary;
// src/forja/api/metric_histories_routes.cc has the layout): a JSON head naming each series,
// then its numbers as float64 arrays, which are viewed in place, not parsed. 10 runs x 10
// metrics of 1,000 points are 0.8 MB this way, against 3.8 MB of JSON whose parsing and
// per-point objects took the browser 25-40 ms.
import { api, ApiError } from "../api";
import { color, type ColumnSeries } from "./series";

export interface History {
  runId: string;
  key: string;
  steps: Float64Array;
  timestamps: Float64Array; // ms
  values: Float64Array; // NaN and infinities as numbers
}

export interface Histories {
  byRunKey: Map<string, History>; // runKey(runId, key)
  truncated: boolean; // the server cut some series (a million points a call)
}

interface Head {
  truncated: boolean;
  histories: { run_id: string; key: string; count: number; steps: number[] | null; timestamps: number[] | null }[];
}

// At most this many calls at a time, each of at most CHUNK runs and CHUNK keys (the server's limits).
const PARALLEL = 6;
const CHUNK = 100;

export const runKey = (runId: string, key: string) => runId + "\n" + key;

// Float64Array views use the machine's byte order; the format's is little-endian, as is
// every machine browsers run on.
export function decodeHistories(buf: ArrayBuffer): { histories: History[]; truncated: boolean } {
  try {
    const n = new DataView(buf).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))) as Head;
    let at = Math.ceil((4 + n) / 8) * 8;
    const take = (count: number) => {
      const a = new Float64Array(buf, at, count);
      at += 8 * count;
      return a;
    };
    // [first, delta]: a column that advances by a fixed amount, sent as its rule.
    const column = (rule: number[] | null, count: number) => {
      if (!rule) return take(count);
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = rule[0]! + i * rule[1]!;
      return a;
    };
    const histories = head.histories.map((h) => {
      const values = take(h.count);
      const steps = column(h.steps, h.count);
      const timestamps = column(h.timestamps, h.count);
      return { runId: h.run_id, key: h.key, values, steps, timestamps };
    });
    return { histories, truncated: head.truncated };
  } catch (e) {
    throw new ApiError(0, "BAD_ANSWER", "forja/metrics/histories: an answer this page cannot read: " + String(e));
  }
}

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

async function inBatches<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

// The histories of these runs and keys; without keys, of every key the runs logged, in one
// call (at most 100 runs), which the comparison asks at once, before it knows the keys.
export async function loadHistories(runIds: string[], keys?: string[]): Promise<Histories> {
  const keyChunks = keys ? chunks(keys) : [undefined];
  const jobs = keyChunks.flatMap((ks) => chunks(runIds).map((rs) => ({ ks, rs })));
  const answers = await inBatches(jobs, async ({ ks, rs }) => decodeHistories(await api.metricHistories(rs, ks)));
  const byRunKey = new Map<string, History>();
  for (const a of answers) for (const h of a.histories) byRunKey.set(runKey(h.runId, h.key), h);
  return { byRunKey, truncated: answers.some((a) => a.truncated) };
}

// Whether `h` holds every asked run's history of every asked key.
export function covers(h: Histories, runIds: string[], keys: string[]): boolean {
  return runIds.every((r) => keys.every((k) => h.byRunKey.has(runKey(r, k))));
}

export interface RunRef {
  runId: string;
  label: string;
}

// A chart's series per key, in the order of the runs asked for, whatever the answers' order;
// a run without the key has no series in that chart, and each run has its colour in every chart.
export function seriesByKey(h: Histories, runs: RunRef[], keys: string[]): Map<string, ColumnSeries[]> {
  const out = new Map<string, ColumnSeries[]>();
  for (const key of keys) {
    const list: ColumnSeries[] = [];
    runs.forEach((r, i) => {
      const got = h.byRunKey.get(runKey(r.runId, key));
      if (got && got.values.length)
        list.push({ label: r.label, color: color(i), steps: got.steps, timestamps: got.timestamps, values: got.values });
    });
    out.set(key, list);
  }
  return out;
}
