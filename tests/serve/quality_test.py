"""Quality from feedback in the real `forja serve`: an xgboost binary classifier (output
"probability"), a 3-class one (output "probabilities" [n, 3]) and an xgboost regressor (output "y"), served without profiles and with the
prediction log at its default (nothing sampled), window 1h, interval 1s. Predictions are made
with our own X-Request-Ids (one-row and four-row requests, OIP and MLflow), labels posted to
/v2/models/{name}/feedback; /metrics must then show exactly scikit-learn's accuracy, precision,
recall, ROC AUC (on the scores binned as forja bins them), log-loss, MAE, RMSE and MAPE (zero
labels skipped) of the joined labels, and the CBPE estimate over every prediction; a version whose quality fails its production gate is
stale for the reason "quality". Labels for
unknown ids, of the wrong type or shape, and repeated labels are answered per item, counted by
result, and never in the numbers; malformed bodies are 400s.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn import metrics as skm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FEATURES, Serve, check, failures, metric  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-serve-quality-")
BINS = 1000  # monitor/quality.h kAucBins


def reg_package(folder):
    """An xgboost regressor on 3 inputs, output y."""
    import xgboost as xgb
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 3}, xgb.DMatrix(x, label=2 * x[:, 0] + 1), 10)
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.json"))
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n"
                "  inputs: [{name: x, datatype: FP32, shape: [-1, 3]}]\n"
                "  outputs: [{name: y, datatype: FP32, shape: [-1]}]\n")


def multi_package(folder):
    """An xgboost 3-class classifier on 3 inputs (multi:softprob), output probabilities [n, 3]."""
    import xgboost as xgb
    rng = np.random.default_rng(9)
    x = rng.normal(size=(600, 3)).astype(np.float32)
    y = np.digitize(x[:, 0] + 0.5 * x[:, 1], [-0.5, 0.5])
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, xgb.DMatrix(x, label=y), 10)
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.json"))
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n"
                "  inputs: [{name: x, datatype: FP32, shape: [-1, 3]}]\n"
                "  outputs: [{name: probabilities, datatype: FP32, shape: [-1, 3]}]\n")


def oip(rows, name):
    rows = np.asarray(rows, dtype=np.float32)
    return {"inputs": [{"name": name, "datatype": "FP32", "shape": list(rows.shape), "data": rows.ravel().tolist()}]}


def predict(s, model, rows, rid, name, mlflow=False):
    """The model's outputs for rows (float32, as forja serve computed them), asked under id rid."""
    h = {"X-Request-Id": rid}
    if mlflow:
        body = {"dataframe_split": {"columns": [f"f{j}" for j in range(len(rows[0]))], "data": np.asarray(rows).tolist()}}
        st, hd, b = s.request("POST", f"/invocations?model={model}", body, h)
    else:
        st, hd, b = s.request("POST", f"/v2/models/{model}/infer", oip(rows, name), h)
    if st != 200:
        raise AssertionError(f"{model}: {st} {b[:200]}")
    check(hd.get("X-Request-Id") == rid, f"the answer carries our request id {rid}: {hd.get('X-Request-Id')}")
    import json
    doc = json.loads(b)
    data = doc["predictions"] if mlflow else doc["outputs"][0]["data"]
    return np.asarray(data, dtype=np.float32).astype(np.float64).ravel()


def feedback(s, model, body):
    import json
    st, _, b = s.request("POST", f"/v2/models/{model}/feedback", body if isinstance(body, (list, dict)) else body.encode())
    try:
        doc = json.loads(b)
    except ValueError:
        doc = {}
    return st, doc


def results(doc):
    return [r["result"] for r in doc.get("results", [])]


def metrics(s):
    st, _, b = s.request("GET", "/metrics")
    if st != 200:
        raise AssertionError(f"/metrics: {st}")
    return b.decode()


def wait_for(s, what, cond, timeout=40):
    deadline = time.time() + timeout
    text = metrics(s)
    while time.time() < deadline and not cond(text):
        time.sleep(0.25)
        text = metrics(s)
    check(cond(text), what + "\n" + "\n".join(l for l in text.splitlines() if "quality" in l or "feedback" in l))
    return text


def near(got, want, what, tol=1e-6):
    check(got is not None and abs(got - want) <= tol * max(1.0, abs(want)), f"{what}: {got}, want {want}")


def binned(p):
    return np.minimum(BINS - 1, np.floor(np.clip(p, 0, 1) * BINS))


def expected_auc(p):
    """CBPE's ROC AUC over binned scores: each row a positive of weight p and a negative of 1 - p."""
    b = binned(p)
    pos = np.bincount(b.astype(int), weights=p, minlength=BINS)
    neg = np.bincount(b.astype(int), weights=1 - p, minlength=BINS)
    above = np.concatenate([np.cumsum(pos[::-1])[::-1][1:], [0]])
    return float((neg * (above + 0.5 * pos)).sum() / (pos.sum() * neg.sum()))


