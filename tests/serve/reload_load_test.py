"""The load-and-reload test: forja serve NAME@champion under 64 concurrent keep-alive
clients for FORJA_SERVE_LOAD_SECONDS (default 60) while the alias moves three times.
Zero requests may fail, each answer must be the prediction of the version its
forja-model-version header names, and the prediction log (every request sampled)
must show, for every request id, the version that answered it.
"""
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = float(os.environ.get("FORJA_SERVE_LOAD_SECONDS", "60"))
CONCURRENCY = 64


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    tmp = tempfile.mkdtemp(prefix="forja-serve-load-")
    ws = harness.workspace(os.path.join(tmp, "ws"))
    rows = np.random.default_rng(3).normal(size=(1, harness.FEATURES)).astype(np.float32)
    want = {}
    for v in (1, 2, 3):
        b = harness.make_package(os.path.join(tmp, f"p{v}"), seed=v)
        assert harness.register(ws, "churn", os.path.join(tmp, f"p{v}")) == v
        want[f"churn/{v}"] = float(harness.xgb_predict(b, rows)[0])
    harness.promote(ws, "churn", 1, "@champion")
    s = harness.Serve("churn@champion", "--poll-interval", "0.2", "--log-sample", "1", cwd=ws)
    body = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, harness.FEATURES],
                                   "data": rows.ravel().tolist()}]})
    stop = threading.Event()
    answered = [dict() for _ in range(CONCURRENCY)]  # request id -> version, per thread
    errors = []

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        n = 0
        while not stop.is_set():
            rid = f"load-{i}-{n}"
            n += 1
            try:
                conn.request("POST", "/v2/models/churn/infer", body, {"Content-Type": "application/json", "X-Request-Id": rid})
                r = conn.getresponse()
                data = r.read()
            except Exception as e:  # a dropped connection is a failed request too
                errors.append((rid, repr(e)))
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
                continue
            v = r.getheader("forja-model-version")
            if r.status != 200:
                errors.append((rid, r.status, data[:200]))
                continue
            p = json.loads(data)["outputs"][0]["data"][0]
            if v not in want or abs(p - want[v]) > 1e-6:
                errors.append((rid, "answer does not match its version", v, p))
            answered[i][rid] = v

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENCY)]
    t0 = time.time()
    for t in threads:
        t.start()
    try:
        for k, version in enumerate((2, 3, 1)):
            time.sleep(max(0.0, t0 + SECONDS * (k + 1) / 4 - time.time()))
            harness.promote(ws, "churn", version, "@champion")
            print(f"{time.time() - t0:5.1f}s: @champion -> version {version}", flush=True)
        time.sleep(max(0.0, t0 + SECONDS - time.time()))
    finally:
        stop.set()
        for t in threads:
            t.join()
        metrics = s.request("GET", "/metrics")[2].decode()
        s.stop()
    elapsed = time.time() - t0
    total = sum(len(a) for a in answered) + len(errors)
    by_version = {}
    for a in answered:
        for v in a.values():
            by_version[v] = by_version.get(v, 0) + 1
    print(f"{total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s) at concurrency {CONCURRENCY}; "
          f"answered by {dict(sorted(by_version.items()))}; {len(errors)} failed")
    failures = []
    if errors:
        failures.append(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    if set(by_version) != set(want):
        failures.append(f"not every version answered: {by_version}")
    switched = harness.metric(metrics, "forja_serve_reloads_total", model="churn", outcome="switched")
    if switched != 3:
        failures.append(f"{switched} switches, expected 3")
    # The log: one line per request, naming the version that answered it.
    logs = os.path.join(ws, ".forja", "predictions")
    logged = {}
    for f in sorted(os.listdir(logs)):
        if f.startswith("predictions"):
            for line in open(os.path.join(logs, f)):
                p = json.loads(line)
                logged[p["request_id"]] = f"{p['model']}/{p['version']}"
    dropped = harness.metric(metrics, "forja_serve_prediction_log_lines_total", outcome="dropped")
    mismatched = [(rid, v, logged.get(rid)) for a in answered for rid, v in a.items() if logged.get(rid) != v]
    if mismatched:
        failures.append(f"{len(mismatched)} requests not in the log with the version that answered them "
                        f"({dropped} lines dropped), e.g. {mismatched[:3]}")
    shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    print("all passed" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
