"""Starting a real `forja server` for the API tests, and talking HTTP to it.

The store is SQLite (a temp file) or PostgreSQL (a fresh database on the cluster
that the CTest fixture started, tests/lib/postgres.sh). Nothing is mocked: the
tests use the same URLs and JSON any MLflow client would.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FORJA = os.path.abspath(os.environ.get("FORJA", "build/src/forja/cli/forja"))
SOURCE = os.environ.get("FORJA_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def quiet_mlflow_client():
    """Environment for the real MLflow client under test, set before `import mlflow`."""
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"  # a 5xx must show, not be retried for a minute
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "1"


def store_kind():
    for i, a in enumerate(sys.argv):
        if a == "--store" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return "sqlite"


def fresh_store(kind, tmp):
    if kind == "sqlite":
        return "sqlite:///" + os.path.join(tmp, "forja.db")
    state = os.environ.get("FORJA_TEST_PG_STATE")
    if not state:
        print("SKIP: no PostgreSQL (FORJA_TEST_PG_STATE unset)")
        sys.exit(77)
    out = subprocess.run([os.path.join(SOURCE, "tests/lib/postgres.sh"), "uri", state], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out


def forja(*args, cwd=None, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([FORJA, *args], cwd=cwd, env=e, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"forja {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class Server:
    """A forja server on a free port of 127.0.0.1, stopped by stop() or at exit."""

    def __init__(self, store, workspace=None, auth="auto", artifacts=None, extra=()):
        self.store = store
        self.workspace = workspace
        args = [FORJA, "server", "--port", "0", "--store", store, "--auth", auth, *extra]
        if artifacts:
            args += ["--artifacts", artifacts]
        self.log = tempfile.NamedTemporaryFile(prefix="forja-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, cwd=workspace or "/", stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise AssertionError("forja server exited: " + open(self.log.name).read())
            m = re.search(r"http://[0-9.]+:(\d+)", open(self.log.name).read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            raise AssertionError("forja server did not start: " + open(self.log.name).read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def call(self, method, path, body=None, token=None, query=None, raw=None, headers=None):
        """Returns (status, parsed JSON or text)."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None and raw is None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text)
        except (ValueError, UnicodeDecodeError):
            return status, text

    def api(self, method, endpoint, body=None, **kw):
        return self.call(method, "/api/2.0/mlflow/" + endpoint, body, **kw)


import urllib.parse  # noqa: E402  (after the class, as only call() needs it)


class Checks:
    """Counts checks like the shell tests do: every failure is printed, the exit code says."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def eq(self, got, want, what):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}: got {got!r}, want {want!r}", file=sys.stderr)

    def true(self, cond, what):
        self.eq(bool(cond), True, what)

    def error(self, result, status, code, what, contains=None):
        got_status, body = result
        self.eq(got_status, status, what + " (status)")
        ecode = body.get("error_code") if isinstance(body, dict) else body
        self.eq(ecode, code, what + " (error_code)")
        if contains is not None:
            msg = body.get("message", "") if isinstance(body, dict) else str(body)
            self.true(contains in msg, f"{what}: message {msg!r} contains {contains!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def new_workspace(tmp, name="ws", forja_yaml_extra=""):
    ws = os.path.join(tmp, name)
    os.makedirs(ws)
    subprocess.run(["git", "init", "-q", ws], check=True)
    forja("init", "-q", cwd=ws)
    if forja_yaml_extra:
        with open(os.path.join(ws, "forja.yaml"), "a") as f:
            f.write("\n" + forja_yaml_extra)
    return ws


def tempdir():
    d = tempfile.mkdtemp(prefix="forja-api-")
    import atexit
    atexit.register(lambda: shutil.rmtree(d, ignore_errors=True))
    return d
