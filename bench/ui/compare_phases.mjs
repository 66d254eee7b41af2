// Where forja's "comparison of 10 runs drawn" time goes: the same visit as measure.mjs (a warm,
// untimed visit first; then navigation at 1600x3200 until every metric's chart shows every
// run's series), with the phases in between from the page's own clock: the HTML, each asset
// and API call (queued, sent, first byte, last byte), the app's first DOM, each chart's canvas,
// and every long task. With --trace FILE, a Chrome trace of the last timed visit, summed per
// kind of main-thread work (script, layout, paint, ...) and listing the longest tasks.
//
//   node bench/ui/compare_phases.mjs http://127.0.0.1:PORT EXPERIMENT_ID [--reps 3] [--trace t.json]
//   ... --profile p.cpuprofile   (a JS CPU profile of the last visit instead: the functions that
//                                 took the most time, by self time, printed; the file for DevTools)
//
// The compared runs are the experiment's runs tagged compare=yes (bench/ui/seed.py's 10).
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs, chromium, summarizeProfile, probedPage, until } from "./args.mjs";

const { url, exp, opt } = parseArgs("compare_phases.mjs", "[--reps N] [--trace FILE] [--profile FILE]");
const reps = Number(opt("--reps", 3));
const tracePath = opt("--trace", null);
const profilePath = opt("--profile", null);

const search = await fetch(`${url}/api/2.0/mlflow/runs/search`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ experiment_ids: [exp], filter: "tags.compare = 'yes'", max_results: 100 }),
});
const ids = ((await search.json()).runs ?? []).map((r) => r.info.run_id);
if (ids.length < 2) {
  console.error(`experiment ${exp} has ${ids.length} runs tagged compare=yes; need 2 or more`);
  process.exit(2);
}
const metrics = 10;
const pageUrl =
  `${url}/#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids))}` +
  `&experiments=${encodeURIComponent(JSON.stringify([exp]))}`;

// Installed before any of the page's scripts: the app's first DOM, each chart's canvas, long tasks.
function probe() {
  const log = (window.__phases = { longtasks: [], canvases: [], links: [] });
  new PerformanceObserver((l) => {
    for (const x of l.getEntries()) log.longtasks.push([x.startTime, x.duration]);
  }).observe({ type: "longtask", buffered: true });
  new MutationObserver((records) => {
    for (const r of records)
      for (const n of r.addedNodes)
        if (n.nodeName === "LINK") log.links.push([n.rel, n.getAttribute("href"), performance.now()]);
    const app = document.getElementById("app");
    if (app && app.firstChild && !log.app) log.app = performance.now();
    if (!log.h1 && document.querySelector("h1")) log.h1 = performance.now();
    const n = document.querySelectorAll(".chart[data-metric] canvas").length;
    if (n > log.canvases.length) log.canvases.push([n, performance.now()]);
  }).observe(document, { childList: true, subtree: true });
}

// measure.mjs's condition, for forja.
function chartsDrawn([nCharts, nSeries]) {
  const charts = [...document.querySelectorAll(".chart[data-metric]")];
  if (charts.length < nCharts) return 0;
  const done = charts.filter((c) => c.querySelector("canvas") && Number(c.dataset.series ?? 0) >= nSeries).length;
  return done >= nCharts ? performance.now() : 0;
}

function report() {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource").filter((r) => /\/(assets|api)\//.test(r.name));
  return { p: window.__phases, nav: nav && nav.toJSON(), res: res.map((r) => r.toJSON()) };
}

