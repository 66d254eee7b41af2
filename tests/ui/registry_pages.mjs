// Drives the registry pages of forja server's web UI in Debian's chromium with playwright-core
// (from ui/node_modules) and asserts what a person sees, as a read, a write and an admin token.
// Reads its spec as JSON on stdin (registry_pages_test.py writes it). Runs axe-core (pinned in
// ui/package.json) in the page for accessibility. Prints one line per failed check and
// "registry: N passed, N failed"; exits 1 when a check failed.
import path from "node:path";
import { axeCheck } from "./axe.mjs";
import { check, eq, finish, launch, spec } from "./browser.mjs";

const T = { timeout: 30000 };
const text = async (locator) => (await locator.textContent({ timeout: 30000 }).catch(() => null)) ?? "";

const browser = await launch();

// Console errors: a 409 (a gate's refusal) and a 404 (the not-found pages) are the answers the
// steps provoke on purpose and the page shows; anything else (a CSP violation, an exception,
// another failed call) is a failure.
const consoleErrors = [];
const expectedStatus = (t) => /status of (404|409)/.test(t);

// A tab logged in with `role`'s token (what the login form stores in sessionStorage).
async function tab(role) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token) => sessionStorage.setItem("forja.token", token), spec.tokens[role]);
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(`${role}: ${m.text()}`));
  page.on("pageerror", (e) => consoleErrors.push(`${role}: uncaught: ${e.message}`));
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(spec.artifacts, `registry-${name}.png`), fullPage: true });
const versionUrl = (name, v) => `${spec.url}/#/models/${encodeURIComponent(name)}/versions/${v}`;
async function openModel(page, name) {
  await page.goto(`${spec.url}/#/models/${encodeURIComponent(name)}`);
  await page.locator("h1.model-name", { hasText: name }).waitFor(T).catch(() => {});
  await page.locator("table.history").waitFor(T).catch(() => {});
}
// Opens a version's page and waits for its own heading (a hash change re-renders the same document).
async function openVersion(page, name, v) {
  await page.goto(versionUrl(name, v));
  await page.locator("h1.version-title", { hasText: `${name} version ${v}` }).waitFor(T).catch(() => {});
}
const a11y = async (page, what) => {
  const bad = await axeCheck(page);
  eq(bad, [], `axe-core: no serious or critical violation on ${what}`);
};

