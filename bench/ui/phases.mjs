// Where forja's "runs table interactive" time goes: the same visit as measure.mjs (a warm,
// untimed visit first; then navigation, the first row's checkbox in view, a real CDP click on
// it, the box checked), with the phases in between read from the page's own clock:
// navigation -> HTML -> bundle fetched -> app rendered -> each API call sent and answered ->
// rows in the DOM -> the click's event -> checked, plus every long task (> 50 ms) on the main
// thread. Optionally (--trace FILE) a Chrome trace of the timed visit, for chrome://tracing,
// or (--profile FILE) a JS CPU profile of it, summarized as self time per function.
//
//   node bench/ui/phases.mjs http://127.0.0.1:PORT EXPERIMENT_ID [--reps 5] [--trace t.json]
//   node bench/ui/phases.mjs URL EXP --filter 'metrics.m0 > 0.5'   (times the filter instead)
import { writeFileSync } from "node:fs";
import { parseArgs, chromium, summarizeProfile, probedPage, until } from "./args.mjs";

const { url, exp, opt } = parseArgs("phases.mjs", "[--reps N] [--trace FILE] [--profile FILE] [--filter F]");
const reps = Number(opt("--reps", 3));
const tracePath = opt("--trace", null);
const profilePath = opt("--profile", null);
const filter = opt("--filter", null);
const page_url = `${url}/#/experiments/${exp}`;

