"""MLflow 3's LoggedModels through the real MLflow client (pinned in .venv) against forja server:
mlflow.sklearn.log_model inside a run makes a LoggedModel whose files go through the artifact
proxy, registers it, and mlflow.pyfunc.load_model loads it back from runs:/, models:/NAME/1,
models:/NAME@alias and models:/m-<id>, predicting what the model predicts; search_logged_models
filters on metrics, params, tags and attributes and orders; metrics logged with model_id show on
the model and in the run's history; finalize, delete (then 404), tags and params; log_input of a
model; malformed payloads are 400 naming the field and unknown ids 404; nothing answers 200 while
dropping what it was sent.

    python tests/api/mlflow_logged_models_test.py --store sqlite|postgres
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, fresh_store, new_workspace, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()

import mlflow  # noqa: E402
import mlflow.pyfunc  # noqa: E402
import mlflow.sklearn  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelInput, LoggedModelStatus  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

c = Checks()
tmp = tempdir()
ws = new_workspace(tmp)
store = fresh_store(store_kind(), tmp)
srv = Server(store, workspace=ws)
mlflow.set_tracking_uri(srv.url)
mlflow.set_registry_uri(srv.url)
client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)


def raises(fn, code, what):
    try:
        fn()
    except (MlflowException, RestException) as e:
        c.eq(e.error_code, code, what)
        return e
    c.true(False, what + ": no exception")


# ---- log_model in a run, registered; loaded back four ways ----------------------------------------
eid = client.create_experiment("logged-models")
mlflow.set_experiment(experiment_id=eid)
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
want = model.predict(X)
with mlflow.start_run() as run:
    mlflow.log_param("x", "y")
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris",
                                    params={"x": "y", "C": "1.0"})
    mid = info.model_id
    mlflow.log_metric("acc", 0.97, model_id=mid)
    mlflow.log_metric("acc", 0.98, step=1, model_id=mid, dataset=None)
rid = run.info.run_id
c.true(mid and mid.startswith("m-") and len(mid) == 34, f"the model id is m- and 32 hex digits: {mid}")

lm = client.get_logged_model(mid)
c.eq(lm.name, "model", "get_logged_model: the name")
c.eq(lm.experiment_id, eid, "get_logged_model: the experiment")
c.eq(lm.source_run_id, rid, "get_logged_model: the run that made it")
c.eq(lm.status, LoggedModelStatus.READY, "log_model finalized it READY")
c.eq(lm.artifact_location, f"mlflow-artifacts:/{eid}/models/{mid}/artifacts",
     "the artifact location is under the experiment's, as MLflow's stores make it")
c.eq(lm.params, {"x": "y", "C": "1.0"}, "the params log_model was given")
c.eq(sorted((m.key, m.value, m.step, m.run_id) for m in lm.metrics),
     [("acc", 0.97, 0, rid), ("acc", 0.98, 1, rid)], "metrics logged with model_id are on the model, with their run")
files = [f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=lm.artifact_location)]
c.true("MLmodel" in [os.path.basename(f) for f in files],
       f"the model's files were uploaded through the proxy and list back: {files}")

hist = client.get_metric_history(rid, "acc")
c.eq([(m.value, m.model_id) for m in hist], [(0.97, mid), (0.98, mid)], "get_metric_history returns model_id")

got_run = client.get_run(rid)
c.eq([(o.model_id, o.step) for o in got_run.outputs.model_outputs], [(mid, 0)],
     "the run's outputs name the model (runs/outputs)")

for uri in [f"runs:/{rid}/model", "models:/iris/1", f"models:/{mid}"]:
    loaded = mlflow.pyfunc.load_model(uri)
    c.true(np.array_equal(loaded.predict(X), want), f"load_model({uri}) predicts what the model does")

# The client's ModelVersion.from_proto does not read model_id: the JSON has it.
status, body = srv.call("GET", "/api/2.0/mlflow/model-versions/get", query={"name": "iris", "version": "1"})
c.eq(body.get("model_version", {}).get("model_id") if status == 200 else body, mid,
     "the model version names the LoggedModel it registers")
mv = client.get_model_version("iris", "1")
c.eq(mv.run_id, rid, "the model version's run is the model's")
c.eq(client.get_model_version_download_uri("iris", "1"), lm.artifact_location,
     "get-download-uri answers the model's artifact location")
client.set_registered_model_alias("iris", "champion", "1")
loaded = mlflow.pyfunc.load_model("models:/iris@champion")
c.true(np.array_equal(loaded.predict(X), want), "load_model(models:/iris@champion) predicts what the model does")
lm = client.get_logged_model(mid)
c.true("mlflow.modelVersions" in lm.tags, "register_model tagged the model with its versions: " + str(lm.tags))

# register_model of models:/m-<id> directly.
mv2 = mlflow.register_model(f"models:/{mid}", "iris-direct")
c.eq((mv2.version, mv2.source, mv2.run_id), ("1", f"models:/{mid}", rid), "register_model(models:/m-<id>)")
status, body = srv.call("GET", "/api/2.0/mlflow/model-versions/get", query={"name": "iris-direct", "version": "1"})
c.eq(body.get("model_version", {}).get("model_id") if status == 200 else body, mid,
     "register_model(models:/m-<id>): the version names the model")
loaded = mlflow.pyfunc.load_model("models:/iris-direct/1")
c.true(np.array_equal(loaded.predict(X), want), "load_model(models:/iris-direct/1)")

# register_model of runs:/RUN/model: the client finds the run's LoggedModel by name and run.
mv3 = mlflow.register_model(f"runs:/{rid}/model", "iris-from-run")
c.eq(mv3.source, f"models:/{mid}", "register_model(runs:/RUN/model) registers the run's LoggedModel")
loaded = mlflow.pyfunc.load_model("models:/iris-from-run/1")
c.true(np.array_equal(loaded.predict(X), want), "load_model(models:/iris-from-run/1)")

# mlflow.log_metric(..., dataset=...): the dataset's name and digest kept with the point.
evalset = mlflow.data.from_pandas(pd.DataFrame(X[:5], columns=list("abcd")), name="iris-eval")
with mlflow.start_run(run_id=rid):
    mlflow.log_metric("prec", 0.9, model_id=mid, dataset=evalset)
prec = [m for m in client.get_logged_model(mid).metrics if m.key == "prec"]
c.eq([(m.value, m.dataset_name, m.dataset_digest) for m in prec], [(0.9, "iris-eval", evalset.digest)],
     "log_metric(dataset=...): the model's metric names the dataset")

# ---- search_logged_models ----------------------------------------------------------------------
other = client.create_logged_model(eid, name="other", tags={"team": "b"}, model_type="baseline")
with mlflow.start_run():
    mlflow.log_metric("acc", 0.5, model_id=other.model_id)
client.set_logged_model_tags(mid, {"team": "a", "stage": "dev"})


def names(**kw):
    return [m.name for m in mlflow.search_logged_models(experiment_ids=[eid], output_format="list", **kw)]


c.eq(names(), ["other", "model"], "search: every model, the newest first")
c.eq(names(filter_string="metrics.acc > 0.9"), ["model"], "search: metrics.acc > 0.9")
c.eq(names(filter_string="metrics.acc < 0.9"), ["other"], "search: metrics.acc < 0.9")
c.eq(names(filter_string="params.x = 'y'"), ["model"], "search: params.x = 'y'")
c.eq(names(filter_string="tags.team = 'b'"), ["other"], "search: tags.team = 'b'")
c.eq(names(filter_string="name = 'model'"), ["model"], "search: name = 'model'")
c.eq(names(filter_string="name LIKE 'oth%' AND tags.team = 'b'"), ["other"], "search: LIKE and AND")
c.eq(names(filter_string="model_type = 'baseline'"), ["other"], "search: model_type")
c.eq(names(filter_string="status = 'READY'"), ["model"], "search: status = 'READY' (other is PENDING)")
c.eq(names(order_by=[{"field_name": "metrics.acc", "ascending": True}]), ["other", "model"],
     "order_by metrics.acc ascending")
c.eq(names(order_by=[{"field_name": "metrics.acc", "ascending": False}]), ["model", "other"],
     "order_by metrics.acc descending")
c.eq(names(order_by=[{"field_name": "name", "ascending": True}]), ["model", "other"], "order_by name")
c.eq(names(filter_string="metrics.acc > 0.9 AND params.x = 'y'",
           order_by=[{"field_name": "metrics.acc", "ascending": False}]), ["model"],
     "search: the example of docs/mlflow-compat.md")
page = client.search_logged_models(experiment_ids=[eid], max_results=1)
c.eq(len(page), 1, "max_results=1: one model")
c.true(page.token, "a next page token")
page2 = client.search_logged_models(experiment_ids=[eid], max_results=1, page_token=page.token)
c.eq([m.name for m in page2], ["model"], "the second page")
raises(lambda: names(filter_string="metrics.acc > 'high'"), "INVALID_PARAMETER_VALUE",
       "a metric compared to a string is a 400")
raises(lambda: names(filter_string="colour = 'red'"), "INVALID_PARAMETER_VALUE", "an unknown attribute is a 400")

# ---- finalize, tags, params, delete ---------------------------------------------------------------
c.eq(other.status, LoggedModelStatus.PENDING, "a created model is PENDING")
fin = client.finalize_logged_model(other.model_id, LoggedModelStatus.FAILED)
c.eq(fin.status, LoggedModelStatus.FAILED, "finalize FAILED")
client.delete_logged_model_tag(mid, "stage")
c.eq(client.get_logged_model(mid).tags.get("stage"), None, "delete_logged_model_tag")
c.eq(client.get_logged_model(mid).tags.get("team"), "a", "the other tag stays")
raises(lambda: client.delete_logged_model_tag(mid, "stage"), "RESOURCE_DOES_NOT_EXIST",
       "deleting a tag that is not there is a 404")
client.log_model_params(other.model_id, {"lr": "0.1", "depth": "3"})
c.eq(client.get_logged_model(other.model_id).params, {"lr": "0.1", "depth": "3"}, "log_model_params")
raises(lambda: client.log_model_params(other.model_id, {"lr": "0.2"}), "INVALID_PARAMETER_VALUE",
       "changing a param's value is refused")
client.delete_logged_model(other.model_id)
raises(lambda: client.get_logged_model(other.model_id), "RESOURCE_DOES_NOT_EXIST", "a deleted model is a 404")
status, body = srv.call("GET", f"/api/2.0/mlflow/logged-models/{other.model_id}", query={"allow_deleted": "true"})
c.eq((status, body.get("model", {}).get("info", {}).get("model_id")), (200, other.model_id),
     "allow_deleted=true still reads it (the REST store's get_logged_model(allow_deleted=True))")
c.eq(names(), ["model"], "search leaves the deleted model out")
raises(lambda: client.get_logged_model("m-" + "0" * 32), "RESOURCE_DOES_NOT_EXIST", "an unknown id is a 404")

# ---- a model as a run's input ---------------------------------------------------------------------
with mlflow.start_run() as evalrun:
    client.log_inputs(evalrun.info.run_id, models=[LoggedModelInput(mid)])
c.eq([m.model_id for m in client.get_run(evalrun.info.run_id).inputs.model_inputs], [mid],
     "log_inputs(models=...) is stored and read back by get_run")

c.error(srv.api("POST", "runs/log-inputs", {"run_id": evalrun.info.run_id, "models": [{"model_id": mid}],
                                            "datasets": [{"dataset": {"name": "d"}}]}), 400,
        "INVALID_PARAMETER_VALUE", "a bad dataset beside a model", contains="dataset.digest")
c.error(srv.api("POST", "runs/log-inputs", {"run_id": evalrun.info.run_id, "models": [{"model_id": "m-" + "4" * 32}],
                                            "datasets": [{"dataset": {"name": "d", "digest": "x", "source_type": "local",
                                                                      "source": "{}"}}]}), 404,
        "RESOURCE_DOES_NOT_EXIST", "an unknown model beside a good dataset")
got_run = client.get_run(evalrun.info.run_id)
c.eq(([m.model_id for m in got_run.inputs.model_inputs], got_run.inputs.dataset_inputs), ([mid], []),
     "refused log-inputs stored neither models nor datasets")

# ---- malformed payloads: 400 naming the field; unknown ids: 404; nothing stored -----------------------
c.error(srv.api("POST", "logged-models", {"name": "x"}), 400, "INVALID_PARAMETER_VALUE", "no experiment_id",
        contains="experiment_id")
c.error(srv.api("POST", "logged-models", {"experiment_id": eid, "name": "a/b"}), 400, "INVALID_PARAMETER_VALUE",
        "a name with a slash", contains="'name'")
c.error(srv.api("POST", "logged-models", {"experiment_id": eid, "params": [{"value": "v"}]}), 400,
        "INVALID_PARAMETER_VALUE", "a param without a key", contains="params[0].key")
c.error(srv.api("POST", "logged-models", {"experiment_id": eid, "tags": {"k": "v"}}), 400,
        "INVALID_PARAMETER_VALUE", "tags that are not a list", contains="'tags'")
c.error(srv.api("POST", "logged-models", {"experiment_id": "999999"}), 404, "RESOURCE_DOES_NOT_EXIST",
        "an unknown experiment")
c.error(srv.api("PATCH", f"logged-models/{mid}", {"model_id": mid, "status": "LOGGED_MODEL_BOGUS"}), 400,
        "INVALID_PARAMETER_VALUE", "finalize to an unknown status", contains="'status'")
c.error(srv.api("PATCH", f"logged-models/{mid}", {"model_id": mid}), 400, "INVALID_PARAMETER_VALUE",
        "finalize without a status", contains="'status'")
c.error(srv.api("PATCH", f"logged-models/{mid}/tags", {"tags": [{"key": "k", "value": 3}]}), 400,
        "INVALID_PARAMETER_VALUE", "a tag value that is not a string", contains="tags[0].value")
c.error(srv.api("POST", "logged-models/search", {"experiment_ids": [eid], "order_by": [{"ascending": True}]}), 400,
        "INVALID_PARAMETER_VALUE", "an order_by without a field", contains="order_by[0].field_name")
c.error(srv.api("POST", "logged-models/search", {"experiment_ids": [eid], "datasets": [{"dataset_digest": "d"}]}),
        400, "INVALID_PARAMETER_VALUE", "a dataset without a name", contains="datasets[0].dataset_name")
c.error(srv.api("POST", "runs/outputs", {"run_id": rid, "models": [{"step": 1}]}), 400, "INVALID_PARAMETER_VALUE",
        "an output without a model_id", contains="models[0].model_id")
c.error(srv.api("POST", "runs/outputs", {"run_id": rid, "models": [{"model_id": "m-" + "1" * 32}]}), 404,
        "RESOURCE_DOES_NOT_EXIST", "an output naming no model")
c.error(srv.api("POST", "runs/log-metric", {"run_id": rid, "key": "k", "value": 1, "timestamp": 1,
                                            "model_id": "m-" + "2" * 32}), 404, "RESOURCE_DOES_NOT_EXIST",
        "a metric about a model that does not exist is refused, not dropped")
c.error(srv.api("POST", "runs/log-batch", {"run_id": rid, "metrics": [
    {"key": "k", "value": 1, "timestamp": 1, "model_id": "m-" + "3" * 32}]}), 404, "RESOURCE_DOES_NOT_EXIST",
    "log-batch: the same")
c.eq(sorted(client.get_run(rid).data.metrics), ["acc", "prec"], "the refused metrics stored nothing")
# ListLoggedModelArtifacts (MLflow's UI lists a model's files this way).
status, body = srv.call("GET", f"/api/2.0/mlflow/logged-models/{mid}/artifacts/directories")
c.eq((status, body.get("root_uri")), (200, lm.artifact_location), "artifacts/directories: the model's root")
c.true("MLmodel" in [f["path"] for f in body.get("files", [])], f"artifacts/directories lists MLmodel: {body}")
c.error(srv.call("GET", f"/api/2.0/mlflow/logged-models/{mid}/artifacts/directories",
                 query={"artifact_directory_path": "../../x"}), 400, "INVALID_PARAMETER_VALUE",
        "a listing outside the model's folder", contains="artifact_directory_path")
c.error(srv.api("GET", "logged-models/m-1/artifacts/directories"), 404, "RESOURCE_DOES_NOT_EXIST",
        "listing the files of no model")

# Raw log-metric and log-batch with dataset fields: stored, read back (never dropped).
status, _ = srv.api("POST", "runs/log-metric", {"run_id": rid, "key": "f1", "value": 0.5, "timestamp": 5,
                                                "model_id": mid, "dataset_name": "eval", "dataset_digest": "abc"})
c.eq(status, 200, "log-metric with dataset fields")
status, _ = srv.api("POST", "runs/log-batch", {"run_id": rid, "metrics": [
    {"key": "f1", "value": 0.6, "timestamp": 6, "step": 1, "model_id": mid, "dataset_name": "eval",
     "dataset_digest": "abc"}]})
c.eq(status, 200, "log-batch with dataset fields")
h = client.get_metric_history(rid, "f1")
c.eq([(m.value, m.model_id, m.dataset_name, m.dataset_digest) for m in h],
     [(0.5, mid, "eval", "abc"), (0.6, mid, "eval", "abc")], "metric history keeps model and dataset")
c.eq(names(filter_string="metrics.f1 > 0.55", datasets=[{"dataset_name": "eval"}]), ["model"],
     "search: a metric on a dataset")
c.eq(names(filter_string="metrics.f1 > 0.55", datasets=[{"dataset_name": "train"}]), [],
     "search: the metric on another dataset matches nothing")

srv.stop()
c.finish()
