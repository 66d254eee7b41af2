"""forja serve driven the way users drive it: tritonclient.http (the Open Inference
Protocol client) with binary and JSON tensors, MLflow's scoring formats, bad input of
every kind (the server answers 4xx and keeps serving), a full queue (503), SIGTERM
with requests in flight, and hot reload from the registry: the alias moves under load
with no failed request, and a corrupt version is refused while the old one serves on.
"""
import concurrent.futures
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FEATURES, Serve, check, failures  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-serve-py-")
ROWS = np.random.default_rng(7).normal(size=(50, FEATURES)).astype(np.float32)


def close(got, want, what):
    got, want = np.asarray(got, dtype=np.float64).ravel(), np.asarray(want, dtype=np.float64).ravel()
    check(got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-6, f"{what}: {got[:4]} vs xgboost {want[:4]}")


def test_tritonclient(s, booster):
    import tritonclient.http as httpclient
    c = httpclient.InferenceServerClient(url=f"127.0.0.1:{s.port}")
    check(c.is_server_live() and c.is_server_ready(), "server live and ready")
    check(c.is_model_ready("churn"), "model ready")
    md = c.get_model_metadata("churn")
    check(md["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, FEATURES]}], f"metadata inputs {md}")
    check(md["platform"] == "xgboost", "platform")
    check("binary_tensor_data" in c.get_server_metadata()["extensions"], "server metadata extensions")
    want = harness.xgb_predict(booster, ROWS)
    for binary in (True, False):
        inp = httpclient.InferInput("features", list(ROWS.shape), "FP32")
        inp.set_data_from_numpy(ROWS, binary_data=binary)
        out = [httpclient.InferRequestedOutput("probability", binary_data=binary)]
        r = c.infer("churn", [inp], outputs=out, request_id="abc")
        close(r.as_numpy("probability"), want, f"tritonclient binary={binary}")
        check(r.get_response()["id"] == "abc", "request id echoed")
    # The default: no outputs named, binary_data_output.
    inp = httpclient.InferInput("features", [1, FEATURES], "FP32")
    inp.set_data_from_numpy(ROWS[:1])
    close(c.infer("churn", [inp]).as_numpy("probability"), want[:1], "tritonclient defaults")
    # Errors come back as InferenceServerException naming the input.
    bad = httpclient.InferInput("features", [1, FEATURES], "FP64")
    bad.set_data_from_numpy(ROWS[:1].astype(np.float64))
    try:
        c.infer("churn", [bad])
        check(False, "FP64 input accepted")
    except Exception as e:  # tritonclient.utils.InferenceServerException
        check("datatype FP64" in str(e), f"FP64 error message: {e}")


def test_mlflow(s, booster):
    want = harness.xgb_predict(booster, ROWS[:5]).tolist()
    cols = [f"f{i}" for i in range(FEATURES)]
    rows = ROWS[:5].tolist()
    for name, body in [
        ("dataframe_split", {"dataframe_split": {"columns": cols, "data": rows}}),
        ("dataframe_records", {"dataframe_records": [dict(zip(cols, r)) for r in rows]}),
        ("instances", {"instances": rows}),
        ("inputs", {"inputs": rows}),
        ("inputs by name", {"inputs": {"features": rows}}),
    ]:
        st, h, b = s.request("POST", "/invocations", body)
        check(st == 200, f"{name}: {st} {b[:200]}")
        if st == 200:
            close(json.loads(b)["predictions"], want, name)
    csv = ",".join(cols) + "\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in ROWS[:5]) + "\n"
    st, h, b = s.request("POST", "/invocations", csv.encode(), {"Content-Type": "text/csv"})
    check(st == 200, f"csv: {st} {b[:200]}")
    if st == 200:
        close(json.loads(b)["predictions"], want, "csv")
    for path in ("/ping", "/health", "/version"):
        check(s.request("GET", path)[0] == 200, path)


def oip(rows, name="features", datatype="FP32", shape=None):
    rows = np.asarray(rows)
    return {"inputs": [{"name": name, "datatype": datatype, "shape": list(shape or rows.shape), "data": rows.ravel().tolist()}]}


def raw(port, data, read=True, timeout=10):
    """Sends bytes on a new connection; returns what came back before the server closed or timeout."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    sock.close()
    return out


def test_bad_input(s):
    url = "/v2/models/churn/infer"
    cases = [
        ("malformed JSON", b'{"inputs": [', 400, "malformed JSON"),
        ("wrong datatype", oip(np.ones((1, FEATURES), dtype=np.int64), datatype="INT64"), 400, "input 'features': datatype INT64"),
        ("wrong shape", oip(ROWS[:1, :3]), 400, "input 'features': shape [1,3]"),
        ("data length", {"inputs": [{"name": "features", "datatype": "FP32", "shape": [2, FEATURES], "data": [1.0] * FEATURES}]}, 400, "elements"),
        ("missing input", {"inputs": [{"name": "other", "datatype": "FP32", "shape": [1], "data": [1]}]}, 400, "unknown input 'other'"),
        ("no inputs", {"id": "x"}, 400, "'inputs'"),
        ("unknown model", None, 404, "not served"),
    ]
    for name, body, status, text in cases:
        path = "/v2/models/nope/infer" if name == "unknown model" else url
        st, h, b = s.request("POST", path, body if body is not None else oip(ROWS[:1]))
        check(st == status and text in b.decode(errors="replace"), f"{name}: {st} {b[:200]}")
        check("error" in json.loads(b), f"{name}: OIP error format")
        check(h.get("X-Request-Id"), f"{name}: request id")
    # NaN is a missing value (binary data can carry it); infinity is refused.
    for value, status in ((np.nan, 200), (np.inf, 400)):
        x = ROWS[:1].copy()
        x[0, 2] = value
        head = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, FEATURES],
                                        "parameters": {"binary_data_size": x.nbytes}}]}).encode()
        st, h, b = s.request("POST", url, head + x.tobytes(), {"Inference-Header-Content-Length": str(len(head))})
        check(st == status, f"value {value}: {st} {b[:200]}")
    # Too many rows: 413; too big a body: 413 (the server started with --max-rows 1000 --max-body-mb 1).
    st, h, b = s.request("POST", url, oip(np.zeros((1001, FEATURES), dtype=np.float32)))
    check(st == 413 and b"limit is 1000" in b, f"rows limit: {st} {b[:200]}")
    big = b'{"inputs": [' + b" " * (2 << 20) + b"]}"
    st, h, b = s.request("POST", url, big)
    check(st == 413, f"huge body: {st}")
    # A truncated request (the client goes away mid-body) and a slow-loris client.
    raw(s.port, b"POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"inputs\"", read=False)
    t0 = time.time()
    got = raw(s.port, b"POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\n", timeout=10)
    check(got.startswith(b"HTTP/1.1 408"), f"slow loris: {got[:80]!r}")
    check(time.time() - t0 < 5, "slow loris answered within the client timeout")
    got = raw(s.port, b"GET /v2 HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 431"), f"huge header: {got[:80]!r}")
    st, h, b = s.request("POST", url, oip(ROWS[:1]))
    check(st == 200, "still serving after the bad requests")
    m = s.request("GET", "/metrics")[2].decode()
    check(harness.metric(m, "forja_serve_requests_total", model="churn", code="400") >= 7, "400s counted")
    check(harness.metric(m, "forja_serve_http_responses_total", code="408") >= 1, "408 counted")


def test_queue_full(folder):
    s = Serve(folder, "--max-batch-size", "4000", "--max-queue", "4000", "--max-queue-delay-us", "0")
    try:
        # Binary rows: the server takes them in at once, so requests reach the queue faster than
        # the one worker empties it (JSON bodies were parsed slower than they were evaluated, and
        # the queue filled only on some machines). The queue fills when a request arrives while
        # another waits behind the batch being evaluated: a burst may miss that, so up to five.
        x = np.random.default_rng(1).normal(size=(4000, FEATURES)).astype(np.float32)
        head = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": list(x.shape),
                                        "parameters": {"binary_data_size": x.nbytes}}]}).encode()
        send = lambda _: s.request("POST", "/v2/models/churn/infer", head + x.tobytes(),  # noqa: E731
                                   {"Inference-Header-Content-Length": str(len(head))})[0]
        codes = []
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            for _ in range(5):
                codes += list(ex.map(send, range(96)))
                if 503 in codes:
                    break
        check(set(codes) <= {200, 503} and 503 in codes and 200 in codes, f"queue full codes: {sorted(set(codes))}")
        check(s.request("POST", "/v2/models/churn/infer", oip(ROWS[:1]))[0] == 200, "serving after 503s")
    finally:
        s.stop()


def test_sigterm_drains(folder):
    s = Serve(folder, "--max-queue-delay-us", "200000", "--max-batch-size", "1000")
    results = []
    t = threading.Thread(target=lambda: results.append(s.request("POST", "/v2/models/churn/infer", oip(ROWS[:1]))[0]))
    t.start()
    time.sleep(0.05)  # the request waits 200 ms for company
    rc = s.stop()
    t.join()
    check(results == [200] and rc == 0, f"SIGTERM with a request in flight: {results}, exit {rc}")


def test_hot_reload():
    ws = harness.workspace(os.path.join(TMP, "ws"))
    boosters = {}
    for v, seed in ((1, 1), (2, 2)):
        boosters[v] = harness.make_package(os.path.join(TMP, f"p{v}"), seed=seed)
        check(harness.register(ws, "churn", os.path.join(TMP, f"p{v}")) == v, "registered")
    harness.make_package(os.path.join(TMP, "p3"), seed=3, corrupt=True)
    harness.register(ws, "churn", os.path.join(TMP, "p3"))
    harness.promote(ws, "churn", 1)
    s = Serve("churn@production", "--poll-interval", "0.1", "--log-sample", "1", cwd=ws)
    try:
        stop = threading.Event()
        seen, errors = {}, []

        def load():
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            body = json.dumps(oip(ROWS[:1]))
            while not stop.is_set():
                conn.request("POST", "/v2/models/churn/infer", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                v = r.getheader("forja-model-version")
                if r.status != 200:
                    errors.append((r.status, data[:200]))
                    continue
                p = json.loads(data)["outputs"][0]["data"][0]
                version = int(v.split("/")[1])
                if abs(p - float(harness.xgb_predict(boosters[version], ROWS[:1])[0])) > 1e-6:
                    errors.append(("answer does not match the version header", v))
                seen[v] = seen.get(v, 0) + 1

        threads = [threading.Thread(target=load) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        harness.promote(ws, "churn", 2)
        deadline = time.time() + 20
        while time.time() < deadline and "churn/2" not in seen:
            time.sleep(0.05)
        time.sleep(0.3)
        harness.promote(ws, "churn", 3)  # corrupt: refused, 2 keeps serving
        deadline = time.time() + 20
        while time.time() < deadline and "refusing churn/3" not in s.output():
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        check(not errors, f"failed requests during the switch: {errors[:5]}")
        check(seen.get("churn/1", 0) > 0 and seen.get("churn/2", 0) > 0, f"both versions answered: {seen}")
        check("refusing churn/3" in s.output(), "corrupt version refused: " + s.output()[-800:])
        st, h, b = s.request("POST", "/v2/models/churn/infer", oip(ROWS[:1]))
        check(st == 200 and h.get("forja-model-version") == "churn/2", f"still churn/2 after the refusal: {h}")
        m = s.request("GET", "/metrics")[2].decode()
        check(harness.metric(m, "forja_serve_reloads_total", model="churn", outcome="switched") == 1, "one switch counted")
        check(harness.metric(m, "forja_serve_reloads_total", model="churn", outcome="refused") == 1, "one refusal counted")
        check(harness.metric(m, "forja_serve_model_info", model="churn", version="2") == 1, "info metric names version 2")
        # Feedback for one of the logged predictions.
        rid = h["X-Request-Id"]
        st, _, b = s.request("POST", "/v2/models/churn/feedback", {"request_id": rid, "label": 1})
        check(st == 200, f"feedback: {st} {b}")
    finally:
        s.stop()
    logs = os.path.join(ws, ".forja", "predictions")
    preds = [json.loads(line) for f in sorted(os.listdir(logs)) if f.startswith("predictions") for line in open(os.path.join(logs, f))]
    versions = {p["version"] for p in preds}
    check(versions == {"1", "2"}, f"the prediction log names the versions that answered: {versions}")
    check(all(p["request_id"] and "latency_us" in p and p["inputs"]["features"] for p in preds[:10]), "log lines complete")
    fb = [json.loads(line) for f in os.listdir(logs) if f.startswith("feedback") for line in open(os.path.join(logs, f))]
    check(any(x["request_id"] == rid and x["label"] == 1 for x in fb), f"feedback logged: {fb}")


def test_route_and_shadow():
    ws = harness.workspace(os.path.join(TMP, "ws2"))
    for v in (1, 2, 3):
        harness.make_package(os.path.join(TMP, f"r{v}"), seed=v)
        harness.register(ws, "churn", os.path.join(TMP, f"r{v}"))
    harness.promote(ws, "churn", 1, "production")
    harness.promote(ws, "churn", 2, "staging")
    s = Serve("--route", "churn@production=90,churn@staging=10", "--shadow", "churn/3", cwd=ws)
    try:
        seen = {}
        for i in range(100):
            st, h, b = s.request("POST", "/v2/models/churn/infer", oip(ROWS[:1]), {"X-Request-Id": f"split-{i}"})
            check(st == 200, f"routed request: {st} {b[:200]}")
            seen[h.get("forja-model-version")] = seen.get(h.get("forja-model-version"), 0) + 1
        check(85 <= seen.get("churn/1", 0) <= 95 and 5 <= seen.get("churn/2", 0) <= 15, f"90/10 split: {seen}")
        check("churn/3" not in seen, "the shadow never answers")
        md = json.loads(s.request("GET", "/v2/models/churn")[2])
        check(md["versions"] == ["1", "2"], f"metadata versions: {md['versions']}")
        st, h, b = s.request("POST", "/v2/models/churn/versions/2/infer", oip(ROWS[:1]))
        check(st == 200 and h.get("forja-model-version") == "churn/2", "a version by URL")
        m = s.request("GET", "/metrics")[2].decode()
        check(harness.metric(m, "forja_serve_model_info", version="3", role="shadow") == 1, "shadow in the info metric")
    finally:
        s.stop()
    logs = os.path.join(ws, ".forja", "predictions")
    lines = [json.loads(line) for f in os.listdir(logs) if f.startswith("predictions") for line in open(os.path.join(logs, f))]
    shadow = [x for x in lines if x.get("shadow")]
    check(len(shadow) == 100 and {x["version"] for x in shadow} == {"3"}, f"shadow predictions logged (not for requests naming a version): {len(shadow)}")
    check(len(lines) == len(shadow), "only the shadow's predictions are logged (sample 0)")


def test_fetch_from_remote():
    """A version whose package is not in the cache comes from the default remote, verified."""
    ws = harness.workspace(os.path.join(TMP, "ws3"))
    harness.forja("remote", "add", "store", os.path.join(TMP, "remote"), cwd=ws)
    booster = harness.make_package(os.path.join(TMP, "f1"), seed=5)
    harness.forja("models", "register", "churn", os.path.join(TMP, "f1"), cwd=ws)  # pushed to the remote
    harness.promote(ws, "churn", 1)
    shutil.rmtree(os.path.join(ws, ".forja", "cache"))
    s = Serve("churn@production", cwd=ws)
    try:
        st, h, b = s.request("POST", "/v2/models/churn/infer", oip(ROWS[:3]))
        check(st == 200, f"served from the remote: {st} {b[:200]}")
        if st == 200:
            close(json.loads(b)["outputs"][0]["data"], harness.xgb_predict(booster, ROWS[:3]), "fetched package")
    finally:
        s.stop()


def test_python_model():
    """A python package: its predictions, a worker that dies on one request (500) and one that
    hangs past python.timeout_ms (504), while the server goes on."""
    folder = os.path.join(TMP, "py")
    os.makedirs(folder)
    with open(os.path.join(folder, "predict.py"), "w") as f:
        f.write("import os, time\n"
                "def predict(batch):\n"
                "    x = batch['features']\n"
                "    if (x[:, 0] == 13).any():\n"
                "        os._exit(3)\n"
                "    if (x[:, 0] == 42).any():\n"
                "        time.sleep(60)\n"
                "    return x.sum(axis=1)\n")
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: python\npython: {module: predict.py, function: predict, workers: 2, timeout_ms: 1000}\n"
                "signature:\n"
                "  inputs: [{name: features, datatype: FP32, shape: [-1, 2]}]\n"
                "  outputs: [{name: total, datatype: FP32, shape: [-1]}]\n")
    os.environ["FORJA_PYTHON"] = sys.executable
    s = Serve(folder, "--max-queue-delay-us", "2000")
    try:
        st, h, b = s.request("POST", "/v2/models/py/infer", oip([[1, 2], [3, 4]], shape=[2, 2]))
        check(st == 200 and json.loads(b)["outputs"][0]["data"] == [3, 7], f"python model: {st} {b[:200]}")
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            codes = list(ex.map(lambda i: s.request("POST", "/v2/models/py/infer", oip([[13 if i == 3 else i, 1]]))[0], range(8)))
        check(codes[3] == 500 and codes.count(200) == 7, f"a crashing worker fails its own request only: {codes}")
        st, h, b = s.request("POST", "/v2/models/py/infer", oip([[5, 5]]))
        check(st == 200 and json.loads(b)["outputs"][0]["data"] == [10], f"serving after the crash: {st} {b[:200]}")
        # A hang: past python.timeout_ms the worker is killed, that request gets 504, the next ones 200.
        st, h, b = s.request("POST", "/v2/models/py/infer", oip([[42, 1]]))
        check(st == 504 and b"error" in b, f"a hanging worker: {st} {b[:200]}")
        st, h, b = s.request("POST", "/v2/models/py/infer", oip([[6, 6]]))
        check(st == 200 and json.loads(b)["outputs"][0]["data"] == [12], f"serving after the hang: {st} {b[:200]}")
    finally:
        s.stop()


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    folder = os.path.join(TMP, "churn")
    booster = harness.make_package(folder)
    s = Serve(folder, "--max-rows", "1000", "--max-body-mb", "1", "--client-timeout-ms", "1000")
    try:
        test_tritonclient(s, booster)
        test_mlflow(s, booster)
        test_bad_input(s)
    finally:
        s.stop()
    test_queue_full(folder)
    test_sigterm_drains(folder)
    test_hot_reload()
    test_route_and_shadow()
    test_fetch_from_remote()
    test_python_model()
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
