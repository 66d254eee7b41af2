// What every browser test of tests/ui shares: its spec (JSON on stdin, written by its
// *_test.py), Debian's chromium launched headless through playwright-core (from
// ui/node_modules, pinned in ui/package.json), and the checks it counts and reports.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");

export const spec = JSON.parse(readFileSync(0, "utf8"));

const counts = { passed: 0, failed: 0 };

export function check(cond, what, detail = "") {
  if (cond) counts.passed++;
  else {
    counts.failed++;
    console.error(`FAIL: ${what}${detail ? ": " + detail : ""}`);
  }
}

export function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  check(g === w, what, `got ${g}, want ${w}`);
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

// Prints "<label>: N passed, N failed" and exits 1 when a check failed.
export function finish(label) {
  console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed ? 1 : 0);
}