// Installed before any of the page's scripts: records each fetch (sent, headers in, body
// read), the first time a run row is in the DOM, the app's first DOM and the long tasks.
function probe() {
  const log = (window.__phases = { fetches: [], longtasks: [] });
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const e = { url: String(input).replace(/^.*\/api\/2\.0\//, ""), sent: performance.now() };
    log.fetches.push(e);
    const res = await realFetch(input, init);
    e.headers = performance.now();
    const text = res.text.bind(res);
    res.text = async () => {
      const t = await text();
      e.body = performance.now();
      e.bytes = t.length;
      return t;
    };
    return res;
  };
  new PerformanceObserver((l) => {
    for (const x of l.getEntries()) log.longtasks.push([x.startTime, x.duration]);
  }).observe({ type: "longtask", buffered: true });
  const mo = new MutationObserver(() => {
    const app = document.getElementById("app");
    if (app && app.firstChild && !log.app) log.app = performance.now();
    if (!log.rows && document.querySelector("[data-run-id]")) {
      log.rows = performance.now();
      log.rowCount = document.querySelectorAll("[data-run-id]").length;
    }
  });
  mo.observe(document, { childList: true, subtree: true });
  addEventListener("pointerdown", (e) => (log.pointerdown ??= [e.timeStamp, performance.now()]), { capture: true });
  addEventListener("change", () => (log.change ??= performance.now()), { capture: true });
  addEventListener("keydown", (e) => e.key === "Enter" && (log.enter ??= [e.timeStamp, performance.now()]), { capture: true });
  addEventListener("submit", () => (log.submit ??= performance.now()), { capture: true });
}

function rowVisible() {
  for (const el of document.querySelectorAll("[data-run-id]")) {
    const cb = el.querySelector('input[type="checkbox"]');
    if (!cb) continue;
    const r = cb.getBoundingClientRect();
    if (r.height > 0 && r.bottom > 0 && r.top < innerHeight)
      return { t: performance.now(), id: el.dataset.runId, x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }
  return 0;
}

function checkedRow(id) {
  return document.querySelector(`[data-run-id="${id}"] input[type="checkbox"]`)?.checked ? performance.now() : 0;
}

// The filtered table: rows, and not the run that was first before.
function filteredAway(id) {
  return document.querySelector("[data-run-id]") && !document.querySelector(`[data-run-id="${id}"]`) ? performance.now() : 0;
}

function report() {
  const p = window.__phases;
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource").filter((r) => /\/(assets|api)\//.test(r.name));
  return { p, nav: nav && nav.toJSON(), res: res.map((r) => r.toJSON()), now: performance.now() };
}

const ms = (x) => (x == null ? "   -  " : x.toFixed(1).padStart(6));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

for (let rep = 0; rep < reps; rep++) {
  const { context, page } = await probedPage(browser, { width: 1280, height: 800 }, [rowVisible, checkedRow, filteredAway]);
  await context.addInitScript(probe);
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(page_url, { waitUntil: "commit" });
  await until(page, rowVisible);
  await page.goto("about:blank");
  const tracing = tracePath && rep === reps - 1;
  if (tracing) await browser.startTracing(page, { path: tracePath, screenshots: false });
  const profiling = profilePath && rep === reps - 1 ? await context.newCDPSession(page) : null;
  if (profiling) {
    await profiling.send("Profiler.enable");
    await profiling.send("Profiler.setSamplingInterval", { interval: 100 });
    await profiling.send("Profiler.start");
  }
  let out;
  await page.goto(page_url, { waitUntil: "commit" });
  const seen = await until(page, rowVisible);
  if (!filter) {
    await page.mouse.click(seen.x, seen.y);
    const checked = await until(page, checkedRow, seen.id);
    out = await page.evaluate(report);
    out.checked = checked;
  } else {
    await page.waitForTimeout(1000);
    const input = page.locator('input[type="search"][aria-label="Filter runs"]');
    await input.click();
    await input.fill(filter);
    await page.evaluate(() => {
      window.__phases.fetches.length = 0;
      window.__phases.longtasks.length = 0;
    });
    await input.press("Enter");
    const done = await until(page, filteredAway, seen.id);
    out = await page.evaluate(report);
    out.checked = done;
  }
  if (tracing) await browser.stopTracing();
  if (profiling) {
    const { profile } = await profiling.send("Profiler.stop");
    writeFileSync(profilePath, JSON.stringify(profile));
    console.log(summarizeProfile(profile));
  }
  await context.close();

  const { p, nav, res } = out;
  const lines = [`rep ${rep + 1}: seen ${ms(seen.t)}  ${filter ? "filtered" : "checked"} ${ms(out.checked)}`];
  if (!filter) {
    lines.push(`  HTML           ${ms(nav.requestStart)} -> ${ms(nav.responseEnd)} (status ${nav.responseStatus ?? "?"})`);
    for (const r of res)
      lines.push(
        `  ${r.name.replace(/^.*\/(assets|api\/2.0)\//, "").slice(0, 22).padEnd(22)} ${ms(r.startTime)} -> ${ms(r.responseEnd)} ` +
          `(connect ${ms(r.connectStart)}-${ms(r.connectEnd)}, request ${ms(r.requestStart)}, first byte ${ms(r.responseStart)}; ` +
          `${r.transferSize} B over the wire, ${r.decodedBodySize} B)`,
      );
    lines.push(`  DOM interactive ${ms(nav.domInteractive)}; DOMContentLoaded ${ms(nav.domContentLoadedEventEnd)}`);
    lines.push(`  app's first DOM ${ms(p.app)}; rows in DOM ${ms(p.rows)} (${p.rowCount} rows)`);
  } else lines.push(`  Enter event ${ms(p.enter?.[0])} handled ${ms(p.enter?.[1])}; submit ${ms(p.submit)}`);
  for (const f of p.fetches)
    lines.push(`  fetch ${ms(f.sent)} -> headers ${ms(f.headers)} -> body ${ms(f.body)} (${f.bytes} chars) ${f.url.slice(0, 110)}`);
  if (!filter) lines.push(`  pointerdown event ${ms(p.pointerdown?.[0])} handled ${ms(p.pointerdown?.[1])}; change ${ms(p.change)}`);
  for (const [s, d] of p.longtasks) lines.push(`  long task ${ms(s)} for ${ms(d)}`);
  console.log(lines.join("\n"));
}
await browser.close();
if (tracePath) writeFileSync(tracePath + ".txt", "open in chrome://tracing or ui.perfetto.dev\n");
