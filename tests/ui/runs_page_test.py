"""The web UI in a real browser: a real `forja server` on loopback, filled by the real MLflow
client, and its page driven in Debian's chromium by playwright-core (runs_page.mjs, which
does the clicking and asserting). Screenshots go to $FORJA_UI_ARTIFACTS.

    python tests/ui/runs_page_test.py
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import SOURCE, Server, forja, fresh_store, quiet_mlflow_client, tempdir  # noqa: E402

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402

MANY = 2000

tmp = tempdir()
store = fresh_store("sqlite", tmp)
artifacts = os.environ.get("FORJA_UI_ARTIFACTS", os.path.join(tmp, "screenshots"))
os.makedirs(artifacts, exist_ok=True)

# ---- data, logged the way training scripts log it -------------------------------------------
srv = Server(store, artifacts=os.path.join(tmp, "objects"))
client = MlflowClient(tracking_uri=srv.url)

churn = client.create_experiment("churn")
fraud = client.create_experiment("fraud")
churn_runs = [  # name, model, learning rate, rmse, auc
    ("swift-owl", "xgb", "0.1", 0.21, 0.93),
    ("calm-fox", "xgb", "0.3", 0.35, 0.88),
    ("bold-elk", "lr", "0.01", 0.52, 0.79),
    ("keen-ant", "xgb", "0.05", 0.18, 0.95),
    ("dry-yak", "lr", "0.1", 0.44, 0.81),
]
t0 = 1_780_000_000_000
for i, (name, model, lr, rmse, auc) in enumerate(churn_runs):
    run = client.create_run(churn, run_name=name, start_time=t0 + i * 60_000)
    client.log_param(run.info.run_id, "model", model)
    client.log_param(run.info.run_id, "learning_rate", lr)
    for step, scale in enumerate((2.0, 1.5, 1.0)):
        client.log_metric(run.info.run_id, "rmse", rmse * scale, step=step)
    client.log_metric(run.info.run_id, "auc", auc)
    client.set_terminated(run.info.run_id, end_time=t0 + i * 60_000 + 42_000)
for name in ("fraud-base", "fraud-tuned"):
    run = client.create_run(fraud, run_name=name)
    client.log_param(run.info.run_id, "depth", "6")
    client.log_metric(run.info.run_id, "recall", 0.7)
    client.set_terminated(run.info.run_id)

# A table of a few thousand runs: it scrolls through windows fetched as they come into view.
many = client.create_experiment("many")
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda i: client.create_run(many, run_name=f"m{i:04d}", start_time=t0 + i), range(MANY)))

# What the page must show, from the data above (not from the server).
spec = {
    "experiments": {"churn": churn, "fraud": fraud, "many": many},
    "many_total": MANY,
    "churn_runs": [r[0] for r in churn_runs],
    "fraud_runs": ["fraud-base", "fraud-tuned"],
    "filter": "metrics.rmse < 0.4 and params.model = 'xgb'",
    "filtered": sorted(r[0] for r in churn_runs if r[3] < 0.4 and r[1] == "xgb"),
    "bad_filter": "metrics.rmse <<< 1",
    "rmse_descending": [r[0] for r in sorted(churn_runs, key=lambda r: -r[3])],
    # Grouped by model: each value's runs, in the order the page lists groups (the largest first).
    "groups": [["xgb", 3], ["lr", 2]],
    "xgb_runs": sorted(r[0] for r in churn_runs if r[1] == "xgb"),
    "artifacts": artifacts,
}


def browser(phase, url, **extra):
    p = subprocess.run(["node", os.path.join(HERE, "runs_page.mjs")],
                       input=json.dumps({**spec, **extra, "phase": phase, "url": url}), text=True)
    return p.returncode


rc = browser("browse", srv.url)
srv.stop()

# ---- a server that needs a token: the page asks for one ------------------------------------
token = forja("server", "token", "create", "--store", store, "--name", "ui-reader", "--role", "read").stdout.strip()
srv = Server(store, artifacts=os.path.join(tmp, "objects"))
rc2 = browser("login", srv.url, token=token)
srv.stop()
print(f"screenshots: {artifacts}")
sys.exit(1 if rc or rc2 else 0)
