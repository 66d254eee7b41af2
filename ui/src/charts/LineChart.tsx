// One uPlot line chart of one metric: a series per run (or one, on a run's page). uPlot is
// loaded with the first chart (a chunk of its own), created once per data/options change and
// destroyed with the component; it follows the width of its box. The box says what it shows
// in data- attributes (series count, scale), for tests and for anyone inspecting the page.
import { useEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";
import { align, color, type ChartOptions, type Series } from "./series";

let uplotChunk: Promise<typeof uPlot> | null = null;
const loadUplot = () => (uplotChunk ??= import("./uplot").then((m) => m.default));
// For a page that knows it will draw charts: the chunk loads while its data does.
export const preloadCharts = () => void loadUplot();

const X_LABEL = { step: "step", time: "time", relative: "seconds since start" } as const;

interface ChartProps {
  title: string;
  series: Series[];
  options: ChartOptions;
  height: number;
}

// What a chart takes from its box before it is made: its width and the page's colours (a
// canvas cannot read CSS variables, so light or dark is taken now).
interface Measured {
  width: number;
  text: string;
  grid: string;
}

function measure(el: HTMLDivElement): Measured {
  const css = getComputedStyle(el);
  return { width: Math.max(el.clientWidth, 240), text: css.color, grid: css.getPropertyValue("--line").trim() || "#dfe2e6" };
}

// Lines one device pixel wide: Chromium strokes those on a canvas as hairlines, about ten
// times faster than wider ones (a comparison's 100 lines of 1,000 points took 100-200 ms
// to rasterize at 1.5 px, 10-20 ms at 1).
const lineWidth = () => 1 / (window.devicePixelRatio || 1);

function draw(UPlot: typeof uPlot, el: HTMLDivElement, { title, series, options, height }: ChartProps, m: Measured): uPlot {
  const data = align(series, options);
  const axis = { stroke: m.text, grid: { stroke: m.grid, width: 1 } };
  const width = lineWidth();
  const plot = new UPlot(
    {
      title,
      width: m.width,
      height,
      scales: { x: { time: options.x === "time" }, y: { distr: options.log ? 3 : 1 } },
      series: [
        { label: X_LABEL[options.x] },
        ...series.map((s, i) => ({ label: s.label, stroke: color(i), width, spanGaps: true, points: { show: data[0].length < 50 } })),
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

// Charts asked for in one render are made together: every box measured first, then every
// chart made. Measured one after another, each chart's new DOM would make the page lay out
// again for the next one's measure (ten layouts for a comparison's ten charts).
interface Job {
  el: HTMLDivElement;
  props: ChartProps;
  made: (plot: uPlot) => void;
  gone: boolean;
}
let queue: Job[] = [];

function makeCharts(UPlot: typeof uPlot) {
  const jobs = queue.filter((j) => !j.gone);
  queue = [];
  const sizes = jobs.map((j) => measure(j.el));
  jobs.forEach((j, i) => j.made(draw(UPlot, j.el, j.props, sizes[i]!)));
}

function schedule(job: Job) {
  queue.push(job);
  if (queue.length === 1) loadUplot().then(makeCharts, () => (queue = []));
}

export function LineChart({ title, series, options, height = 220 }: { title: string; series: Series[]; options: ChartOptions; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let plot: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    const job: Job = {
      el,
      props: { title, series, options, height },
      made: (p) => {
        plot = p;
        // Only a new width redraws: the observer's first call (at once, same width) would
        // draw every chart a second time.
        let width = p.width;
        resize = new ResizeObserver(() => {
          const w = Math.max(el.clientWidth, 240);
          if (w !== width) p.setSize({ width: (width = w), height });
        });
        resize.observe(el);
      },
      gone: false,
    };
    schedule(job);
    return () => {
      job.gone = true;
      resize?.disconnect();
      plot?.destroy();
    };
  }, [title, series, options.x, options.log, options.smoothing, height]);
  return <div class="chart" ref={box} data-metric={title} />;
}
