"""MLflow models as they are (issue 18 item 1; docs/formats.md, "MLflow models").

A real `forja server` (outside a workspace, like `mlflow server`) takes models logged and
registered with MLflow's own client (pinned in .venv): an sklearn model on the iris columns
(examples/mlflow/train_register.py: mlflow.sklearn.log_model(..., registered_model_name="iris")
and the alias champion), a second version through
mlflow.register_model("runs:/..."), and an xgboost Booster (mlflow.xgboost.log_model). Then:

- `forja serve models:/iris@champion --store http://...` answers REST v2 (one tensor per column)
  and /invocations (dataframe_split) with what the model's own predict gives;
- the xgboost model is served by forja's native evaluator (its description says so), equal to
  the booster's predict; so is a LightGBM Booster (mlflow.lightgbm.log_model, model.lgb) by the
  native lightgbm runtime;
- moving the alias to version 2 hot-reloads; moving it to a version whose python model imports a
  package the environment lacks is refused (the worker's import error is shown once) and version
  2 keeps answering;
- `forja predict models:/iris/1 -i in.csv -o out.csv` and runs:/ and models:/m-<id> references;
- an MLmodel with a flavor forja cannot load is one clear line.

No timing assertions: each wait polls for the state it needs within a generous deadline.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import Serve, check  # noqa: E402

from importlib import util as _util  # noqa: E402

# tests/api/harness.py (forja server and the MLflow client's environment), under its own name

_spec = _util.spec_from_file_location("api_harness", os.path.join(HERE, "..", "api", "harness.py"))
api = _util.module_from_spec(_spec)
_spec.loader.exec_module(api)
api.quiet_mlflow_client()

TMP = tempfile.mkdtemp(prefix="forja-mlflow-models-")


def main():
    try:
        import mlflow  # noqa: F401
        import sklearn  # noqa: F401
        import xgboost  # noqa: F401
    except ImportError as e:
        print("SKIP: the MLflow client, scikit-learn or xgboost is missing:", e)
        return 77
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import mlflow.xgboost
    import numpy as np
    import xgboost as xgb
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    os.environ["FORJA_PYTHON"] = sys.executable  # the workers' python: this venv, with mlflow
    # In a workspace, so that the artifacts are objects of its cache and forja predict inside it
    # reads them straight from there (the local store); outside it, through the server.
    ws = harness.workspace(os.path.join(TMP, "ws"))
    srv = api.Server("sqlite:///" + os.path.join(ws, ".forja", "forja.db"), workspace=ws)
    serves = []
    try:
        mlflow.set_tracking_uri(srv.url)
        mlflow.set_registry_uri(srv.url)
        client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)
        mlflow.set_experiment("iris")
        X, y = load_iris(return_X_y=True, as_frame=True)
        cols = list(X.columns)
        m2 = LogisticRegression(C=0.001, max_iter=500).fit(X, y)  # answers differently from m1
        # Version 1 as a user makes it: the example script, with MLflow's client, over HTTP.
        p = subprocess.run([sys.executable, os.path.join(api.SOURCE, "examples", "mlflow", "train_register.py")],
                           env=dict(os.environ, MLFLOW_TRACKING_URI=srv.url), capture_output=True, text=True)
        check(p.returncode == 0 and "registered iris/1, now iris@champion" in p.stdout,
              f"examples/mlflow/train_register.py: {p.stdout[-500:]} {p.stderr[-1500:]}")
        m1 = mlflow.sklearn.load_model("models:/iris/1")  # what forja must answer: the registered model's predict
        mid1 = client.get_model_version("iris", "1").source.split("/")[-1]  # models:/m-<id>
        check(mid1.startswith("m-"), f"version 1 is a LoggedModel: {mid1}")
        with mlflow.start_run() as run2:
            mlflow.sklearn.log_model(m2, name="model", input_example=X.head(3))
        v2 = mlflow.register_model(f"runs:/{run2.info.run_id}/model", "iris")
        check(v2.version in (2, "2"), f"register_model made version 2: {v2.version}")
        check((m1.predict(X.iloc[::7]) != m2.predict(X.iloc[::7])).any(), "the two versions' models differ")

        booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, label=(y == 1)), 10)
        with mlflow.start_run():
            mlflow.xgboost.log_model(booster, name="xgb", registered_model_name="xgbiris",
                                     signature=infer_signature(X, booster.predict(xgb.DMatrix(X))))

        rows = X.iloc[::7]
        store = ["--store", srv.url]

        def infer_v2(s, model):
            body = {"inputs": [{"name": c, "datatype": "FP64", "shape": [len(rows)], "data": rows[c].tolist()} for c in cols]}
            st, h, b = s.request("POST", f"/v2/models/{model}/infer", body)
            check(st == 200, f"/v2 infer {model}: {st} {b[:300]}")
            out = json.loads(b)["outputs"][0] if st == 200 else {"data": []}
            version = next((v for k, v in h.items() if k.lower() == "forja-model-version"), "?")
            return out["data"], version

        def invocations(s):
            body = {"dataframe_split": {"columns": cols, "data": rows.values.tolist()}}
            st, _, b = s.request("POST", "/invocations", body)
            check(st == 200, f"/invocations: {st} {b[:300]}")
            return json.loads(b)["predictions"] if st == 200 else []

        # ---- models:/iris@champion from the server: REST v2 and /invocations ----
        s = Serve("models:/iris@champion", *store, "--poll-interval", "0.3")
        serves.append(s)
        got, version = infer_v2(s, "iris")
        check(got == m1.predict(rows).tolist(), f"/v2 infer answers the model's predict: {got}")
        check(version == "iris/1", f"served version: {version}")
        check(invocations(s) == m1.predict(rows).tolist(), "/invocations answers the model's predict")
        st, _, b = s.request("GET", "/v2/models/iris")
        meta = json.loads(b)
        check([i["name"] for i in meta["inputs"]] == cols, f"the signature's columns are the inputs: {meta['inputs']}")
        check("mlflow" in meta["parameters"]["description"], f"described: {meta['parameters']}")
        # A request the signature refuses is 400, not 500.
        st, _, b = s.request("POST", "/invocations", {"dataframe_split": {"columns": cols[:2], "data": [[1, 2]]}})
        check(st == 400, f"a request missing columns: {st} {b[:200]}")

        # ---- the alias moves: hot reload ----
        client.set_registered_model_alias("iris", "champion", "2")
        deadline = time.time() + 120
        while time.time() < deadline and infer_v2(s, "iris")[1] != "iris/2":
            time.sleep(0.2)
        got, version = infer_v2(s, "iris")
        check(version == "iris/2", f"after moving the alias: {version}")
        check(got == m2.predict(rows).tolist(), "version 2 answers its model's predict")

        # ---- a version whose environment lacks a package: refused, version 2 stays ----
        class NeedsMissing(mlflow.pyfunc.PythonModel):
            def load_context(self, context):
                import forja_test_no_such_package  # noqa: F401

            def predict(self, context, model_input, params=None):
                return model_input

        with mlflow.start_run():
            mlflow.pyfunc.log_model(name="broken", python_model=NeedsMissing(), registered_model_name="iris",
                                    input_example=X.head(2))
        client.set_registered_model_alias("iris", "champion", "3")
        deadline = time.time() + 180
        while time.time() < deadline and "refusing iris/3" not in s.output():
            time.sleep(0.2)
        out = s.output()
        check("refusing iris/3, still serving iris/2" in out, "version 3 is refused, version 2 kept:\n" + out[-2000:])
        check(out.count("No module named 'forja_test_no_such_package'") >= 1, "the import error is shown")
        check(out.count("Traceback (most recent call last)") <= 1, "one traceback, not one per worker:\n" + out[-3000:])
        got, version = infer_v2(s, "iris")
        check(version == "iris/2" and got == m2.predict(rows).tolist(), f"still version 2: {version}")
        s.stop()

        # ---- xgboost through forja's native evaluator ----
        s = Serve("models:/xgbiris/1", *store)
        serves.append(s)
        check("binary:logistic, 10 trees" in s.output(), "served natively:\n" + s.output()[-1000:])
        got, _ = infer_v2(s, "xgbiris")
        want = booster.predict(xgb.DMatrix(rows))
        check(len(got) == len(want) and np.allclose(got, want, atol=1e-6), f"native xgboost: {got[:4]} vs {want[:4]}")
        s.stop()

        # ---- a LightGBM Booster through forja's native evaluator (model.lgb, LightGBM's text) ----
        import lightgbm as lgb
        import mlflow.lightgbm
        lgbm = lgb.train({"objective": "binary", "num_leaves": 7, "verbose": -1}, lgb.Dataset(X, label=(y == 1)), 10)
        with mlflow.start_run():
            mlflow.lightgbm.log_model(lgbm, name="lgb", registered_model_name="lgbiris",
                                      signature=infer_signature(X, lgbm.predict(X)))
        s = Serve("models:/lgbiris/1", *store)
        serves.append(s)
        check(re.search(r"lightgbm v\d binary.*, 10 trees, 4 features", s.output()) is not None,
              "served by the native lightgbm runtime (its description):\n" + s.output()[-1000:])
        got, _ = infer_v2(s, "lgbiris")
        want = lgbm.predict(rows)
        check(len(got) == len(want) and np.allclose(got, want, atol=1e-6), f"native lightgbm: {got[:4]} vs {want[:4]}")
        st, _, b = s.request("POST", "/invocations", {"dataframe_split": {"columns": cols, "data": rows.values.tolist()}})
        got = json.loads(b)["predictions"] if st == 200 else []
        check(st == 200 and np.allclose(got, want, atol=1e-6), f"native lightgbm /invocations: {st} {b[:300]}")
        s.stop()

        client.set_registered_model_alias("iris", "champion", "2")

        # ---- forja predict, and the other reference forms ----
        src = os.path.join(TMP, "in.csv")
        rows.to_csv(src, index=False)
        scratch = os.path.join(TMP, "predict")
        os.makedirs(scratch)
        for ref, model in [("models:/iris/1", m1), (f"runs:/{run2.info.run_id}/model", m2),
                           (f"models:/{mid1}", m1)]:
            dst = os.path.join(TMP, "out.csv")
            p = harness.forja("predict", ref, "-i", src, "-o", dst, *store, cwd=scratch, check=False)
            check(p.returncode == 0, f"forja predict {ref}: {p.stderr[-1500:]}")
            if p.returncode == 0:
                with open(dst) as f:
                    body = list(csv.reader(f))
                got = [int(float(r[-1])) for r in body[1:]]
                check(got == model.predict(rows).tolist(), f"forja predict {ref} answers the model's predict: {got}")

        # ---- the local store: inside the workspace, no server in between ----
        dst = os.path.join(TMP, "local.csv")
        p = harness.forja("predict", "models:/iris@champion", "-i", src, "-o", dst, cwd=ws, check=False)
        check(p.returncode == 0, f"forja predict in the workspace: {p.stderr[-1500:]}")
        if p.returncode == 0:
            with open(dst) as f:
                got = [int(float(r[-1])) for r in list(csv.reader(f))[1:]]
            check(got == m2.predict(rows).tolist(), f"the local store's version 2 (the alias moved back): {got}")

        # ---- strings and warm-up: a pipeline that refuses an unknown category (the empty string
        # of a row of zeros) warms up on the scoring request MLflow saved with it ----
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
        colors = pd.DataFrame({"color": ["red", "green", "blue", "red", "green", "blue"],
                               "size": [1.0, 2.0, 3.0, 1.5, 2.5, 3.5]})
        pipe = make_pipeline(ColumnTransformer([("c", OneHotEncoder(handle_unknown="error"), ["color"])],
                                               remainder="passthrough"),
                             LogisticRegression(max_iter=500)).fit(colors, [0, 1, 2, 0, 1, 2])
        cat = os.path.join(TMP, "categorical")
        mlflow.sklearn.save_model(pipe, cat, input_example=colors.head(2), serialization_format="cloudpickle")
        s = Serve(cat)
        serves.append(s)
        st, _, b = s.request("POST", "/invocations", {"dataframe_records": colors.to_dict(orient="records")})
        check(st == 200 and json.loads(b)["predictions"] == pipe.predict(colors).tolist(), f"string columns: {st} {b[:300]}")
        st, _, b = s.request("POST", "/invocations", {"dataframe_records": [{"color": "purple", "size": 1.0}]})
        check(st == 400, f"an unknown category is the request's fault: {st} {b[:300]}")
        s.stop()

        # ---- a folder saved with MLflow, and one with a flavor forja cannot load ----
        folder = os.path.join(TMP, "saved")
        mlflow.sklearn.save_model(m1, folder, input_example=X.head(3))
        dst = os.path.join(TMP, "saved.csv")
        p = harness.forja("predict", folder, "-i", src, "-o", dst, cwd=scratch, check=False)
        check(p.returncode == 0, f"forja predict on a saved folder: {p.stderr[-1500:]}")
        # (onnx has a runtime now: onnx_serve_test.py; h2o has none.)
        h2o = os.path.join(TMP, "h2o")
        os.makedirs(h2o)
        with open(os.path.join(h2o, "MLmodel"), "w") as f:
            f.write("artifact_path: model\nflavors:\n  h2o:\n    data: model.h2o\n    h2o_version: 3.46.0\n")
        p = subprocess.run([harness.FORJA, "serve", h2o, "--port", "0"], cwd=scratch, capture_output=True, text=True,
                           timeout=60)
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        check(p.returncode != 0, "an h2o-only MLmodel is refused")
        check(len(lines) == 1 and "MLmodel:3: flavors: 'h2o' has no runtime in forja" in lines[0], f"one clear line: {lines}")
    finally:
        for s in serves:
            s.stop()
        srv.stop()
    if harness.failures:
        print(f"{len(harness.failures)} check(s) failed")
        return 1
    print("mlflow models: all checks passed")
    shutil.rmtree(TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
