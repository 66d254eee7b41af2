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