def test_classifier(s, rng):
    # 40 one-row requests (every 5th through /invocations) and 5 four-row requests.
    ids, probs, labels = [], [], []
    x = rng.normal(size=(60, FEATURES)).astype(np.float32)
    for i in range(40):
        p = predict(s, "clf", x[i:i + 1], f"c-{i}", "features", mlflow=i % 5 == 0)
        ids.append(f"c-{i}")
        probs.append(p)
    for j in range(5):
        probs.append(predict(s, "clf", x[40 + 4 * j:44 + 4 * j], f"cb-{j}", "features"))
        ids.append(f"cb-{j}")
    # Labels: the truth is mostly what the model says, with some flipped.
    truth = {}
    for rid, p in zip(ids, probs):
        truth[rid] = [int((q >= 0.5) != (rng.random() < 0.25)) for q in p]

    # Malformed bodies: 400, nothing counted.
    for body, what in [("{not json", "malformed JSON"), ([], "no feedback"), ({"label": 1}, "'request_id'"),
                       ({"request_id": "c-0"}, "'label'"), ([{"request_id": "c-0", "label": 1}, 7], "item 1")]:
        st, doc = feedback(s, "clf", body)
        check(st == 400 and what in doc.get("error", ""), f"malformed feedback {body!r}: 400 naming {what}: {st} {doc}")

    # One item, a list of items with booleans and a four-row list, then the rest.
    st, doc = feedback(s, "clf", {"request_id": "c-1", "label": truth["c-1"][0]})
    check(st == 200 and results(doc) == ["joined"] and doc.get("joined") == 1, f"one label joined: {st} {doc}")
    batch = [{"request_id": "c-2", "label": bool(truth["c-2"][0])}, {"request_id": "cb-0", "label": truth["cb-0"]}]
    st, doc = feedback(s, "clf", batch)
    check(st == 200 and results(doc) == ["joined", "joined"], f"a list of items (bool, four labels): {st} {doc}")
    # Wrong ones: answered per item, never counted.
    bad = [{"request_id": "nope-1", "label": 1},                 # no such prediction
           {"request_id": "c-3", "label": "yes"},                # a string for a classifier
           {"request_id": "c-4", "label": 2},                    # not a class of a binary model
           {"request_id": "c-5", "label": 0.5},                  # not a class number
           {"request_id": "cb-1", "label": 1},                   # one label for four rows
           {"request_id": "cb-2", "label": [1, 0]},              # two labels for four rows
           {"request_id": "c-1", "label": 1 - truth["c-1"][0]}]  # c-1 has its label
    st, doc = feedback(s, "clf", bad)
    want = ["unknown_request_id", "wrong_type", "wrong_type", "wrong_type", "wrong_shape", "wrong_shape", "duplicate"]
    check(st == 200 and results(doc) == want and doc.get("joined") == 0, f"bad items answered per item: {st} {doc}")
    check(all(r.get("error") for r in doc.get("results", [])), f"each bad item says why: {doc}")
    # The rest (the wrong ones above get their right label now): every prediction but c-39.
    rest = [{"request_id": rid, "label": truth[rid] if rid.startswith("cb") else truth[rid][0]}
            for rid in ids if rid not in ("c-1", "c-2", "cb-0", "c-39")]
    st, doc = feedback(s, "clf", rest)
    check(st == 200 and doc.get("joined") == len(rest), f"the rest joined: {st} {doc.get('joined')} of {len(rest)}")

    labeled = [rid for rid in ids if rid != "c-39"]
    y = np.array([v for rid in labeled for v in truth[rid]])
    p = np.concatenate([probs[ids.index(rid)] for rid in labeled])
    pred = (p >= 0.5).astype(int)
    text = wait_for(s, f"clf: {len(y)} labeled rows in the window",
                    lambda t: metric(t, "forja_model_quality_window_labels", model="clf", version="1") == len(y))
    q = lambda m: metric(text, "forja_model_quality", model="clf", version="1", metric=m)  # noqa: E731
    near(q("accuracy"), skm.accuracy_score(y, pred), "accuracy")
    near(q("precision"), skm.precision_score(y, pred), "precision (class 1)")
    near(q("recall"), skm.recall_score(y, pred), "recall (class 1)")
    near(q("roc_auc"), skm.roc_auc_score(y, binned(p)), "ROC AUC (binned scores)")
    near(q("log_loss"), skm.log_loss(y, np.c_[1 - p, p]), "log-loss")
    for m in ("mae", "rmse", "mape"):
        check(q(m) is None, f"no {m} for a classifier")
    # The estimate covers every prediction, labeled or not.
    pa = np.concatenate(probs)
    e = lambda m: metric(text, "forja_model_quality_estimated", model="clf", version="1", metric=m)  # noqa: E731
    text = wait_for(s, "clf: the estimate covers every prediction",
                    lambda t: metric(t, "forja_model_quality_estimated_window_rows", model="clf", version="1") == len(pa))
    pos = pa >= 0.5
    near(e("accuracy"), np.maximum(pa, 1 - pa).mean(), "estimated accuracy (mean top probability)")
    near(e("precision"), pa[pos].sum() / pos.sum(), "estimated precision")
    near(e("recall"), pa[pos].sum() / pa.sum(), "estimated recall")
    near(e("roc_auc"), expected_auc(pa), "estimated ROC AUC")
    count = lambda r, v="1": metric(text, "forja_model_feedback_labels_total", model="clf", version=v, result=r)  # noqa: E731
    check(count("joined") == 3 + len(rest), f"joined items counted: {count('joined')}")
    check(count("wrong_type") == 3 and count("wrong_shape") == 2 and count("duplicate") == 1,
          f"wrong items counted: {count('wrong_type')} {count('wrong_shape')} {count('duplicate')}")
    check(count("unknown_request_id", "") == 1, f"the unknown id counted for the model: {count('unknown_request_id', '')}")
    check(metric(text, "forja_model_feedback_predictions_kept", model="clf", version="1") == len(pa),
          "every prediction is kept within the window")
    return text


