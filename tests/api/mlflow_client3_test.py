"""forja server driven by the calls real MLflow 3 training scripts make (mlflow from .venv,
pinned in scripts/requirements.txt): fluent runs, nested runs and system tags, tables,
images, figures, dicts and texts as artifacts, search_runs to pandas, scikit-learn and
xgboost autologging, log_input, and `forja server` started with no flags outside a
workspace (./forja.db and ./forja-artifacts, kept across a restart). Every check reads
back what a user would see.

    python tests/api/mlflow_client3_test.py --store sqlite|postgres
"""
import filecmp
import getpass
import io
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, FORJA, Server, fresh_store, new_workspace, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()
os.environ["MPLBACKEND"] = "Agg"
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
os.environ.pop("MLFLOW_TRACKING_USERNAME", None)  # mlflow.user is then the login name

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import requests  # noqa: E402
import mlflow.sklearn  # noqa: E402
import mlflow.xgboost  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import RunStatus  # noqa: E402
from PIL import Image  # noqa: E402

c = Checks()
tmp = tempdir()
ws = new_workspace(tmp)
store = fresh_store(store_kind(), tmp)
srv = Server(store, workspace=ws)
os.environ["MLFLOW_TRACKING_URI"] = srv.url  # as docs/mlflow-compat.md tells scripts to
client = MlflowClient()
c.eq(mlflow.get_tracking_uri(), srv.url, "MLFLOW_TRACKING_URI is the tracking URI")
rng = np.random.default_rng(7)


def download(run_id, path):
    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=tempfile.mkdtemp(dir=tmp))


# ---- set_experiment by name, nested runs, system tags -----------------------------------------
exp = mlflow.set_experiment("client3")
c.eq(exp.name, "client3", "set_experiment makes the experiment")
c.eq(mlflow.set_experiment("client3").experiment_id, exp.experiment_id, "set_experiment again finds it")
eid = exp.experiment_id
with mlflow.start_run(run_name="parent") as parent:
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_param("fold", 1)
    c.eq(mlflow.active_run().info.run_id, parent.info.run_id, "the parent is active again after the child")
pid, cid = parent.info.run_id, child.info.run_id
kid = client.get_run(cid)
c.eq(kid.data.tags.get("mlflow.parentRunId"), pid, "nested run: mlflow.parentRunId")
c.eq(kid.data.tags.get("mlflow.runName"), "child", "system tag mlflow.runName")
c.eq(kid.info.run_name, "child", "run_name")
c.eq(kid.data.tags.get("mlflow.user"), getpass.getuser(), "system tag mlflow.user")
c.eq(kid.info.user_id, getpass.getuser(), "run user_id")
c.eq(kid.data.tags.get("mlflow.source.name"), sys.argv[0], "system tag mlflow.source.name")
c.eq(kid.data.tags.get("mlflow.source.type"), "LOCAL", "system tag mlflow.source.type")
head = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "HEAD"],
                      capture_output=True, text=True)
if head.returncode == 0:  # in a git checkout, MLflow tags the commit the script is at
    c.eq(kid.data.tags.get("mlflow.source.git.commit"), head.stdout.strip(), "system tag mlflow.source.git.commit")
c.eq(kid.info.status, "FINISHED", "the child ended FINISHED")
children = client.search_runs([eid], f"tags.mlflow.parentRunId = '{pid}'")
c.eq([r.info.run_id for r in children], [cid], "search_runs finds the children of a run")

# ---- metrics with step and timestamp, tags, history, end_run(FAILED) ---------------------------
with mlflow.start_run(run_name="steps") as r:
    sid = r.info.run_id
    for step in range(4):
        mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": 0.5 + step * 0.1}, step=step,
                           timestamp=1_700_000_000_000 + step)
    mlflow.set_tags({"team": "ml", "stage": "dev"})
    mlflow.set_tag("stage", "prod")
    mlflow.log_params({"lr": 0.01, "layers": 3})
    mlflow.end_run(status="FAILED")
got = client.get_run(sid)
c.eq(got.info.status, "FAILED", "end_run(status='FAILED')")
c.true(got.info.end_time is not None and got.info.end_time >= got.info.start_time, "end_time set")
c.eq({k: got.data.tags[k] for k in ("team", "stage")}, {"team": "ml", "stage": "prod"}, "set_tags then set_tag")
c.eq(got.data.params, {"lr": "0.01", "layers": "3"}, "log_params")
hist = client.get_metric_history(sid, "loss")
c.eq([(m.step, m.timestamp, m.value) for m in hist],
     [(s, 1_700_000_000_000 + s, 1.0 / (s + 1)) for s in range(4)], "get_metric_history: steps, timestamps, values")
