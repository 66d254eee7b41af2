// One uPlot line chart of one metric: a series per run (or one, on a run's page). uPlot comes
// with the lazy pages that draw charts (their chunks import this file; the experiments and runs
// pages never load it), so it is evaluated while a page's data loads rather than after; a chart
// is created once per data/options change and destroyed with the component; it follows the
// width of its box. The box says what it shows in data- attributes (series count, scale), for
// tests and for anyone inspecting the page.
import { useLayoutEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";
import { formatMetric } from "../format";
import { align, color, type ChartOptions, type Series } from "./series";
import UPlotLib from "./uplot";

const X_LABEL = { step: "step", time: "time", relative: "seconds since start" } as const;

interface ChartProps {
  title: string;
  series: Series[];
  options: ChartOptions;
  height: number;
  legend: boolean;
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

// Without uPlot's legend (a comparison's charts share one: MetricCharts), the values under the
// cursor show in a box beside it: uPlot's legend is a table row per series in every chart, half
// the time a comparison's ten charts of ten runs took to make.
function readout(u: uPlot, tip: HTMLDivElement, xLabel: string, x: ChartOptions["x"]) {
  const i = u.cursor.idx;
  if (i == null || u.cursor.left == null || u.cursor.left < 0) {
    tip.hidden = true;
    return;
  }
  const xv = u.data[0][i]!;
  const lines = [`${xLabel} ${x === "time" ? new Date(xv * 1000).toLocaleString() : formatMetric(xv)}`];
  for (let k = 1; k < u.series.length; k++) {
    const v = u.data[k]![i];
    if (v != null) lines.push(`${u.series[k]!.label}: ${formatMetric(v)}`);
  }
  tip.textContent = lines.join("\n");
  tip.hidden = false;
  const left = u.cursor.left + 12;
  tip.style.left = left + tip.offsetWidth > u.over.clientWidth ? `${Math.max(0, u.cursor.left - 12 - tip.offsetWidth)}px` : `${left}px`;
  tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 12)}px`;
}

function draw(UPlot: typeof uPlot, el: HTMLDivElement, { title, series, options, height, legend }: ChartProps, m: Measured): uPlot {
  const data = align(series, options);
  const axis = { stroke: m.text, grid: { stroke: m.grid, width: 1 } };
  const width = lineWidth();
  const xLabel = X_LABEL[options.x];
  let tip: HTMLDivElement | null = null;
  const plot = new UPlot(
    {
      title,
      width: m.width,
      height,
      scales: { x: { time: options.x === "time" }, y: { distr: options.log ? 3 : 1 } },
      series: [
        { label: xLabel },
        ...series.map((s, i) => ({ label: s.label, stroke: s.color ?? color(i), width, spanGaps: true, points: { show: data[0].length < 50 } })),
      ],
      axes: [{ ...axis, label: xLabel }, axis],
      legend: { show: legend },
      hooks: legend
        ? {}
        : {
            setCursor: [
              (u) => {
                if (!tip) {
                  tip = u.over.appendChild(document.createElement("div"));
                  tip.className = "chart-readout";
                }
                readout(u, tip, xLabel, options.x);
              },
            ],
          },
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

function makeCharts() {
  const jobs = queue.filter((j) => !j.gone);
  queue = [];
  const sizes = jobs.map((j) => measure(j.el));
  jobs.forEach((j, i) => j.made(draw(UPlotLib, j.el, j.props, sizes[i]!)));
}

// The charts of one render are queued by their layout effects and made together in a
// microtask after them, still before the frame is painted.
function schedule(job: Job) {
  queue.push(job);
  if (queue.length === 1) queueMicrotask(makeCharts);
}

// Made in a layout effect, in the render's own task: the charts are drawn before the frame is
// painted (an effect would wait for the next frame, then paint again).
// legend: uPlot's own, a row per series with its value under the cursor; false when the page
// shows which series is which once for all its charts.
export function LineChart({
  title,
  series,
  options,
  height = 220,
  legend = true,
}: {
  title: string;
  series: Series[];
  options: ChartOptions;
  height?: number;
  legend?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    let plot: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    const job: Job = {
      el,
      props: { title, series, options, height, legend },
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
  }, [title, series, options.x, options.log, options.smoothing, height, legend]);
  return <div class="chart" ref={box} data-metric={title} />;
}
