"""forja serve following a progressive rollout (docs/serving.md, "Rollouts").

A real `forja serve churn@production` on a workspace's registry, with python packages from
tests/lib/python_package.sh. The test writes the rollout into the store's rollouts table
itself (what `forja rollout` does through the store), so only the server's side is tested
here: the canary's share on /v2 infer and /invocations, the gauge appearing, moving and
going, a candidate that cannot load refused while traffic stays on the old version, a
rollout whose controller is gone (not written for 6 minutes) getting no traffic, and
completion switching the route. No timing assertions: each wait polls /metrics for the
state it needs, within a generous deadline.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Serve, check, metric  # noqa: E402

SOURCE = os.environ.get("FORJA_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
TMP = tempfile.mkdtemp(prefix="forja-serve-rollout-")


def package(name, constant, fail_percent=0, mode=""):
    folder = os.path.join(TMP, name)
    subprocess.run(["sh", os.path.join(SOURCE, "tests/lib/python_package.sh"), folder, str(constant), str(fail_percent),
                    *([mode] if mode else [])], check=True)
    return folder


class Store:
    """The workspace's SQLite store, written as forja rollout writes it."""

    def __init__(self, ws):
        self.db = sqlite3.connect(os.path.join(ws, ".forja", "forja.db"), timeout=30, isolation_level=None)

    def begin(self, to, weight, frm=1, updated_ago_ms=0):
        now = int(time.time() * 1000)
        cur = self.db.execute("INSERT INTO rollouts(name, target, from_version, to_version, weight, state, steps, user_id, "
                              "started, updated, message) VALUES ('churn', 'Production', ?, ?, ?, 'running', "
                              "'25,50,100', 'test', ?, ?, '')", (frm, to, weight, now - updated_ago_ms, now - updated_ago_ms))
        return cur.lastrowid

    def update(self, rid, weight, state="running"):
        self.db.execute("UPDATE rollouts SET weight = ?, state = ?, updated = ? WHERE id = ?",
                        (weight, state, int(time.time() * 1000), rid))


def wait_for(s, what, cond, deadline_s=60):
    """Polls /metrics until cond(text) holds; a failed check (with the page) when it never does."""
    end = time.time() + deadline_s
    text = ""
    while time.time() < end:
        text = s.request("GET", "/metrics")[2].decode()
        if cond(text):
            return text
        time.sleep(0.1)
    check(False, f"{what}: not seen within {deadline_s}s; /metrics:\n" +
          "\n".join(line for line in text.splitlines() if "rollout" in line or "model_info" in line))
    return text


def header(h, name):
    return next((v for k, v in h.items() if k.lower() == name), "?")


def split(s, n, path="/v2/models/churn/infer"):
    """Sends n requests (first feature 1..n); {label: count}, checking each answer's value is its version's."""
    by = {}
    for k in range(1, n + 1):
        if path.endswith("/invocations"):
            body = {"inputs": [[k, 1]]}
        else:
            body = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [k, 1]}]}
        st, h, b = s.request("POST", path, body)
        label = header(h, "forja-model-version")
        if st != 200:
            check(False, f"{path}: {st} {b[:200]}")
            continue
        out = json.loads(b)
        value = out["predictions"][0] if "predictions" in out else out["outputs"][0]["data"][0]
        offset = {"churn/1": 0, "churn/2": 100}.get(label)
        check(offset is not None and value == k + 1 + offset, f"{path}: answer {value} for {k} from {label}")
        by[label] = by.get(label, 0) + 1
    return by


def near(got, want, slack, what):
    check(abs(got - want) <= slack, f"{what}: {got}, expected {want} +- {slack}")


