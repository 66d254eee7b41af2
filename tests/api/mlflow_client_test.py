"""forja server driven by the real MLflow client (mlflow-skinny from .venv,
pinned in scripts/requirements.txt): compatibility proven by a client nobody
here wrote. Also runs examples/tracking/train_http.py (plain HTTP, no MLflow).

    python tests/api/mlflow_client_test.py --store sqlite|postgres
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, SOURCE, Server, forja, fresh_store, new_workspace, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402

c = Checks()
tmp = tempdir()
ws = new_workspace(tmp, forja_yaml_extra="""models:
  churn:
    gates:
      production: [metrics.auc >= 0.9]
""")
store = fresh_store(store_kind(), tmp)
srv = Server(store, workspace=ws)
mlflow.set_tracking_uri(srv.url)
client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)


def raises(fn, code, what):
    try:
        fn()
    except (MlflowException, RestException) as e:
        c.eq(e.error_code, code, what)
        return e
    c.true(False, what + ": no exception")


# ---- tracking -----------------------------------------------------------------------
eid = client.create_experiment("churn-exp", tags={"team": "ml"})
c.eq(client.get_experiment_by_name("churn-exp").experiment_id, eid, "get_experiment_by_name")
c.eq(client.get_experiment_by_name("missing"), None, "a missing experiment is None")
raises(lambda: client.create_experiment("churn-exp"), "RESOURCE_ALREADY_EXISTS", "duplicate experiment")
run = client.create_run(eid, run_name="baseline", tags={"k": "v"})
rid = run.info.run_id
client.log_param(rid, "lr", "0.1")
client.log_metric(rid, "auc", 0.91, step=1)
now = int(time.time() * 1000)
client.log_batch(rid, metrics=[Metric("loss", 1.0 / i, now, i) for i in range(1, 301)],
                 params=[Param("depth", "6")], tags=[RunTag("stage", "dev")])
client.set_tag(rid, "owner", "alice")
client.delete_tag(rid, "owner")
got = client.get_run(rid)
c.eq(got.data.params, {"lr": "0.1", "depth": "6"}, "params")
c.eq(got.data.metrics, {"auc": 0.91, "loss": 1.0 / 300}, "latest metrics")
c.eq(got.data.tags.get("stage"), "dev", "tags")
c.true("owner" not in got.data.tags, "deleted tag")
c.eq(got.info.run_name, "baseline", "run name")
hist = client.get_metric_history(rid, "loss")
c.eq([m.step for m in hist], list(range(1, 301)), "metric history")
raises(lambda: client.log_param(rid, "lr", "0.2"), "INVALID_PARAMETER_VALUE", "changing a param")
raises(lambda: client.get_run("f" * 32), "RESOURCE_DOES_NOT_EXIST", "unknown run")

d = tempfile.mkdtemp(dir=tmp)
with open(os.path.join(d, "model.txt"), "w") as f:
    f.write("weights")
client.log_artifact(rid, os.path.join(d, "model.txt"), artifact_path="model")
c.eq([a.path for a in client.list_artifacts(rid, "model")], ["model/model.txt"], "list_artifacts")
out = client.download_artifacts(rid, "model/model.txt", tempfile.mkdtemp(dir=tmp))
c.eq(open(out).read(), "weights", "download_artifacts")
client.set_terminated(rid)
c.eq(client.get_run(rid).info.status, "FINISHED", "set_terminated")

for i, auc in enumerate([0.85, 0.95, 0.7]):
    with mlflow.start_run(experiment_id=eid, run_name=f"sweep-{i}"):
        mlflow.log_params({"model": "xgb" if i % 2 else "rf", "i": i})
        for step in range(3):
            mlflow.log_metric("auc", auc - (2 - step) * 0.01, step=step)
found = client.search_runs([eid], "metrics.auc > 0.8 and params.model = 'rf'", order_by=["metrics.auc DESC"])
c.eq([r.info.run_name for r in found], ["sweep-0"], "search_runs with a filter")
found = client.search_runs([eid], "", order_by=["metrics.auc DESC"], max_results=2)
c.eq([r.info.run_name for r in found], ["sweep-1", "baseline"], "search_runs ordered, limited")
c.eq(len(found.token or "") > 0, True, "a page token for the rest")
rest = client.search_runs([eid], "", order_by=["metrics.auc DESC"], max_results=2, page_token=found.token)
c.eq([r.info.run_name for r in rest], ["sweep-0", "sweep-2"], "the next page")
raises(lambda: client.search_runs([eid], "metrics.auc >> 1"), "INVALID_PARAMETER_VALUE", "bad filter")

# ---- registry ---------------------------------------------------------------------------
client.create_registered_model("churn", description="churn model")
raises(lambda: client.create_registered_model("churn"), "RESOURCE_ALREADY_EXISTS", "duplicate model")
good = found[0].info.run_id  # sweep-1, auc 0.95
weak = client.search_runs([eid], "attributes.run_name = 'sweep-2'")[0].info.run_id
v1 = client.create_model_version("churn", f"runs:/{weak}/model", weak)
v2 = client.create_model_version("churn", f"runs:/{good}/model", good)
c.eq((v1.version, v2.version, v2.status), ("1", "2", "READY"), "create_model_version numbers 1, 2")
e = raises(lambda: client.transition_model_version_stage("churn", "1", "Production"), "RESOURCE_CONFLICT",
           "a gate refuses the weak version")
c.true(e is not None and "metrics.auc >= 0.9" in str(e), "the refusal names the gate")
mv = client.transition_model_version_stage("churn", "2", "Production", archive_existing_versions=True)
c.eq(mv.current_stage, "Production", "transition to Production")
client.transition_model_version_stage("churn", "1", "Staging")
c.eq([v.version for v in client.get_latest_versions("churn", stages=["Production"])], ["2"], "get_latest_versions")
client.set_registered_model_alias("churn", "champion", "2")
c.eq(client.get_model_version_by_alias("churn", "champion").version, "2", "get_model_version_by_alias")
c.eq(client.get_registered_model("churn").aliases, {"champion": "2"}, "model aliases")
client.delete_registered_model_alias("churn", "champion")
raises(lambda: client.get_model_version_by_alias("churn", "champion"), "RESOURCE_DOES_NOT_EXIST", "deleted alias")
client.set_model_version_tag("churn", "2", "validated", "yes")
c.eq(client.get_model_version("churn", "2").tags, {"validated": "yes"}, "version tags")
client.update_model_version("churn", "2", description="the good one")
c.eq(client.get_model_version("churn", "2").description, "the good one", "update_model_version")
c.eq(sorted(v.version for v in client.search_model_versions("name='churn'")), ["1", "2"], "search_model_versions")
c.eq([m.name for m in client.search_registered_models("name LIKE 'ch%'")], ["churn"], "search_registered_models")
client.rename_registered_model("churn", "churn-v2")
c.eq(client.get_model_version("churn-v2", "2").current_stage, "Production", "rename keeps the versions")
client.delete_model_version("churn-v2", "1")
raises(lambda: client.get_model_version("churn-v2", "1"), "RESOURCE_DOES_NOT_EXIST", "deleted version")
c.eq(client.get_model_version_download_uri("churn-v2", "2"), f"runs:/{good}/model", "download uri")

# ---- tokens: MLFLOW_TRACKING_TOKEN -------------------------------------------------------
tok = forja("server", "token", "create", "--store", store, "--name", "ci", "--role", "write").stdout.strip()
time.sleep(2.2)
raises(lambda: client.get_experiment(eid), "UNAUTHENTICATED", "without a token once tokens exist")
os.environ["MLFLOW_TRACKING_TOKEN"] = tok
c.eq(MlflowClient(tracking_uri=srv.url).get_experiment(eid).name, "churn-exp", "MLFLOW_TRACKING_TOKEN is accepted")
del os.environ["MLFLOW_TRACKING_TOKEN"]
forja("server", "token", "revoke", "--store", store, "ci")
# A store that has had a token keeps requiring one under --auth auto; --auth off opens it again.
srv.stop()
srv = Server(store, workspace=ws, auth="off")
mlflow.set_tracking_uri(srv.url)
client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)

# ---- a training script logging over plain HTTP (examples/tracking/train_http.py) ------------------
p = subprocess.run([sys.executable, os.path.join(SOURCE, "examples/tracking/train_http.py"), srv.url],
                   capture_output=True, text=True, timeout=120)
c.eq(p.returncode, 0, "train_http.py ran: " + p.stderr[-500:])
exp = client.get_experiment_by_name("http-example")
c.true(exp is not None, "train_http.py made its experiment")
if exp:
    runs = client.search_runs([exp.experiment_id])
    c.eq(len(runs), 1, "one run")
    c.eq(runs[0].info.status, "FINISHED", "finished")
    c.eq(len(client.get_metric_history(runs[0].info.run_id, "loss")), 20, "20 loss points")

srv.stop()
c.finish()
