// The x axis, log scale and smoothing every metric chart on a page shares.
import type { ChartOptions, XMode } from "./series";

export function ChartControls({ value, onChange }: { value: ChartOptions; onChange: (o: ChartOptions) => void }) {
  return (
    <div class="chart-controls" role="group" aria-label="Chart options">
      <label>
        X axis{" "}
        <select value={value.x} onChange={(e) => onChange({ ...value, x: (e.target as HTMLSelectElement).value as XMode })}>
          <option value="step">Step</option>
          <option value="time">Wall time</option>
          <option value="relative">Relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={value.log} onChange={(e) => onChange({ ...value, log: (e.target as HTMLInputElement).checked })} /> Log
        scale
      </label>
      <label>
        Smoothing{" "}
        <input
          type="range"
          min="0"
          max="0.99"
          step="0.01"
          value={value.smoothing}
          onInput={(e) => onChange({ ...value, smoothing: Number((e.target as HTMLInputElement).value) })}
        />{" "}
        <output>{value.smoothing.toFixed(2)}</output>
      </label>
    </div>
  );
}