def main():
    try:
        import numpy  # noqa: F401  (the python workers need it)
    except ImportError:
        print("SKIP: no numpy in", sys.executable)
        return 77
    os.environ["FORJA_PYTHON"] = sys.executable
    ws = harness.workspace(os.path.join(TMP, "ws"))
    for i, folder in enumerate([package("v1", 0), package("v2", 100), package("v3", 200, mode="broken")], 1):
        out = harness.forja("models", "register", "churn", folder, "--no-push", "--no-profile", cwd=ws).stdout
        check(out.strip().endswith(f"/{i}"), f"registered version {i}: {out}")
    harness.promote(ws, "churn", 1)
    store = Store(ws)
    # A long poll interval: the first step is seen at the next poll, later ones within a second.
    s = Serve("churn@production", "--poll-interval", "0.5", cwd=ws)
    try:
        gauge = lambda text, rid, v: metric(text, "forja_serve_rollout_weight", model="churn", version=v, rollout=str(rid))

        # 25%: a quarter of each route's requests, on both protocols, counted under version 2.
        rid = store.begin(2, 25)
        text = wait_for(s, "the 25% canary", lambda t: gauge(t, rid, "2") == 25)
        check(metric(text, "forja_serve_model_info", version="2", role="canary") == 1, "version 2 is the canary")
        by = split(s, 40)
        near(by.get("churn/2", 0), 10, 2, "v2 infer requests at 25%")
        by2 = split(s, 40, "/invocations")
        near(by2.get("churn/2", 0), 10, 2, "/invocations requests at 25%")
        text = s.request("GET", "/metrics")[2].decode()
        answered = by.get("churn/2", 0) + by2.get("churn/2", 0)
        check(metric(text, "forja_serve_requests_total", model="churn", version="2", code="200") == answered,
              f"version 2's requests counted under it ({answered})")
        for v in ("1", "2"):
            st, h, b = s.request("POST", f"/v2/models/churn/versions/{v}/infer",
                                 {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [1, 1]}]})
            check(st == 200 and header(h, "forja-model-version") == f"churn/{v}", f"versions/{v}: {st} {h}")

        # The next step moves the share.
        store.update(rid, 50)
        wait_for(s, "the 50% step", lambda t: gauge(t, rid, "2") == 50)
        near(split(s, 40).get("churn/2", 0), 20, 2, "v2 requests at 50%")

        # Rolled back: the canary goes, every request is version 1's again.
        store.update(rid, 0, "rolled_back")
        wait_for(s, "the rollback", lambda t: "forja_serve_rollout_weight{" not in t)
        check(split(s, 20) == {"churn/1": 20}, "after the rollback, version 1 answers all")
        st = s.request("POST", "/v2/models/churn/versions/2/infer",
                       {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [1, 1]}]})[0]
        check(st == 404, f"version 2 is no longer served: {st}")

        # A candidate that cannot load is refused once, and traffic stays on version 1.
        bad = store.begin(3, 25)
        text = wait_for(s, "the refused candidate",
                        lambda t: metric(t, "forja_serve_rollout_refused", model="churn", version="3", rollout=str(bad)) == 1)
        check("forja_serve_rollout_weight{" not in text, "no canary for a refused candidate")
        check(split(s, 20) == {"churn/1": 20}, "version 1 answers all while the candidate is refused")
        check(s.output().count("refusing the candidate churn/3") == 1, "refused once, not at every poll")
        store.update(bad, 0, "aborted")

        # A running rollout its controller stopped writing 6 minutes ago (forja rollout killed with
        # SIGKILL) gets no traffic; status says it is stale, and abort ends it.
        lost = store.begin(2, 50, updated_ago_ms=6 * 60 * 1000)
        end = time.time() + 60
        while time.time() < end and "has not been updated for 6 min" not in s.output():
            time.sleep(0.1)
        check(f"rollout {lost} of churn has not been updated for 6 min" in s.output(),
              "the lost controller is logged:\n" + s.output()[-2000:])
        check("forja_serve_rollout_weight{" not in s.request("GET", "/metrics")[2].decode(), "no canary for a stale rollout")
        check(split(s, 20) == {"churn/1": 20}, "version 1 answers all while the rollout is stale")
        status = harness.forja("rollout", "status", "churn", cwd=ws).stdout
        check("(stale: its forja rollout is gone" in status, "status shows the stale rollout:\n" + status)
        harness.forja("rollout", "abort", "churn", cwd=ws)
        check("state:    aborted" in harness.forja("rollout", "status", "churn", cwd=ws).stdout, "abort ends it")

        # Completion: 100%, then the stage moves and the rollout completes; the route switches.
        done = store.begin(2, 100)
        wait_for(s, "the 100% step", lambda t: gauge(t, done, "2") == 100)
        check(split(s, 10) == {"churn/2": 10}, "at 100% version 2 answers all")
        harness.promote(ws, "churn", 2)
        store.update(done, 100, "completed")
        text = wait_for(s, "the completion",
                        lambda t: "forja_serve_rollout_weight{" not in t and
                        metric(t, "forja_serve_model_info", version="2", role="primary") == 1)
        check(metric(text, "forja_serve_model_info", version="1") is None, "version 1 is unloaded")
        check(split(s, 10) == {"churn/2": 10}, "after completion version 2 answers all")
        check("rollout's candidate: it takes the route" in s.output(), "completion took the loaded candidate:\n" + s.output()[-2000:])
    finally:
        s.stop()
    if harness.failures:
        print(f"{len(harness.failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
