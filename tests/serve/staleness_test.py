"""Staleness end to end, with times the test controls: through a real `forja server` on the
workspace's store, a data-preparation run (ended 40 days ago) outputs data/train.csv and a
training run (12 to 10 days ago) reads it; the package is registered as churn/1 from that run,
promoted to @champion and given a reference profile. `forja serve churn@champion` (and a package
folder beside it) then shows on /metrics the model's age (10 days), its training data's age
(40 days, from lineage) and the time since the promotion, each to the millisecond between the
scrape's bounds; not stale under forja.yaml's thresholds. With max_model_age 5d and
max_data_age 30d (the data check off for churn by its own entry) forja serve says stale for the
reason model_age alone, and `forja monitor report --reference` prints the ages
and exits 1 for churn/1 (0 before, on the same reference-like data). Promoted to @champion
again, churn/1's time since promotion restarts (the facts are read again every poll). A version 2 registered without a run
and moved to @champion is loaded by the poller with facts of its own: fresh, no data age.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FEATURES, Serve, check, failures, metric  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-serve-staleness-")
DAY_MS = 86400 * 1000
H_TRAIN = "sha256:" + "a" * 64
H_CODE = "sha256:" + "b" * 64


class Server:
    """forja server on the workspace's own SQLite store: runs logged with explicit times."""

    def __init__(self, ws):
        self.log = open(os.path.join(TMP, "server.log"), "w+")
        store = "sqlite:///" + os.path.join(ws, ".forja", "forja.db")
        self.proc = subprocess.Popen([harness.FORJA, "server", "--port", "0", "--store", store, "--auth", "off"],
                                     cwd=ws, stdout=self.log, stderr=self.log)
        self.url = None
        for _ in range(600):
            self.log.seek(0)
            m = re.search(r"http://[0-9.]+:\d+", self.log.read())
            if m:
                self.url = m.group(0)
                break
            time.sleep(0.05)
        if not self.url:
            self.stop()
            raise AssertionError("forja server did not start")

    def api(self, route, body):
        req = urllib.request.Request(self.url + "/api/2.0/" + route, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def run(server, exp, start, end, lineage):
    run_id = server.api("mlflow/runs/create", {"experiment_id": exp, "start_time": start})["run"]["info"]["run_id"]
    server.api("mlflow/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": end})
    items = [{"direction": d, "path": p, "hash": h, "kind": "file", "size": 1} for d, p, h in lineage]
    server.api("forja/lineage/log", {"run_id": run_id, "items": items})
    return run_id


def scrape(serve):
    """/metrics with the wall clock (ms) just before and just after it."""
    before = time.time() * 1000
    status, _, body = serve.request("GET", "/metrics")
    after = time.time() * 1000
    check(status == 200, f"/metrics answered {status}")
    return body.decode(), before, after


def within(value, low_ms, high_ms, what):
    """value (seconds, to the ms) between two ages in ms, with the 1 ms of rounding."""
    ok = value is not None and low_ms / 1000 - 0.001 <= value <= high_ms / 1000 + 0.001
    check(ok, f"{what}: {value} s, expected between {low_ms / 1000:.3f} and {high_ms / 1000:.3f}")


def write_yaml(ws, monitoring):
    path = os.path.join(ws, "forja.yaml")
    with open(path) as f:
        text = f.read().split("monitoring:")[0]
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\nmonitoring:\n" + monitoring)


