"""Datasets through the real MLflow client (pinned in .venv): mlflow.log_input stores what
MLflow's own server would, get_run and search_runs give it back, the same dataset is one
dataset, an unknown run is RESOURCE_DOES_NOT_EXIST; runs/log-model appends to the run's
list of models rather than replacing it. A model input naming no LoggedModel is refused;
LoggedModels themselves are tested in mlflow_logged_models_test.py.

    python tests/api/mlflow_datasets_test.py --store sqlite|postgres
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, fresh_store, new_workspace, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import DatasetInput, InputTag  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402

c = Checks()
tmp = tempdir()
ws = new_workspace(tmp)
store = fresh_store(store_kind(), tmp)
srv = Server(store, workspace=ws)
mlflow.set_tracking_uri(srv.url)
client = MlflowClient(tracking_uri=srv.url)


def raises(fn, code, what):
    try:
        fn()
    except (MlflowException, RestException) as e:
        c.eq(e.error_code, code, what)
        return e
    c.true(False, what + ": no exception")


def by_name(run):
    return {d.dataset.name: d for d in run.inputs.dataset_inputs}


# ---- log_input, read back by get_run and search_runs ---------------------------------------
eid = client.create_experiment("datasets")
df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 0]})
train = mlflow.data.from_pandas(df, source="/data/train.csv", name="train")
evalset = mlflow.data.from_pandas(df.head(2), source="/data/eval.csv", name="eval")
with mlflow.start_run(experiment_id=eid) as run:
    mlflow.log_input(train, context="training", tags={"split": "a"})
    mlflow.log_input(evalset, context="eval")
    mlflow.log_input(train, context="training", tags={"split": "a"})  # again: still one input
rid = run.info.run_id

got = client.get_run(rid)
inputs = by_name(got)
c.eq(sorted(inputs), ["eval", "train"], "get_run: the run's datasets, the one logged twice once")
want = train._to_mlflow_entity()
if "train" in inputs:
    d = inputs["train"].dataset
    c.eq(d.name, "train", "name")
    c.eq(d.digest, train.digest, "digest")
    c.eq(d.source_type, "local", "source_type")
    c.eq(d.source, want.source, "source")
    c.eq(d.schema, want.schema, "schema")
    c.eq(d.profile, want.profile, "profile")
    c.eq({t.key: t.value for t in inputs["train"].tags}, {"mlflow.data.context": "training", "split": "a"},
         "input tags: the context and the user's")
    c.eq(mlflow.data.get_source(inputs["train"]).uri, "/data/train.csv", "the dataset's source reads back")
found = client.search_runs([eid])
c.eq([sorted(by_name(r)) for r in found], [["eval", "train"]], "search_runs returns the inputs")

# The same dataset in another run of the experiment: one dataset, each run its own input tags.
with mlflow.start_run(experiment_id=eid) as second:
    mlflow.log_input(train, context="retraining")
tags2 = {t.key: t.value for t in by_name(client.get_run(second.info.run_id))["train"].tags}
c.eq(tags2, {"mlflow.data.context": "retraining"}, "the second run's input has its own context")
ids = lambda f: sorted(r.info.run_id for r in client.search_runs([eid], f))  # noqa: E731
c.eq(ids("datasets.name = 'eval'"), [rid], "search_runs by datasets.name")
c.eq(ids("datasets.context = 'retraining'"), [second.info.run_id], "search_runs by datasets.context")
c.eq(ids(f"datasets.digest = '{train.digest}'"), sorted([rid, second.info.run_id]), "search_runs by datasets.digest")
if store.startswith("sqlite:///"):
    db = sqlite3.connect(store[len("sqlite:///"):])
    c.eq(db.execute("SELECT count(*) FROM datasets WHERE name = 'train'").fetchone()[0], 1,
         "the dataset logged three times by two runs is one dataset")
    db.close()

# ---- refusals --------------------------------------------------------------------------------
one = [DatasetInput(want, [InputTag("mlflow.data.context", "training")])]
raises(lambda: client.log_inputs("f" * 32, datasets=one), "RESOURCE_DOES_NOT_EXIST", "log_inputs to an unknown run")
status, body = srv.api("POST", "runs/log-inputs", {"run_id": "f" * 32, "datasets": []})
c.eq(status, 404, "an unknown run with no datasets is still a 404")
bad = {"run_id": rid, "datasets": [{"dataset": {"name": "x", "source_type": "local", "source": "{}"}}]}
c.error(srv.api("POST", "runs/log-inputs", bad), 400, "INVALID_PARAMETER_VALUE", "a dataset without a digest",
        contains="dataset.digest")
bad["datasets"][0]["dataset"]["digest"] = "d" * 37
c.error(srv.api("POST", "runs/log-inputs", bad), 400, "INVALID_PARAMETER_VALUE", "a digest past MLflow's 36",
        contains="'digest'")
c.error(srv.api("POST", "runs/log-inputs", {"run_id": rid, "datasets": {"dataset": {}}}), 400,
        "INVALID_PARAMETER_VALUE", "datasets that are not a list", contains="'datasets'")
c.error(srv.api("POST", "runs/log-inputs", {"run_id": rid, "models": [{"model_id": "m-1"}]}), 404,
        "RESOURCE_DOES_NOT_EXIST", "a model input naming no LoggedModel is refused, not dropped", contains="m-1")
c.eq(sorted(by_name(client.get_run(rid))), ["eval", "train"], "refused requests stored nothing")

# ---- runs/log-model (MLflow 2's record_logged_model): each model appended, none replaced -------
import json  # noqa: E402
from mlflow.models import Model  # noqa: E402

mrun = client.create_run(eid).info.run_id
client._record_logged_model(mrun, Model(artifact_path="model", run_id=mrun, flavors={"python_function": {}}))
client._record_logged_model(mrun, Model(artifact_path="model2", run_id=mrun, flavors={"python_function": {}}))
history = json.loads(client.get_run(mrun).data.tags.get("mlflow.log-model.history", "[]"))
c.eq([m.get("artifact_path") for m in history], ["model", "model2"], "log-model history keeps both models")
c.error(srv.api("POST", "runs/log-model", {"run_id": mrun, "model_json": '{"artifact_path": "m"}'}), 400,
        "INVALID_PARAMETER_VALUE", "an MLmodel without its mandatory fields", contains="flavors")
c.error(srv.api("POST", "runs/log-model", {"run_id": mrun, "model_json": "not json"}), 400,
        "INVALID_PARAMETER_VALUE", "model_json that is not JSON", contains="model_json")

# ---- LoggedModels: none yet, and list_artifacts of a path still works -----------------------
# MlflowClient.list_artifacts searches LoggedModels for the run's artifact path.
c.eq(mlflow.search_logged_models(experiment_ids=[eid], output_format="list"), [], "search_logged_models: none")
c.eq(client.list_artifacts(rid, "model"), [], "list_artifacts of a path works (it searches LoggedModels)")

srv.stop()
c.finish()
