// axe-core (pinned in ui/package.json) run inside a playwright page: the serious and critical
// violations of WCAG 2 A/AA rules, one line each ("rule: impact: what (selectors)"), [] when none.
// The script is evaluated through the DevTools protocol, which the page's CSP does not govern,
// so the page is checked with the very policy it is served with.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../../ui/package.json", import.meta.url));
const source = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function axeCheck(page) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(source + "\n;0");
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.impact}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
}