c.eq(got.data.metrics, {"loss": 0.25, "acc": 0.5 + 3 * 0.1}, "latest metrics are the last step's")

# ---- resuming a run, notes, odd metric values, async logging, experiments ----------------------
with mlflow.start_run(run_name="misc", description="baseline, **markdown** note") as r:
    mid = r.info.run_id
    mlflow.log_metrics({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")})
    mlflow.log_param("long", "x" * 6000)  # MLflow 3's limit for a param value
    mlflow.log_metric("async", 2.5, step=1, synchronous=False)
    mlflow.flush_async_logging()
    with mlflow.start_run(run_name="misc-child", nested=True) as ch:
        pass
with mlflow.start_run(run_id=mid) as r:  # resumed: RUNNING again, then FINISHED
    c.eq(client.get_run(mid).info.status, "RUNNING", "start_run(run_id=...) resumes the run")
    mlflow.log_metric("after-resume", 1.0)
got = client.get_run(mid)
c.eq(got.info.status, "FINISHED", "the resumed run ends FINISHED")
c.eq(got.data.tags.get("mlflow.note.content"), "baseline, **markdown** note", "start_run(description=...)")
c.true(np.isnan(got.data.metrics["nan"]), "a NaN metric reads back NaN")
c.eq((got.data.metrics["inf"], got.data.metrics["ninf"]), (float("inf"), float("-inf")), "infinite metrics")
c.eq(len(got.data.params["long"]), 6000, "a 6000-character param")
c.eq([(m.step, m.value) for m in client.get_metric_history(mid, "async")], [(1, 2.5)], "log_metric(synchronous=False)")
c.eq(got.data.metrics.get("after-resume"), 1.0, "logging to the resumed run")
c.eq(mlflow.get_parent_run(ch.info.run_id).info.run_id, mid, "mlflow.get_parent_run")
client.update_run(mid, name="misc-renamed")
c.eq((client.get_run(mid).info.run_name, client.get_run(mid).data.tags.get("mlflow.runName")),
     ("misc-renamed", "misc-renamed"), "update_run(name=...) renames, tag too")
c.eq(mlflow.last_active_run().info.run_id, mid, "mlflow.last_active_run")
other = mlflow.create_experiment("client3-other", tags={"team": "ml"})
c.eq([e.name for e in mlflow.search_experiments(filter_string="name LIKE 'client3%'", order_by=["name DESC"])],
     ["client3-other", "client3"], "search_experiments with a filter and order_by")
client.rename_experiment(other, "client3-renamed")
c.eq(mlflow.get_experiment(other).name, "client3-renamed", "rename_experiment")
client.delete_experiment(other)
c.eq(client.get_experiment_by_name("client3-renamed").lifecycle_stage, "deleted", "delete_experiment")
client.restore_experiment(other)
c.eq(client.get_experiment(other).lifecycle_stage, "active", "restore_experiment")
client.delete_experiment_tag(other, "team")
c.eq(client.get_experiment(other).tags.get("team"), None, "delete_experiment_tag: the tag is gone")
try:
    client.delete_experiment_tag(other, "team")
    c.true(False, "delete_experiment_tag of a missing tag: no error")
except mlflow.exceptions.MlflowException as e:
    c.eq(e.error_code, "RESOURCE_DOES_NOT_EXIST", "delete_experiment_tag of a missing tag is a 404")
mlflow.set_experiment("client3")

# ---- artifacts: table, image, figure, dict, text ------------------------------------------------
table = pd.DataFrame({"question": ["a?", "b?", "c?"], "score": [0.1, 0.5, 0.9], "n": [1, 2, 3]})
img = rng.integers(0, 256, size=(16, 24, 3), dtype=np.uint8)
with mlflow.start_run(run_name="artifacts") as r:
    aid = r.info.run_id
    mlflow.log_table(data=table, artifact_file="eval/results.json")
    mlflow.log_table(data={"question": ["d?"], "score": [0.3], "n": [4]}, artifact_file="eval/results.json")
    mlflow.log_image(img, artifact_file="images/noise.png")
    mlflow.log_image(Image.fromarray(img[:, :, 0], mode="L"), artifact_file="images/gray.png")
    for step in range(2):  # MLflow 3's image series: key and step
        mlflow.log_image(img // (step + 1), key="sample", step=step)
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, 1, 2], [2, 1, 3])
    mlflow.log_figure(fig, "plots/curve.png")
    plt.close(fig)
    mlflow.log_dict({"model": {"depth": 6, "features": ["a", "b"]}}, "config/params.yaml")
    mlflow.log_dict({"seed": 7}, "config/seed.json")
    mlflow.log_text("trained on 3 rows\n", "notes/readme.txt")
    folder = tempfile.mkdtemp(dir=tmp)
    os.makedirs(os.path.join(folder, "sub"))
    for rel, text in (("a.txt", "a"), ("sub/b.txt", "b")):
        with open(os.path.join(folder, rel), "w") as f:
            f.write(text)
    mlflow.log_artifacts(folder, artifact_path="bundle")
loaded = mlflow.load_table("eval/results.json", run_ids=[aid])
c.eq(loaded["question"].tolist(), ["a?", "b?", "c?", "d?"], "load_table: log_table appends to the same file")
c.eq([round(v, 9) for v in loaded["score"]], [0.1, 0.5, 0.9, 0.3], "load_table: values")
with_run = mlflow.load_table("eval/results.json", run_ids=[aid], extra_columns=["run_id"])
c.eq(set(with_run["run_id"]), {aid}, "load_table extra_columns run_id")
c.eq(client.get_run(aid).data.tags.get("mlflow.loggedArtifacts"),
     '[{"path": "eval/results.json", "type": "table"}]', "log_table tags the run with mlflow.loggedArtifacts")
want = io.BytesIO()
Image.fromarray(img).save(want, format="png")
noise = download(aid, "images/noise.png")
c.eq(open(noise, "rb").read(), want.getvalue(), "log_image(numpy): the PNG downloads byte-identical")
c.true(np.array_equal(np.asarray(Image.open(noise)), img), "log_image(numpy): the pixels come back")
c.true(np.array_equal(np.asarray(Image.open(download(aid, "images/gray.png"))), img[:, :, 0]),
       "log_image(PIL): the pixels come back")
curve = open(download(aid, "plots/curve.png"), "rb").read()
c.eq(curve[:8], b"\x89PNG\r\n\x1a\n", "log_figure: a PNG")
c.eq(Image.open(io.BytesIO(curve)).size, (100, 100), "log_figure: the figure's size in pixels")
c.eq(yaml.safe_load(mlflow.artifacts.load_text(f"runs:/{aid}/config/params.yaml")),
     {"model": {"depth": 6, "features": ["a", "b"]}}, "log_dict (YAML) reads back")
c.eq(mlflow.artifacts.load_dict(f"runs:/{aid}/config/seed.json"), {"seed": 7}, "log_dict (JSON) and load_dict")
c.eq(mlflow.artifacts.load_text(f"runs:/{aid}/notes/readme.txt"), "trained on 3 rows\n", "log_text and load_text")
c.eq(sorted(a.path for a in client.list_artifacts(aid)), ["bundle", "config", "eval", "images", "notes", "plots"],
     "list_artifacts at the root")
bundle = download(aid, "bundle")
c.eq(sorted(os.path.relpath(os.path.join(dp, f), bundle) for dp, _, fs in os.walk(bundle) for f in fs),
     ["a.txt", "sub/b.txt"], "log_artifacts: a folder downloads whole")
c.eq(open(os.path.join(bundle, "sub/b.txt")).read(), "b", "log_artifacts: contents")
listed = sorted(a.path for a in client.list_artifacts(aid, "images"))
c.eq(listed[:2], ["images/gray.png", "images/noise.png"], "list_artifacts in a folder")
series = sorted(p for p in listed if p.startswith("images/sample+step+") and p.endswith(".png"))
c.eq([p.split("+")[2] for p in series], ["0", "1"], "log_image(key, step): one PNG a step")
c.eq(client.get_run(aid).data.tags.get("mlflow.loggedImages"), "True", "log_image(key, step) tags the run")
for step, path in enumerate(series):
    c.true(np.array_equal(np.asarray(Image.open(download(aid, path))), img // (step + 1)),
           f"log_image(key, step={step}): the pixels come back")

# ---- log_input with a pandas dataset ----------------------------------------------------------
frame = pd.DataFrame({"x1": rng.normal(size=20), "x2": rng.normal(size=20), "y": rng.integers(0, 2, 20)})
ds = mlflow.data.from_pandas(frame, name="train-frame", targets="y")
with mlflow.start_run(run_name="inputs") as r:
    iid = r.info.run_id
    mlflow.log_input(ds, context="training", tags={"split": "train"})
inputs = client.get_run(iid).inputs.dataset_inputs
c.eq(len(inputs), 1, "log_input: one dataset input")
if inputs:
    d = inputs[0].dataset
    c.eq((d.name, d.digest, d.source_type), ("train-frame", ds.digest, "code"), "log_input: name, digest, source type")
    c.eq({t.key: t.value for t in inputs[0].tags}, {"mlflow.data.context": "training", "split": "train"},
         "log_input: context and tags")
    c.eq(mlflow.data.get_source(inputs[0]).to_dict(), ds.source.to_dict(), "log_input: the source reads back")

# experiments/search-datasets, as MLflow's UI lists an experiment's datasets (no client method).
with mlflow.start_run(run_name="inputs-eval"):
    mlflow.log_input(ds, context="eval")
    mlflow.log_input(mlflow.data.from_pandas(frame.head(5), name="holdout"))
exp_id = client.get_run(iid).info.experiment_id
ans = requests.post(srv.url + "/api/2.0/mlflow/experiments/search-datasets", json={"experiment_ids": [exp_id]}).json()
c.eq(sorted((d["name"], d.get("context", "")) for d in ans.get("dataset_summaries", [])),
     [("holdout", ""), ("train-frame", "eval"), ("train-frame", "training")],
     "experiments/search-datasets: each dataset with each context it was used in")
bad = requests.post(srv.url + "/api/2.0/mlflow/experiments/search-datasets", json={"experiment_ids": []})
c.eq((bad.status_code, bad.json().get("error_code")), (400, "INVALID_PARAMETER_VALUE"),
     "experiments/search-datasets without an experiment is a 400")

# Keys in any script, as MLflow's \w allows; symbols and unnormalized paths refused as MLflow does.
with mlflow.start_run(run_name="unicode") as r:
    mlflow.log_metric("précision/ü_验证", 0.5)
    mlflow.log_param("größe", "3")
    for bad_key in ("loss€", "a//b", "a/"):
        try:
            mlflow.log_metric(bad_key, 1.0)
            c.true(False, f"log_metric({bad_key!r}): no error")
        except mlflow.exceptions.MlflowException as e:
            c.eq(e.error_code, "INVALID_PARAMETER_VALUE", f"log_metric({bad_key!r}) refused")
got_u = client.get_run(r.info.run_id).data
c.eq((got_u.metrics, got_u.params), ({"précision/ü_验证": 0.5}, {"größe": "3"}), "non-ASCII keys read back")

# ---- search_runs to pandas and to a list -------------------------------------------------------
for i, (model, auc) in enumerate([("rf", 0.81), ("xgb", 0.93), ("rf", 0.77)]):
    with mlflow.start_run(run_name=f"sweep-{i}"):
        mlflow.log_param("model", model)
        mlflow.log_metric("auc", auc)
        mlflow.set_tag("sweep", "s1")
df = mlflow.search_runs(experiment_ids=[eid], filter_string="tags.sweep = 's1' and metrics.auc > 0.8",
                        order_by=["metrics.auc DESC"])
c.true(isinstance(df, pd.DataFrame), "search_runs returns a DataFrame")
c.eq(df["tags.mlflow.runName"].tolist(), ["sweep-1", "sweep-0"], "search_runs: filter and order_by")
c.eq(df["metrics.auc"].tolist(), [0.93, 0.81], "search_runs: metrics.* columns")
c.eq(df["params.model"].tolist(), ["xgb", "rf"], "search_runs: params.* columns")
c.eq(df["tags.sweep"].tolist(), ["s1", "s1"], "search_runs: tags.* columns")
c.true({"run_id", "experiment_id", "status", "start_time", "end_time", "artifact_uri"} <= set(df.columns),
       "search_runs: the run's attributes as columns")
by_name = mlflow.search_runs(experiment_names=["client3"], filter_string="params.model = 'rf'",
                             order_by=["metrics.auc ASC"])
c.eq(by_name["metrics.auc"].tolist(), [0.77, 0.81], "search_runs by experiment name, ascending")
runs = mlflow.search_runs([eid], filter_string="tags.sweep = 's1'", order_by=["attributes.run_name ASC"],
                          output_format="list")
c.eq([r.info.run_name for r in runs], ["sweep-0", "sweep-1", "sweep-2"], "search_runs(output_format='list')")
c.eq(runs[1].data.metrics, {"auc": 0.93}, "search_runs list: the runs' data")

# ---- delete_run / restore_run -----------------------------------------------------------------
victim = runs[2].info.run_id
client.delete_run(victim)
c.eq(client.get_run(victim).info.lifecycle_stage, "deleted", "delete_run")
c.eq(len(mlflow.search_runs([eid], "tags.sweep = 's1'")), 2, "a deleted run is not searched")
deleted = mlflow.search_runs([eid], "tags.sweep = 's1'", run_view_type=mlflow.entities.ViewType.DELETED_ONLY,
                             output_format="list")
c.eq([r.info.run_id for r in deleted], [victim], "DELETED_ONLY finds it")
client.restore_run(victim)
c.eq(client.get_run(victim).info.lifecycle_stage, "active", "restore_run")
c.eq(len(mlflow.search_runs([eid], "tags.sweep = 's1'")), 3, "a restored run is searched again")

# ---- prompts (stored as registered models, as MLflow does) and tracing (not supported) -----------
pv = mlflow.genai.register_prompt(name="greeting", template="Hello {{name}}, welcome to {{place}}.",
                                  commit_message="first")
c.eq((pv.name, pv.version), ("greeting", 1), "genai.register_prompt")
mlflow.genai.register_prompt(name="greeting", template="Hi {{name}}!")
c.eq(mlflow.genai.load_prompt("prompts:/greeting/1").format(name="Ada", place="forja"),
     "Hello Ada, welcome to forja.", "genai.load_prompt by version, format")
c.eq(mlflow.genai.load_prompt("prompts:/greeting/2").template, "Hi {{name}}!", "genai.load_prompt: version 2")
c.eq([p.name for p in mlflow.genai.search_prompts()], ["greeting"], "genai.search_prompts")
try:
    mlflow.search_traces(locations=[eid])
    c.true(False, "search_traces: no error")
except mlflow.exceptions.MlflowException as e:  # docs/mlflow-compat.md: tracing is not supported, says so
    c.eq(e.error_code, "NOT_IMPLEMENTED", "search_traces is refused as not implemented")

# ---- scikit-learn autolog --------------------------------------------------------------------
# With the model logged (MLflow 3's LoggedModels: logged-models routes, runs/outputs).
LOG_MODELS = True
from sklearn.linear_model import LogisticRegression  # noqa: E402

X = rng.normal(size=(80, 3))
y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
mlflow.sklearn.autolog(log_models=LOG_MODELS, log_datasets=True)
with mlflow.start_run(run_name="sk") as r:
    est = LogisticRegression(C=0.5, max_iter=200).fit(X, y)
skid = r.info.run_id
mlflow.sklearn.autolog(disable=True)
sk = client.get_run(skid)
c.eq({k: sk.data.params.get(k) for k in ("C", "max_iter", "penalty", "solver")},
     {k: str(v) for k, v in est.get_params().items() if k in ("C", "max_iter", "penalty", "solver")},
     "sklearn autolog: the estimator's params")
c.eq(sk.data.metrics.get("training_score"), est.score(X, y), "sklearn autolog: training_score")
c.eq(sk.data.metrics.get("training_accuracy_score"), est.score(X, y), "sklearn autolog: training_accuracy_score")
c.true("training_f1_score" in sk.data.metrics and "training_log_loss" in sk.data.metrics,
       "sklearn autolog: f1 and log loss")
c.eq(sk.data.tags.get("estimator_name"), "LogisticRegression", "sklearn autolog: estimator_name tag")
c.eq(sk.data.tags.get("estimator_class"), "sklearn.linear_model._logistic.LogisticRegression",
     "sklearn autolog: estimator_class tag")
c.eq([i.dataset.source_type for i in sk.inputs.dataset_inputs], ["code"], "sklearn autolog: the training data input")
if LOG_MODELS:
    lm = mlflow.last_logged_model()
    c.eq((lm.source_run_id, lm.name, str(lm.status)), (skid, "model", "READY"),
         "sklearn autolog: the LoggedModel of the run")
    c.true(np.array_equal(mlflow.pyfunc.load_model(lm.model_uri).predict(X), est.predict(X)),
           "sklearn autolog: the logged model loads and predicts as the estimator")

# ---- xgboost autolog --------------------------------------------------------------------------
import xgboost as xgb  # noqa: E402

dtrain = xgb.DMatrix(X, label=y, feature_names=["f0", "f1", "f2"])
mlflow.xgboost.autolog(log_models=LOG_MODELS)
evals = {}
with mlflow.start_run(run_name="xgb") as r:
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.3}, dtrain, num_boost_round=5,
                        evals=[(dtrain, "train")], evals_result=evals)
