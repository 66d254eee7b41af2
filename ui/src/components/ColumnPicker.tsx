// The runs table's "Columns" control: a checkbox per param, metric and tag key the
// experiment's runs have (from /api/2.0/forja/runs/keys); each change is a new cols= in the
// URL. "Default columns" drops cols=, and the server shows its params and metrics again.
import type { RunKeys } from "../types";

const GROUPS = [
  ["params", "Parameters"],
  ["metrics", "Metrics"],
  ["tags", "Tags"],
] as const;

export function ColumnPicker({ keys, shown, onChange }: { keys: RunKeys | null; shown: string[]; onChange: (cols: string[] | null) => void }) {
  const on = new Set(shown);
  const toggle = (col: string, checked: boolean) => onChange(checked ? [...shown, col] : shown.filter((c) => c !== col));
  return (
    <details class="column-picker">
      <summary>Columns ({shown.length})</summary>
      <div class="picker-body">
        {keys === null && <p class="muted">Loading the keys…</p>}
        {keys !== null &&
          GROUPS.map(([group, label]) => (
            <fieldset key={group}>
              <legend>{label}</legend>
              {keys[group].length === 0 && <span class="muted">none</span>}
              {keys[group].map((k) => (
                <label key={k}>
                  <input
                    type="checkbox"
                    data-column={`${group}.${k}`}
                    checked={on.has(`${group}.${k}`)}
                    onChange={(e) => toggle(`${group}.${k}`, (e.target as HTMLInputElement).checked)}
                  />{" "}
                  {k}
                </label>
              ))}
            </fieldset>
          ))}
        <p>
          <button type="button" onClick={() => onChange(null)}>
            Default columns
          </button>{" "}
          <button type="button" onClick={() => onChange([])}>
            None
          </button>
        </p>
      </div>
    </details>
  );
}
