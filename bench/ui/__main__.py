#!/usr/bin/env python3
"""UI benchmark (issue 16): forja server's web UI against MLflow's own UI (`mlflow server`,
pinned in .venv), over the same runs, measured by Playwright (the pinned playwright-core of
ui/node_modules, as tests/ui uses it) driving Debian's chromium headless. See bench/ui/README.md
for what each number means.

  table     navigation start -> the runs table interactive (first rows visible, a click on a
            row's selection checkbox handled)
  filter    Enter in the filter box with `metrics.m0 > 0.5` -> the table's first row is the
            newest run that passes it
  compare   navigation start -> 10 runs' charts of all 10 metrics (1,000 points each) drawn

with 10,000 and 100,000 runs in one experiment (10 params, 10 metrics each). Targets: each
at least 10x faster than MLflow's UI, and the 100,000-run table interactive under 1 s.

Usage: .venv/bin/python bench/ui [--quick] [--runs 10000,100000] [--reps N] [--uis forja,mlflow]
Environment:
  BENCH_DIR     scratch folder (default: a new temporary folder); removed unless BENCH_KEEP=1
  BENCH_FORJA   forja binary (default build/src/forja/cli/forja; copied for the run)
  BENCH_MLFLOW  mlflow (default .venv/bin/mlflow)
  CHROMIUM      the browser (default /usr/bin/chromium)
  BENCH_OUT     where the Markdown goes (default bench/out/ui.md; --quick: ui-quick.md)
"""

import argparse
import base64
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import seed  # noqa: E402
from servers import Forja, Mlflow  # noqa: E402

SERVERS = []
MEASURERS = []


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def stop_all(*_):
    for m in MEASURERS:
        m.close()
    for s in SERVERS:
        s.stop()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


# ---- data ----------------------------------------------------------------------------------------

def prepare(srv, runs, fill):
    """Schema and experiment by the server itself; then the rows, with the server stopped."""
    srv.start()
    exp = srv.create_experiment("bench-ui")
    srv.stop()
    t = time.perf_counter()
    fill(srv.db, exp, runs)
    took = time.perf_counter() - t
    srv.start()
    return exp, took


def all_ids(srv, exp):
    ids, token = [], None
    while True:
        body = {"experiment_ids": [exp], "max_results": 50000}
        if token:
            body["page_token"] = token
        page = srv.search(body)
        ids += [r["info"]["run_id"] for r in page.get("runs", [])]
        token = page.get("next_page_token")
        if not token:
            return ids


def mlflow_count(srv, exp, n):
    """Paging MLflow through 100,000 runs takes many minutes (about 5 ms a run): its page
    token is an offset (base64 of {"offset": N}), so the page at offset n-1 must hold one
    run and end the listing. Returns a stand-in id list of the count found."""
    def at(offset):
        tok = base64.b64encode(json.dumps({"offset": offset}).encode()).decode()
        page = srv.search({"experiment_ids": [exp], "max_results": 1, "page_token": tok})
        return len(page.get("runs", [])), bool(page.get("next_page_token"))
    last, more = at(n - 1)
    count = n if (last, more) == (1, False) else -1
    return [f"#{i}" for i in range(count)] if count > 0 else []


def view(run):
    """What both UIs show of a run: its name, status, times, params, latest metrics, tags."""
    d = run["data"]
    return {
        "name": run["info"].get("run_name"),
        "status": run["info"]["status"],
        "start": int(run["info"]["start_time"]),
        "end": int(run["info"]["end_time"]),
        "params": sorted((p["key"], p["value"]) for p in d.get("params", [])),
        "metrics": sorted((m["key"], m["value"], int(m["step"])) for m in d.get("metrics", [])),
        "tags": sorted((t["key"], t["value"]) for t in d.get("tags", []) if not t["key"].startswith("mlflow.")
                       or t["key"] == "mlflow.runName"),
    }


