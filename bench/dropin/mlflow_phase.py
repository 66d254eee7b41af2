"""Section 3: one MLflow training script against mlflow server and forja server."""

import http.client
import json
import os
import signal
import subprocess
import time

from common import FORJA, MLFLOW, PYTHON, Failed, benchlib, fmt_s, fresh, log, median, table

SCRIPT = '''import json, os, sys, time
t0 = time.perf_counter()
import mlflow, mlflow.sklearn, mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.entities import Metric
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
t_import = time.perf_counter()
name, artifact = sys.argv[1], sys.argv[2]
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=300).fit(X, y)
t1 = time.perf_counter()
mlflow.set_experiment("dropin-bench")
with mlflow.start_run() as run:
    mlflow.log_params({f"param_{i}": i * 0.5 for i in range(20)})
    client = MlflowClient()
    ts = int(time.time() * 1000)
    for b in range(10):  # 1,000 points: 5 metrics x 200 steps, 100 per batch
        client.log_batch(run.info.run_id, metrics=[Metric(f"metric_{k % 5}", k * 0.001, ts, k // 5)
                                                   for k in range(b * 100, (b + 1) * 100)])
    mlflow.log_artifact(artifact)
    t2 = time.perf_counter()
    mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                             pip_requirements=["scikit-learn"])
    t3 = time.perf_counter()
t4 = time.perf_counter()
loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
assert list(loaded.predict(X[:5])) == list(model.predict(X[:5]))
t5 = time.perf_counter()
print(json.dumps({"import": t_import - t0, "log": t2 - t1, "log_model": t3 - t2, "end": t4 - t3,
                  "load": t5 - t4, "total": t5 - t1}))
'''


def health(port, deadline):
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start(who, d, logs):
    port = benchlib.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORJA_", "MLFLOW_"))}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    if who == "forja":
        cmd = [FORJA, "server", "--port", str(port)]  # outside a workspace: ./forja.db, ./forja-artifacts
    else:
        cmd = [MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", "sqlite:///" + os.path.join(d, "mlflow.db"),
               "--artifacts-destination", os.path.join(d, "artifacts")]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=d, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(logs, f"{who}-server.log"), "w"), start_new_session=True)
    if not health(port, time.time() + 300):
        stop(proc)
        raise Failed(f"{who} server did not answer /health; see {logs}/{who}-server.log")
    return proc, port, time.perf_counter() - t0


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def bench(scratch, reps):
    root = fresh(os.path.join(scratch, "mlflow"))
    logs = os.path.join(scratch, "logs")
    os.makedirs(logs, exist_ok=True)
    script = os.path.join(root, "train.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    artifact = os.path.join(root, "report.bin")
    with open(artifact, "wb") as f:
        f.write(os.urandom(1 << 20))
    phases = ["log", "log_model", "load", "total", "process"]
    who_all = ("mlflow", "forja", "floor")
    result = {w: {} for w in who_all}
    times = {w: {p: [] for p in phases} for w in who_all}
    procs, uris = {}, {}
    try:
        for who in who_all:  # both servers up at once, so the reps can alternate (load drifts)
            d = fresh(os.path.join(root, who))
            try:
                if who == "floor":  # no server: the client writes SQLite and local files itself
                    uris[who], result[who]["startup"] = "sqlite:///" + os.path.join(d, "floor.db"), None
                else:
                    procs[who], port, result[who]["startup"] = start(who, d, logs)
                    uris[who] = f"http://127.0.0.1:{port}"
            except Failed as e:
                result[who] = {p: f"failed: {e}" for p in phases + ["startup"]}
        for i in range(reps + 1):  # rep 0 is a warm-up: creates the experiment, warms caches
            for who in who_all:
                if who not in uris or isinstance(result[who].get("log"), str):
                    continue
                env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
                env.update(MLFLOW_TRACKING_URI=uris[who], MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
                work = os.path.join(root, who + "-client")
                os.makedirs(work, exist_ok=True)
                t0 = time.perf_counter()
                p = subprocess.run([PYTHON, script, f"bench-model-{i}", artifact], cwd=work, env=env,
                                   capture_output=True, text=True, timeout=600)
                wall = time.perf_counter() - t0
                if p.returncode != 0:
                    err = (p.stderr.strip().splitlines() or ["?"])[-1][:300]
                    log(f"mlflow: {who}: train.py exited {p.returncode}: {err}")
                    result[who].update({ph: f"failed: train.py exited {p.returncode}: {err}" for ph in phases})
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                r["process"] = wall
                log(f"mlflow: {who} rep {i}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()))
                if i:
                    for ph in phases:
                        times[who][ph].append(r[ph])
    finally:
        for proc in procs.values():
            stop(proc)
    for who in who_all:
        for ph in phases:
            if not isinstance(result[who].get(ph), str):
                result[who][ph] = median(times[who][ph])
    f, m, fl = result["forja"], result["mlflow"], result["floor"]
    floor = lambda ph: f"MLflow client straight on sqlite:/// (no server): {fmt_s(fl[ph])}"  # noqa: E731
    rows = [
        ("log: run, 20 params, 1,000 metric points (10 batches), 1 MiB artifact", f["log"], m["log"], floor("log")),
        ("`sklearn.log_model(..., registered_model_name=)`", f["log_model"], m["log_model"],
         "model files uploaded, version 1 registered; " + floor("log_model")),
        ("`pyfunc.load_model(\"models:/NAME/1\")` + predict", f["load"], m["load"], "predictions checked; " + floor("load")),
        ("total of the three (+ end_run)", f["total"], m["total"], floor("total")),
        ("whole `python train.py` process", f["process"], m["process"], "python + mlflow/sklearn imports included; " + floor("process")),
        ("server start until /health answers", f["startup"], m["startup"], "once; information only"),
    ]
    return table(f"MLflow 3.17.2 client: `forja server` vs `mlflow server` (SQLite, median of {reps} runs "
                 "after a warm-up, the three alternating)", "mlflow server", rows)
