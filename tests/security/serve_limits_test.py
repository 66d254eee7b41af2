"""Input depth and UTF-8 limits of `forja serve` (issue 11, findings 4 and 16).

JSON nested 100,000 deep in an inference request and in feedback (which forja serve
reads with nlohmann and then copies: a recursion per level), and request paths that
are not UTF-8 quoted back in errors. Each must get a 4xx with valid UTF-8 JSON, and
forja serve must keep answering afterwards.

    python tests/security/serve_limits_test.py
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serve"))
import harness  # noqa: E402
from harness import FEATURES, Serve  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def request(s, method, path, body=None):
    try:
        return s.request(method, path, body)
    except OSError as e:  # the server died
        return 0, {}, f"connection failed: {e}".encode()


def refused(result, status, what, contains):
    got, _, body = result
    try:
        msg = json.loads(body.decode("utf-8")).get("error", "")  # strict: valid UTF-8 JSON only
    except (ValueError, UnicodeDecodeError, AttributeError):
        msg = None
    check(got == status, f"{what}: status {got}, want {status}: {body[:200]!r}")
    check(msg is not None and contains in msg, f"{what}: message {msg!r} contains {contains!r}")


def alive(s, what):
    check(s.proc.poll() is None, f"forja serve still runs after {what}")
    st, _, body = request(s, "POST", "/v2/models/churn/infer",
                          {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, FEATURES],
                                       "data": [0.5] * FEATURES}]})
    check(st == 200, f"forja serve still predicts after {what}: {st} {body[:200]!r}")


tmp = tempfile.mkdtemp(prefix="forja-serve-limits-")
try:
    ws = harness.workspace(os.path.join(tmp, "ws"))
    harness.make_package(os.path.join(tmp, "pkg"), trees=3)
    harness.register(ws, "churn", os.path.join(tmp, "pkg"))
    s = Serve("churn/1", "--log-sample", "1", cwd=ws)
    try:
        alive(s, "start-up")
        deep = "[" * 100000 + "]" * 100000
        body = ('{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, %d], "data": %s}]}'
                % (FEATURES, deep)).encode()
        refused(request(s, "POST", "/v2/models/churn/infer", body), 400, "an infer request nested 100,000 deep",
                "nested too deep")
        alive(s, "an infer request nested 100,000 deep")
        feedback = ('{"request_id": "r1", "label": %s}' % ('{"a": ' * 100000 + "1" + "}" * 100000)).encode()
        refused(request(s, "POST", "/v2/models/churn/feedback", feedback), 400, "feedback nested 100,000 deep",
                "at most 64 levels are allowed")
        alive(s, "feedback nested 100,000 deep")
        refused(request(s, "POST", "/v2/models/churn/feedback", b'{"request_id": "r\xff", "label": 1}'), 400,
                "feedback that is not UTF-8", "is not valid UTF-8")
        # A model name that is not UTF-8 is quoted back replaced, never raw.
        refused(request(s, "POST", "/v2/models/ch%FFurn/infer", {"inputs": []}), 404,
                "a model name that is not UTF-8", "ch\ufffdurn")
        alive(s, "bytes that are not UTF-8")
    finally:
        s.stop()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