xid = r.info.run_id
mlflow.xgboost.autolog(disable=True)
xr = client.get_run(xid)
c.eq({k: xr.data.params.get(k) for k in ("max_depth", "eta", "objective", "num_boost_round")},
     {"max_depth": "2", "eta": "0.3", "objective": "binary:logistic", "num_boost_round": "5"},
     "xgboost autolog: params")
lh = client.get_metric_history(xid, "train-logloss")
c.eq([m.step for m in lh], [0, 1, 2, 3, 4], "xgboost autolog: one train-logloss point per round")
c.eq([round(m.value, 6) for m in lh], [round(v, 6) for v in evals["train"]["logloss"]],
     "xgboost autolog: the logloss values of each round")
imp = [a.path for a in client.list_artifacts(xid)]
c.true("feature_importance_weight.json" in imp, f"xgboost autolog: feature importance artifact ({imp})")
if "feature_importance_weight.json" in imp:
    c.eq(mlflow.artifacts.load_dict(f"runs:/{xid}/feature_importance_weight.json"),
         {k: float(v) for k, v in booster.get_score(importance_type="weight").items()},
         "xgboost autolog: the importances")
if LOG_MODELS:
    lm = mlflow.last_logged_model()
    c.eq(lm.source_run_id, xid, "xgboost autolog: the LoggedModel of the run")
    c.true(np.allclose(mlflow.xgboost.load_model(lm.model_uri).predict(dtrain), booster.predict(dtrain)),
           "xgboost autolog: the logged booster loads and predicts as the trained one")
