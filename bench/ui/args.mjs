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