if (spec.phase === "auth-off") {
  // --auth off: no login form, and the page offers what an admin may do (as the server treats everyone).
  const anyone = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  anyone.on("console", (m) => m.type() === "error" && consoleErrors.push(`auth-off: ${m.text()}`));
  anyone.on("pageerror", (e) => consoleErrors.push(`auth-off: uncaught: ${e.message}`));
  await openVersion(anyone, "churn", 3);
  eq(await anyone.locator("form.login").count(), 0, "with --auth off no token is asked for");
  await anyone.getByLabel(/Force past failing gates/).waitFor(T).catch(() => {});
  check(await anyone.getByLabel(/Force past failing gates/).isVisible(), "with --auth off everyone sees the admin's force option");
  await shot(anyone, "auth-off");
} else {
// ---- admin: the models list, a model, search, accessibility ---------------------------------
const admin = await tab("admin");
await admin.goto(`${spec.url}/#/models`);
await admin.locator("table.models").waitFor(T).catch(() => {});
eq(await admin.locator("table.models tbody td.model-name").allTextContents(), spec.models, "the models list, by name");
const churnRow = admin.locator("table.models tbody tr").filter({ has: admin.locator("td.model-name", { hasText: /^churn$/ }) });
check((await text(churnRow.locator("td.latest"))).includes("None v3"), "churn's newest version in None is 3", await text(churnRow.locator("td.latest")));
const fraudRow = admin.locator("table.models tbody tr").filter({ has: admin.locator("td.model-name", { hasText: /^fraud$/ }) });
eq(await text(fraudRow.locator("td.aliases")), "@prod → v1", "fraud's alias and its version");
await a11y(admin, "#/models");
await shot(admin, "models");

await admin.getByRole("searchbox", { name: "Search models by name" }).fill(spec.search);
await admin.getByRole("button", { name: "Search" }).click();
await admin.waitForFunction((want) => [...document.querySelectorAll("table.models tbody td.model-name")].map((t) => t.textContent).join() === want,
  spec.searched.join(), T).catch(() => {});
eq(await admin.locator("table.models tbody td.model-name").allTextContents(), spec.searched, `searching "${spec.search}" narrows the list`);
check(admin.url().includes("q=" + spec.search), "the search is in the URL", admin.url());

await openModel(admin, "churn");
eq(await text(admin.locator("h1.model-name")), "churn", "the model page names the model");
eq(await admin.locator("table.versions tbody td.version").allTextContents(), spec.churn_versions.map((v) => "Version " + v),
  "its versions, newest first");
eq(await admin.locator("table.versions tbody tr[data-version='2'] td:nth-child(4)").textContent(), spec.run_names["2"],
  "a version's run, by its name");
const runHref = await admin.locator("table.versions tbody tr[data-version='2'] td:nth-child(4) a").getAttribute("href");
check(/^#\/experiments\/\d+\/runs\/[0-9a-f]{32}$/.test(runHref ?? ""), "the run link is MLflow's run URL", runHref);
await a11y(admin, "#/models/churn");
await shot(admin, "model");

await openModel(admin, "churn-lite");
eq(await text(admin.locator("table.versions tbody tr[data-version='2'] code.hash")), spec.package_prefix,
  "a version's package hash, shortened");

// A model whose name holds a slash, quotes and a backslash: its URL and its versions.
await openModel(admin, spec.odd);
eq(await text(admin.locator("h1.model-name")), spec.odd, "an awkward name opens its model");
eq(await admin.locator("table.versions tbody td.version").allTextContents(), ["Version 2", "Version 1"], "with its versions");
await admin.locator("table.versions tbody td.version a").first().click();
await admin.locator("h1.version-title").waitFor(T).catch(() => {});
eq(await text(admin.locator("h1.version-title")), `${spec.odd} version 2`, "and a version of it");

// ---- an MLflow-style version URL in a fresh tab; a write token's refusal; an alias ----------
const writer = await tab("write");
await openVersion(writer, "churn", 2);
eq(await text(writer.locator("h1.version-title")), "churn version 2", "#/models/churn/versions/2 opens version 2");
eq(await text(writer.locator("table.version-details td a").first()), spec.run_names["2"], "with its run");
check((await writer.locator("table.tags").textContent().catch(() => "")).includes("weak-fox"), "and its tags");
await writer.getByRole("button", { name: "Promote" }).waitFor(T).catch(() => {});
check(await writer.getByRole("button", { name: "Promote" }).isVisible(), "a write token sees Promote");
eq(await writer.locator("input[name=force]").count(), 0, "but no force option (admin only)");
await writer.getByLabel("To stage").selectOption("Staging");
await writer.getByRole("button", { name: "Promote" }).click();
const wRefusal = writer.locator("form.promote .refusal");
await wRefusal.waitFor(T).catch(() => {});
eq(await wRefusal.locator("li.gate.fail code").allTextContents(), [spec.staging_refusal], "a refused promotion shows the failing gate and its values");
// The lines come from the 409's `gates` field, not the message: only the field names each gate's line in forja.yaml.
check(/^ forja\.yaml:\d+$/.test(await text(wRefusal.locator("li.gate.fail .origin"))), "each failing gate names its line in forja.yaml (the 409's gates field)",
      await text(wRefusal.locator("li.gate.fail .origin")));
await shot(writer, "refused-write");
eq(await text(writer.locator("table.version-details span.stage")), "None", "the version stayed where it was");

await writer.getByLabel("Alias").fill("candidate");
await writer.getByRole("button", { name: "Set alias" }).click();
await writer.locator("form.aliases .ok").waitFor(T).catch(() => {});
await writer.getByRole("button", { name: "Remove alias @candidate" }).waitFor(T).catch(() => {});
check((await text(writer.locator("table.version-details"))).includes("@candidate"), "a set alias shows on the version");
await shot(writer, "alias-set");
await writer.getByRole("button", { name: "Remove alias @candidate" }).click();
await writer.waitForFunction(() => !document.querySelector("table.version-details")?.textContent?.includes("@candidate"), null, T).catch(() => {});
check(!(await text(writer.locator("table.version-details"))).includes("@candidate"), "a removed alias is gone");
const kinds = await writer.locator("table.history tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-kind")));
check(kinds.includes("alias") && kinds.includes("alias_removed"), "the history has the alias set and removed", JSON.stringify(kinds));

