"""forja serve and forja predict with ONNX packages (flavor onnx), against ONNX Runtime's own run.

The models are made here: a small neural network built with onnx.helper (MatMul+Add+Relu+
MatMul+Add+Softmax, FP32, batch dimension "N"), an FP16 one and one with an INT64 and an FP32
input and an output of each, and a scikit-learn pipeline (StandardScaler + LogisticRegression)
exported with skl2onnx. Each is a package with no signature in model.yaml: forja takes it from
the graph. The real `forja serve` must answer REST v2 (tritonclient, binary and JSON tensors)
and /invocations with what onnxruntime.InferenceSession.run gives within 1e-6; concurrent
one-row requests are batched and each gets its own rows' answer; a request whose shape does not
fit the graph's fixed dimensions is a 400 naming the input; a corrupt model.onnx is refused with
one line (alone, and as a registry version while the good one keeps serving); `forja predict`
scores a CSV to the same numbers; an MLflow model saved with mlflow.onnx is served too.
"""
import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Serve, check, failures  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-onnx-serve-")
FEATURES = 4


def package(folder, model_bytes, extra=""):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: onnx\nmodel: model.onnx\n" + extra)
    return folder


def finish(graph):
    from onnx import checker, helper
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="forja-test")
    m.ir_version = 8
    checker.check_model(m)
    return m.SerializeToString()


def mlp_fp32(seed=0):
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(size=(FEATURES, 8)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    w2, b2 = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"]), helper.make_node("Add", ["h1", "b1"], ["h2"]),
             helper.make_node("Relu", ["h2"], ["h3"]), helper.make_node("MatMul", ["h3", "w2"], ["h4"]),
             helper.make_node("Add", ["h4", "b2"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", FEATURES])],
                          [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3])], inits)
    return finish(g)


def mlp_fp16():
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(FEATURES, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)
    nodes = [helper.make_node("Cast", ["h"], ["hf"], to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["hf", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]), helper.make_node("Cast", ["r"], ["y"], to=TensorProto.FLOAT16)]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    g = helper.make_graph(nodes, "half", [helper.make_tensor_value_info("h", TensorProto.FLOAT16, [None, FEATURES])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [None, 2])], inits)
    return finish(g)


def ids_int64():
    from onnx import TensorProto, helper, numpy_helper
    nodes = [helper.make_node("Mul", ["ids", "three"], ["tripled"]),
             helper.make_node("Cast", ["ids"], ["idsf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["idsf", "weight"], ["weighted"])]
    inits = [numpy_helper.from_array(np.array(3, dtype=np.int64), "three")]
    g = helper.make_graph(nodes, "ids",
                          [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 3]),
                           helper.make_tensor_value_info("weight", TensorProto.FLOAT, ["N", 1])],
                          [helper.make_tensor_value_info("tripled", TensorProto.INT64, ["N", 3]),
                           helper.make_tensor_value_info("weighted", TensorProto.FLOAT, ["N", 3])], inits)
    return finish(g)


def sklearn_pipeline():
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, FEATURES)).astype(np.float32) * [1, 10, 0.1, 3]
    y = (x[:, 0] + 0.1 * x[:, 1] - 5 * x[:, 2] > 0).astype(np.int64)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    return to_onnx(pipe, x[:1].astype(np.float32), options={"zipmap": False}).SerializeToString()


def ort_run(model_bytes, feeds):
    import onnxruntime as ort
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def close(got, want, what, tol=1e-6):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    ok = got.size == want.size and np.max(np.abs(got.ravel() - want.ravel()), initial=0) <= tol
    check(ok, f"{what}: {got.ravel()[:4]} vs onnxruntime {want.ravel()[:4]}")


def infer(s, name, inputs, binary=True):
    """tritonclient.http inference: {input name: array} -> {output name: array}."""
    import tritonclient.http as httpclient
    c = httpclient.InferenceServerClient(url=f"127.0.0.1:{s.port}")
    dt = {np.dtype(np.float32): "FP32", np.dtype(np.float16): "FP16", np.dtype(np.int64): "INT64"}
    ins = []
    for n, a in inputs.items():
        i = httpclient.InferInput(n, list(a.shape), dt[a.dtype])
        i.set_data_from_numpy(a, binary_data=binary)
        ins.append(i)
    r = c.infer(name, ins)
    return {o["name"]: r.as_numpy(o["name"]) for o in r.get_response()["outputs"]}


