// Measures one UI (forja's or MLflow's) in Debian's chromium through the pinned playwright-core
// (ui/node_modules, as tests/ui uses it), in one browser kept for all repetitions, as a user's
// browser is already running when they open a UI. Reads its spec as one JSON line on stdin
// (bench/ui/__main__.py writes it), then one line per repetition ({"first": bool}: take the
// notes and screenshots); answers each with one JSON line on stdout and prints progress on stderr:
//   {table: [ms], rows: [ms], floor: [ms] (forja only), filter: [ms], compare: [ms], notes: {...}}
// Every time is the page's own clock: performance.now() (0 = the navigation's start) or an
// input event's timeStamp, read in the page when a condition polled every animation frame
// first holds. What each condition is, is the same for both UIs; only the selectors differ,
// and they are stable ones: the run id each UI puts on its row, the checkbox in that row, the
// filter box's role/test id, the chart elements. See bench/ui/README.md.
import http from "node:http";
import path from "node:path";
import readline from "node:readline";
import { chromium, probedPage, until } from "./args.mjs";

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const spec = JSON.parse((await lines.next()).value);
const say = (m) => console.error(`  ${spec.ui}: ${m}`);

const forja = spec.ui === "forja";
const ids = { first: spec.first_run_id, filtered: spec.filtered_first_id };
// What differs between the UIs: where things are, never what is waited for.
const ui = forja
  ? {
      table: `${spec.url}/#/experiments/${spec.experiment_id}`,
      row: (id) => `[data-run-id="${id}"]`,
      checkbox: 'input[type="checkbox"]',
      filterBox: 'input[type="search"][aria-label="Filter runs"]',
      compare: `${spec.url}/#/compare-runs?runs=${encodeURIComponent(JSON.stringify(spec.compare_ids))}` +
        `&experiments=${encodeURIComponent(JSON.stringify([spec.experiment_id]))}`,
      // One uPlot chart per metric; it says how many series it drew.
      charts: ".chart[data-metric]",
    }
  : {
      // The runs page itself (an experiment without a kind tag opens on its GenAI overview).
      table: `${spec.url}/#/experiments/${spec.experiment_id}/runs`,
      row: (id) => `.ag-row[row-id="${id}"]`,
      checkbox: "input.ag-checkbox-input",
      filterBox: 'input[data-testid="search-box"]',
      // The experiment page's chart view over the same 10 runs: a line chart per metric.
      compare: `${spec.url}/#/experiments/${spec.experiment_id}/runs?searchFilter=` +
        `${encodeURIComponent("tags.compare = 'yes'")}&compareRunsMode=CHART`,
      charts: ".js-plotly-plot",
    };

// Polled in the page every frame: the time the run's row is in the viewport with its
// checkbox, and where that checkbox is (so the click needs no further round trip).
function rowVisible([sel, box]) {
  for (const el of document.querySelectorAll(sel)) {
    const cb = el.querySelector(box);
    if (!cb) continue;
    const r = cb.getBoundingClientRect();
    if (r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.left < innerWidth)
      return { t: performance.now(), x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }
  return 0;
}

function checked([sel, box]) {
  for (const el of document.querySelectorAll(sel)) {
    const cb = el.querySelector(box);
    if (cb && cb.checked) return performance.now();
  }
  return 0;
}

// The filtered table: the newest run passing the filter is shown, the newest run (which fails
// it) is gone.
function filtered([keep, gone]) {
  return document.querySelector(keep) && !document.querySelector(gone) ? performance.now() : 0;
}

// Every metric's chart drawn with every compared run's series.
function chartsDrawn([sel, nCharts, nSeries, isForja]) {
  const charts = [...document.querySelectorAll(sel)];
  if (charts.length < nCharts) return 0;
  let done = 0;
  for (const c of charts) {
    const series = isForja
      ? (c.querySelector("canvas") ? Number(c.dataset.series ?? 0) : 0)
      : c.querySelectorAll(".scatterlayer .trace path.js-line[d]:not([d=''])").length;
    if (series >= nSeries) done++;
  }
  return done >= nCharts ? performance.now() : 0;
}

// Polled in the page by the probe (args.mjs: probedPage, until), the same for both UIs.
const CONDITIONS = [rowVisible, checked, filtered, chartsDrawn];
const newPage = (viewport) => probedPage(browser, viewport, CONDITIONS);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

// A fresh context (no cache, no storage) and one untimed visit of `url`, so the timed visit
// is a returning user's: the static assets cached, any remembered view state the same.
async function warmPage(url, ready, viewport) {
  const { context, page } = await newPage(viewport);
  page.on("pageerror", (e) => say(`page error: ${e.message}`));
  await page.goto(url, { waitUntil: "commit" });
  await until(page, ready.fn, ready.arg);
  await page.goto("about:blank");
  return { context, page };
}

// API calls a page made: what each UI fetches to show the table (and how many runs at once).
function recordApi(page) {
  const calls = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!/\/(ajax-)?api\//.test(u.pathname)) return;
    let body = null;
    try {
      body = r.postDataJSON();
    } catch {
      /* not JSON */
    }
    const max = body?.max_results ?? u.searchParams.get("max_results");
    const lim = body?.limit ?? u.searchParams.get("limit");
    const what = max != null ? ` (max_results ${max})` : lim != null ? ` (limit ${lim})` : "";
    calls.push(u.pathname.replace(/^.*api\/[0-9.]+\/(mlflow\/)?/, "") + what);
  });
  return calls;
}

const tableView = { width: 1280, height: 800 };
const rowSel = ui.row(ids.first);