// ---- admin: a gate passes, a gate refuses, force overrides; the history has both -----------
await openVersion(admin, "churn", 1);
await admin.getByLabel("To stage").selectOption("Production");
await admin.getByRole("button", { name: "Promote" }).click();
await admin.locator("form.promote .ok").waitFor(T).catch(() => {});
eq(await text(admin.locator("form.promote .ok")), "Version 1 is now in Production.", "version 1 passes the gates into Production");

await openVersion(admin, "churn", 2);
await admin.getByLabel("To stage").selectOption("Production");
await admin.getByRole("button", { name: "Promote" }).click();
const aRefusal = admin.locator("form.promote .refusal");
await aRefusal.waitFor(T).catch(() => {});
eq(await aRefusal.locator("li.gate.fail code").allTextContents(), spec.production_refusal, "version 2 is refused with each failing gate and its values");
await shot(admin, "refused-admin");
const force = admin.getByLabel(/Force past failing gates/);
check(await force.isVisible(), "an admin sees the force option");
await force.check();
await admin.getByRole("button", { name: "Promote" }).click();
await admin.locator("form.promote .ok").waitFor(T).catch(() => {});
eq(await text(admin.locator("form.promote .ok")), "Version 2 is now in Production (forced).", "forced past the gates as admin");
await admin.waitForFunction(() => document.querySelector("table.version-details span.stage")?.textContent === "Production", null, T).catch(() => {});
eq(await text(admin.locator("table.version-details span.stage")), "Production", "the page shows the new stage");
await shot(admin, "forced");

await openModel(admin, "churn");
const forcedRow = admin.locator("table.history tbody tr[data-kind=stage][data-forced=true]");
eq(await forcedRow.count(), 1, "the history has one forced move");
check((await text(forcedRow.locator("td.change"))).includes("None → Production"), "the forced move, from and to");
eq(await forcedRow.locator("li.gate.fail code").allTextContents(), spec.production_refusal, "with the gates' values it overrode");
const passedRow = admin.locator("table.history tbody tr[data-kind=stage][data-forced=false]").filter({ hasText: "v1" });
eq(await passedRow.locator("li.gate.pass").count(), 2, "and version 1's move with both gates passed");
await a11y(admin, "#/models/churn with its history");
await shot(admin, "history");

// The version's alerts (Alertmanager's, recorded against churn version 3).
await openVersion(admin, "churn", 3);
await admin.locator("table.alerts").waitFor(T).catch(() => {});
check((await text(admin.locator("table.alerts"))).includes(spec.alert), "a version's alerts");
await a11y(admin, "#/models/churn/versions/3");
await shot(admin, "version");

// ---- unknown model and version: a not-found page -------------------------------------------
await admin.goto(`${spec.url}/#/models/no-such-model`);
await admin.locator("section.not-found").waitFor(T).catch(() => {});
check((await text(admin.locator("section.not-found"))).includes('No registered model named "no-such-model"'), "an unknown model shows not-found");
await shot(admin, "not-found-model");
await admin.goto(versionUrl("churn", 99));
await admin.locator("section.not-found", { hasText: "No version 99" }).waitFor(T).catch(() => {});
check((await text(admin.locator("section.not-found"))).includes("No version 99"), "an unknown version shows not-found");
await admin.goto(versionUrl("churn", "latest"));
await admin.locator("section.not-found", { hasText: "No version latest" }).waitFor(T).catch(() => {});
check((await text(admin.locator("section.not-found"))).includes("No version latest"), "a version that is not a number shows not-found");

// ---- a read token: every page, and not one write button ------------------------------------
const reader = await tab("read");
// Each page's own mark; on a version, the hint that appears once whoami said "read".
for (const [url, ready] of [
  [`${spec.url}/#/models`, "table.models"],
  [`${spec.url}/#/models/churn`, "h1.model-name"],
  [versionUrl("churn", 2), "p.hint"],
]) {
  await reader.goto(url);
  await reader.locator(ready).waitFor(T).catch(() => {});
  check(await reader.locator(ready).isVisible(), `a read token sees ${url.slice(spec.url.length)}`);
  const buttons = await reader.locator("main button").allTextContents();
  eq(buttons.filter((b) => b !== "Search"), [], `a read token sees no write button on ${url.slice(spec.url.length)}`);
  eq(await reader.locator("main form.action, main input[name=force]").count(), 0, "nor a promote or alias form");
}
await shot(reader, "read-token");

}

const unexpected = consoleErrors.filter((t) => !expectedStatus(t));
eq(unexpected, [], "no console errors");
await browser.close();
finish(`registry${spec.phase ? " " + spec.phase : ""}`);
