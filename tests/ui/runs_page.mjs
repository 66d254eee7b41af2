// Drives forja server's web UI in Debian's chromium with playwright-core (from ui/node_modules)
// and asserts what a person sees. Reads its spec as JSON on stdin (runs_page_test.py writes it:
// the server's URL, the data it logged, where screenshots go). Prints one line per failed
// check and "<phase>: N passed, N failed"; exits 1 when a check failed.
import path from "node:path";
import { axeCheck } from "./axe.mjs";
import { check, eq, finish, launch, spec } from "./browser.mjs";


const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
// Any console error (a CSP violation, a failed fetch, an exception) is a failure, except the
// 401s phase "login" provokes on purpose and the 400 a bad filter gets, which the page shows.
const consoleErrors = [];
page.on("console", (m) => {
  if (m.type() === "error") consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
const expectedStatus = (t) => /status of (400|401)/.test(t);

const shot = async (name) => page.screenshot({ path: path.join(spec.artifacts, `${spec.phase}-${name}.png`), fullPage: true });
const runNames = async () => page.locator("table.runs tbody td.run-name").allTextContents();
// Waits until the runs table shows exactly `want` (in any order unless `ordered`).
async function waitForRuns(want, ordered = false) {
  const key = (xs) => JSON.stringify(ordered ? xs : [...xs].sort());
  try {
    await page.waitForFunction(
      ([w, o]) => {
        const got = [...document.querySelectorAll("table.runs tbody td.run-name")].map((td) => td.textContent);
        return JSON.stringify(o ? got : got.sort()) === w;
      },
      [key(want), ordered],
      { timeout: 30000 },
    );
  } catch {
    /* the eq below says what was shown */
  }
  const got = await runNames();
  return ordered ? got : [...got].sort();
}

const { churn, fraud, many } = spec.experiments;
// axe-core in the page: no serious or critical WCAG 2 A/AA violation.
const a11y = async (what) => eq(await axeCheck(page), [], `axe-core: no serious or critical violation on ${what}`);

if (spec.phase === "browse") {
  // The experiments list at /, with the headers every UI answer carries.
  const res = await page.goto(spec.url + "/");
  const h = res.headers();
  check((h["content-security-policy"] ?? "").includes("default-src 'self'"), "CSP on /", h["content-security-policy"]);
  check((h["content-security-policy"] ?? "").includes("frame-ancestors 'none'"), "CSP forbids framing");
  eq(h["x-content-type-options"], "nosniff", "nosniff on /");
  eq(h["referrer-policy"], "no-referrer", "Referrer-Policy on /");
  await page.locator("table.experiments").waitFor({ timeout: 30000 });
  const names = await page.locator("table.experiments tbody td:first-child").allTextContents();
  check(names.includes("churn") && names.includes("fraud"), "the experiments list shows churn and fraud", JSON.stringify(names));
  await a11y("the experiments list");
  await shot("experiments");

  // Into churn by its link: MLflow's URL, the table with every run and its params and metrics.
  await page.getByRole("link", { name: "churn", exact: true }).click();
  await page.waitForURL(`**/#/experiments/${churn}`);
  eq(await waitForRuns(spec.churn_runs), [...spec.churn_runs].sort(), "churn's runs table shows its five runs");
  eq(await page.locator("h1.experiment-name").textContent(), "churn", "the heading names the experiment");
  const headers = await page.locator("table.runs thead tr:last-child th").allTextContents();
  for (const col of ["model", "learning_rate", "rmse", "auc"])
    check(headers.some((t) => t.trim().startsWith(col)), `a column for ${col}`, JSON.stringify(headers));
  const keenRow = page.locator("table.runs tbody tr").filter({ has: page.locator("td.run-name", { hasText: "keen-ant" }) });
  const keenRmse = await keenRow.locator("td").nth(headers.findIndex((t) => t.startsWith("rmse"))).textContent({ timeout: 5000 });
  eq(keenRmse, "0.18", "a metric cell shows the latest value (step 2)");
  await a11y("the runs table");
  await shot("runs");

  // A filter narrows them, through the server's parser.
  await page.getByRole("searchbox", { name: "Filter runs" }).fill(spec.filter);
  await page.getByRole("button", { name: "Search" }).click();
  eq(await waitForRuns(spec.filtered), spec.filtered, `the filter ${spec.filter} narrows the runs`);
  check(decodeURIComponent(page.url()).includes("filter="), "the filter is in the URL", page.url());
  await shot("filtered");
  // The browser's Back and Forward go through the views.
  await page.goBack();
  eq(await waitForRuns(spec.churn_runs), [...spec.churn_runs].sort(), "Back shows the runs without the filter");
  await page.goForward();
  eq(await waitForRuns(spec.filtered), spec.filtered, "Forward shows the filtered runs again");

  // A bad filter shows the parser's own message, as the API gives it.
  const api = await page.request.post(spec.url + "/api/2.0/mlflow/runs/search", {
    data: { experiment_ids: [churn], filter: spec.bad_filter },
  });
  eq(api.status(), 400, "the API refuses the bad filter");
  const message = (await api.json()).message;
  await page.getByRole("searchbox", { name: "Filter runs" }).fill(spec.bad_filter);
  await page.getByRole("button", { name: "Search" }).click();
  const err = page.locator(".filter-error");
  await err.waitFor({ timeout: 30000 }).catch(() => {});
  eq(await err.textContent().catch(() => null), message, "a bad filter shows the server's message under the box");
  check(/character/.test(message ?? ""), "the message names the position", message);
  await shot("bad-filter");

  // Clear the filter; sort by rmse (descending first, then ascending) by clicking its header.
  await page.getByRole("searchbox", { name: "Filter runs" }).fill("");
  await page.getByRole("button", { name: "Search" }).click();
  await waitForRuns(spec.churn_runs);
  const rmseHeader = page.locator('th[data-column="metrics.rmse"] button');
  await rmseHeader.click();
  eq(await waitForRuns(spec.rmse_descending, true), spec.rmse_descending, "clicking rmse sorts by it, largest first");
  eq(await page.locator('th[data-column="metrics.rmse"]').getAttribute("aria-sort"), "descending", "the header says descending");
  await shot("sorted-desc");
  await rmseHeader.click();
  const ascending = [...spec.rmse_descending].reverse();
  eq(await waitForRuns(ascending, true), ascending, "clicking again sorts smallest first");
  eq(await page.locator('th[data-column="metrics.rmse"]').getAttribute("aria-sort"), "ascending", "the header says ascending");

  // A run's link opens its page.
  await page.getByRole("link", { name: "keen-ant", exact: true }).click();
  await page.locator("h1", { hasText: "keen-ant" }).waitFor({ timeout: 30000 }).catch(() => {});
  check(/#\/experiments\/[^/]+\/runs\/[0-9a-f]+$/.test(page.url()), "a run's link is MLflow's run URL", page.url());
  check((await page.locator("table.kv").allTextContents()).join(" ").includes("learning_rate"), "the run page lists its params");
  await a11y("a run's page");
  await shot("run");

  // A deep link, as an MLflow client prints it, in a fresh tab: the right experiment.
  const deep = await context.newPage();
  deep.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  deep.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
  await deep.goto(`${spec.url}/#/experiments/${fraud}`);
  await deep.locator("table.runs").waitFor({ timeout: 30000 }).catch(() => {});
  eq(await deep.locator("h1.experiment-name").textContent(), "fraud", "the deep link opens fraud");
  eq((await deep.locator("table.runs tbody td.run-name").allTextContents()).sort(), spec.fraud_runs, "with fraud's runs");
  await deep.screenshot({ path: path.join(spec.artifacts, "browse-deep-link.png"), fullPage: true });

  // Opening a runs page, index.html's inline script asks for the first window before the app's
  // code has loaded, and the app takes that answer: one window request, the script's, for a
  // plain view and for saved views (filter, sort, columns); the rows are the view's.
  for (const [query, want, ordered] of [
    ["", spec.churn_runs, false],
    ["?filter=" + encodeURIComponent(spec.filter), spec.filtered, false],
    ["?sort=metrics.rmse&dir=asc", [...spec.rmse_descending].reverse(), true],
    ["?cols=params.model,metrics.rmse&sort=metrics.rmse", spec.rmse_descending, true],
  ]) {
    const tab = await context.newPage();
    tab.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    // Notes the URL the inline script asked for when it hands its fetch to the app.
    await tab.addInitScript(() => {
      let early;
      Object.defineProperty(window, "forjaEarly", {
        configurable: true,
        get: () => early,
        set: (v) => {
          early = v;
          window.earlyUrl = v[0].url;
        },
      });
    });
    const asked = [];
    tab.on("request", (r) => r.url().includes("/forja/runs/window") && asked.push(r.url().replace(spec.url, "")));
    await tab.goto(`${spec.url}/#/experiments/${churn}${query}`);
    const names = async () => tab.locator("table.runs tbody td.run-name").allTextContents();
    await tab.waitForFunction((n) => document.querySelectorAll("table.runs tbody td.run-name").length === n, want.length, { timeout: 30000 }).catch(() => {});
    eq(ordered ? await names() : (await names()).sort(), ordered ? want : [...want].sort(), `the runs of #/experiments/ID${query}`);
    const early = await tab.evaluate(() => window.earlyUrl ?? null);
    eq(asked, [early], `#/experiments/ID${query}: one window request, the inline script's early one`);
    if (query !== "") {
      await tab.close();
      continue;
    }
    // Opened again in this tab: the early window asks for the columns the server chose before
    // (kept in sessionStorage), and the server's choice is asked after the rows (limit=1).
    // Remembered columns that are not the server's choice any more give way to its choice.
    const columnsOf = (url) => new URLSearchParams(url.split("?")[1]).get("columns");
    const shownColumns = () => tab.locator("table.runs thead th[data-column]").evaluateAll((ths) => ths.map((t) => t.dataset.column));
    const chosen = await shownColumns();
    for (const [what, kept] of [["the same columns", null], ["stale columns", ["params.model"]]]) {
      if (kept) await tab.evaluate(([k, v]) => sessionStorage.setItem(k, JSON.stringify(v)), [`forja.columns.${churn}`, kept]);
      asked.length = 0;
      await tab.reload();
      await tab.waitForFunction((n) => document.querySelectorAll("table.runs thead th[data-column]").length === n, chosen.length, { timeout: 30000 }).catch(() => {});
      await tab.waitForFunction(() => document.querySelectorAll("details.column-picker input").length > 0, null, { timeout: 30000 }).catch(() => {});
      eq(await shownColumns(), chosen, `reopened with ${what} remembered: the server's choice of columns`);
      eq(asked[0], await tab.evaluate(() => window.earlyUrl ?? null), `reopened with ${what}: the early window is the first request`);
      eq(columnsOf(asked[0] ?? ""), (kept ?? chosen.filter((c) => !c.startsWith("attributes."))).join(","),
        `reopened with ${what}: the early window asks for the remembered columns`);
      check(asked.some((u) => u.includes("limit=1&") && columnsOf(u) === null), `reopened with ${what}: the server's choice is asked`,
        JSON.stringify(asked));
      check((await tab.locator("details.column-picker input").count()) > 0, `reopened with ${what}: the column picker has the keys`);
      eq((await names()).sort(), [...spec.churn_runs].sort(), `reopened with ${what}: churn's runs`);
    }
    await tab.close();
  }

  // Chosen columns: untick auc, and its column goes; the choice is in the URL and survives a reload.
  await page.goto(`${spec.url}/#/experiments/${churn}`);
  await waitForRuns(spec.churn_runs);
  eq(await page.locator(".run-count").textContent(), "5 runs", "the count of the runs");
  await page.locator("details.column-picker summary").click();
  await page.locator('details.column-picker input[data-column="metrics.auc"]').uncheck();
  await page.waitForURL(/cols=/, { timeout: 30000 }).catch(() => {});
  await page.locator('th[data-column="metrics.auc"]').waitFor({ state: "detached", timeout: 30000 }).catch(() => {});
  const headerIds = async () => page.locator("table.runs thead th[data-column]").evaluateAll((ths) => ths.map((t) => t.dataset.column));
  const chosen = ["params.learning_rate", "params.model", "metrics.rmse"];
  check((await headerIds()).filter((c) => !c.startsWith("attributes.")).join() === chosen.join(), "unticking auc drops its column",
    JSON.stringify(await headerIds()));
  const colsParam = new URLSearchParams(page.url().split("?")[1] ?? "").get("cols");
  eq(colsParam, chosen.join(","), "the chosen columns are in the URL");
  await a11y("the runs table with the column picker open");
  await shot("columns");
  await page.reload();
  await waitForRuns(spec.churn_runs);
  check((await headerIds()).filter((c) => !c.startsWith("attributes.")).join() === chosen.join(),
    "after a reload the same columns show", JSON.stringify(await headerIds()));
  await page.locator("details.column-picker summary").click();
  eq(await page.locator('details.column-picker input[data-column="metrics.auc"]').isChecked(), false, "and auc stays unticked");
  await page.getByRole("button", { name: "Default columns" }).click();
  await page.locator('th[data-column="metrics.auc"]').waitFor({ timeout: 30000 }).catch(() => {});
  check(!page.url().includes("cols="), "Default columns leaves the URL without cols=", page.url());

  // Grouped by a param: a row per value with its run count and the metrics' means, from the server.
  await page.getByLabel("Group by").selectOption("model");
  await page.locator("table.run-groups").waitFor({ timeout: 30000 }).catch(() => {});
  const groups = await page.locator("table.run-groups tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector(".group-value").textContent, Number(tr.querySelector(".group-count").textContent)]));
  eq(groups, spec.groups, "grouping by model shows each value and its run count");
  check(new URLSearchParams(page.url().split("?")[1] ?? "").get("group") === "model", "the grouping is in the URL", page.url());
  const xgbRow = page.locator("table.run-groups tbody tr", { hasText: "xgb" });
  check(((await xgbRow.textContent()) ?? "").includes("0.246667 (0.18–0.35)"), "with the mean, min and max rmse of the xgb runs (0.21, 0.35, 0.18)",
    await xgbRow.textContent());
  await a11y("the grouped runs");
  await shot("grouped");
  await xgbRow.getByRole("button", { name: /Show runs/ }).click();
  eq(await waitForRuns(spec.xgb_runs), spec.xgb_runs, "a group's Show runs lists its runs");
  eq(await page.getByRole("searchbox", { name: "Filter runs" }).inputValue(), "params.`model` = 'xgb'", "through a filter on its value");

  // A few thousand runs: the count, the first rows, and rows far down fetched as they scroll into
  // view, with the right names, while the DOM keeps only the rows on screen.
  await page.goto(`${spec.url}/#/experiments/${many}`);
  const total = spec.many_total;
  const name = (i) => "m" + String(total - 1 - i).padStart(4, "0"); // newest first
  const countText = total.toLocaleString("en-US") + " runs";
  await page.locator(".run-count", { hasText: countText }).waitFor({ timeout: 30000 }).catch(() => {});
  eq(await page.locator(".run-count").textContent(), countText, "the count of every run, not of a page");
  await page.locator("td.run-name", { hasText: name(0) }).waitFor({ timeout: 30000 }).catch(() => {});
  eq((await runNames()).slice(0, 3), [name(0), name(1), name(2)], "the newest runs first");
  const scroller = page.locator(".runs-scroll");
  const scrollToRow = (i) => scroller.evaluate((el, i) => {
    const h = el.querySelector("tbody tr.run[data-run-id]").offsetHeight;
    el.scrollTop = el.querySelector("thead").offsetHeight + i * h - 1;
  }, i);
  // Tick the first run, then one far down: the selection is kept while its rows leave the DOM.
  await page.getByRole("checkbox", { name: "Compare " + name(0) }).check();
  for (const i of [1000, total - 1]) {
    await scrollToRow(i);
    const ok = await page.locator("td.run-name", { hasText: new RegExp(`^${name(i)}$`) }).waitFor({ timeout: 30000 }).then(() => true, () => false);
    check(ok, `scrolling to row ${i} shows ${name(i)}`);
    const shown = await runNames();
    const at = shown.indexOf(name(i));
    check(at >= 0 && shown.every((n, k) => n === name(i - at + k)), `the rows around ${i} are the right runs, in order`, JSON.stringify(shown.slice(0, 4)));
    const domRows = await page.locator("table.runs tbody tr").count();
    check(domRows < 100, `the DOM holds the rows on screen only (${domRows} rows of ${total})`);
  }
  await shot("scrolled");
  await page.getByRole("checkbox", { name: "Compare " + name(total - 1) }).check();
  await scrollToRow(0);
  await page.locator("td.run-name", { hasText: name(0) }).waitFor({ timeout: 30000 }).catch(() => {});
  check(await page.getByRole("checkbox", { name: "Compare " + name(0) }).isChecked(), "a ticked run is still ticked after scrolling away and back");
  eq(await page.getByRole("button", { name: /^Compare/ }).textContent(), "Compare 2 runs", "the comparison counts both ticked runs");
  await a11y("a long runs table");

  // Opened afresh, the first window holds a screenful of rows (its answer is a third of a
  // block's); the rest of the block is asked for once they are painted. A run ticked before
  // the rest came stays ticked, and the rows of the rest show when scrolled to.
  {
    const tab = await context.newPage();
    tab.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    const asked = [];
    let release;
    const held = new Promise((r) => (release = r));
    await tab.route(/\/forja\/runs\/window\?/, async (route) => {
      const q = new URL(route.request().url()).searchParams;
      asked.push(q.get("offset") + "+" + q.get("limit"));
      if (q.get("offset") !== "0") await held;
      await route.continue();
    });
    await tab.goto(`${spec.url}/#/experiments/${many}`);
    const first = tab.getByRole("checkbox", { name: "Compare " + name(0) });
    await first.waitFor({ timeout: 30000 }).catch(() => {});
    const screenful = Math.ceil(800 / 30);
    eq(asked[0], "0+" + screenful, "the first window asks for a screenful of rows");
    const shownRows = await tab.locator("table.runs tbody tr[data-run-id]").count();
    check(shownRows > 10 && shownRows <= screenful, `the first rows fill the table (${shownRows} of ${screenful} fetched)`);
    await first.check();
    const rest = `${screenful}+${100 - screenful}`;
    for (let i = 0; i < 300 && !asked.includes(rest); i++) await tab.waitForTimeout(100);
    check(asked.includes(rest), "the rest of the block is asked for once the rows are painted", JSON.stringify(asked));
    release();
    const below = screenful + 5;
    await tab.locator(".runs-scroll").evaluate((el, i) => {
      const h = el.querySelector("tbody tr.run[data-run-id]").offsetHeight;
      el.scrollTop = el.querySelector("thead").offsetHeight + i * h - 1;
    }, below);
    const ok = await tab.locator("td.run-name", { hasText: new RegExp(`^${name(below)}$`) }).waitFor({ timeout: 30000 }).then(() => true, () => false);
    check(ok, `scrolling to row ${below} shows ${name(below)}, from the rest of the first block`);
    await tab.locator(".runs-scroll").evaluate((el) => (el.scrollTop = 0));
    await first.waitFor({ timeout: 30000 }).catch(() => {});
    eq(await first.isChecked().catch(() => null), true, "a run ticked before the rest of its block came is still ticked");
    eq((await tab.locator(".compare-bar button").textContent()).trim(), "Compare 1 runs", "and counted as ticked");
    eq(asked.filter((a) => a.startsWith("0+")).length, 1, "the first rows are asked for once");
    await tab.close();
  }

  // A client route outside the hash answers the app too, and an unknown asset does not.
  const spa = await page.request.get(spec.url + "/experiments/" + churn);
  eq(spa.status(), 200, "a client path answers 200");
  check((await spa.text()).includes('<div id="app">'), "with index.html");
  const missing = await page.request.get(spec.url + "/assets/no-such-file.js");
  eq(missing.status(), 404, "an unknown asset is a 404, not the page");
  const apiMissing = await page.request.get(spec.url + "/api/2.0/mlflow/no/such/route");
  eq((await apiMissing.json()).error_code, "ENDPOINT_NOT_FOUND", "API 404s stay JSON");
} else if (spec.phase === "login") {
  // A server that needs a token: the page asks for one, a wrong one is refused, the right one opens it.
  await page.goto(`${spec.url}/#/experiments/${churn}`);
  const form = page.locator("form.login");
  await form.waitFor({ timeout: 30000 }).catch(() => {});
  check(await form.isVisible(), "the page asks for a token");
  check(((await form.locator(".error").textContent()) ?? "").includes("needs a token"), "saying why");
  await a11y("the login form");
  await shot("login");
  await page.locator('form.login input[name="token"]').fill("forja_wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("form.login .error", { hasText: "unknown or revoked token" }).waitFor({ timeout: 30000 }).catch(() => {});
  check(((await page.locator("form.login .error").textContent().catch(() => "")) ?? "").includes("unknown or revoked token"),
    "a wrong token is refused with the server's message");
  await page.locator('form.login input[name="token"]').fill(spec.token);
  await page.getByRole("button", { name: "Log in" }).click();
  eq(await waitForRuns(spec.churn_runs), [...spec.churn_runs].sort(), "with the token, the runs table shows");
  eq(await page.evaluate(() => sessionStorage.getItem("forja.token")), spec.token, "the token is kept in sessionStorage");
  await shot("logged-in");
  await page.getByRole("button", { name: "Log out" }).click();
  await form.waitFor({ timeout: 30000 }).catch(() => {});
  check(await form.isVisible(), "logging out asks for a token again");
  eq(await page.evaluate(() => sessionStorage.getItem("forja.token")), null, "and forgets it");
}

const unexpected = consoleErrors.filter((t) => !expectedStatus(t));
eq(unexpected, [], "no console errors");
await browser.close();
finish(`${spec.phase}`);