def verify(servers, exps, runs):
    """The same count, the same first filtered page and the same values for a sample, from
    each server's search-runs API: the UIs are shown the same data."""
    seen = {}
    for srv in servers:
        exp = exps[srv.name]
        t = time.perf_counter()
        ids = all_ids(srv, exp) if srv.name == "forja" else mlflow_count(srv, exp, runs.n)
        count_s = time.perf_counter() - t
        first = srv.search({"experiment_ids": [exp], "filter": seed.FILTER, "max_results": 100,
                            "order_by": ["attributes.start_time DESC"]})
        sample = [runs.ids[i] for i in sorted(set(runs.compared) | set(range(0, runs.n, max(1, runs.n // 20)))
                                              | {runs.n - 1})]
        got = {
            "count": len(ids),
            "distinct": len(set(ids)),
            "filtered_first_page": [r["info"]["run_name"] for r in first.get("runs", [])],
            "sample": [view(srv.get_run(r)) for r in sample],
            "history": [len(srv.history(runs.ids[runs.compared[0]], f"m{k}").get("metrics", [])) for k in (0, 9)],
        }
        seen[srv.name] = got
        log(f"{srv.name}: search-runs counts {got['count']:,} runs ({count_s:.1f} s to page through them)")
    want_first = runs.name(runs.filtered_first())
    problems = []
    for name, got in seen.items():
        if got["count"] != runs.n or got["distinct"] != runs.n:
            problems.append(f"{name} lists {got['count']} runs ({got['distinct']} distinct), not {runs.n}")
        if not got["filtered_first_page"] or got["filtered_first_page"][0] != want_first:
            problems.append(f"{name}: the filtered first row is {got['filtered_first_page'][:1]}, not {want_first}")
        if got["history"] != [seed.HISTORY, seed.HISTORY]:
            problems.append(f"{name}: a compared run's history has {got['history']} points, not {seed.HISTORY}")
    names = list(seen)
    for key in ("filtered_first_page", "sample"):
        if len(names) == 2 and seen[names[0]][key] != seen[names[1]][key]:
            a, b = seen[names[0]][key], seen[names[1]][key]
            diff = next((f"{x} != {y}" for x, y in zip(a, b) if x != y), f"{len(a)} != {len(b)} items")
            problems.append(f"{key} differs between {names[0]} and {names[1]}: {diff[:400]}")
    if problems:
        raise RuntimeError("the servers do not show the same data:\n  " + "\n  ".join(problems))
    log(f"verified: {runs.n:,} runs on each, the same first filtered page and the same {len(seen[names[0]]['sample'])} "
        "sampled runs (params, latest metrics, tags), 1,000-point histories of the compared runs")


# ---- measuring -----------------------------------------------------------------------------------

def cpu_times():
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def settle(limit_s=20.0, busy_below=0.15):
    """Waits until the cores are mostly idle (under 15% busy over half a second), at most
    limit_s: the other UI's repetition leaves work behind (MLflow's server still answering the
    closed page's calls, a browser shutting down) that would otherwise land on this one's
    first page. Returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        b0, t0 = cpu_times()
        time.sleep(0.5)
        b1, t1 = cpu_times()
        if t1 > t0 and (b1 - b0) / (t1 - t0) < busy_below:
            break
    return time.monotonic() - start


class Measurer:
    """measure.mjs on one UI: one browser for every repetition, a line in and a line out each."""

    def __init__(self, srv, exp, runs, scratch):
        self.name = srv.name
        spec = {
            "ui": srv.name.lower(),
            "url": srv.url,
            "experiment_id": exp,
            "filter": seed.FILTER,
            "first_run_id": runs.ids[runs.n - 1],
            "filtered_first_id": runs.ids[runs.filtered_first()],
            "compare_ids": [runs.ids[i] for i in runs.compared],
            "compare_names": [runs.name(i) for i in runs.compared],
            "metrics": [f"m{k}" for k in range(seed.N_METRICS)],
            "shots": os.path.join(scratch, "shots", f"{srv.name.lower()}-{runs.n}"),
        }
        os.makedirs(spec["shots"], exist_ok=True)
        # Progress lines go straight to our stderr; each answer is one line of stdout.
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "measure.mjs")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.proc.stdin.write(json.dumps(spec) + "\n")

    def repetition(self, first):
        self.proc.stdin.write(json.dumps({"first": first}) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"measure.mjs on {self.name} exited {self.proc.wait()}")
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fmt_ms(v):
    if v is None:
        return "failed"
    return f"{v:,.0f} ms" if v >= 100 else f"{v:.1f} ms"


def summarize(results, reps):
    """results: {size: {ui: {table: [...], filter: [...], compare: [...], notes: {...}}}} -> rows"""
    rows = []
    for n in sorted(results):
        for what, label in (("table", "runs table interactive"), ("filter", "filter updates the table"),
                            ("compare", "comparison of 10 runs drawn")):
            cell = {}
            for ui in ("forja", "mlflow"):
                r = results[n].get(ui, {})
                xs = [x for x in r.get(what, []) if x is not None]
                cell[ui] = statistics.median(xs) if xs else None
            f, m = cell["forja"], cell["mlflow"]
            ratio = f"{m / f:.1f}x" if f and m else "n/a"
            rows.append((f"{n:,} runs: {label}", f, m, ratio))
            if what == "table":
                # Not forja's UI: its drawn page saved as static HTML (measure.mjs). What any
                # page that fetches its rows stays above, and the ratio it would give.
                xs = [x for x in results[n].get("forja", {}).get("floor", []) if x is not None]
                fl = statistics.median(xs) if xs else None
                if fl is not None:
                    rows.append((f"{n:,} runs: the same table as a static page, no script (the browser's floor)", fl, m,
                                 f"{m / fl:.1f}x" if m else "n/a"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 runs only, 2 repetitions")
    ap.add_argument("--runs", default="10000,100000", help="comma-separated run counts")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions of each measurement (median)")
    ap.add_argument("--uis", default="forja,mlflow")
    ap.add_argument("--serve", action="store_true", help="seed, verify, print the URLs and wait (for a look)")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.reps = "10000", 2
    sizes = [int(x) for x in a.runs.split(",") if x]
    uis = a.uis.split(",")
    out_path = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench/out", "ui-quick.md" if a.quick else "ui.md"))
    scratch = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="forja-bench-ui-")
    os.makedirs(scratch, exist_ok=True)
    src = os.environ.get("BENCH_FORJA", os.path.join(ROOT, "build/src/forja/cli/forja"))
    if not os.access(src, os.X_OK):
        sys.exit(f"bench/ui: {src} is missing (build forja: ninja -C build forja)")
    forja_bin = os.path.join(scratch, "forja")  # a rebuild during the run must not swap it
    shutil.copy2(src, forja_bin)
    mlflow_bin = os.environ.get("BENCH_MLFLOW", os.path.join(ROOT, ".venv/bin/mlflow"))
    versions = {"mlflow": version([mlflow_bin, "--version"]), "forja": version([forja_bin, "--version"]),
                "chromium": version([os.environ.get("CHROMIUM", "/usr/bin/chromium"), "--version"]),
                "load": os.getloadavg()[0]}
    log(f"load average {os.getloadavg()[0]:.2f}; {versions['forja']}; {versions['mlflow']}; sizes {sizes}, "
        f"{a.reps} repetitions")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.time()
    results, seeding, notes = {}, {}, {}
    try:
        for n in sizes:
            log(f"{n:,} runs: generating")
            t = time.perf_counter()
            runs = seed.Runs(n)
            gen_s = time.perf_counter() - t
            servers, exps = [], {}
            for name, cls, binary, fill in (("forja", Forja, forja_bin, seed.fill_forja),
                                            ("mlflow", Mlflow, mlflow_bin, seed.fill_mlflow)):
                if name not in uis:
                    continue
                d = os.path.join(scratch, f"{name}-{n}")
                shutil.rmtree(d, ignore_errors=True)
                os.makedirs(d)
                srv = cls(d, binary)
                SERVERS.append(srv)
                exps[srv.name], took = prepare(srv, runs, fill)
                seeding[(n, name)] = took
                log(f"{srv.name}: {n:,} runs inserted in {took:.1f} s; at {srv.url}")
                servers.append(srv)
            verify(servers, exps, runs)
            if a.serve:
                for s in servers:
                    print(f"{s.name}: {s.url}/#/experiments/{exps[s.name]}  compared: {[runs.ids[i] for i in runs.compared]}",
                          flush=True)
                signal.pause()
            # The UIs take turns, one repetition each, so a burst of load elsewhere on the
            # machine (others build here) falls on both rather than on one.
            results[n] = {s.name.lower(): {"table": [], "rows": [], "floor": [], "filter": [], "compare": [], "notes": {}}
                          for s in servers}
            measurers = [Measurer(srv, exps[srv.name], runs, scratch) for srv in servers]
            MEASURERS.extend(measurers)
            for rep in range(a.reps):
                for srv, m in zip(servers, measurers):
                    waited = settle()
                    log(f"{srv.name}: {n:,} runs, repetition {rep + 1} of {a.reps} "
                        f"(load average {os.getloadavg()[0]:.2f}; {waited:.1f} s for the cores to idle)")
                    got = m.repetition(first=rep == 0)
                    mine = results[n][srv.name.lower()]
                    for k in ("table", "rows", "floor", "filter", "compare"):
                        mine[k] += got.get(k, [])
                    mine["notes"] = mine["notes"] or got.get("notes", {})
            for m in measurers:
                m.close()
            MEASURERS.clear()
            for srv in servers:
                r = results[n][srv.name.lower()]
                log(f"{srv.name}: " + "; ".join(f"{k} {', '.join(f'{x:.0f}' for x in r[k])} ms"
                                                for k in ("rows", "table", "filter", "compare")))
            notes[n] = {s.name.lower(): results[n][s.name.lower()].get("notes", {}) for s in servers}
            stop_all()
            SERVERS.clear()
            for s in servers:
                shutil.rmtree(s.dir, ignore_errors=True)
    finally:
        stop_all()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(scratch, ignore_errors=True)
    text = report(results, seeding, notes, a.reps, versions, time.time() - started)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    print(text)


def report(results, seeding, notes, reps, versions, total_s):
    rows = summarize(results, reps)
    lines = ["# forja's web UI against MLflow's UI", "",
             "| measurement (median) | forja | MLflow | MLflow / forja |", "|---|---:|---:|---:|"]
    for label, f, m, ratio in rows:
        lines.append(f"| {label} | {fmt_ms(f)} | {fmt_ms(m)} | {ratio} |")
    lines += ["", "Targets:"]
    for label, f, m, _ in rows:
        if "floor" in label:
            continue
        ok = f is not None and m is not None and m >= 10 * f
        lines.append(f"- {'MET' if ok else 'NOT MET'}: {label} >= 10x faster than MLflow"
                     f" ({(m / f) if f and m else float('nan'):.1f}x)")
    big = [r for r in rows if r[0].startswith("100,000 runs: runs table")]
    if big:
        f = big[0][1]
        lines.append(f"- {'MET' if f is not None and f < 1000 else 'NOT MET'}: the 100,000-run table interactive "
                     f"under 1 s ({fmt_ms(f)})")
    lines += ["", "Notes:",
              f"- {versions['mlflow']} (`mlflow server`, its defaults, SQLite) and "
              f"{versions['forja']} (`forja server --auth off`, SQLite), on loopback, "
              f"both running during the measurements; Debian's chromium "
              f"{versions['chromium']} headless, "
              "1280x800, driven by playwright-core "
              f"{json.load(open(os.path.join(ROOT, 'ui/package.json')))['devDependencies']['playwright-core']}; "
              f"{os.cpu_count()} cores, {platform.platform()}, {datetime.datetime.now():%Y-%m-%d %H:%M}.",
              "- Data: each run has 10 params, 10 metrics (latest value) and a name; the 10 compared runs carry "
              "full 1,000-point histories of all 10 metrics (100,000 points), every other run one point per "
              "metric (a 1,000-point history for every run would be 1e8-1e9 rows). Both stores get the same "
              "rows by bulk SQL inserts into each server's own schema; before measuring, both search-runs "
              "APIs return the same count, the same first filtered page and the same values for a sample.",
              f"- Each number is the median of {reps} timed repetitions (the two UIs take turns, one "
              "repetition each, each starting once the cores are idle again, up to 20 s), each in a fresh browser context "
              "after one untimed visit of the same page (the static assets cached, as for a returning "
              "user); each UI has one browser, launched and warmed by an untimed visit before its first "
              "repetition and kept for all of them (a user's browser is running before they open a UI); "
              "times are the page's own clock (performance.now(), 0 = navigation start).",
              "- Definitions (the same for both UIs; bench/ui/README.md): *table* = navigation to the "
              "experiment's page until a run row is visible and a real mouse click on its selection "
              "checkbox has been handled (the box shows checked); *filter* = the Enter key in the filter "
              "box until the first row is the newest run passing the filter; *compare* = navigation until "
              "every chart of the 10 metrics shows all 10 runs' series (forja: #/compare-runs; MLflow: "
              "its experiment page's chart view over the same 10 runs).",
              "- *The browser's floor*: forja's runs page as drawn (its rows, its stylesheet inlined, no "
              "script) saved as one static HTML document, served from loopback and timed as *table*: "
              "navigation, first paint and the click's round trip, which every UI pays. No page that "
              "fetches its rows can be interactive sooner on this machine; MLflow / floor is the largest "
              "ratio any UI could show here.",
              ]
    for (n, name), s in sorted(seeding.items()):
        lines.append(f"- Seeding {n:,} runs into {name}'s SQLite: {s:.1f} s.")
    for n in sorted(notes):
        for ui in ("forja", "mlflow"):
            r = results[n].get(ui)
            if r:  # every repetition, in order: the machine is shared, so the spread matters
                lines.append(f"- {n:,} runs, {ui}, each repetition (ms): " + "; ".join(
                    f"{k} {', '.join(f'{x:.0f}' for x in r[k])}" for k in ("rows", "table", "floor", "filter", "compare") if r[k]))
            for k, v in notes[n].get(ui, {}).items():
                lines.append(f"- {n:,} runs, {ui}: {k}: {v}")
    lines.append(f"- The whole run took {total_s / 60:.1f} min; 1-minute load average at the start: "
                 f"{versions['load']:.2f}, at the end: {os.getloadavg()[0]:.2f} (`rows` is navigation to the row "
                 "visible, before the click).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
