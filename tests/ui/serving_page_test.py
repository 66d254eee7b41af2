"""The serving and monitoring page (#/serving) in a real browser, and the serving report's route.

A workspace with an xgboost classifier registered as churn (forja monitor profile attaches a
reference profile with a target), promoted to Production; a real `forja server` on the
workspace's SQLite store; two real `forja serve` instances of churn@production reporting every
second: one through the server (--store http://..., the REST route) and one writing straight
into the SQLite store (--instance-id direct-1). Traffic: 300 rows with five of eight features shifted
(so those columns drift) through the first, with feedback labels for 120 of them; an
Alertmanager alert on churn v1; a third instance's report pushed by hand and then aged past
its stale time in the store. Over plain HTTP: malformed, oversized and over-bound reports
answer 400 naming the field. serving_page.mjs then drives Debian's chromium: each instance,
its routes, traffic, latency, error rate, drift per column with its test, quality, staleness,
the stale instance marked, the alert; the empty state on a server nobody reports to; axe-core;
screenshots; no console error.

    python tests/ui/serving_page_test.py
"""
import atexit
import csv
import json
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import Checks, Server, tempdir  # noqa: E402  (tests/api's: forja server)
import importlib.util  # noqa: E402

spec_ = importlib.util.spec_from_file_location("serve_harness", os.path.join(os.path.dirname(HERE), "serve", "harness.py"))
serve = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(serve)

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

c = Checks()


def ok(cond, what, extra=None):
    c.true(cond, what if extra is None else f"{what}: {extra!r}")

tmp = tempdir()
artifacts = os.environ.get("FORJA_UI_ARTIFACTS", os.path.join(tmp, "screenshots"))
os.makedirs(artifacts, exist_ok=True)
FEATURES = serve.FEATURES
rng = np.random.default_rng(7)

# ---- a workspace with churn v1 in Production and its reference profile ---------------------------
ws = serve.workspace(os.path.join(tmp, "ws"))
with open(os.path.join(ws, "forja.yaml"), "a") as f:
    f.write("\nmonitoring:\n  window: 600s\n  interval: 1s\n")
pkg = os.path.join(tmp, "churn1")
serve.make_package(pkg, seed=1)
c.eq(serve.register(ws, "churn", pkg), 1, "registered churn/1")
data = os.path.join(tmp, "reference.csv")
x = rng.normal(size=(1500, FEATURES)).astype(np.float32)
with open(data, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["label"] + [f"f{j}" for j in range(FEATURES)])
    w.writerows([[int(r[0] > 0)] + r.tolist() for r in x])
serve.forja("monitor", "profile", "churn/1", "--data", data, "--target", "label", cwd=ws)
serve.promote(ws, "churn", 1)

db = os.path.join(ws, ".forja", "forja.db")
srv = Server("sqlite:///" + db, workspace=ws)
empty = Server("sqlite:///" + os.path.join(tmp, "empty.db"))

# ---- the route: what it refuses -------------------------------------------------------------------
route = "/api/2.0/forja/serving/report"
good = {"interval_s": 15, "models": [{"name": "m", "routes": [{"ref": "m@production", "weight": 100, "version": "1"}],
                                      "versions": [{"version": "1", "requests": 3}]}]}
for body, field, what in [
    ({"report": good}, "instance", "no instance id"),
    ({"instance": "a b", "report": good}, "instance id", "an instance id with a blank"),
    ({"instance": "x:1"}, "report is required", "no report"),
    ({"instance": "x:1", "report": []}, "report must be an object", "a report that is no object"),
    ({"instance": "x:1", "report": {"models": "many"}}, "report.models must be a list", "models not a list"),
    ({"instance": "x:1", "report": {"models": [{"routes": []}]}}, "report.models[0].name is required", "a model without a name"),
    ({"instance": "x:1", "report": {"models": [{"name": "m", "versions": [{"version": "1", "requests": "lots"}]}]}},
     "report.models[0].versions[0].requests must be a number", "a count that is no number"),
    ({"instance": "x:1", "report": {"models": [{"name": f"m{i}"} for i in range(65)]}}, "at most 64", "65 models"),
    ({"instance": "x:1", "report": {"models": [{"name": "m", "versions": [{"version": "1", "drift": {
        "columns": [{"name": f"c{i}"} for i in range(201)]}}]}]}}, "at most 200", "201 drift columns"),
    ({"instance": "x:1", "report": {"hostname": "h" * 300}}, "report.hostname is longer than 256", "a long hostname"),
]:
    status, answer = srv.call("POST", route, body)
    c.eq((status, answer.get("error_code") if isinstance(answer, dict) else answer), (400, "INVALID_PARAMETER_VALUE"),
         f"serving report: {what} is a 400")
    ok(isinstance(answer, dict) and field in answer.get("message", ""), f"serving report: {what}: the message names {field}",
           answer)
c.eq(srv.call("POST", route, {"instance": "x:1", "report": {"hostname": "h" * (300 << 10)}})[0], 400,
     "a report over 256 KB is a 400")
c.eq(srv.call("GET", "/api/2.0/forja/serving/instances")[1].get("instances"), [], "refused reports are not listed")
# Nulls where numbers go are taken, and listed (the stale time falls back to its floor).
odd = Server("sqlite:///" + os.path.join(tmp, "odd.db"))
nulls = {"interval_s": None, "models": [{"name": "m", "shadow": None, "versions": [
    {"version": "1", "requests": None, "latency_s": {"p50": None}, "drift": None, "quality": None, "staleness": None}]}]}
c.eq(odd.call("POST", route, {"instance": "nulls:1", "report": nulls})[0], 200, "a report with nulls is taken")
status, listed = odd.call("GET", "/api/2.0/forja/serving/instances")
c.eq((status, [(i["instance"], i["stale_after_s"], i["report"]["interval_s"]) for i in listed.get("instances", [])]),
     (200, [("nulls:1", 60, None)]), "and listed, stale after the 60 s floor")
