// One uPlot line chart of one metric: a series per run (or one, on a run's page). uPlot is
// loaded with the first chart (a chunk of its own), created once per data/options change and
// destroyed with the component; it follows the width of its box. The box says what it shows
// in data- attributes (series count, scale), for tests and for anyone inspecting the page.
import { useEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";
import { align, color, type ChartOptions, type Series } from "./series";

let uplotChunk: Promise<typeof uPlot> | null = null;
const loadUplot = () => (uplotChunk ??= import("./uplot").then((m) => m.default));

const X_LABEL = { step: "step", time: "time", relative: "seconds since start" } as const;

interface ChartProps {
  title: string;
  series: Series[];
  options: ChartOptions;
  height: number;
}

function draw(UPlot: typeof uPlot, el: HTMLDivElement, { title, series, options, height }: ChartProps): uPlot {
  const data = align(series, options);
  // A canvas cannot read CSS variables: the page's colours (light or dark) are taken now.
  const css = getComputedStyle(el);
  const axis = { stroke: css.color, grid: { stroke: css.getPropertyValue("--line").trim() || "#dfe2e6", width: 1 } };
  const plot = new UPlot(
    {
      title,
      width: Math.max(el.clientWidth, 240),
      height,
      scales: { x: { time: options.x === "time" }, y: { distr: options.log ? 3 : 1 } },
      series: [
        { label: X_LABEL[options.x] },
        ...series.map((s, i) => ({ label: s.label, stroke: color(i), width: 1.5, spanGaps: true, points: { show: data[0].length < 50 } })),
      ],
      axes: [{ ...axis, label: X_LABEL[options.x] }, axis],
    },
    data as uPlot.AlignedData,
    el,
  );
  el.dataset.series = String(series.length);
  el.dataset.scale = plot.scales.y!.distr === 3 ? "log" : "linear";
  return plot;
}

export function LineChart({ title, series, options, height = 220 }: { title: string; series: Series[]; options: ChartOptions; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let plot: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    let gone = false;
    void loadUplot().then((UPlot) => {
      if (gone) return;
      plot = draw(UPlot, el, { title, series, options, height });
      resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(el.clientWidth, 240), height }));
      resize.observe(el);
    });
    return () => {
      gone = true;
      resize?.disconnect();
      plot?.destroy();
    };
  }, [title, series, options.x, options.log, options.smoothing, height]);
  return <div class="chart" ref={box} data-metric={title} />;
}
