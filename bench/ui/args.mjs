// The command line both phase scripts take: URL EXPERIMENT_ID, then --name value options.
import { createRequire } from "node:module";

export function parseArgs(script, usage) {
  const [url, exp, ...rest] = process.argv.slice(2);
  if (!url || !exp) {
    console.error(`usage: node bench/ui/${script} URL EXPERIMENT_ID ${usage}`);
    process.exit(2);
  }
  const opt = (name, dflt) => {
    const i = rest.indexOf(name);
    return i < 0 ? dflt : rest[i + 1];
  };
  return { url, exp, opt };
}

// The pinned playwright-core the browser tests use (ui/node_modules).
export const { chromium } = createRequire(new URL("../../ui/package.json", import.meta.url))("playwright-core");

// Self time per function (name, file, line) over the whole profile, the largest first.
export function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i]).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const top = [...self].filter(([n]) => !n.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 25);
  return ["JS self time (ms):", ...top.map(([n, t]) => `  ${t.toFixed(1).padStart(6)} ${n}`)].join("\n");
}

// A context whose pages carry a probe of `conditions` (named functions of one argument, run
// in the page), and a page in it with its CDP session. Each condition is polled every
// animation frame by a few lines installed before the page's own scripts and awaited over a
// raw CDP Runtime.evaluate (until below), not by Playwright's waitForFunction: that one first
// evaluates Playwright's injected script (some hundreds of KB) in the page, on its main
// thread, in the middle of the page's load, which cost 20-45 ms of every first page here (a
// static page: 75 against 50 ms; forja's runs table: 155 against 110 ms): the measuring
// tool's time, not the UI's.
export async function probedPage(browser, viewport, conditions) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(`(() => {
    const conditions = { ${conditions.map((f) => `${f.name}: ${f}`).join(",\n")} };
    window.__benchUntil = (name, arg) => new Promise((done) => {
      const tick = () => {
        const v = conditions[name](arg);
        if (v) done(v);
        else requestAnimationFrame(tick);
      };
      tick();
    });
  })();`);
  const page = await context.newPage();
  page.cdp = await context.newCDPSession(page);
  return { context, page };
}

// Resolves with the condition's first true value. Retried when the evaluation lands in a
// document that is going away (a navigation in flight).
export async function until(page, fn, arg = null) {
  for (let attempt = 0; ; attempt++) {
    const r = await page.cdp
      .send("Runtime.evaluate", {
        expression: `window.__benchUntil(${JSON.stringify(fn.name)}, ${JSON.stringify(arg)})`,
        awaitPromise: true,
        returnByValue: true,
      })
      .catch((e) => ({ lost: e }));
    if (!r.lost && !r.exceptionDetails) return r.result.value;
    if (attempt === 50) throw new Error(`${fn.name}: ${r.lost?.message ?? r.exceptionDetails.text}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}
