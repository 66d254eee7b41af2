"""A training script that logs to forja server over plain HTTP: no MLflow, no
dependencies, just the REST API any language can call.

    forja server &                       # http://127.0.0.1:5000
    python examples/tracking/train_http.py http://127.0.0.1:5000
"""
import json
import math
import os
import sys
import time
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FORJA_TRACKING_URI", "http://127.0.0.1:5000")
TOKEN = os.environ.get("FORJA_TRACKING_TOKEN", "")


def call(endpoint, body):
    req = urllib.request.Request(f"{URL}/api/2.0/mlflow/{endpoint}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def experiment(name):
    q = urllib.parse.urlencode({"experiment_name": name})
    req = urllib.request.Request(f"{URL}/api/2.0/mlflow/experiments/get-by-name?{q}")
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())["experiment"]["experiment_id"]
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        return call("experiments/create", {"name": name})["experiment_id"]


import urllib.parse  # noqa: E402
import urllib.error  # noqa: E402

exp = experiment("http-example")
run = call("runs/create", {"experiment_id": exp, "run_name": "plain-http", "start_time": int(time.time() * 1000)})
run_id = run["run"]["info"]["run_id"]
params = {"lr": 0.1, "epochs": 20}
call("runs/log-batch", {"run_id": run_id, "params": [{"key": k, "value": str(v)} for k, v in params.items()]})
points = []
for epoch in range(params["epochs"]):  # "training": a loss that falls
    loss = math.exp(-params["lr"] * epoch)
    points.append({"key": "loss", "value": loss, "timestamp": int(time.time() * 1000), "step": epoch})
call("runs/log-batch", {"run_id": run_id, "metrics": points})  # one request for the whole series
call("runs/log-metric", {"run_id": run_id, "key": "auc", "value": 0.93, "timestamp": int(time.time() * 1000), "step": 0})
call("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)})
print(run_id)
