// A metric (y) against a param (x), a dot per run in its series colour: a small SVG, since a
// comparison has few runs and each dot needs its run's name on hover.
import { useState } from "preact/hooks";
import { color } from "../charts/series";
import { axisOf, tickText, type Axis, type Column } from "./values";

const W = 460;
const H = 280;
const PAD = { l: 56, r: 32, t: 12, b: 40 };

function scale(a: Axis, v: number, from: number, to: number): number {
  return a.max === a.min ? (from + to) / 2 : from + ((v - a.min) / (a.max - a.min)) * (to - from);
}

function ticks(a: Axis): { v: number; text: string }[] {
  if (a.categories) return a.categories.map((c, i) => ({ v: i, text: c }));
  if (a.max === a.min) return [{ v: a.min, text: tickText(a, a.min) }];
  return [0, 0.5, 1].map((f) => {
    const v = a.min + f * (a.max - a.min);
    return { v, text: tickText(a, v) };
  });
}

function Picker({ label, cols, value, onChange }: { label: string; cols: Column[]; value: string; onChange: (id: string) => void }) {
  return (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {cols.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Scatter({ labels, params, metrics }: { labels: string[]; params: Column[]; metrics: Column[] }) {
  const [xId, setX] = useState(params[0]?.id ?? "");
  const [yId, setY] = useState(metrics[0]?.id ?? "");
  const xc = params.find((c) => c.id === xId) ?? params[0];
  const yc = metrics.find((c) => c.id === yId) ?? metrics[0];
  if (!xc || !yc) return <p class="muted">A scatter needs a param and a metric.</p>;
  const x = axisOf(xc);
  const y = axisOf(yc);
  return (
    <div class="scatter">
      <div class="chart-controls">
        <Picker label="Param" cols={params} value={xc.id} onChange={setX} />
        <Picker label="Metric" cols={metrics} value={yc.id} onChange={setY} />
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`${yc.label} against ${xc.label}`}>
        <line class="axis" x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} />
        <line class="axis" x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} />
        {ticks(x).map((t) => (
          <text key={"x" + t.v} class="tick" x={scale(x, t.v, PAD.l + 12, W - PAD.r - 12)} y={H - PAD.b + 16} text-anchor="middle">
            {t.text}
          </text>
        ))}
        {ticks(y).map((t) => (
          <text key={"y" + t.v} class="tick" x={PAD.l - 6} y={scale(y, t.v, H - PAD.b - 12, PAD.t + 12) + 4} text-anchor="end">
            {t.text}
          </text>
        ))}
        <text class="axis-label" x={(W + PAD.l) / 2} y={H - 6} text-anchor="middle">
          {xc.label}
        </text>
        {labels.map((l, i) => {
          const px = x.positions[i];
          const py = y.positions[i];
          if (px == null || py == null) return null;
          return (
            <circle key={i} class="dot" r="5" fill={color(i)} cx={scale(x, px, PAD.l + 12, W - PAD.r - 12)} cy={scale(y, py, H - PAD.b - 12, PAD.t + 12)}>
              <title>{`${l}: ${xc.label}=${xc.values[i]}, ${yc.label}=${yc.values[i]}`}</title>
            </circle>
          );
        })}
      </svg>
    </div>
  );
}