odd.stop()

# ---- two real forja serve instances: through the server, and straight into the store ------------------
via_server = serve.Serve("churn@production", "--store", srv.url, "--report-interval", "1", "--poll-interval", "0",
                         "--instance-id", "web-1", cwd=ws)
direct = serve.Serve("churn@production", "--store", "sqlite:///" + db, "--report-interval", "1", "--poll-interval", "0",
                     "--instance-id", "direct-1", cwd=ws)
atexit.register(via_server.stop)  # also when a check above raises
atexit.register(direct.stop)

rows = rng.normal(size=(300, FEATURES)).astype(np.float32)
rows[:, 0:5] += 4.0  # f0..f4 shifted far from the reference: they (and the dataset) drift
labels = {}
for i in range(0, 300, 30):
    part = rows[i:i + 30]
    st, headers, body = via_server.request("POST", "/v2/models/churn/infer",
                                           {"inputs": [{"name": "features", "datatype": "FP32", "shape": list(part.shape),
                                                        "data": part.ravel().tolist()}]},
                                           headers={"X-Request-Id": f"req-{i}"})
    c.eq(st, 200, f"inference {i}")
    if i < 100:
        labels[f"req-{i}"] = [int(v > 0) for v in part[:, 0]]
for rid, label in labels.items():
    st, _, b = via_server.request("POST", "/v2/models/churn/feedback", {"request_id": rid, "label": label})
    c.eq(st, 200, f"feedback for {rid}: {b[:200]!r}")
st, _, _ = via_server.request("POST", "/v2/models/nope/infer", {"inputs": []})
c.eq(st, 404, "a request for an unknown model")


def instances(server):
    status, body = server.call("GET", "/api/2.0/forja/serving/instances")
    return {i["instance"]: i for i in body.get("instances", [])} if status == 200 else {}


def version_of(inst):
    try:
        return inst["report"]["models"][0]["versions"][0]
    except (KeyError, IndexError, TypeError):
        return {}


# Wait (no time asserted) for reports that hold the traffic, the drift and the feedback.
deadline = time.time() + 90
while time.time() < deadline:
    got = instances(srv)
    v = version_of(got.get("web-1", {}))
    if ("direct-1" in got and v.get("requests") == 10 and (v.get("drift") or {}).get("rows") == 300
            and (v.get("quality") or {}).get("labels") == 120):
        break
    time.sleep(0.3)
got = instances(srv)
c.eq(sorted(got), ["direct-1", "web-1"], "both instances are listed: one through the route, one from the store itself")
web = got.get("web-1", {})
v = version_of(web)
c.eq((v.get("version"), v.get("role"), v.get("ref"), v.get("requests"), v.get("errors")), ("1", "primary", "churn@production", 10, 0),
     "web-1 reports churn v1's requests")
ok(all(isinstance((v.get("latency_s") or {}).get(q), (int, float)) for q in ("p50", "p95", "p99")),
       "and its latency quantiles", v.get("latency_s"))
drift = v.get("drift") or {}
drifted = sorted(col["name"] for col in drift.get("columns", []) if col.get("drifted") and col["name"].startswith("f"))
c.eq(drifted, ["f0", "f1", "f2", "f3", "f4"], "the shifted columns drift, and only they")
ok(drift.get("drift") is True, "and the dataset drifts", drift)
c.eq((v.get("quality") or {}).get("labels"), 120, "the feedback's labels are counted")
c.eq(web.get("report", {}).get("models", [{}])[0].get("routes"),
     [{"ref": "churn@production", "weight": 100, "version": "1", "canary": None}], "the route and its weight")
c.eq(version_of(got.get("direct-1", {})).get("requests"), 0, "direct-1 served nothing")

# A third instance, reported by hand and then silent for two minutes: stale.
c.eq(srv.call("POST", route, {"instance": "old-1:8080", "report": good})[0], 200, "a hand-made report is taken")
with sqlite3.connect(db) as conn:
    conn.execute("UPDATE serving_reports SET received = received - 120000 WHERE instance = 'old-1:8080'")
old = instances(srv).get("old-1:8080", {})
ok(old.get("stale") is True and old.get("age_s", 0) >= 120, "an instance silent for 2 minutes is stale", old)

# An Alertmanager alert about churn v1.
alert = {"version": "4", "status": "firing", "receiver": "forja", "groupKey": "g", "alerts": [{
    "status": "firing", "labels": {"alertname": "ForjaModelDatasetDrift", "model": "churn", "version": "1",
                                   "severity": "warning"},
    "annotations": {"summary": "churn v1: dataset drift"}, "startsAt": "2026-12-07T05:00:00Z",
    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc123"}]}
c.eq(srv.call("POST", "/api/2.0/forja/alerts", alert)[0], 200, "an alert is recorded")

spec = {
    "url": srv.url,
    "empty_url": empty.url,
    "artifacts": artifacts,
    "instances": ["web-1", "direct-1", "old-1:8080"],
    "drifted": ["f0", "f1", "f2", "f3", "f4"],
    "requests": "10",
    "alert": "ForjaModelDatasetDrift",
}
p = subprocess.run(["node", os.path.join(HERE, "serving_page.mjs")], input=json.dumps(spec), text=True)
c.eq(p.returncode, 0, "the browser checks pass")
via_server.stop()
direct.stop()
ok("serving report" not in via_server.output() and "serving report" not in direct.output(),
       "no report failed: " + via_server.output()[-800:] + direct.output()[-800:])
srv.stop()
empty.stop()
print(f"screenshots: {artifacts}")
c.finish()