// The renderer's main thread in a Chrome trace: time per kind of work inside its tasks, and the
// longest tasks, between navigation and `end` (trace microseconds).
function summarizeTrace(file) {
  const events = JSON.parse(readFileSync(file, "utf8")).traceEvents;
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain" &&
    events.some((x) => x.pid === e.pid && x.name === "navigationStart"));
  if (!main) return "no renderer main thread in the trace";
  const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === "X" && e.dur);
  const tasks = mine.filter((e) => e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask");
  const kinds = ["EvaluateScript", "v8.compile", "v8.compileModule", "FunctionCall", "TimerFire", "FireAnimationFrame",
    "ParseHTML", "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "HitTest",
    "ResourceReceivedData", "ResourceFinish", "ResourceReceiveResponse", "v8.run", "MinorGC", "MajorGC",
    "V8.GC_SCAVENGER", "V8.GC_MARK_COMPACTOR"];
  const sum = new Map();
  for (const e of mine) if (kinds.includes(e.name)) sum.set(e.name, (sum.get(e.name) ?? 0) + e.dur / 1000);
  const t0 = Math.min(...tasks.map((t) => t.ts));
  const lines = [`main thread: ${tasks.length} tasks, ${(tasks.reduce((a, t) => a + t.dur, 0) / 1000).toFixed(1)} ms busy`];
  for (const [k, v] of [...sum].sort((a, b) => b[1] - a[1])) lines.push(`  ${k.padEnd(24)} ${v.toFixed(1).padStart(7)} ms (nested kinds overlap)`);
  lines.push("longest tasks (start relative to the first task, ms; what they hold over 2 ms):");
  for (const t of [...tasks].sort((a, b) => b.dur - a.dur).slice(0, 12)) {
    const inner = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && kinds.includes(e.name) && e.dur > 2000);
    const what = inner.map((e) => `${e.name}${e.args?.data?.url ? "(" + e.args.data.url.replace(/^.*\//, "") + ")" : ""} ${(e.dur / 1000).toFixed(1)}`);
    lines.push(`  ${((t.ts - t0) / 1000).toFixed(1).padStart(7)} for ${(t.dur / 1000).toFixed(1).padStart(6)}: ${what.join(", ")}`);
  }
  return lines.join("\n");
}

const ms = (x) => (x == null ? "   -  " : x.toFixed(1).padStart(6));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

const totals = [];
for (let rep = 0; rep < reps; rep++) {
  const { context, page } = await probedPage(browser, { width: 1600, height: 3200 }, [chartsDrawn]);
  await context.addInitScript(probe);
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  page.on("console", (m) => m.text().startsWith("DBG") && console.log("  " + m.text()));
  await page.goto(pageUrl, { waitUntil: "commit" });
  await until(page, chartsDrawn, [metrics, ids.length]);
  await page.goto("about:blank");
  const tracing = tracePath && rep === reps - 1;
  if (tracing) await browser.startTracing(page, { path: tracePath, screenshots: false });
  const profiling = profilePath && rep === reps - 1 ? await page.context().newCDPSession(page) : null;
  if (profiling) {
    await profiling.send("Profiler.enable");
    await profiling.send("Profiler.setSamplingInterval", { interval: 100 });
    await profiling.send("Profiler.start");
  }
  await page.goto(pageUrl, { waitUntil: "commit" });
  const drawn = await until(page, chartsDrawn, [metrics, ids.length]);
  const { p, nav, res } = await page.evaluate(report);
  if (tracing) await browser.stopTracing();
  if (profiling) {
    const { profile } = await profiling.send("Profiler.stop");
    writeFileSync(profilePath, JSON.stringify(profile));
    console.log(summarizeProfile(profile));
  }
  await context.close();
  totals.push(drawn);

  const lines = [`rep ${rep + 1}: drawn ${ms(drawn)}`];
  lines.push(`  HTML            ${ms(nav.requestStart)} -> ${ms(nav.responseEnd)}; DOM interactive ${ms(nav.domInteractive)}`);
  for (const r of res)
    lines.push(
      `  ${r.name.replace(/^.*\/(assets|api\/2.0)\//, "").slice(0, 30).padEnd(30)} ${ms(r.startTime)} sent ${ms(r.requestStart)} ` +
        `first byte ${ms(r.responseStart)} end ${ms(r.responseEnd)} (${r.decodedBodySize} B)`,
    );
  lines.push(`  app's first DOM ${ms(p.app)}; h1 ${ms(p.h1)}`);
  for (const [rel, href, t] of p.links) lines.push(`  <link rel=${rel}> ${href} added at ${ms(t)}`);
  lines.push(`  canvases: ${p.canvases.map(([n, t]) => `${n}@${t.toFixed(1)}`).join(" ")}`);
  for (const [s, d] of p.longtasks) lines.push(`  long task ${ms(s)} for ${ms(d)}`);
  console.log(lines.join("\n"));
}
await browser.close();
totals.sort((a, b) => a - b);
console.log(`median drawn: ${totals[Math.floor(totals.length / 2)].toFixed(1)} ms of ${totals.map((t) => t.toFixed(0)).join(", ")}`);
if (tracePath) console.log(summarizeTrace(tracePath));