srv.stop()

# ---- forja server with no flags outside a workspace (like `mlflow server`) ----------------------
help_text = subprocess.run([FORJA, "server", "--help"], capture_output=True, text=True).stdout
c.true("./forja.db" in help_text and "./forja-artifacts" in help_text, "forja server --help names the defaults")
bare = tempfile.mkdtemp(dir=tmp)
env_keep = os.environ.pop("FORJA_TRACKING_URI", None)


def bare_server():
    s = Server("", workspace=bare)  # --store "" is the default: no flag
    return s, open(s.log.name).read()


bs, log = bare_server()
c.true(f"{bare}/forja.db" in log and f"{bare}/forja-artifacts" in log, f"the server says where store and artifacts are: {log}")
os.environ["MLFLOW_TRACKING_URI"] = bs.url
mlflow.set_experiment("bare")
note = os.path.join(tmp, "note.txt")
with open(note, "w") as f:
    f.write("kept\n")
with mlflow.start_run(run_name="kept") as r:
    mlflow.log_metric("m", 1.5)
    mlflow.log_artifact(note)
bid = r.info.run_id
bs.stop()
c.true(os.path.isfile(os.path.join(bare, "forja.db")), "./forja.db made")
c.true(os.path.isdir(os.path.join(bare, "forja-artifacts")), "./forja-artifacts made")
bs, _ = bare_server()
os.environ["MLFLOW_TRACKING_URI"] = bs.url
again = MlflowClient().get_run(bid)
c.eq((again.info.run_name, again.data.metrics), ("kept", {"m": 1.5}), "after a restart the run is there")
c.true(filecmp.cmp(download(bid, "note.txt"), note, shallow=False), "after a restart the artifact downloads")
bs.stop()
# --store alone outside a workspace (it used to refuse to start without --artifacts).
named = tempfile.mkdtemp(dir=tmp)
ns = Server("sqlite:///" + os.path.join(named, "runs.db"), workspace=named)
c.true(f"{named}/forja-artifacts" in open(ns.log.name).read(), "--store alone: artifacts default to ./forja-artifacts")
os.environ["MLFLOW_TRACKING_URI"] = ns.url
mlflow.set_experiment("named")
with mlflow.start_run() as r:
    mlflow.log_text("x", "x.txt")
c.eq(mlflow.artifacts.load_text(f"runs:/{r.info.run_id}/x.txt"), "x", "--store alone: an artifact round-trips")
ns.stop()
c.true(os.path.isfile(os.path.join(named, "runs.db")) and not os.path.exists(os.path.join(named, "forja.db")),
       "--store alone: the named file is the store")
if env_keep is not None:
    os.environ["FORJA_TRACKING_URI"] = env_keep
c.finish()