def test_regressor(s, rng):
    x = rng.normal(size=(30, 3)).astype(np.float32)
    preds = [predict(s, "reg", x[i:i + 1], f"r-{i}", "x")[0] for i in range(30)]
    y = np.round(np.array(preds) + rng.normal(scale=0.5, size=30), 2)
    y[5] = y[11] = 0.0  # MAPE leaves zero labels out
    st, doc = feedback(s, "reg", [{"request_id": "r-1", "label": True}, {"request_id": "r-2", "label": None},
                                  {"request_id": "r-3", "label": [1.5]}, {"request_id": "r-4", "label": "1.5"}])
    check(results(doc) == ["wrong_type", "wrong_type", "joined", "wrong_type"], f"regression labels of the wrong type: {doc}")
    y[3] = 1.5  # r-3's label: a list of one for its one row
    st, doc = feedback(s, "reg", [{"request_id": f"r-{i}", "label": float(y[i])} for i in range(30) if i != 3])
    check(st == 200 and doc.get("joined") == 29, f"29 more regression labels joined: {st} {doc}")
    st, doc = feedback(s, "reg", {"request_id": "r-0", "label": 5})
    check(results(doc) == ["duplicate"], f"a second label for r-0: {doc}")
    text = wait_for(s, "reg: 30 labeled rows",
                    lambda t: metric(t, "forja_model_quality_window_labels", model="reg", version="1") == 30)
    q = lambda m: metric(text, "forja_model_quality", model="reg", version="1", metric=m)  # noqa: E731
    p = np.array(preds)
    near(q("mae"), skm.mean_absolute_error(y, p), "MAE")
    near(q("rmse"), np.sqrt(skm.mean_squared_error(y, p)), "RMSE")
    nz = y != 0
    near(q("mape"), skm.mean_absolute_percentage_error(y[nz], p[nz]), "MAPE over the non-zero labels")
    check(q("accuracy") is None, "no accuracy for a regressor")
    check(not [l for l in text.splitlines() if l.startswith("forja_model_quality_estimated{") and 'model="reg"' in l],
          "no estimate without probabilities")
    return text


