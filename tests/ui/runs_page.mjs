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

  // More runs than a page: the first 100 (newest first), then "Load more" brings the rest.
  await page.goto(`${spec.url}/#/experiments/${many}`);
  const newest = [...spec.many_runs].reverse();
  eq(await waitForRuns(newest.slice(0, 100), true), newest.slice(0, 100), "the first page holds the 100 newest runs");
  await page.getByRole("button", { name: "Load more" }).click();
  eq(await waitForRuns(newest, true), newest, "Load more appends the rest");
  eq(await page.getByRole("button", { name: "Load more" }).count(), 0, "and goes away after the last page");

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