def test_mlp(folder, model):
    rows = np.random.default_rng(7).normal(size=(50, FEATURES)).astype(np.float32)
    want = ort_run(model, {"x": rows})["probs"]
    s = Serve(folder, "--max-queue-delay-us", "200000")
    try:
        st, _, b = s.request("GET", "/v2/models/mlp")
        meta = json.loads(b) if st == 200 else {}
        check(meta.get("platform") == "onnx", f"platform: {b[:300]}")
        check(meta.get("inputs") == [{"name": "x", "datatype": "FP32", "shape": [-1, FEATURES]}],
              f"the inputs come from the graph: {meta.get('inputs')}")
        check(meta.get("outputs") == [{"name": "probs", "datatype": "FP32", "shape": [-1, 3]}],
              f"the outputs come from the graph: {meta.get('outputs')}")
        described = meta.get("parameters", {}).get("description", "")
        check("onnxruntime" in described and "model.onnx, 3 workers" in described, f"described: {meta}")
        close(infer(s, "mlp", {"x": rows})["probs"], want, "REST v2 binary, 50 rows")
        close(infer(s, "mlp", {"x": rows[:9]}, binary=False)["probs"], want[:9], "REST v2 JSON, 9 rows")
        st, _, b = s.request("POST", "/invocations", {"inputs": {"x": rows[:5].tolist()}})
        check(st == 200, f"/invocations: {st} {b[:200]}")
        if st == 200:
            close(json.loads(b)["predictions"], want[:5], "/invocations")
        # Concurrent one-row requests: batched together, each answered with its own row.
        before = s.request("GET", "/metrics")[2].decode()
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            got = list(ex.map(lambda i: infer(s, "mlp", {"x": rows[i:i + 1]})["probs"], range(32)))
        for i, g in enumerate(got):
            close(g, want[i:i + 1], f"concurrent request {i}")
        after = s.request("GET", "/metrics")[2].decode()
        calls = (harness.metric(after, "forja_serve_batch_rows_count", model="mlp") or 0) - \
                (harness.metric(before, "forja_serve_batch_rows_count", model="mlp") or 0)
        check(0 < calls < 32, f"32 concurrent one-row requests ran in {calls} predict calls (batched)")
        # The graph fixes the second dimension: 5 columns is the request's fault, named.
        bad = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 5], "data": [0.0] * 10}]}
        st, _, b = s.request("POST", "/v2/models/mlp/infer", bad)
        check(st == 400 and b"'x'" in b, f"a shape the graph does not take: {st} {b[:300]}")
        bad = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, FEATURES, 1], "data": [0.0] * 8}]}
        st, _, b = s.request("POST", "/v2/models/mlp/infer", bad)
        check(st == 400 and b"'x'" in b, f"a rank the graph does not take: {st} {b[:300]}")
        bad = {"inputs": [{"name": "x", "datatype": "INT64", "shape": [1, FEATURES], "data": [0] * 4}]}
        st, _, b = s.request("POST", "/v2/models/mlp/infer", bad)
        check(st == 400 and b"'x'" in b, f"a datatype the graph does not take: {st} {b[:300]}")
        close(infer(s, "mlp", {"x": rows[:3]})["probs"], want[:3], "still serving after the bad requests")
    finally:
        s.stop()


def test_fp16_int64(half, ids):
    s = Serve(os.path.join(TMP, "half"))
    try:
        rows = np.random.default_rng(8).normal(size=(20, FEATURES)).astype(np.float16)
        want = ort_run(half, {"h": rows})["y"]
        got = infer(s, "half", {"h": rows})["y"]
        check(got.dtype == np.float16, f"an FP16 output comes back FP16: {got.dtype}")
        close(got, want, "FP16 in and out")
    finally:
        s.stop()
    s = Serve(os.path.join(TMP, "ids"))
    try:
        feeds = {"ids": np.arange(30, dtype=np.int64).reshape(10, 3) - 7,
                 "weight": np.linspace(-1, 1, 10, dtype=np.float32).reshape(10, 1)}
        want = ort_run(ids, feeds)
        got = infer(s, "ids", feeds)
        check(got["tripled"].dtype == np.int64 and (got["tripled"] == want["tripled"]).all(),
              f"INT64 output: {got['tripled'][:2]} vs {want['tripled'][:2]}")
        close(got["weighted"], want["weighted"], "the FP32 output of the INT64 model")
        got = infer(s, "ids", {k: v for k, v in feeds.items()}, binary=False)
        check((got["tripled"] == want["tripled"]).all(), "INT64 through JSON tensors")
        st, _, b = s.request("POST", "/v2/models/ids/infer",
                             {"inputs": [{"name": "ids", "datatype": "INT64", "shape": [1, 3], "data": [1, 2, 3]}]})
        check(st == 400 and b"'weight'" in b, f"a missing input is named: {st} {b[:300]}")
    finally:
        s.stop()