def test_multiclass(s, rng):
    # 12 requests of 3 rows; labels for the first 10 (the last two only feed the estimate).
    x = rng.normal(size=(36, 3)).astype(np.float32)
    probs = [predict(s, "multi", x[3 * i:3 * i + 3], f"m-{i}", "x").reshape(3, 3) for i in range(12)]
    truth = [[int(v) for v in rng.integers(0, 3, size=3)] for _ in range(12)]
    st, doc = feedback(s, "multi", [{"request_id": f"m-{i}", "label": truth[i]} for i in range(10)])
    check(st == 200 and doc.get("joined") == 10, f"10 multiclass labels joined: {st} {doc}")
    st, doc = feedback(s, "multi", {"request_id": "m-10", "label": [0, 1, 3]})
    check(results(doc) == ["wrong_type"], f"class 3 of a 3-class model: {doc}")
    text = wait_for(s, "multi: 30 labeled rows",
                    lambda t: metric(t, "forja_model_quality_window_labels", model="multi", version="1") == 30)
    y = np.array(truth[:10]).ravel()
    p = np.concatenate(probs[:10])
    pred = p.argmax(axis=1)
    q = lambda m: metric(text, "forja_model_quality", model="multi", version="1", metric=m)  # noqa: E731
    near(q("accuracy"), skm.accuracy_score(y, pred), "multiclass accuracy")
    near(q("precision"), skm.precision_score(y, pred, average="macro", zero_division=0), "macro precision")
    near(q("recall"), skm.recall_score(y, pred, average="macro", zero_division=0), "macro recall")
    near(q("log_loss"), skm.log_loss(y, p / p.sum(axis=1, keepdims=True), labels=[0, 1, 2]), "multiclass log-loss", tol=1e-5)
    check(q("roc_auc") is None, "no ROC AUC for a multiclass model")
    pa = np.concatenate(probs)
    text = wait_for(s, "multi: the estimate covers 36 rows",
                    lambda t: metric(t, "forja_model_quality_estimated_window_rows", model="multi", version="1") == 36)
    e = lambda m: metric(text, "forja_model_quality_estimated", model="multi", version="1", metric=m)  # noqa: E731
    top = pa.argmax(axis=1)
    near(e("accuracy"), pa.max(axis=1).mean(), "estimated multiclass accuracy")
    present = [c for c in range(3) if (top == c).any() or pa[:, c].sum() > 0]
    prec = np.mean([pa[top == c, c].sum() / (top == c).sum() if (top == c).any() else 0 for c in present])
    rec = np.mean([pa[top == c, c].sum() / pa[:, c].sum() for c in present])
    near(e("precision"), prec, "estimated macro precision")
    near(e("recall"), rec, "estimated macro recall")


def promtool_check(text):
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP promtool check metrics: promtool is not installed (scripts/setup installs prometheus)")
        return
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    check(p.returncode == 0, f"promtool check metrics ({p.returncode}): {p.stdout}{p.stderr}")


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    ws = harness.workspace(os.path.join(TMP, "ws"))
    clf, reg, multi = (os.path.join(ws, "models", n) for n in ("clf", "reg", "multi"))
    harness.make_package(clf)
    reg_package(reg)
    multi_package(multi)
    with open(os.path.join(ws, "forja.yaml"), "a") as f:
        # Production gates on quality metrics: clf's accuracy (about 0.75 here) fails its own, reg's RMSE passes.
        f.write("\nmodels:\n  clf: {gates: {production: [metrics.accuracy >= 0.99]}}\n"
                "  reg: {gates: {production: [metrics.rmse <= 100]}}\n"
                "monitoring:\n  window: 1h\n  interval: 1s\n  alerts: {quality_min_labels: 10}\n")
    rng = np.random.default_rng(7)
    s = Serve(clf, reg, multi, cwd=ws)
    try:
        log = s.output()
        check("clf/1: quality from feedback as a classification model" in log, "the log says clf is a classifier: " + log)
        check("reg/1: quality from feedback as a regression model" in log, "the log says reg is a regressor: " + log)
        text = metrics(s)
        check(metric(text, "forja_model_quality_window_labels", model="clf", version="1") == 0, "no labels yet")
        check(metric(text, "forja_model_quality", model="clf", version="1", metric="accuracy") is None,
              "no accuracy before any label")
        test_classifier(s, rng)
        test_multiclass(s, rng)
        text = test_regressor(s, rng)
        promtool_check(text)
        # The stale reason "quality": the window's quality against the production gates.
        check(metric(text, "forja_model_stale_reason", model="clf", version="1", reason="quality") == 1,
              "clf is stale for its quality (accuracy below its production gate)")
        check(metric(text, "forja_model_stale_reason", model="reg", version="1", reason="quality") == 0,
              "reg is not stale for its quality (RMSE within its gate)")
    finally:
        s.stop()
    # With max_predictions 0 quality is off, and without the log feedback has nowhere to go.
    with open(os.path.join(ws, "forja.yaml"), "a") as f:
        f.write("  max_predictions: 0\n")
    s = Serve(clf, cwd=ws)
    try:
        check("clf/1: quality from feedback is not tracked (monitoring.max_predictions is 0)" in s.output(),
              "the log says quality is off: " + s.output())
        predict(s, "clf", np.zeros((1, FEATURES)), "off-1", "features")
        st, doc = feedback(s, "clf", {"request_id": "off-1", "label": 1})
        check(st == 200 and results(doc) == ["unknown_request_id"] and doc.get("recorded") == 1,
              f"quality off: the label goes to the log only: {st} {doc}")
        check(not [l for l in metrics(s).splitlines() if l.startswith("forja_model_quality")], "no quality series when off")
    finally:
        s.stop()
    shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
