"""A run's page and the comparison of runs, in a real browser: a real `forja server` on
loopback filled by the real MLflow client (params, metric histories, artifacts of every
previewable kind, lineage, a registered version), then run_page.mjs drives Debian's chromium
through playwright-core. Also checks, over plain HTTP, the headers that keep an artifact
download from ever acting as the server's origin. Screenshots go to $FORJA_UI_ARTIFACTS.

    python tests/ui/run_page_test.py
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import Checks, Server, forja, fresh_store, quiet_mlflow_client, tempdir  # noqa: E402

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402

tmp = tempdir()
store = fresh_store("sqlite", tmp)
artifacts = os.environ.get("FORJA_UI_ARTIFACTS", os.path.join(tmp, "screenshots"))
os.makedirs(artifacts, exist_ok=True)
srv = Server(store, artifacts=os.path.join(tmp, "objects"))
client = MlflowClient(tracking_uri=srv.url)


def png(width, height):
    """A small valid PNG (a red gradient), without an imaging library."""
    rows = b"".join(b"\x00" + b"".join(bytes((255, x * 255 // width, y * 255 // height)) for x in range(width))
                    for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# ---- three runs of one experiment: lr and epochs differ, optimizer is the same ---------------
vision = client.create_experiment("vision")
t0 = 1_780_000_000_000
runs = {}
for i, (name, lr, epochs) in enumerate((("run-a", "0.1", "10"), ("run-b", "0.01", "20"), ("run-c", "0.001", "30"))):
    run = client.create_run(vision, run_name=name, start_time=t0 + i * 60_000,
                            tags={"mlflow.source.git.commit": f"{i}badc0ffee{i}" * 4})
    rid = run.info.run_id
    runs[name] = rid
    client.log_param(rid, "lr", lr)
    client.log_param(rid, "epochs", epochs)
    client.log_param(rid, "optimizer", "adam")
    for step in range(25):
        client.log_metric(rid, "loss", (1.0 + i) * 0.8 ** step, timestamp=t0 + i * 60_000 + step * 1000, step=step)
    client.log_metric(rid, "acc", 0.7 + 0.1 * i)
    client.set_terminated(rid, end_time=t0 + i * 60_000 + 30_000)

# ---- run-a's artifacts: one of each preview kind, and a big binary -----------------------------
a = runs["run-a"]
files = tempfile.mkdtemp(dir=tmp)
config = {"model": {"layers": [64, 32], "dropout": 0.2}, "seed": 7}
csv_rows = [["epoch", "loss", "acc"]] + [[str(e), f"{0.8 ** e:.4f}", f"{0.5 + e / 40:.3f}"] for e in range(12)]
content = {
    "metrics.csv": "\n".join(",".join(r) for r in csv_rows) + "\n",
    "config.json": json.dumps(config, separators=(",", ":")),
    # The script would change this text and reach into the page that shows it: it must not run.
    "report.html": "<html><body><h1 id='title'>Training report</h1><p id='probe'>static</p>"
                   "<script>document.getElementById('probe').textContent='script ran';"
                   "try{parent.document.body.dataset.pwned='1'}catch(e){}"
                   "try{top.location='https://example.invalid/'}catch(e){}</script></body></html>",
    "notes/summary.txt": "loss went down\n",
}
for rel, text in content.items():
    os.makedirs(os.path.dirname(os.path.join(files, rel)) or files, exist_ok=True)
    with open(os.path.join(files, rel), "w") as f:
        f.write(text)
with open(os.path.join(files, "plot.png"), "wb") as f:
    f.write(png(48, 32))
BIG = 6 * 1024 * 1024  # over the UI's 4 MB preview limit
with open(os.path.join(files, "weights.bin"), "wb") as f:
    f.write(os.urandom(BIG))
client.log_artifacts(a, files)

# ---- lineage: what run-a read and wrote, and a registered version from it ---------------------
data_hash = "sha256:" + "ab" * 32
model_hash = "sha256:" + "cd" * 32
status, _ = srv.call("POST", "/api/2.0/forja/lineage/log", {"run_id": a, "items": [
    {"direction": "input", "path": "data/train.csv", "hash": data_hash, "kind": "file", "size": 2048},
    {"direction": "output", "path": "model", "hash": model_hash, "kind": "model", "size": 4096}]})
assert status == 200, "lineage/log"
client.set_tag(a, "forja.stages.ran", "prepare,train")  # as `forja run` tags its runs
client.set_tag(a, "forja.stages.restored", "featurize")
client.create_registered_model("vision-model")
client.create_model_version("vision-model", source=f"runs:/{a}/weights.bin", run_id=a)

# ---- the artifact download's own headers (plain HTTP) ------------------------------------------
c = Checks()
exp_root = client.get_run(a).info.artifact_uri.split(":", 1)[1].lstrip("/")
import urllib.request  # noqa: E402
with urllib.request.urlopen(f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/{exp_root}/report.html") as r:
    h = r.headers
    c.eq(r.read().decode(), content["report.html"], "the HTML artifact downloads as it was uploaded")
c.eq(h.get("Content-Type"), "application/octet-stream", "an artifact is served as bytes, never as text/html")
c.eq(h.get("X-Content-Type-Options"), "nosniff", "and is never sniffed into a page or a script")
c.eq(h.get("Content-Disposition"), "attachment", "a browser opening its URL saves it")
c.eq(h.get("Content-Security-Policy"), "sandbox; default-src 'none'", "and would render it sandboxed, loading nothing")

spec = {
    "experiment": vision,
    "runs": runs,
    "params": {"differ": ["epochs", "lr"], "equal": ["optimizer"]},
    "csv": csv_rows,
    "json_pretty": json.dumps(config, indent=2),
    "git_commit": client.get_run(a).data.tags["mlflow.source.git.commit"],
    "lineage": {"input": data_hash, "output": model_hash},
    "model_version": "vision-model version 1",
    "big_size": BIG,
    "artifacts": artifacts,
}


def browser(phase, url, **extra):
    return subprocess.run(["node", os.path.join(HERE, "run_page.mjs")],
                          input=json.dumps({**spec, **extra, "phase": phase, "url": url}), text=True).returncode


rc = browser("browse", srv.url)
srv.stop()

# ---- a run forja run made in the server's workspace: its stage logs on the run page ------------------
from pipeline_status_test import STAGES  # noqa: E402  (three stages in a chain)
from harness import new_workspace  # noqa: E402
ws = new_workspace(tmp, name="logs-ws", forja_yaml_extra=STAGES)
os.makedirs(os.path.join(ws, "conf"))
with open(os.path.join(ws, "conf", "config.yaml"), "w") as f:
    f.write("prepare:\n  scale: 2\ntrain:\n  lr: 0.1\n")
forja("run", cwd=ws)
folder = sorted(os.listdir(os.path.join(ws, ".forja", "runs")))[-1]
os.symlink("/etc/passwd", os.path.join(ws, ".forja", "runs", folder, "zz-secret.log"))  # must not be followed
ws_srv = Server("sqlite:///" + os.path.join(ws, ".forja", "forja.db"), workspace=ws)
status, found = ws_srv.api("POST", "runs/search", {"experiment_ids": [e["experiment_id"] for e in
                                                                     ws_srv.api("POST", "experiments/search", {})[1]["experiments"]],
                                                   "filter": f"tags.`forja.run_id` = '{folder}'"})
logged = found.get("runs", [{}])[0].get("info", {})
status, logs = ws_srv.call("GET", "/api/2.0/forja/runs/logs", query={"run_id": logged.get("run_id", "")})
c.eq((status, logs.get("available"), logs.get("forja_run_id")), (200, True, folder), "runs/logs finds the run's folder")
c.eq([s["stage"] for s in logs.get("stages", [])], ["prepare", "train", "evaluate"],
     "runs/logs: a log per stage in the run's order, the symlinked log left out")
c.true("training on 2 with lr 0.1" in next((s["log_tail"] for s in logs.get("stages", []) if s["stage"] == "train"), ""),
       "runs/logs: train's log tail")
status, other = ws_srv.call("GET", "/api/2.0/forja/runs/logs", query={"run_id": a})
c.eq(status, 404, "runs/logs of a run this store does not have")
c.error(ws_srv.call("GET", "/api/2.0/forja/runs/logs"), 400, "INVALID_PARAMETER_VALUE", "runs/logs without a run id")
rc3 = browser("logs", ws_srv.url, logs={"experiment": logged.get("experiment_id"), "run": logged.get("run_id"), "folder": folder,
                                         "stages": ["prepare", "train", "evaluate"],
                                         "tails": {"prepare": "preparing with scale 2", "train": "training on 2 with lr 0.1"}})
ws_srv.stop()

# ---- a server that needs a token: previews and downloads send it -----------------------------
token = forja("server", "token", "create", "--store", store, "--name", "ui-reader", "--role", "read").stdout.strip()
srv = Server(store, artifacts=os.path.join(tmp, "objects"))
rc2 = browser("token", srv.url, token=token)
srv.stop()
print(f"screenshots: {artifacts}")
print(f"http: {c.passed} passed, {c.failed} failed")
sys.exit(1 if rc or rc2 or rc3 or c.failed else 0)