def test_sklearn(folder, model):
    rows = np.random.default_rng(9).normal(size=(40, FEATURES)).astype(np.float32) * [1, 10, 0.1, 3]
    rows = rows.astype(np.float32)
    want = ort_run(model, {"X": rows})
    s = Serve(folder)
    try:
        got = infer(s, "pipe", {"X": rows})
        check((got["label"] == want["label"]).all(), f"labels: {got['label'][:6]} vs {want['label'][:6]}")
        close(got["probabilities"], want["probabilities"], "pipeline probabilities")
        st, _, b = s.request("POST", "/invocations", {"instances": rows[:4].tolist()})
        check(st == 200, f"/invocations instances: {st} {b[:300]}")
    finally:
        s.stop()
    # forja predict on a CSV: the columns are the input's features in order.
    path = os.path.join(TMP, "rows.csv")
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(FEATURES)) + "\n")
        for r in rows:
            f.write(",".join(repr(float(v)) for v in r) + "\n")
    out = os.path.join(TMP, "pred.csv")
    p = subprocess.run([harness.FORJA, "predict", folder, "-i", path, "-o", out], capture_output=True, text=True,
                       cwd=TMP)
    check(p.returncode == 0, f"forja predict: {p.returncode} {p.stderr}")
    if p.returncode == 0:
        with open(out) as f:
            table = list(csv.DictReader(f))
        check([int(r["label"]) for r in table] == want["label"].tolist(), f"forja predict labels: {table[:2]}")
        prob = [[float(r[k]) for k in r if k.startswith("probabilities")] for r in table]
        close(prob, want["probabilities"], "forja predict probabilities")


def test_corrupt(good):
    bad = package(os.path.join(TMP, "bad"), b"\x08\x07garbage, not a protobuf" * 10)
    p = subprocess.run([harness.FORJA, "serve", "--port", "0", bad], capture_output=True, text=True, cwd=TMP,
                       timeout=120)
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    check(p.returncode != 0, "a corrupt model.onnx is refused")
    check(len(lines) == 1 and "model.onnx: onnxruntime cannot load it" in lines[0],
          f"one clear line naming the file: {lines}")
    # As a registry version: refused, the served version stays.
    ws = harness.workspace(os.path.join(TMP, "ws"))
    harness.promote(ws, "mlp", harness.register(ws, "mlp", good))
    s = Serve("mlp@production", "--poll-interval", "0.2", cwd=ws)
    try:
        harness.promote(ws, "mlp", harness.register(ws, "mlp", bad))
        deadline = time.time() + 120
        while time.time() < deadline and "refusing mlp/2" not in s.output():
            time.sleep(0.2)
        out = s.output()
        check("refusing mlp/2, still serving mlp/1" in out and "onnxruntime cannot load it" in out,
              "the corrupt version is refused, version 1 kept:\n" + out[-2000:])
        st, h, b = s.request("POST", "/v2/models/mlp/infer",
                             {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, FEATURES], "data": [0.5] * 4}]})
        version = next((v for k, v in h.items() if k.lower() == "forja-model-version"), "?")
        check(st == 200 and version == "mlp/1", f"still serving version 1: {st} {version} {b[:200]}")
    finally:
        s.stop()


def test_mlflow_onnx(model):
    import onnx
    import mlflow.onnx
    folder = os.path.join(TMP, "mlflow-onnx")
    mlflow.onnx.save_model(onnx.load_from_string(model), folder)
    rows = np.random.default_rng(11).normal(size=(6, FEATURES)).astype(np.float32)
    s = Serve(folder)
    try:
        close(infer(s, "mlflow-onnx", {"x": rows})["probs"], ort_run(model, {"x": rows})["probs"],
              "an MLflow onnx model")
    finally:
        s.stop()


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import skl2onnx  # noqa: F401
        import tritonclient.http  # noqa: F401
    except ImportError as e:
        print(f"SKIP: the venv lacks {e.name} (run scripts/setup)")
        return 77
    os.environ["FORJA_PYTHON"] = sys.executable  # the workers' python: this venv, with onnxruntime
    mlp = mlp_fp32()
    half, ids = mlp_fp16(), ids_int64()
    pipe = sklearn_pipeline()
    package(os.path.join(TMP, "half"), half)
    package(os.path.join(TMP, "ids"), ids)
    test_mlp(package(os.path.join(TMP, "mlp"), mlp, "python: {workers: 3}\n"), mlp)
    test_fp16_int64(half, ids)
    test_sklearn(package(os.path.join(TMP, "pipe"), pipe), pipe)
    test_corrupt(os.path.join(TMP, "mlp"))
    test_mlflow_onnx(mlp)
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
