// A run's page and the comparison, driven in Debian's chromium by playwright-core (from
// ui/node_modules). Reads its spec as JSON on stdin (run_page_test.py: the server's URL, the
// runs and artifacts it logged, where screenshots go). Prints one line per failed check and
// "<phase>: N passed, N failed"; exits 1 when a check failed.
import path from "node:path";
import { axeCheck } from "./axe.mjs";
import { check, eq, finish, launch, spec } from "./browser.mjs";

const WAIT = { timeout: 30000 };
// Waits for a locator; a timeout is not thrown: the check after it says what was missing.
const seen = async (loc) => loc.waitFor(WAIT).then(() => true, () => false);

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
// Every console error fails, but one: chromium's report that the sandboxed HTML artifact's
// script was blocked, which is the point of the sandbox (asserted below as well).
const consoleErrors = [];
const blockedScripts = [];
let expect404 = false;
page.on("console", (m) => {
  if (m.type() !== "error") return;
  if (/Blocked script execution in 'about:srcdoc'.*sandboxed.*allow-scripts/.test(m.text())) blockedScripts.push(m.text());
  else if (expect404 && /status of 404/.test(m.text())) expect404 = false; // the unknown run's runs/get, once
  else consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
// Which artifact bytes the page asked the server for.
const fetched = [];
page.on("request", (r) => {
  if (r.url().includes("/mlflow-artifacts/artifacts/")) fetched.push(decodeURIComponent(new URL(r.url()).pathname));
});
const shot = (name) => page.screenshot({ path: path.join(spec.artifacts, `run-${spec.phase}-${name}.png`), fullPage: true });
const chart = (metric) => page.locator(`.chart[data-metric="${metric}"]`);
// uPlot's legend has a row per series after the x series' row.
const seriesCount = (metric) => chart(metric).locator(".u-legend tr.u-series").count().then((n) => n - 1);

const a = spec.runs["run-a"];
const exp = spec.experiment;
const open = async (name) => {
  await page.locator(".artifact-nav button.file", { hasText: new RegExp(`^${name.replace(".", "\\.")}$`) }).click();
  await page.locator(`.artifact-preview[data-path$="${name}"]`).waitFor(WAIT).catch(() => {});
};

if (spec.phase === "logs") {
  // A run forja run made in the server's workspace: each stage's log tail, in the run's order.
  await page.goto(`${spec.url}/#/experiments/${spec.logs.experiment}/runs/${spec.logs.run}`);
  const section = page.locator("section.run-logs");
  check(await seen(section.locator("details.stage-log").first()), "the run page shows the run's stage logs");
  eq(await section.locator("details.stage-log").evaluateAll((d) => d.map((e) => e.dataset.stage)), spec.logs.stages,
    "one log per stage, in the order the run ran them (the symlinked log is not among them)");
  for (const [stage, tail] of Object.entries(spec.logs.tails)) {
    const log = section.locator(`details.stage-log[data-stage="${stage}"]`);
    check(((await log.locator("pre.log-tail").textContent()) ?? "").includes(tail), `${stage}'s log tail`,
      (await log.locator("pre.log-tail").textContent()) ?? "");
    check(/ran, [0-9.]+ (ms|s)/.test((await log.locator("summary").textContent()) ?? ""), `${stage}'s outcome and duration`,
      (await log.locator("summary").textContent()) ?? "");
  }
  check(((await section.locator("p.muted").first().textContent()) ?? "").includes(`.forja/runs/${spec.logs.folder}/`),
    "the logs say which .forja/runs folder they come from");
  eq(await axeCheck(page), [], "axe-core: no serious accessibility violation on a run page with logs");
  await shot("logs");
  eq(consoleErrors, [], "no console errors");
  await browser.close();
  finish(`logs`);
}

if (spec.phase === "token") {
  // A server that needs a token: previews and downloads carry it (a plain link could not).
  await page.goto(`${spec.url}/#/experiments/${exp}/runs/${a}`);
  await page.locator('form.login input[name="token"]').fill(spec.token).catch(() => {});
  await page.getByRole("button", { name: "Log in" }).click().catch(() => {});
  check(await seen(page.locator("h1", { hasText: "run-a" })), "with a token, the run page shows");
  check(await seen(chart("loss").locator("canvas")), "and its chart");
  await open("metrics.csv");
  await seen(page.locator("table.csv-preview tbody tr").first());
  eq(await page.locator("table.csv-preview tbody tr").count(), spec.csv.length - 1, "a CSV preview is fetched with the token");
  await open("plot.png");
  check(await seen(page.locator("img.artifact-image")), "and an image");
  await open("weights.bin");
  const button = page.getByRole("button", { name: "Download weights.bin" });
  check(await seen(button), "the download is a button that sends the token");
  const download = page.waitForEvent("download", WAIT);
  await button.click();
  const file = await download;
  eq(file.suggestedFilename(), "weights.bin", "and saves the file");
  const saved = await file.path();
  eq((await import("node:fs")).statSync(saved).size, spec.big_size, "whole");
  await shot("artifact-download");
  eq(consoleErrors.filter((t) => !/status of 401/.test(t)), [], "no console errors but the first 401");
  await browser.close();
  finish(`token`);
}

// ---- the run page: params, tags, a chart per metric -----------------------------------------
await page.goto(`${spec.url}/#/experiments/${exp}/runs/${a}`);
check(await seen(page.locator("h1", { hasText: "run-a" })), "the run page names the run");
const kv = (await page.locator("table.kv").allTextContents()).join(" ");
for (const k of ["lr", "epochs", "optimizer", "mlflow.source.git.commit"]) check(kv.includes(k), `the run page lists ${k}`);
check(await seen(chart("loss").locator("canvas")), "a loss chart is drawn");
eq(await seriesCount("loss"), 1, "the run's loss chart has one series");
eq(await chart("loss").getAttribute("data-scale"), "linear", "on a linear scale first");
await page.getByLabel("Log scale").check();
check(await seen(page.locator('.chart[data-metric="loss"][data-scale="log"]')), "Log scale switches the chart to a log scale");
eq(await seriesCount("loss"), 1, "still one series");
// The legend shows the value under the cursor: smoothing changes it (the EMA lags a falling loss).
const hovered = async () => {
  const over = chart("loss").locator(".u-over");
  await over.waitFor(WAIT).catch(() => {});
  const box = await over.boundingBox();
  if (!box) return null;
  await page.mouse.move(box.x + 2, box.y + 2);
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  return chart("loss").locator(".u-legend tr.u-series").nth(1).locator(".u-value").textContent();
};
const raw = await hovered();
await page.locator('.chart-controls input[type="range"]').fill("0.9");
eq(await page.locator(".chart-controls output").textContent(), "0.90", "the smoothing slider shows its weight");
const smoothed = await hovered();
check(raw && smoothed && raw !== "--" && smoothed !== "--" && Number(smoothed) > Number(raw),
  "smoothing raises the falling loss's value at the same point", `${raw} -> ${smoothed}`);
await page.getByLabel("X axis").selectOption("relative");
check(await seen(chart("loss").locator(".u-legend", { hasText: "seconds since start" })), "the x axis can be relative time");
await shot("charts");

// ---- artifacts: each kind previewed, or offered for download ------------------------------------
await open("metrics.csv");
check(await seen(page.locator("table.csv-preview tbody tr").first()), "a CSV artifact shows as a table");
eq(await page.locator("table.csv-preview thead th").allTextContents(), spec.csv[0], "with its header row");
eq(await page.locator("table.csv-preview tbody tr").count(), spec.csv.length - 1, "and every row");
eq(await page.locator("table.csv-preview tbody tr").first().locator("td").allTextContents(), spec.csv[1], "cell by cell");
await shot("artifact-csv");

await open("config.json");
check(await seen(page.locator("pre.artifact-text.json")), "a JSON artifact is shown as text");
eq(await page.locator("pre.artifact-text.json").textContent(), spec.json_pretty, "pretty-printed");

await open("plot.png");
check(await seen(page.locator("img.artifact-image")), "an image artifact is shown");
await page.waitForFunction(() => document.querySelector("img.artifact-image")?.complete, null, WAIT).catch(() => {});
eq(await page.locator("img.artifact-image").evaluate((i) => [i.naturalWidth, i.naturalHeight]), [48, 32], "decoded at its size");
await shot("artifact-image");

await open("report.html");
const frame = page.locator("iframe.artifact-html");
check(await seen(frame), "an HTML artifact renders in a frame");
eq(await frame.getAttribute("sandbox"), "", "sandboxed with no permission (no allow-scripts, no allow-same-origin)");
const inner = page.frameLocator("iframe.artifact-html");
check(await seen(inner.locator("#title", { hasText: "Training report" })), "the frame shows the report");
eq(await inner.locator("#probe").textContent(), "static", "the report's script did not run");
eq(await page.evaluate(() => document.body.dataset.pwned ?? null), null, "and did not reach the page");
check(page.url().startsWith(spec.url), "nor navigate it away", page.url());
for (let i = 0; i < 300 && blockedScripts.length === 0; i++) await page.waitForTimeout(100); // the message comes on its own
check(blockedScripts.length > 0, "chromium reports the script as blocked by the sandbox");
await shot("artifact-html");

await open("weights.bin");
check(await seen(page.locator(".not-previewed")), "a big binary artifact is not previewed");
check(((await page.locator(".not-previewed").textContent()) ?? "").includes("Too large"), "saying it is too large");
const link = page.locator("a.download", { hasText: "weights.bin" });
check(await seen(link), "and offers a download");
check(((await link.getAttribute("href")) ?? "").endsWith("/weights.bin"), "through the artifact proxy");
check(!fetched.some((p) => p.endsWith("/weights.bin")), "without fetching it", JSON.stringify(fetched));
const download = page.waitForEvent("download", WAIT);
await link.click();
eq(await (await download).suggestedFilename(), "weights.bin", "the link downloads the file");

await page.locator(".artifact-nav button.folder", { hasText: "notes/" }).click();
await open("summary.txt");
eq(await page.locator("pre.artifact-text").textContent(), "loss went down\n", "a text file in a folder");

// ---- lineage ---------------------------------------------------------------------------------
eq(await page.locator(".run-lineage code.git-commit").textContent(), spec.git_commit, "the lineage shows the git commit");
const lineage = page.locator(".run-lineage table.lineage");
eq(await lineage.locator("td[title]").evaluateAll((tds) => tds.map((t) => t.title)), [spec.lineage.input, spec.lineage.output],
  "its input and output, by hash");
eq(await page.locator(".run-lineage ul.model-versions a").allTextContents(), [spec.model_version], "and the version registered from it");
eq(await page.locator(".run-lineage .stages code").allTextContents(), ["prepare, train", "featurize"], "the pipeline stages it ran and restored");
check(await seen(page.locator("section.run-logs p.no-logs")), "a run the MLflow client made has no logs here");
check(((await page.locator("section.run-logs p.no-logs").textContent()) ?? "").includes("not made by forja run"),
  "and the page says why", (await page.locator("section.run-logs p.no-logs").textContent()) ?? "");
await shot("lineage");
eq(await axeCheck(page), [], "axe-core: no serious accessibility violation on the run page");

// ---- an unknown run ------------------------------------------------------------------------------
expect404 = true;
await page.goto(`${spec.url}/#/experiments/${exp}/runs/0123456789abcdef0123456789abcdef`);
check(await seen(page.locator("h1", { hasText: "Run not found" })), "an unknown run shows a not-found page");
check(((await page.locator(".not-found").textContent()) ?? "").includes("0123456789abcdef0123456789abcdef"), "naming the run");
await shot("not-found");

// ---- compare three runs from the runs table -----------------------------------------------------
await page.goto(`${spec.url}/#/experiments/${exp}`);
await page.locator("table.runs").waitFor(WAIT).catch(() => {});
eq(await page.getByRole("button", { name: /^Compare/ }).isDisabled(), true, "Compare waits for two runs");
for (const name of ["run-a", "run-b", "run-c"]) await page.getByLabel("Compare " + name, { exact: true }).check();
await page.getByRole("button", { name: "Compare 3 runs" }).click();
await page.waitForURL(/#\/compare-runs\?runs=/, WAIT).catch(() => {});
const ids = JSON.parse(new URL(page.url().replace("#/", "")).searchParams.get("runs") ?? "[]");
eq([...ids].sort(), Object.values(spec.runs).sort(), "the comparison's URL is MLflow's, with the three runs");
check(await seen(page.locator("h1", { hasText: "Comparing 3 runs" })), "the comparison page opens");
check(await seen(chart("loss").locator("canvas")), "with a loss chart");
eq(await chart("loss").getAttribute("data-series"), "3", "that overlays three series");
// One legend for every chart (no uPlot legend per chart), each run in its colour; hovering a
// chart shows each run's value at the cursor.
const nameOf = (id) => Object.keys(spec.runs).find((n) => spec.runs[n] === id);
eq(await page.locator(".chart-legend li").allTextContents(), ids.map(nameOf), "one legend names the three runs, in the URL's order");
eq(await chart("loss").locator(".u-legend").count(), 0, "and the charts have no legend of their own");
{
  const over = chart("loss").locator(".u-over");
  const box = await over.boundingBox();
  if (box) {
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  }
  const tip = chart("loss").locator(".chart-readout");
  const text = (await seen(tip)) ? await tip.textContent() : "";
  const lines = (text ?? "").split("\n");
  check(lines[0]?.startsWith("step ") && lines.length === 4 && ["run-a", "run-b", "run-c"].every((n) => lines.some((l) => l.startsWith(n + ": "))),
    "hovering the chart shows the step and each run's value", JSON.stringify(text));
  await page.mouse.move(0, 0);
}
const rows = () => page.locator("table.diff tbody tr[data-row]").evaluateAll((trs) => trs.map((t) => t.dataset.row));
const shown = await rows();
for (const p of spec.params.differ) check(shown.includes("params." + p), `the diff shows ${p}, which differs`, JSON.stringify(shown));
for (const p of spec.params.equal) check(!shown.includes("params." + p), `and hides ${p}, equal in every run`, JSON.stringify(shown));
await shot("compare");
await page.getByLabel("Show equal rows").check();
check((await rows()).includes("params.optimizer"), "Show equal rows shows it");
eq(await page.locator(".scatter circle.dot").count(), 3, "the scatter has a dot per run");
eq(await page.locator("svg.parallel polyline.run-line").count(), 3, "parallel coordinates have a line per run");
await page.getByLabel("Param").selectOption("params.epochs");
eq(await page.locator(".scatter svg").getAttribute("aria-label"), "acc against epochs", "the scatter's param can be chosen");
await shot("compare-all");
eq(await axeCheck(page), [], "axe-core: no serious accessibility violation on the comparison");

// Typed by hand: a comma list works as well.
await page.goto(`${spec.url}/#/compare?runs=${spec.runs["run-a"]},${spec.runs["run-b"]}`);
check(await seen(page.locator("h1", { hasText: "Comparing 2 runs" })), "#/compare?runs=a,b opens a comparison of two");

// Opened as a new page, index.html's inline script asks for the runs (one call for all) and
// every history while the app's code loads, and the app takes those answers: one request
// each, the charts drawn.
const fresh = await context.newPage();
fresh.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
const asked = [];
fresh.on("request", (r) => /\/(runs\/get|runs\/get-many|metrics\/histories)\?/.test(r.url()) && asked.push(r.url().replace(/^.*\/api\/2\.0\//, "")));
await fresh.goto(`${spec.url}/#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids))}`);
await fresh.locator('.chart[data-metric="loss"][data-series="3"] canvas').waitFor(WAIT).catch(() => {});
eq(await fresh.locator('.chart[data-metric="loss"]').getAttribute("data-series"), "3", "a comparison opened afresh draws its three series");
eq(asked.filter((u) => u.includes("metrics/histories")).length, 1, "with one histories request");
eq(asked.filter((u) => u.includes("runs/get")), ["forja/runs/get-many?run_ids=" + encodeURIComponent(ids.join(","))], "and one runs/get-many for every run");
await fresh.close();

eq(consoleErrors, [], "no console errors");
await browser.close();
finish(`browse`);
