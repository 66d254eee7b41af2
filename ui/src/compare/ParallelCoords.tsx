// Parallel coordinates: an axis per param and metric (numbers scaled to their range,
// strings as ordered categories), a line per run across them, in the run's colour.
import { color } from "../charts/series";
import { axisOf, tickText, type Column } from "./values";

const H = 260;
const PAD = { t: 28, b: 24 };
const GAP = 120;

export function ParallelCoords({ labels, cols }: { labels: string[]; cols: Column[] }) {
  if (cols.length < 2) return <p class="muted">Parallel coordinates need two params or metrics that differ.</p>;
  const axes = cols.map(axisOf);
  const W = GAP * (axes.length - 1) + 120; // room for the last axis's tick labels
  const xAt = (j: number) => 40 + j * GAP;
  const yAt = (j: number, v: number) => {
    const a = axes[j]!;
    return a.max === a.min ? (PAD.t + H - PAD.b) / 2 : H - PAD.b - ((v - a.min) / (a.max - a.min)) * (H - PAD.b - PAD.t);
  };
  const end = (j: number, top: boolean) => tickText(axes[j]!, top ? axes[j]!.max : axes[j]!.min);
  return (
    <div class="table-wrap">
      <svg class="parallel" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label="Parallel coordinates">
        {axes.map((a, j) => (
          <g key={j}>
            <line class="axis" x1={xAt(j)} y1={PAD.t} x2={xAt(j)} y2={H - PAD.b} />
            <text class="axis-label" x={xAt(j)} y={12} text-anchor="middle">
              {a.label}
            </text>
            {a.categories ? (
              a.categories.map((c, k) => (
                <text key={k} class="tick" x={xAt(j) + 4} y={yAt(j, k) + 4}>
                  {c}
                </text>
              ))
            ) : (
              <>
                <text class="tick" x={xAt(j) + 4} y={PAD.t + 4}>
                  {end(j, true)}
                </text>
                <text class="tick" x={xAt(j) + 4} y={H - PAD.b + 14}>
                  {end(j, false)}
                </text>
              </>
            )}
          </g>
        ))}
        {labels.map((l, i) => {
          const pts = axes.flatMap((a, j) => (a.positions[i] == null ? [] : [`${xAt(j)},${yAt(j, a.positions[i]!)}`]));
          return (
            <polyline key={i} class="run-line" points={pts.join(" ")} stroke={color(i)}>
              <title>{l}</title>
            </polyline>
          );
        })}
      </svg>
    </div>
  );
}
