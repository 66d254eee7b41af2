"""The registry pages in a real browser: a real `forja server` in a workspace whose forja.yaml
has gates, with read, write and admin tokens, filled by the real MLflow client (runs with an
auc, registered versions, an alias, an alert through Alertmanager's webhook), and the pages
driven in Debian's chromium by playwright-core (registry_pages.mjs, which clicks and asserts,
and runs axe-core in the page). Screenshots go to $FORJA_UI_ARTIFACTS.

    python tests/ui/registry_pages_test.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import Server, forja, new_workspace, quiet_mlflow_client, tempdir  # noqa: E402

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402

tmp = tempdir()
# The server reads the gates from the workspace it starts in (forja.yaml's models: section).
ws = new_workspace(tmp, forja_yaml_extra="""models:
  churn:
    gates:
      staging:
        - metrics.auc >= 0.8
      production:
        - metrics.auc >= 0.8
        - metrics.auc >= production.metrics.auc
    protected: ['@champion']
""")
store = "sqlite:///" + os.path.join(tmp, "forja.db")
artifacts = os.environ.get("FORJA_UI_ARTIFACTS", os.path.join(tmp, "screenshots"))
os.makedirs(artifacts, exist_ok=True)


def token(name, role):
    return forja("server", "token", "create", "--store", store, "--name", name, "--role", role).stdout.strip()


tokens = {"read": token("reader", "read"), "write": token("writer", "write"), "admin": token("admin", "admin")}
srv = Server(store, workspace=ws, artifacts=os.path.join(tmp, "objects"))

# ---- data, the way training scripts log and register it ---------------------------------------
os.environ["MLFLOW_TRACKING_TOKEN"] = tokens["admin"]
client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)
exp = client.create_experiment("churn")
runs = {}
for name, auc in (("good-owl", 0.85), ("weak-fox", 0.75), ("best-elk", 0.9)):
    run = client.create_run(exp, run_name=name)
    client.log_metric(run.info.run_id, "auc", auc)
    client.set_terminated(run.info.run_id)
    runs[name] = run.info.run_id
client.create_registered_model("churn", description="Who leaves next month")
for name in ("good-owl", "weak-fox", "best-elk"):  # versions 1, 2, 3
    client.create_model_version("churn", f"runs:/{runs[name]}/model", run_id=runs[name], tags={"trained_on": name})
client.create_registered_model("churn-lite")
client.create_model_version("churn-lite", f"runs:/{runs['good-owl']}/lite", run_id=runs["good-owl"])
# A version with a forja package (what `forja models register` records).
package = "sha256:" + "ab" * 32
status, body = srv.api("POST", "model-versions/create", {"name": "churn-lite", "source": "forja-packages/ab",
                                                         "forja_package_hash": package}, token=tokens["admin"])
assert status == 200, body
client.create_registered_model("fraud")
client.create_model_version("fraud", "s3://bucket/fraud")
client.set_registered_model_alias("fraud", "prod", "1")
# A name with a slash, quotes and a backslash: in the URL and in the filter the page sends.
odd = 'team/o\'brien "v2" \\ x'
client.create_registered_model(odd)
client.create_model_version(odd, "s3://bucket/odd")
client.create_model_version(odd, "s3://bucket/odd2")
# An alert Alertmanager sent about churn version 3.
status, body = srv.call("POST", "/api/2.0/forja/alerts", {"version": "4", "status": "firing", "alerts": [{
    "status": "firing", "fingerprint": "f00d",
    "labels": {"alertname": "ForjaDrift", "model": "churn", "version": "3", "severity": "warning"},
    "annotations": {"summary": "column tenure drifted"},
    "startsAt": "2026-12-07T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}, token=tokens["admin"])
assert status == 200, body

# What the pages must show, from the data above (not from the server).
spec = {
    "url": srv.url,
    "tokens": tokens,
    "artifacts": artifacts,
    "models": ["churn", "churn-lite", "fraud", odd],
    "odd": odd,
    "search": "lite",
    "searched": ["churn-lite"],
    "churn_versions": ["3", "2", "1"],
    "run_names": {"1": "good-owl", "2": "weak-fox", "3": "best-elk"},
    "package_prefix": "ab" * 6,
    # Version 2 (auc 0.75) fails the gates; version 1 (0.85) passes them into an empty Production.
    "staging_refusal": "metrics.auc >= 0.8 (0.75 >= 0.8)",
    "production_refusal": ["metrics.auc >= 0.8 (0.75 >= 0.8)", "metrics.auc >= production.metrics.auc (0.75 >= 0.85)"],
    "alert": "ForjaDrift",
}
p = subprocess.run(["node", os.path.join(HERE, "registry_pages.mjs")], input=json.dumps(spec), text=True)

# The browser's changes, as the API sees them afterwards.
_, hist = srv.call("GET", "/api/2.0/forja/models/history", query={"name": "churn"}, token=tokens["read"])
moves = [(t["version"], t["kind"], t["to"], t["forced"], t["user"]) for t in hist["transitions"] if t["kind"] == "stage"]
want = [("1", "stage", "Production", False, "admin"), ("2", "stage", "Production", True, "admin")]
api_ok = moves == want
if not api_ok:
    print(f"FAIL: the store's stage moves after the browser: got {moves}, want {want}")
srv.stop()

# ---- the same store served with --auth off: no token, and everyone is an admin ----------------
srv = Server(store, workspace=ws, auth="off", artifacts=os.path.join(tmp, "objects"))
open_run = subprocess.run(["node", os.path.join(HERE, "registry_pages.mjs")],
                          input=json.dumps({**spec, "url": srv.url, "phase": "auth-off"}), text=True)
srv.stop()
print(f"screenshots: {artifacts}")
sys.exit(1 if p.returncode or open_run.returncode or not api_ok else 0)
