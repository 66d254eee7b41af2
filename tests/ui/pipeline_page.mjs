// Drives the pipeline page (#/pipelines) of forja server's web UI in Debian's chromium with
// playwright-core (from ui/node_modules) and asserts what a person sees. Reads its spec as
// JSON on stdin (pipeline_page_test.py writes it). Prints one line per failed check and
// "pipeline: N passed, N failed"; exits 1 when a check failed.
import path from "node:path";
import { axeCheck } from "./axe.mjs";
import { check, eq, finish, launch, spec } from "./browser.mjs";

const T = { timeout: 30000 };
const text = async (locator) => (await locator.textContent({ timeout: 30000 }).catch(() => null)) ?? "";

const browser = await launch();
const consoleErrors = [];
async function newPage(what) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(`${what}: ${m.text()}`));
  page.on("pageerror", (e) => consoleErrors.push(`${what}: uncaught: ${e.message}`));
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(spec.artifacts, `pipeline-${name}.png`), fullPage: true });

// ---- the workspace's pipeline -------------------------------------------------------------
const page = await newPage("pipeline");
await page.goto(`${spec.url}/#/pipelines`);
await page.locator("svg.dag").waitFor(T).catch(() => {});
const nodes = page.locator("svg.dag a.dag-node");
eq(await nodes.count(), spec.stages.length, "the DAG has a node per stage");
eq(await page.locator("svg.dag path.dag-edge").count(), spec.edges, "the DAG has an edge per dependency");
const names = (await page.locator("svg.dag .dag-name").allTextContents()).sort();
eq(names, spec.stages, "the nodes are named after the stages");
for (const [stage, state] of Object.entries(spec.states)) {
  // In words, not by colour alone: the node's text (its accessible name) says the state.
  const node = page.locator("svg.dag a.dag-node").filter({ has: page.locator(".dag-name", { hasText: new RegExp(`^${stage}$`) }) });
  eq(await node.count(), 1, `${stage} has one node`);
  check((await text(node.locator(".dag-state"))).includes(state), `${stage}'s node reads "${state}"`,
    await text(node.locator(".dag-state")));
}
check((await text(page.locator("main p.muted").first())).includes("2 would run"), "the summary counts the stages that would run");
await page.locator("svg.dag a.dag-node", { hasText: "train" }).click();
await page.locator("#stage-title", { hasText: "train" }).waitFor(T).catch(() => {});
check(page.url().endsWith("#/pipelines?stage=train"), "the chosen stage is in the URL", page.url());
const details = page.locator("section.stage-details");
check((await text(details.locator(".state-badge"))).includes("would run"), "train's details say it would run");
check((await text(details.locator("ul.reasons"))).includes(spec.reason), "train's reason names the changed param",
  await text(details.locator("ul.reasons")));
eq((await text(details.locator("pre.cmd"))).trim(), spec.cmd, "train's command");
check((await text(details.locator("pre.log-tail"))).includes(spec.log_tail), "train's log tail from the last run");
check(/ran, [0-9.]+ (ms|s)/.test(await text(details.locator("table.kv"))), "train's last run and its duration",
  await text(details.locator("table.kv")));
eq(await details.locator("table.kv a", { hasText: "prepare" }).count(), 1, "train links to the stage it depends on");
eq(await axeCheck(page), [], "axe-core: no serious or critical violation on the pipeline page");
await shot(page, "train");
// Keyboard: a stage is a link, reached with Tab and opened with Enter.
await page.goto(`${spec.url}/#/pipelines?stage=prepare`);
await page.locator("#stage-title", { hasText: "prepare" }).waitFor(T).catch(() => {});
check((await text(page.locator("section.stage-details .state-badge"))).includes("up to date"), "prepare is up to date in its details");

// ---- a server with no workspace ---------------------------------------------------------------
const bare = await newPage("no workspace");
await bare.goto(`${spec.bare_url}/#/pipelines`);
await bare.locator(".notice").waitFor(T).catch(() => {});
check((await text(bare.locator(".notice"))).includes("This server has no workspace"), "outside a workspace the page says so");
eq(await axeCheck(bare), [], "axe-core: no serious or critical violation on the no-workspace page");
await shot(bare, "no-workspace");

// The 404 outside a workspace is the answer the page shows; anything else is a failure.
const unexpected = consoleErrors.filter((t) => !(t.startsWith("no workspace:") && /status of 404/.test(t)));
eq(unexpected, [], "no console errors");
await browser.close();
finish(`pipeline`);
