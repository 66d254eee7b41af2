// Drives the serving and monitoring page (#/serving) of forja server's web UI in Debian's
// chromium with playwright-core and asserts what a person sees; spec on stdin from
// serving_page_test.py. Prints one line per failed check and "serving: N passed, N failed".
import path from "node:path";
import { axeCheck } from "./axe.mjs";
import { check, eq, finish, launch, spec } from "./browser.mjs";

const T = { timeout: 30000 };
const text = async (locator) => (await locator.textContent({ timeout: 30000 }).catch(() => null)) ?? "";

const browser = await launch();
const consoleErrors = [];
async function newPage(what) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(`${what}: ${m.text()}`));
  page.on("pageerror", (e) => consoleErrors.push(`${what}: uncaught: ${e.message}`));
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(spec.artifacts, `serving-${name}.png`), fullPage: true });

// ---- the nav link, then every instance --------------------------------------------------------
const page = await newPage("serving");
await page.goto(`${spec.url}/#/experiments`);
await page.getByRole("link", { name: "Serving" }).click();
await page.locator("section.instance").first().waitFor(T).catch(() => {});
check(page.url().endsWith("#/serving"), "the nav's Serving link opens #/serving", page.url());
eq(await page.locator("h1").textContent(), "Serving and monitoring", "the page's title");
const shown = await page.locator("section.instance").evaluateAll((s) => s.map((e) => e.getAttribute("data-instance")));
eq([...shown].sort(), [...spec.instances].sort(), "one section per instance that reported");

const web = page.locator('section.instance[data-instance="web-1"]');
check((await text(web.locator("h2"))).includes("live"), "web-1 is live", await text(web.locator("h2")));
check(/http:\/\/127\.0\.0\.1:\d+/.test(await text(web.locator("p").first())), "web-1's address", await text(web.locator("p").first()));
check((await text(web.locator("p").first())).includes("last report"), "and when it last reported");
check((await text(web.locator("ul.routes"))).includes("churn@production 100% → v1"), "the route with its weight and version",
  await text(web.locator("ul.routes")));
const row = web.locator("table.serving-versions tbody tr").first();
const cells = await row.locator("td").allTextContents();
eq(cells.slice(0, 3), ["v1", "primary", "churn@production"], "churn v1, primary, through churn@production");
eq(cells[4], spec.requests, "its requests");
eq(cells[5], "0%", "no errors");
check(cells.slice(6, 9).every((x) => /^[0-9.]+ (ms|µs)$/.test(x)), "latency p50, p95 and p99", JSON.stringify(cells.slice(6, 9)));
check(/^drift \(\d+\/\d+ columns\)$/.test(cells[9]), "the drift verdict in words", cells[9]);
check(/labels\)$/.test(cells[10]), "quality from the feedback's labels", cells[10]);
check(/^(fresh|stale: .+)$/.test(cells[11]), "staleness in words", cells[11]);
await row.locator("a", { hasText: "v1" }).waitFor(T).catch(() => {});
eq(await row.locator("a").getAttribute("href"), "#/models/churn/versions/1", "the version links to its registry page");

// The traffic chart (uPlot): a series per version of the model, from the reports seen so far.
const traffic = web.locator('.chart[data-metric="Requests per second of churn"]');
check(await traffic.locator("canvas").first().waitFor(T).then(() => true, () => false), "a uPlot chart of churn's requests per second");
eq(await traffic.getAttribute("data-series"), "1", "with a series for its one version");

// Drift per column: each with its test, value, threshold and verdict.
const drift = web.locator("table.drift-columns");
check((await text(drift.locator("caption"))).includes("rows in the window"), "the drift table says how many rows it compared");
const drifted = await drift.locator("tbody tr.drifted").evaluateAll((r) => r.map((e) => e.getAttribute("data-column")));
eq(drifted.filter((c) => spec.drifted.includes(c)).sort(), spec.drifted, "the shifted columns are marked drifted");
const f0 = await drift.locator('tbody tr[data-column="f0"] td').allTextContents();
check(f0[1] !== "—" && f0[1] !== "" && /^[0-9.e-]+$/.test(f0[2]) && f0[4] === "drifted", "f0: its test, value and verdict",
  JSON.stringify(f0));
const label = await drift.locator('tbody tr[data-column="label"]').count();
check(label <= 1, "the target column at most once");
check((await text(web.locator(".staleness-line"))).includes("model age"), "staleness ages in words");

// The instance writing straight into the store, and the silent one greyed as stale.
const direct = page.locator('section.instance[data-instance="direct-1"]');
eq(await direct.locator("table.serving-versions tbody tr td").nth(4).textContent(), "0", "direct-1 served nothing");
const old = page.locator('section.instance[data-instance="old-1:8080"]');
check(await old.evaluate((e) => e.classList.contains("stale")), "the silent instance is marked stale");
check((await text(old.locator("h2"))).includes("stale"), "and says so in words");
check((await text(old.locator("p").first())).includes("no report for more than"), "with how long it has been silent",
  await text(old.locator("p").first()));

// Recent alerts.
check((await text(page.locator("main"))).includes(spec.alert), "the recent alert is listed");
eq(await page.locator("table.alerts a", { hasText: "churn v1" }).count(), 1, "the alert links to churn v1");

eq(await axeCheck(page), [], "axe-core: no serious or critical violation on the serving page");
await shot(page, "instances");

// ---- nobody reports here: the empty state says how to make forja serve report ---------------------
const none = await newPage("empty");
await none.goto(`${spec.empty_url}/#/serving`);
await none.locator(".notice").waitFor(T).catch(() => {});
check((await text(none.locator(".notice"))).includes("No forja serve instance has reported here"), "the empty state");
check((await text(none.locator(".notice pre"))).includes(`forja serve churn@production --store ${spec.empty_url}`),
  "it shows the command that makes an instance report here", await text(none.locator(".notice pre")));
eq(await axeCheck(none), [], "axe-core: no serious or critical violation on the empty serving page");
await shot(none, "empty");

eq(consoleErrors, [], "no console errors");
await browser.close();
finish("serving");