def main():
    ws = harness.workspace(os.path.join(TMP, "ws"))
    harness.make_package(os.path.join(TMP, "churn"))
    harness.make_package(os.path.join(TMP, "plain"), seed=1)
    x = np.random.default_rng(1).normal(size=(1000, FEATURES))
    ref = os.path.join(TMP, "ref.csv")
    with open(ref, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{j}" for j in range(FEATURES)] + ["label"])
        w.writerows([list(r) + [int(r[0] > 0)] for r in x])

    server = Server(ws)
    try:
        now = int(time.time() * 1000)
        exp = server.api("mlflow/experiments/create", {"name": "staleness"})["experiment_id"]
        prep_end, train_end = now - 40 * DAY_MS, now - 10 * DAY_MS
        run(server, exp, now - 50 * DAY_MS, prep_end, [("output", "data/train.csv", H_TRAIN)])
        train = run(server, exp, now - 12 * DAY_MS, train_end,
                    [("input", "data/train.csv", H_TRAIN), ("input", "train.py", H_CODE)])
    finally:
        server.stop()
    harness.forja("models", "register", "churn", os.path.join(TMP, "churn"), "--run", train, "--no-push", cwd=ws)
    harness.promote(ws, "churn", 1, "@champion")
    history = json.loads(harness.forja("models", "history", "churn", "--json", cwd=ws).stdout)["transitions"]
    promoted = [t["time"] for t in history if t["kind"] == "alias" and t["to"] == "@champion"][-1]
    harness.forja("monitor", "profile", "churn/1", "--data", ref, "--target", "label", cwd=ws)

    # --- fresh under the thresholds ---------------------------------------------------------
    write_yaml(ws, "  interval: 1s\n  staleness: {max_model_age: 30d, max_since_promotion: 1d}\n")
    serve = Serve("churn@champion", os.path.join(TMP, "plain"), cwd=ws)
    try:
        text, before, after = scrape(serve)
        v = {"model": "churn", "version": "1"}
        within(metric(text, "forja_model_age_seconds", **v), before - train_end, after - train_end, "model age")
        within(metric(text, "forja_model_training_data_age_seconds", **v), before - prep_end, after - prep_end,
               "training data age (the prep run's end)")
        within(metric(text, "forja_model_since_promotion_seconds", **v), before - promoted, after - promoted,
               "time since the @champion move")
        check(metric(text, "forja_model_dataset_drifted_seconds", **v) == 0, "not drifting: 0 s")
        check(metric(text, "forja_model_stale", **v) == 0, "churn/1 is not stale yet:\n" + text)
        for reason in ("model_age", "data_age", "since_promotion", "drift", "quality"):
            check(metric(text, "forja_model_stale_reason", reason=reason, **v) == 0, f"no reason {reason}")
        # A package folder has no registry facts: no ages, a verdict on what is known.
        check(metric(text, "forja_model_age_seconds", model="plain") is None, "a package folder has no age")
        check(metric(text, "forja_model_since_promotion_seconds", model="plain") is None, "nor a promotion")
        check(metric(text, "forja_model_stale", model="plain", version="1") == 0, "the folder: not stale")
    finally:
        serve.stop()
    report = harness.forja("monitor", "report", "--reference", "churn@champion", "--current", ref, cwd=ws, check=False)
    check(report.returncode == 0, f"report of a fresh version: exit {report.returncode}\n{report.stdout}{report.stderr}")
    check("Staleness of churn/1 (as churn@champion):" in report.stdout, "the report names the version:\n" + report.stdout)
    check(re.search(r"model age +10d +max 30d +\(run [0-9a-f]{8}'s end\)", report.stdout) is not None,
          "the report's model age:\n" + report.stdout)
    check(re.search(r"training data +40d +max 180d +\(data/train.csv, made by run [0-9a-f]{8}\)", report.stdout)
          is not None, "the report's data age:\n" + report.stdout)
    check(re.search(r"since promotion +\d+s +max 1d +\(moved to @champion\)", report.stdout) is not None,
          "the report's promotion:\n" + report.stdout)
    check("Not stale" in report.stdout, "not stale:\n" + report.stdout)

    # --- stale: the model is older than max_model_age ---------------------------------------
    write_yaml(ws, "  interval: 1s\n  staleness: {max_model_age: 5d, max_data_age: 30d}\n"
                   "  models:\n    churn: {staleness: {max_data_age: 0}}\n")
    serve = Serve("churn@champion", "--poll-interval", "0.2", cwd=ws)
    try:
        text, _, _ = scrape(serve)
        check(metric(text, "forja_model_stale", **v) == 1, "churn/1 is stale:\n" + text)
        check(metric(text, "forja_model_stale_reason", reason="model_age", **v) == 1, "stale for its age")
        check(metric(text, "forja_model_stale_reason", reason="data_age", **v) == 0,
              "its own entry turned the data check off")
        check(metric(text, "forja_model_stale_reason", reason="since_promotion", **v) == 0, "promotion check off")

        # churn/1 promoted to @champion again (re-approved): the served version does not change, the
        # facts read again every poll interval show the new promotion.
        harness.promote(ws, "churn", 1, "@champion")
        history = json.loads(harness.forja("models", "history", "churn", "--json", cwd=ws).stdout)["transitions"]
        again = [t["time"] for t in history if t["kind"] == "alias" and t["to"] == "@champion"][-1]
        check(again > promoted, "a second @champion move in the history")
        for _ in range(300):
            text, before, after = scrape(serve)
            since = metric(text, "forja_model_since_promotion_seconds", **v)
            if since is not None and since <= (after - again) / 1000 + 0.001:
                break
            time.sleep(0.1)
        within(since, before - again, after - again, "time since the second @champion move")

        # A new version, registered without a run, moves @champion: the poller loads it with facts
        # of its own (trained at its registration, no data age), fresh.
        before_register = time.time() * 1000
        harness.forja("models", "register", "churn", os.path.join(TMP, "plain"), "--no-push", cwd=ws)
        harness.promote(ws, "churn", 2, "@champion")
        v2 = {"model": "churn", "version": "2"}
        for _ in range(300):
            text, _, after = scrape(serve)
            if metric(text, "forja_model_stale", **v2) is not None:
                break
            time.sleep(0.1)
        age = metric(text, "forja_model_age_seconds", **v2)
        within(age, 0, after - before_register, "churn/2's age (its registration)")
        within(metric(text, "forja_model_since_promotion_seconds", **v2), 0, after - before_register,
               "churn/2's time since the @champion move")
        check(metric(text, "forja_model_training_data_age_seconds", **v2) is None, "churn/2 has no run: no data age")
        check(metric(text, "forja_model_stale", **v2) == 0, "churn/2 is not stale:\n" + text)
        check(metric(text, "forja_model_stale", **v) is None, "churn/1's series left with it")
    finally:
        serve.stop()
    report = harness.forja("monitor", "report", "--reference", "churn/1", "--current", ref, cwd=ws, check=False)
    check(report.returncode == 1, f"report of a stale version: exit {report.returncode}\n{report.stdout}{report.stderr}")
    check("Stale: model_age" in report.stdout, "the verdict and its reason:\n" + report.stdout)
    check("No dataset drift" in report.stdout, "stale, not drifted:\n" + report.stdout)
    js = harness.forja("monitor", "report", "--reference", "churn/1", "--current", ref, "--json", cwd=ws, check=False)
    st = json.loads(js.stdout)["staleness"]
    check(js.returncode == 1 and st["stale"] and st["reasons"] == ["model_age"], f"JSON verdict: {st}")
    check(st["promoted_from"] == "moved to @champion", f"JSON promotion: {st}")
    check(abs(st["training_data_age_seconds"] - 40 * 86400) < 600, f"JSON data age: {st}")

    # --- a bad threshold is one error line with the file and line ----------------------------
    write_yaml(ws, "  staleness: {max_model_age: soon}\n")
    bad = harness.forja("monitor", "report", "--reference", "churn/1", "--current", ref, cwd=ws, check=False)
    check(bad.returncode == 1 and "forja.yaml:" in bad.stderr and
          "monitoring.staleness.max_model_age: 'soon' is not a duration" in bad.stderr, "bad threshold: " + bad.stderr)

    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
