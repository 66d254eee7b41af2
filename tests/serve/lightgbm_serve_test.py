"""forja serve and forja predict with LightGBM packages, against LightGBM's own predict.

The models are trained here with the venv's LightGBM (scripts/requirements.txt pins it): a
binary classifier with NaN-missing, zero-as-missing and categorical features, and a
three-class one. Each is a package (model.txt + model.yaml, flavor lightgbm) served by the
real `forja serve`; tritonclient.http (REST v2, binary tensors carrying NaN and JSON tensors)
and MLflow's /invocations formats must get LightGBM's predictions within 1e-6, the model's
metadata names the platform, a corrupt model file is refused at start with the file and line,
`forja predict` scores a CSV with empty cells (missing) to the same numbers, and a package
registered and promoted is served by its alias.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Serve, check, failures  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-lgb-serve-")
FEATURES = 6


def data(seed, rows):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    x[:, 2] = rng.integers(0, 12, rows)  # categorical
    x[rng.random(x.shape) < 0.08] = np.nan
    x[rng.random(rows) < 0.2, 4] = 0.0
    return x


def make_package(folder, objective, num_class=1):
    import lightgbm as lgb
    x = data(1, 2000)
    score = np.nan_to_num(x[:, 0]) - 0.7 * np.nan_to_num(x[:, 1]) + np.isin(x[:, 2], [1, 4, 9]) + (x[:, 4] == 0)
    y = (score > 0.5).astype(int) if num_class == 1 else np.digitize(score, [0.0, 1.0])
    params = {"objective": objective, "num_leaves": 31, "learning_rate": 0.1, "verbose": -1, "num_threads": 1,
              "min_data_per_group": 10, "cat_smooth": 1.0}
    if num_class > 1:
        params["num_class"] = num_class
    ds = lgb.Dataset(x, y, categorical_feature=[2])
    booster = lgb.train(params, ds, num_boost_round=60)
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.txt"))
    shape = "[-1]" if num_class == 1 else f"[-1, {num_class}]"
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: lightgbm\nmodel: model.txt\nsignature:\n"
                f"  inputs: [{{name: features, datatype: FP32, shape: [-1, {FEATURES}]}}]\n"
                f"  outputs: [{{name: probability, datatype: FP32, shape: {shape}}}]\n")
    return lgb.Booster(model_file=os.path.join(folder, "model.txt"))


def close(got, want, what):
    got, want = np.asarray(got, dtype=np.float64).ravel(), np.asarray(want, dtype=np.float64).ravel()
    ok = got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-6
    check(ok, f"{what}: {got[:4]} vs LightGBM {want[:4]}")


def test_rest_v2(s, booster, rows, name):
    import tritonclient.http as httpclient
    c = httpclient.InferenceServerClient(url=f"127.0.0.1:{s.port}")
    md = c.get_model_metadata(name)
    check(md["platform"] == "lightgbm", f"platform: {md}")
    want = booster.predict(rows.astype(np.float64))
    # Binary tensors carry the NaN (missing) values as they are.
    inp = httpclient.InferInput("features", list(rows.shape), "FP32")
    inp.set_data_from_numpy(rows, binary_data=True)
    r = c.infer(name, [inp], outputs=[httpclient.InferRequestedOutput("probability", binary_data=True)])
    close(r.as_numpy("probability"), want, f"{name}: REST v2, {len(rows)} rows with NaN")
    for i in range(5):  # one row per call, as an online client sends them
        one = httpclient.InferInput("features", [1, FEATURES], "FP32")
        one.set_data_from_numpy(rows[i:i + 1], binary_data=True)
        close(c.infer(name, [one]).as_numpy("probability"), want[i:i + 1], f"{name}: one row {i}")
    # JSON tensors (no NaN in JSON): the rows with every value present.
    full = rows[~np.isnan(rows).any(axis=1)][:20]
    inp = httpclient.InferInput("features", list(full.shape), "FP32")
    inp.set_data_from_numpy(full, binary_data=False)
    r = c.infer(name, [inp], outputs=[httpclient.InferRequestedOutput("probability", binary_data=False)])
    close(r.as_numpy("probability"), booster.predict(full.astype(np.float64)), f"{name}: REST v2 JSON")
    # MLflow's scoring format on /invocations.
    cols = [f"f{i}" for i in range(FEATURES)]
    st, _, b = s.request("POST", "/invocations", {"dataframe_split": {"columns": cols, "data": full.tolist()}})
    check(st == 200, f"{name}: /invocations {st} {b[:200]}")
    if st == 200:
        close(json.loads(b)["predictions"], booster.predict(full.astype(np.float64)), f"{name}: /invocations")


def test_predict_cli(folder, booster, rows):
    path = os.path.join(TMP, "rows.csv")
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(FEATURES)) + "\n")
        for r in rows:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n")
    out = os.path.join(TMP, "pred.csv")
    p = subprocess.run([harness.FORJA, "predict", folder, "-i", path, "-o", out], capture_output=True, text=True,
                       cwd=TMP)
    check(p.returncode == 0, f"forja predict: {p.returncode} {p.stderr}")
    if p.returncode == 0:
        with open(out) as f:
            got = [float(r["probability"]) for r in csv.DictReader(f)]
        close(got, booster.predict(rows.astype(np.float64)), "forja predict")


def test_registry(folder, booster, rows):
    ws = harness.workspace(os.path.join(TMP, "ws"))
    version = harness.register(ws, "churn", folder)
    harness.promote(ws, "churn", version)
    s = Serve("churn@production", cwd=ws)
    try:
        full = rows[~np.isnan(rows).any(axis=1)][:8]
        body = {"inputs": [{"name": "features", "datatype": "FP32", "shape": list(full.shape),
                            "data": full.ravel().tolist()}]}
        st, _, b = s.request("POST", "/v2/models/churn/infer", body)
        check(st == 200, f"registry: {st} {b[:200]}")
        if st == 200:
            close(json.loads(b)["outputs"][0]["data"], booster.predict(full.astype(np.float64)), "churn@production")
        st, _, b = s.request("GET", "/v2/models/churn")
        check(st == 200 and json.loads(b)["parameters"]["description"] == "lightgbm v4 binary, 60 trees, 6 features",
              f"the model's description: {b[:300]}")
    finally:
        s.stop()


def test_corrupt(folder):
    bad = os.path.join(TMP, "bad")
    shutil.copytree(folder, bad)
    with open(os.path.join(bad, "model.txt")) as f:
        text = f.read()
    with open(os.path.join(bad, "model.txt"), "w") as f:
        f.write(text[: text.index("end of trees") // 2])
    p = subprocess.run([harness.FORJA, "serve", "--port", "0", bad], capture_output=True, text=True, cwd=TMP,
                       timeout=60)
    check(p.returncode != 0, "a truncated model file is refused")
    check("model.txt:" in p.stderr and "truncated" in p.stderr, f"the refusal names the file and why: {p.stderr}")


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    try:
        import lightgbm  # noqa: F401
        import tritonclient.http  # noqa: F401
    except ImportError as e:
        print(f"SKIP: the venv lacks {e.name} (run scripts/setup)")
        return 77
    rows = data(2, 200)
    rows[:3, 2] = [40, -1, 3.5]  # an unseen, a negative and a fractional category
    binary = os.path.join(TMP, "churn")
    booster = make_package(binary, "binary")
    s = Serve(binary)
    try:
        test_rest_v2(s, booster, rows, "churn")
    finally:
        s.stop()
    multi = os.path.join(TMP, "tiers")
    booster3 = make_package(multi, "multiclass", 3)
    s = Serve(multi)
    try:
        test_rest_v2(s, booster3, rows, "tiers")
    finally:
        s.stop()
    test_predict_cli(binary, booster, rows)
    test_registry(binary, booster, rows)
    test_corrupt(binary)
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
