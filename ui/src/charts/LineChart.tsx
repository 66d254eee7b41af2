// One uPlot line chart of one metric: a series per run (or one, on a run's page). uPlot is
// created once per data/options change and destroyed with the component; it follows the
// width of its box. The box says what it shows in data- attributes (series count, scale),
// for tests and for anyone inspecting the page.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { align, color, type ChartOptions, type Series } from "./series";

const X_LABEL = { step: "step", time: "time", relative: "seconds since start" } as const;

export function LineChart({ title, series, options, height = 220 }: { title: string; series: Series[]; options: ChartOptions; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = align(series, options);
    const plot = new uPlot(
      {
        title,
        width: Math.max(el.clientWidth, 240),
        height,
        scales: { x: { time: options.x === "time" }, y: { distr: options.log ? 3 : 1 } },
        series: [
          { label: X_LABEL[options.x] },
          ...series.map((s, i) => ({ label: s.label, stroke: color(i), width: 1.5, spanGaps: true, points: { show: data[0].length < 50 } })),
        ],
        axes: [{ label: X_LABEL[options.x] }, {}],
      },
      data as uPlot.AlignedData,
      el,
    );
    el.dataset.series = String(series.length);
    el.dataset.scale = plot.scales.y!.distr === 3 ? "log" : "linear";
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 240), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, series, options.x, options.log, options.smoothing, height]);
  return <div class="chart" ref={box} data-metric={title} />;
}
