"""Starting a real `forja serve` for the serving tests, and making xgboost model packages.

The packages are trained here with the project's xgboost (the venv's), so the tests
compare forja's predictions with xgboost's own on the same rows.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import numpy as np

FORJA = os.path.abspath(os.environ.get("FORJA", "build/src/forja/cli/forja"))
FEATURES = 8


def make_package(folder, seed=0, trees=20, corrupt=False):
    """An xgboost binary classifier on FEATURES float inputs, as a forja model package."""
    import xgboost as xgb
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(500, FEATURES)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] * (seed + 1) + rng.normal(scale=0.3, size=500) > 0).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "seed": seed}, xgb.DMatrix(x, label=y), trees)
    os.makedirs(folder, exist_ok=True)
    booster.save_model(os.path.join(folder, "model.json"))
    if corrupt:
        with open(os.path.join(folder, "model.json"), "w") as f:
            f.write('{"learner": {"gradient_booster": ')
    with open(os.path.join(folder, "model.yaml"), "w") as f:
        f.write("format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n"
                f"  inputs: [{{name: features, datatype: FP32, shape: [-1, {FEATURES}]}}]\n"
                "  outputs: [{name: probability, datatype: FP32, shape: [-1]}]\n")
    return booster


def xgb_predict(booster, rows):
    import xgboost as xgb
    return booster.predict(xgb.DMatrix(np.asarray(rows, dtype=np.float32)))


def forja(*args, cwd=None, check=True):
    p = subprocess.run([FORJA, *args], cwd=cwd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"forja {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class Serve:
    """forja serve on a free port of 127.0.0.1, stopped by stop()."""

    def __init__(self, *args, cwd=None):
        self.log = tempfile.NamedTemporaryFile(prefix="forja-serve-", suffix=".log", delete=False)
        # Outside a workspace by default: a scratch folder of its own, never a shared one.
        self.scratch = None if cwd else tempfile.mkdtemp(prefix="forja-serve-cwd-")
        self.proc = subprocess.Popen([FORJA, "serve", "--port", "0", *args], cwd=cwd or self.scratch, stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise AssertionError("forja serve exited: " + self.output())
            m = re.search(r"forja serve on http://[0-9.]+:(\d+)", self.output())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            raise AssertionError("forja serve did not start: " + self.output())
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes) without raising on 4xx/5xx."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


def workspace(path):
    """A git repository with `forja init` done, for registry tests."""
    os.makedirs(path, exist_ok=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@localhost")
    subprocess.run(["git", "init", "-q", "."], cwd=path, check=True, env=env)
    forja("-q", "init", cwd=path)
    return path


def register(ws, name, folder):
    """Registers a package folder; returns the version number."""
    out = forja("models", "register", name, folder, "--no-push", cwd=ws).stdout.strip()
    return int(out.rsplit("/", 1)[1])


def promote(ws, name, version, to="production"):
    forja("models", "promote", name, str(version), "--to", to, cwd=ws)


# What a test script found wrong; check() adds to it, and the script's exit code says if any.
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def metric(text, name, **labels):
    """The value of one series of a Prometheus text page, or None."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
