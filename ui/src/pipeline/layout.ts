// A small layered layout for the pipeline's DAG: each stage in the layer one below its
// deepest upstream stage (the DAG is acyclic: forja refuses cycles), stages in a layer
// ordered by the mean position of their upstream stages (one pass down, then one up, as
// Sugiyama's barycenter heuristic does), so edges cross less. Edges are cubic curves from
// a stage's bottom to the next one's top. Enough for the ~50 stages a pipeline has.
export const NODE_W = 180;
export const NODE_H = 46;
const GAP_X = 28;
const GAP_Y = 64;
const PAD = 12;

export interface NodeBox {
  name: string;
  x: number;
  y: number;
  layer: number;
}

export interface Layout {
  nodes: NodeBox[];
  edges: { from: string; to: string; path: string }[];
  width: number;
  height: number;
}

export function layoutDag(names: string[], edges: [string, string][]): Layout {
  const ups = new Map<string, string[]>(names.map((n) => [n, []]));
  const downs = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [a, b] of edges) {
    if (!ups.has(a) || !ups.has(b)) continue;
    ups.get(b)!.push(a);
    downs.get(a)!.push(b);
  }
  // Longest path from a source; a visiting set guards against a cycle in a hostile answer.
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (n: string): number => {
    const known = layer.get(n);
    if (known !== undefined) return known;
    if (visiting.has(n)) return 0;
    visiting.add(n);
    let d = 0;
    for (const u of ups.get(n) ?? []) d = Math.max(d, depth(u) + 1);
    visiting.delete(n);
    layer.set(n, d);
    return d;
  };
  const layers: string[][] = [];
  for (const n of names) (layers[depth(n)] ??= []).push(n);
  const rows = layers.filter((l) => l !== undefined);
  const pos = new Map<string, number>();
  const place = () => rows.forEach((row) => row.forEach((n, i) => pos.set(n, i)));
  place();
  const sortBy = (row: string[], near: Map<string, string[]>) => {
    const key = (n: string) => {
      const xs = (near.get(n) ?? []).map((m) => pos.get(m) ?? 0);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (pos.get(n) ?? 0);
    };
    const keys = new Map(row.map((n) => [n, key(n)]));
    row.sort((a, b) => keys.get(a)! - keys.get(b)!);
    row.forEach((n, i) => pos.set(n, i));
  };
  for (let i = 1; i < rows.length; i++) sortBy(rows[i]!, ups);
  for (let i = rows.length - 2; i >= 0; i--) sortBy(rows[i]!, downs);

  const widest = Math.max(1, ...rows.map((r) => r.length));
  const width = PAD * 2 + widest * NODE_W + (widest - 1) * GAP_X;
  const nodes: NodeBox[] = [];
  const at = new Map<string, NodeBox>();
  rows.forEach((row, li) => {
    const rowWidth = row.length * NODE_W + (row.length - 1) * GAP_X;
    const x0 = (width - rowWidth) / 2;
    row.forEach((n, i) => {
      const box = { name: n, x: x0 + i * (NODE_W + GAP_X), y: PAD + li * (NODE_H + GAP_Y), layer: li };
      nodes.push(box);
      at.set(n, box);
    });
  });
  const paths = edges
    .filter(([a, b]) => at.has(a) && at.has(b))
    .map(([a, b]) => {
      const s = at.get(a)!;
      const t = at.get(b)!;
      const x1 = s.x + NODE_W / 2;
      const y1 = s.y + NODE_H;
      const x2 = t.x + NODE_W / 2;
      const y2 = t.y - 4; // room for the arrow head
      const my = (y1 + y2) / 2;
      return { from: a, to: b, path: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}` };
    });
  const height = PAD * 2 + rows.length * NODE_H + Math.max(0, rows.length - 1) * GAP_Y;
  return { nodes, edges: paths, width, height };
}
