"""forja server and mlflow server on loopback, each in its own process group (stopped by it,
SIGTERM then SIGKILL), each on its own SQLite database in the scratch folder."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, path, body=None, timeout=900, raw=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if body is None:
            c.request("GET", path)
        else:
            c.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read()
    finally:
        c.close()
    if r.status != 200:
        raise RuntimeError(f"{path}: HTTP {r.status} {text[:300]!r}")
    if raw:
        return text
    return json.loads(text) if text else {}


class Server:
    name = ""

    def __init__(self, d):
        self.dir = d
        self.db = os.path.join(d, "store.db")
        self.port = None
        self.proc = None
        os.makedirs(os.path.join(d, "artifacts"), exist_ok=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        raise NotImplementedError

    def start(self, timeout=300):
        self.port = free_port()
        log = open(os.path.join(self.dir, "server.log"), "a")
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, env=env, start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.dir}/server.log")
            try:
                call(self.port, "/health", timeout=2, raw=True)
                return
            except (OSError, RuntimeError, ValueError):
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /health in {timeout} s; see {self.dir}/server.log")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    def create_experiment(self, name):
        return call(self.port, "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]

    def search(self, body):
        return call(self.port, "/api/2.0/mlflow/runs/search", body)

    def get_run(self, run_id):
        return call(self.port, f"/api/2.0/mlflow/runs/get?run_id={run_id}")["run"]

    def history(self, run_id, key):
        return call(self.port, f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key={key}")


class Forja(Server):
    name = "forja"

    def __init__(self, d, binary):
        super().__init__(d)
        self.binary = binary

    def command(self):
        return [self.binary, "server", "--host", "127.0.0.1", "--port", str(self.port), "--store",
                "sqlite:///" + self.db, "--artifacts", os.path.join(self.dir, "artifacts"), "--auth", "off"]


class Mlflow(Server):
    name = "MLflow"

    def __init__(self, d, binary):
        super().__init__(d)
        self.binary = binary

    def command(self):
        return [self.binary, "server", "--host", "127.0.0.1", "--port", str(self.port), "--backend-store-uri",
                "sqlite:///" + self.db, "--artifacts-destination", os.path.join(self.dir, "artifacts")]