// One timed visit of a runs table: navigation until the run's row is in view, then a real
// click (CDP input, queued behind whatever the page is doing) on its checkbox until checked.
async function timeTable(url) {
  const { context, page } = await warmPage(url, { fn: rowVisible, arg: [rowSel, ui.checkbox] }, tableView);
  const calls = recordApi(page);
  await page.goto(url, { waitUntil: "commit" });
  const seen = await until(page, rowVisible, [rowSel, ui.checkbox]);
  await page.mouse.click(seen.x, seen.y);
  const table = await until(page, checked, [rowSel, ui.checkbox]);
  return { context, page, calls, rows: seen.t, table };
}

// The browser's floor for that measurement: forja's runs page as drawn (its rows, its
// stylesheet inlined, no script at all) saved as one static document and served from here.
// No page that has to fetch its rows can be interactive sooner on this machine.
async function staticCopy() {
  const { context, page } = await newPage(tableView);
  await page.goto(ui.table, { waitUntil: "commit" });
  await until(page, rowVisible, [rowSel, ui.checkbox]);
  const html = await page.evaluate(async () => {
    let css = "";
    for (const l of document.querySelectorAll('link[rel="stylesheet"]')) css += await (await fetch(l.href)).text();
    const body = document.body.cloneNode(true);
    body.querySelectorAll("script").forEach((e) => e.remove());
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>static</title><style>${css}</style></head>` +
      `<body>${body.innerHTML}</body></html>`;
  });
  await context.close();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}
const floor = forja ? await staticCopy() : null;

// The browser's own start-up (its GPU and spare renderer processes, the first page's code)
// falls on an untimed visit rather than on the first repetition.
await (await warmPage(ui.table, { fn: rowVisible, arg: [rowSel, ui.checkbox] }, tableView)).context.close();

async function repetition(rep, first) {
  const out = { table: [], rows: [], floor: [], filter: [], compare: [], notes: {} };
  // ---- the runs table interactive, then a filter ------------------------------------------------
  const { context, page, calls, rows, table } = await timeTable(ui.table);
  out.rows.push(rows);
  out.table.push(table);
  if (first) {
    out.notes["API calls until the table was interactive"] = [...calls].join(", ");
    out.notes["run rows in the page when interactive"] = await page.evaluate(
      (sel) => new Set([...document.querySelectorAll(sel)].map((e) => e.getAttribute("data-run-id") ?? e.getAttribute("row-id"))).size,
      forja ? "[data-run-id]" : ".ag-row[row-id]",
    );
    await page.screenshot({ path: path.join(spec.shots, "table.png") });
  }
  say(`rep ${rep + 1}: rows visible ${rows.toFixed(0)} ms, table interactive ${table.toFixed(0)} ms`);
  if (floor) {
    const f = await timeTable(floor.url);
    await f.context.close();
    out.floor.push(f.table);
    say(`rep ${rep + 1}: the same table as a static page interactive ${f.table.toFixed(0)} ms`);
  }

  // The filter: typed (untimed), then Enter; from the keydown's timestamp to the filtered table.
  // On the table freshly loaded again (MLflow swaps its filter box for the selection's actions
  // while a run is ticked), once it has settled.
  await page.goto("about:blank");
  await page.goto(ui.table, { waitUntil: "commit" });
  await until(page, rowVisible, [rowSel, ui.checkbox]);
  await page.waitForTimeout(1000);
  const input = page.locator(ui.filterBox).first();
  await input.click();
  await input.fill(spec.filter);
  await page.evaluate(() => {
    window.__enterAt = 0;
    addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !window.__enterAt) window.__enterAt = e.timeStamp;
    }, { capture: true });
  });
  // MLflow's box suggests keys as you type: Escape closes the list (else Enter takes the
  // suggestion instead of searching). Untimed; forja's box has no list.
  if (!forja) await input.press("Escape");
  calls.length = 0;
  await input.press("Enter");
  const done = await until(page, filtered, [ui.row(ids.filtered), rowSel]);
  const enterAt = await page.evaluate(() => window.__enterAt);
  out.filter.push(done - enterAt);
  if (first) {
    out.notes["API calls of the filter"] = [...calls].join(", ");
    await page.screenshot({ path: path.join(spec.shots, "filtered.png") });
  }
  say(`rep ${rep + 1}: filter ${(done - enterAt).toFixed(0)} ms`);
  await context.close();

  // ---- 10 runs compared: all 10 metric charts drawn --------------------------------------------
  // A viewport tall enough for every chart of both UIs at once (MLflow draws only the charts
  // in view).
  const drawn = { fn: chartsDrawn, arg: [ui.charts, spec.metrics.length, spec.compare_ids.length, forja] };
  const cmp = await warmPage(ui.compare, drawn, { width: 1600, height: 3200 });
  const cmpCalls = recordApi(cmp.page);
  await cmp.page.goto(ui.compare, { waitUntil: "commit" });
  const t = await until(cmp.page, drawn.fn, drawn.arg);
  out.compare.push(t);
  if (first) {
    // One line per distinct call, with how many times it was made.
    const n = new Map();
    for (const c of cmpCalls) n.set(c.split("?")[0], (n.get(c.split("?")[0]) ?? 0) + 1);
    out.notes["API calls until the comparison was drawn"] = [...n].map(([c, k]) => (k > 1 ? `${k} x ${c}` : c)).join(", ");
    await cmp.page.screenshot({ path: path.join(spec.shots, "compare.png") });
  }
  say(`rep ${rep + 1}: comparison drawn ${t.toFixed(0)} ms`);
  await cmp.context.close();
  return out;
}

for (let rep = 0; ; rep++) {
  const next = await lines.next();
  if (next.done) break;
  console.log(JSON.stringify(await repetition(rep, JSON.parse(next.value).first)));
}
floor?.close();
await browser.close();
