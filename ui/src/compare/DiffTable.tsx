// Params and metrics side by side, a column per run; rows where every run agrees are
// hidden unless asked for.
import { useState } from "preact/hooks";
import { allEqual, type Column } from "./values";

function Rows({ title, cols, showEqual, span }: { title: string; cols: Column[]; showEqual: boolean; span: number }) {
  const shown = cols.filter((c) => showEqual || !allEqual(c));
  if (shown.length === 0) return null;
  return (
    <>
      <tr class="section">
        <th colSpan={span}>{title}</th>
      </tr>
      {shown.map((c) => (
        <tr key={c.id} data-row={c.id} class={allEqual(c) ? "equal" : "differs"}>
          <th scope="row">{c.label}</th>
          {c.values.map((v, i) => (
            <td key={i} class={c.id.startsWith("metrics.") ? "num" : undefined}>
              {v ?? "—"}
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}

export function DiffTable({ labels, params, metrics }: { labels: string[]; params: Column[]; metrics: Column[] }) {
  const [showEqual, setShowEqual] = useState(false);
  const hidden = [...params, ...metrics].filter(allEqual).length;
  return (
    <>
      <label class="toggle">
        <input type="checkbox" checked={showEqual} onChange={(e) => setShowEqual((e.target as HTMLInputElement).checked)} /> Show equal rows
        {hidden > 0 && !showEqual ? <span class="muted"> ({hidden} hidden)</span> : null}
      </label>
      <div class="table-wrap">
        <table class="grid diff">
          <thead>
            <tr>
              <th />
              {labels.map((l, i) => (
                <th key={i}>{l}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            <Rows title="Parameters" cols={params} showEqual={showEqual} span={labels.length + 1} />
            <Rows title="Metrics" cols={metrics} showEqual={showEqual} span={labels.length + 1} />
          </tbody>
        </table>
      </div>
    </>
  );
}
