"""Live drift in the real `forja serve`: an xgboost package served with a reference profile
(forja.yaml's monitoring.models.NAME.profile, made by forja_monitor_drift_tool --profile from
the training-like data and the model's predictions on it), window 10s, interval 1s.
Reference-like traffic (OIP v2 JSON and MLflow dataframe_split) leaves the dataset undrifted;
traffic with six of eight features shifted drifts those columns and the dataset; a 500-column
model stays within max_columns series; a model without a profile has no drift series;
/metrics passes `promtool check metrics` when promtool is installed. Then the registry's way:
`forja monitor profile` attaches a profile (its target column first in the file) to a version
served as reg@production; a new version without one is served unmonitored until a profile is
attached to it, which reloads it, monitored.
"""
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FEATURES, Serve, check, failures, metric  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-serve-monitor-")
DRIFT_TOOL = os.environ.get("DRIFT_TOOL", "")
WIDE = 500


def write_profile(path, columns, rows):
    """A profile of these rows (one list per column) through forja_monitor_drift_tool --profile."""
    data = path + ".csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    p = subprocess.run([DRIFT_TOOL, "--profile", data], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("making the profile failed: " + p.stderr)
    with open(path, "w") as f:
        f.write(p.stdout)


def wide_package(folder):
    """An xgboost regressor on WIDE inputs: only the first matters."""
    import xgboost as xgb
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, WIDE)).astype(np.float32)
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 2}, xgb.DMatrix(x, label=x[:, 0]), 3)
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.json"))
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n"
                f"  inputs: [{{name: x, datatype: FP32, shape: [-1, {WIDE}]}}]\n"
                "  outputs: [{name: y, datatype: FP32, shape: [-1]}]\n")
    return booster, x


def oip(rows, name="features"):
    rows = np.asarray(rows, dtype=np.float32)
    return {"inputs": [{"name": name, "datatype": "FP32", "shape": list(rows.shape), "data": rows.ravel().tolist()}]}


def send(s, model, rows, batch=50, mlflow_every=0):
    for i in range(0, len(rows), batch):
        part = rows[i:i + batch]
        if mlflow_every and (i // batch) % mlflow_every == 0:
            body = {"dataframe_split": {"columns": [f"f{j}" for j in range(FEATURES)], "data": part.tolist()}}
            st, _, b = s.request("POST", f"/invocations?model={model}", body)
        else:
            st, _, b = s.request("POST", f"/v2/models/{model}/infer", oip(part, "x" if model == "wide" else "features"))
        if st != 200:
            raise AssertionError(f"{model}: {st} {b[:200]}")


def metrics(s):
    st, _, b = s.request("GET", "/metrics")
    if st != 200:
        raise AssertionError(f"/metrics: {st}")
    return b.decode()


def wait_for(s, what, cond, timeout=40):
    """The /metrics text once cond(text) holds (the collector runs every second)."""
    deadline = time.time() + timeout
    text = metrics(s)
    while time.time() < deadline and not cond(text):
        time.sleep(0.25)
        text = metrics(s)
    check(cond(text), what + "\n" + "\n".join(l for l in text.splitlines() if l.startswith("forja_model_")))
    return text


def series(text, name, **labels):
    return [l for l in text.splitlines() if l.startswith(name + "{") and all(f'{k}="{v}"' in l for k, v in labels.items())]


def promtool_check(text):
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP promtool check metrics: promtool is not installed (scripts/setup installs prometheus)")
        return
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    # Exit 1 on format errors and on lint problems (names, units, help) alike: neither is wanted.
    check(p.returncode == 0, f"promtool check metrics ({p.returncode}): {p.stdout}{p.stderr}")


def wait_log(s, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and text not in s.output():
        time.sleep(0.1)
    check(text in s.output(), f"the log says '{text}': " + s.output()[-1500:])


def test_registry_profile(rng):
    ws = harness.workspace(os.path.join(TMP, "reg"))
    boosters = {}
    for v in (1, 2):
        folder = os.path.join(TMP, f"reg{v}")
        boosters[v] = harness.make_package(folder, seed=v)
        check(harness.register(ws, "reg", folder) == v, f"registered reg/{v}")
    data = os.path.join(TMP, "reg.csv")
    x = rng.normal(size=(1500, FEATURES)).astype(np.float32)
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label"] + [f"f{j}" for j in range(FEATURES)])
        w.writerows([[int(r[0] > 0)] + r.tolist() for r in x])
    harness.forja("monitor", "profile", "reg/1", "--data", data, "--target", "label", cwd=ws)
    harness.promote(ws, "reg", 1)
    s = Serve("reg@production", "--poll-interval", "0.2", cwd=ws)
    try:
        wait_log(s, "monitoring reg/1 against its registry profile (10 columns")
        send(s, "reg", rng.normal(size=(300, FEATURES)).astype(np.float32))
        text = wait_for(s, "reg/1: 300 rows in the window",
                        lambda t: metric(t, "forja_model_window_rows", model="reg", version="1") == 300)
        check(metric(text, "forja_model_dataset_drifted", model="reg", version="1") == 0, "reg/1: no drift")
        check(not series(text, "forja_model_column_drifted", model="reg", column="label"), "the target has no series")
        check(metric(text, "forja_model_column_drifted", model="reg", version="1", column="f0") == 0, "f0 fed by position")
        harness.promote(ws, "reg", 2)
        wait_log(s, "reg/2 has no reference profile")
        wait_log(s, "now answered by reg/2")
        text = metrics(s)
        check(not series(text, "forja_model_window_rows", model="reg"), "reg/2 unmonitored, reg/1's series gone")
        harness.forja("monitor", "profile", "reg/2", "--data", data, "--target", "label", cwd=ws)
        wait_log(s, "monitoring reg/2 against its registry profile")
        text = wait_for(s, "reg/2 monitored after its profile was attached",
                        lambda t: metric(t, "forja_model_window_rows", model="reg", version="2") == 0)
    finally:
        s.stop()


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    if not DRIFT_TOOL or not os.path.exists(DRIFT_TOOL):
        print("SKIP: no forja_monitor_drift_tool (DRIFT_TOOL) to make profiles with")
        return 77
    ws = harness.workspace(os.path.join(TMP, "ws"))
    churn, plain, wide = (os.path.join(ws, "models", n) for n in ("churn", "plain", "wide"))
    booster = harness.make_package(churn)
    harness.make_package(plain, seed=1)
    wide_booster, wide_x = wide_package(wide)

    rng = np.random.default_rng(11)
    reference = rng.normal(size=(3000, FEATURES)).astype(np.float32)
    pred = harness.xgb_predict(booster, reference)
    write_profile(os.path.join(ws, "churn.json"), [f"f{j}" for j in range(FEATURES)] + ["__prediction__"],
                  np.column_stack([reference, pred]).tolist())
    write_profile(os.path.join(ws, "wide.json"), [f"x{j}" for j in range(WIDE)] + ["__prediction__"],
                  np.column_stack([wide_x, harness.xgb_predict(wide_booster, wide_x)]).tolist())
    with open(os.path.join(ws, "forja.yaml"), "a") as f:
        f.write("\nmonitoring:\n  window: 10s\n  interval: 1s\n"
                "  models:\n    churn: {profile: churn.json}\n    wide: {profile: wide.json, max_columns: 50}\n")

    s = Serve(churn, plain, wide, cwd=ws)
    try:
        log = s.output()
        check(re.search(r"monitoring churn/1 against \S*churn.json \(9 columns", log), "the log says churn is monitored: " + log)
        check("plain/1 has no reference profile" in log, "the log says plain is not monitored: " + log)
        text = metrics(s)
        check(metric(text, "forja_model_window_rows", model="churn", version="1") == 0, "no traffic yet: 0 rows")
        check(metric(text, "forja_model_dataset_drifted", model="churn", version="1") == 0, "no traffic yet: no drift")
        check(not series(text, "forja_model_window_rows", model="plain"), "plain has no monitoring series")

        # Reference-like traffic, a quarter of it through MLflow's dataframe_split.
        send(s, "churn", rng.normal(size=(1500, FEATURES)).astype(np.float32), mlflow_every=4)
        send(s, "plain", rng.normal(size=(100, FEATURES)).astype(np.float32))
        text = wait_for(s, "reference-like traffic: 1500 rows in the window",
                        lambda t: metric(t, "forja_model_window_rows", model="churn", version="1") == 1500)
        check(metric(text, "forja_model_dataset_drifted", model="churn", version="1") == 0, "reference-like traffic: no dataset drift")
        for j in range(FEATURES):
            check(metric(text, "forja_model_column_drifted", model="churn", version="1", column=f"f{j}") == 0,
                  f"reference-like traffic: f{j} not drifted")
        score = series(text, "forja_model_drift_score", model="churn", column="f0")
        check(len(score) == 1 and 'method="wasserstein"' in score[0], f"f0's score by wasserstein (3000 reference values): {score}")
        check(metric(text, "forja_model_missing_share", model="churn", column="f0") == 0, "no missing values")
        check(series(text, "forja_model_drift_score", model="churn", column="__prediction__"), "the prediction has a score")
        check(metric(text, "forja_model_monitored_columns", model="churn", version="1") == 9, "9 columns with series")
        check(metric(text, "forja_model_monitor_columns_omitted", model="churn", version="1") == 0, "none omitted")
        check(not series(text, "forja_model_window_rows", model="plain"), "plain still has no monitoring series")

        # Six of eight features shifted by three standard deviations, three times the traffic.
        shifted = rng.normal(size=(4500, FEATURES)).astype(np.float32)
        shifted[:, :6] += 3
        send(s, "churn", shifted)
        text = wait_for(s, "shifted traffic: the dataset drifts",
                        lambda t: metric(t, "forja_model_dataset_drifted", model="churn", version="1") == 1)
        for j in range(6):
            check(metric(text, "forja_model_column_drifted", model="churn", version="1", column=f"f{j}") == 1, f"f{j} drifted")
        check(metric(text, "forja_model_column_drifted", model="churn", version="1", column="f7") == 0, "f7 not drifted")
        check(metric(text, "forja_model_out_of_range_share", model="churn", column="f0") > 0, "f0 leaves the reference range")
        share = metric(text, "forja_model_dataset_drift_share", model="churn", version="1")
        check(share is not None and share >= 6 / 9, f"drift share {share}")

        # 500 columns: at most max_columns (50) of them have series.
        send(s, "wide", rng.normal(size=(200, WIDE)).astype(np.float32))
        text = wait_for(s, "the wide model's rows",
                        lambda t: metric(t, "forja_model_window_rows", model="wide", version="1") == 200)
        for family in ("forja_model_column_drifted", "forja_model_missing_share", "forja_model_drift_score"):
            n = len(series(text, family, model="wide"))
            check(0 < n <= 50, f"{family}: {n} series for the wide model (max_columns 50)")
        check(metric(text, "forja_model_monitored_columns", model="wide", version="1") == 50, "wide: 50 columns shown")
        check(metric(text, "forja_model_monitor_columns_omitted", model="wide", version="1") == WIDE + 1 - 50,
              "wide: the rest omitted")
        check(series(text, "forja_model_column_drifted", model="wide", column="__prediction__"), "the prediction shown first")
        promtool_check(text)
    finally:
        s.stop()
    test_registry_profile(rng)
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
