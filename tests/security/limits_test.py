"""Input depth and size limits of `forja server` (issue 11, findings 4, 12, 16, 17).

Every request here is hostile in one way: JSON nested 100,000 deep, filters with
999 clauses, 150 order_by keys, integers past 64 bits, bytes that are not UTF-8.
Each must get a 4xx whose message names the limit (core/limits.h), every answer
must be valid UTF-8 JSON, and the server must keep answering afterwards. Most come
from a read-only token: any client can send them.

    python tests/security/limits_test.py [--store sqlite|postgres]

Without --store it runs on SQLite, and also on PostgreSQL when the test cluster
(tests/lib/postgres.sh, $FORJA_TEST_PG_STATE) is up.
"""
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))
from harness import Checks, Server, forja, fresh_store, tempdir  # noqa: E402

c = Checks()
JSON = {"Content-Type": "application/json"}


def call(srv, *args, **kw):
    """srv.call, with a dropped connection (the server died) as status 0."""
    try:
        return srv.call(*args, **kw)
    except OSError as e:
        return 0, f"connection failed: {e}"


def search(srv, body, token):
    return call(srv, "POST", "/api/2.0/mlflow/runs/search", body, token=token)


def refused(result, status, what, contains):
    """A 4xx with a JSON body (so valid UTF-8) whose message contains `contains`."""
    got, body = result
    c.eq(got, status, what + " (status)")
    c.true(isinstance(body, dict), f"{what}: the answer is UTF-8 JSON, not {str(body)[:120]!r}")
    msg = body.get("message", "") if isinstance(body, dict) else ""
    c.true(contains in msg, f"{what}: message {msg[:300]!r} contains {contains!r}")


def runs_of(result):
    status, body = result
    return status, len(body.get("runs", [])) if isinstance(body, dict) else None


def alive(srv, what, reader, exp):
    c.true(srv.proc.poll() is None, f"the server still runs after {what}")
    c.eq(runs_of(search(srv, {"experiment_ids": [exp]}, reader)), (200, 2),
         f"the server still answers searches after {what}")


def run(kind):
    tmp = tempdir()
    store = fresh_store(kind, tmp)
    token = lambda name, role: forja("server", "token", "create", "--store", store, "--name", name,  # noqa: E731
                                     "--role", role).stdout.strip()
    writer, reader = token("writer", "write"), token("reader", "read")
    srv = Server(store, artifacts=os.path.join(tmp, "artifacts"), auth="on")
    try:
        status, body = srv.api("POST", "experiments/create", {"name": "limits"}, token=writer)
        c.eq(status, 200, f"[{kind}] create an experiment")
        exp = body["experiment_id"]
        for i in range(2):
            status, body = srv.api("POST", "runs/create", {"experiment_id": exp, "start_time": 1000 + i}, token=writer)
            run_id = body["run"]["info"]["run_id"]
            srv.api("POST", "runs/log-metric", {"run_id": run_id, "key": "a", "value": 2, "timestamp": 1, "step": 0},
                    token=writer)

        # ---- finding 4: depth. JSON nested 100,000 deep once killed the server (stack
        # overflow quoting it in an error); now it is refused before it is parsed.
        deep = "[" * 100000 + "]" * 100000
        r = call(srv, "POST", "/api/2.0/mlflow/runs/search", raw=('{"filter": ' + deep + "}").encode(),
                 headers=JSON, token=reader)
        refused(r, 400, f"[{kind}] a filter that is JSON nested 100,000 deep", "at most 64 levels are allowed")
        alive(srv, "JSON nested 100,000 deep", reader, exp)
        deep_obj = '{"a":' * 100000 + "1" + "}" * 100000
        r = call(srv, "POST", "/api/2.0/mlflow/runs/log-batch",
                 raw=('{"run_id": "%s", "params": [{"key": "k", "value": %s}]}' % (run_id, deep_obj)).encode(),
                 headers=JSON, token=writer)
        refused(r, 400, f"[{kind}] a param value nested 100,000 deep", "at most 64 levels are allowed")
        alive(srv, "a param value nested 100,000 deep", reader, exp)
        # Nesting within the limit is still read, and a structured value is quoted without walking it.
        r = call(srv, "POST", "/api/2.0/mlflow/runs/search",
                 raw=('{"experiment_ids": ["%s"], "filter": %s}' % (exp, "[" * 60 + "]" * 60)).encode(),
                 headers=JSON, token=reader)
        refused(r, 400, f"[{kind}] a filter that is a list", "Invalid value [...] for parameter 'filter'")
        # The filter grammar itself: 100,000 parentheses (over the size limit) and 1,000 (MLflow
        # has no parentheses; the parser does not recurse on them).
        refused(search(srv, {"experiment_ids": [exp], "filter": "(" * 100000 + "metrics.a > 1" + ")" * 100000},
                       reader), 400, f"[{kind}] a filter nested 100,000 deep", "at most 65536 are allowed")
        refused(search(srv, {"experiment_ids": [exp], "filter": "(" * 1000 + "metrics.a > 1" + ")" * 1000},
                       reader), 400, f"[{kind}] a filter nested 1,000 deep", "parentheses are not supported")
        alive(srv, "deep filters", reader, exp)

        # ---- finding 12: sizes. 999 clauses were a 500 "Expression tree is too large" and
        # 150 order_by keys a 500 about joins; now 400s that say the limit.
        many = " AND ".join(f"metrics.m{i} > 1" for i in range(999))
        refused(search(srv, {"experiment_ids": [exp], "filter": many}, reader), 400,
                f"[{kind}] 999 AND clauses", "the filter has 999 clauses; at most 50 are allowed")
        keys = [f"metrics.m{i}" for i in range(150)]
        refused(search(srv, {"experiment_ids": [exp], "order_by": keys}, reader), 400,
                f"[{kind}] 150 order_by keys", "order_by has 150 keys; at most 10 are allowed")
        refused(call(srv, "GET", "/api/2.0/mlflow/registered-models/search", query={"order_by": ["name"] * 150},
                     token=reader), 400, f"[{kind}] 150 order_by keys on registered models",
                "order_by has 150 keys; at most 10 are allowed")
        refused(call(srv, "GET", "/api/2.0/mlflow/model-versions/search", query={"order_by": ["name"] * 150},
                     token=reader), 400, f"[{kind}] 150 order_by keys on model versions",
                "order_by has 150 keys; at most 10 are allowed")
        refused(call(srv, "POST", "/api/2.0/mlflow/experiments/search", {"order_by": ["name"] * 150}, token=reader),
                400, f"[{kind}] 150 order_by keys on experiments", "order_by has 150 keys; at most 10 are allowed")
        in_list = "params.p IN (" + ",".join(f"'{i}'" for i in range(1001)) + ")"
        refused(search(srv, {"experiment_ids": [exp], "filter": in_list}, reader), 400,
                f"[{kind}] 1001 values in an IN list", "the filter has 1001 values in IN lists; at most 1000 are allowed")
        refused(search(srv, {"experiment_ids": [str(i) for i in range(40000)]}, reader), 400,
                f"[{kind}] 40,000 experiment ids", "experiment_ids has 40000 entries; at most 1000 are allowed")
        # Everything up to the limits works on this store: 50 clauses (50 joins) and 10
        # order_by keys (10 more) in one query, 1000 IN values.
        most = " AND ".join(["metrics.a > 1"] + [f"params.p{i} != 'x'" for i in range(49)])
        status, body = search(srv, {"experiment_ids": [exp], "filter": most,
                                    "order_by": [f"tags.t{i}" for i in range(10)]}, reader)
        c.eq(status, 200, f"[{kind}] 50 clauses and 10 order_by keys, each a join, answer: {str(body)[:200]}")
        in_list = "params.p IN (" + ",".join(f"'{i}'" for i in range(1000)) + ")"
        c.eq(search(srv, {"experiment_ids": [exp], "filter": in_list}, reader)[0], 200, f"[{kind}] 1000 IN values")
        alive(srv, "big filters", reader, exp)

        # ---- finding 17: integers past 64 bits wrapped (this matched every run).
        refused(search(srv, {"experiment_ids": [exp], "filter": "attributes.start_time > 9223372036854775808"}, reader),
                400, f"[{kind}] start_time > 2^63", "9223372036854775808 is out of range for attributes.start_time")
        refused(search(srv, {"experiment_ids": [exp], "filter": "attributes.start_time < -9223372036854775809"},
                       reader), 400, f"[{kind}] start_time < -2^63-1", "out of range for attributes.start_time")
        refused(call(srv, "GET", "/api/2.0/mlflow/model-versions/search",
                     query={"filter": "version_number > 99999999999999999999"}, token=reader), 400,
                f"[{kind}] version_number past 64 bits", "out of range")
        c.eq(runs_of(search(srv, {"experiment_ids": [exp], "filter": "attributes.start_time > 1000"}, reader)),
             (200, 1), f"[{kind}] start_time > 1000 still filters")
        c.eq(runs_of(search(srv, {"experiment_ids": [exp], "filter": "attributes.start_time < 9223372036854775807"},
                            reader)), (200, 2), f"[{kind}] the largest 64-bit integer is accepted")

        # ---- finding 16: bytes that are not UTF-8 are refused (path, query, body) and
        # never stored; every answer is valid UTF-8 JSON.
        refused(call(srv, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/x/%FF.txt", raw=b"hello", token=writer),
                400, f"[{kind}] an artifact path with %FF", "the request path is not valid UTF-8")
        status, body = call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": f"{exp}/x"},
                            token=reader)
        c.eq((status, body.get("files", []) if isinstance(body, dict) else body), (200, []),
             f"[{kind}] nothing was stored under the invalid path")
        # Artifact paths become files in the folders of whoever downloads them: they pass
        # the one check for untrusted paths (no .git in any spelling git refuses).
        for bad in (".git/config", "x/.GIT/hooks/post-checkout", "x/git~1/config"):
            refused(call(srv, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{bad}", raw=b"[core]", token=writer),
                    400, f"[{kind}] an artifact path {bad!r}", "invalid artifact path")
        status, body = call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": f"{exp}"},
                            token=reader)
        c.eq((status, [f["path"] for f in body.get("files", [])] if isinstance(body, dict) else body), (200, []),
             f"[{kind}] nothing was stored under a .git path")
        refused(call(srv, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%ff%fe", token=reader), 400,
                f"[{kind}] a query parameter with %ff", "the query string is not valid UTF-8")
        refused(call(srv, "POST", "/api/2.0/mlflow/runs/search", raw=b'{"filter": "params.\xff = \'1\'"}',
                     headers=JSON, token=reader), 400, f"[{kind}] a body with a raw 0xff byte",
                "the request body is not valid UTF-8 (byte 20)")
        refused(call(srv, "POST", "/api/2.0/mlflow/experiments/create", raw=b'{"name": "\xed\xa0\x80"}',
                     headers=JSON, token=writer), 400, f"[{kind}] a body with a UTF-8 surrogate",
                "is not valid UTF-8")
        # An error that quotes input cuts it on a character, never inside one.
        refused(search(srv, {"experiment_ids": [exp], "filter": "x" * 39 + "\u00e9\u00e9 bogus"}, reader), 400,
                f"[{kind}] an error quoting a filter cut after 40 bytes", "invalid filter 'xxx")
        status, raw = 0, b""
        try:
            req = urllib.request.Request(srv.url + "/api/2.0/mlflow/runs/search", method="POST",
                                         data=('{"experiment_ids": ["%s"], "filter": "%s\u00e9 bogus"}'
                                               % (exp, "x" * 39)).encode(),
                                         headers={"Authorization": "Bearer " + reader, **JSON})
            urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except OSError:
            pass
        c.true(status == 400 and "\ufffd" not in raw.decode("utf-8", "replace"),
               f"[{kind}] the quoted filter keeps its character whole: {raw[:200]!r}")
        alive(srv, "bytes that are not UTF-8", reader, exp)
        c.eq(call(srv, "GET", "/health"), (200, b"OK"), f"[{kind}] /health at the end")
    finally:
        srv.stop()


def kinds():
    if "--store" in sys.argv:
        return [sys.argv[sys.argv.index("--store") + 1]]
    state = os.environ.get("FORJA_TEST_PG_STATE")
    return ["sqlite"] + (["postgres"] if state and postgres_up(state) else [])


def postgres_up(state):
    """Whether the test cluster answers (a stale state folder after a kill does not)."""
    import socket
    try:
        with open(os.path.join(state, "port")) as f:
            socket.create_connection(("127.0.0.1", int(f.read())), timeout=2).close()
        return True
    except (OSError, ValueError):
        return False


for k in kinds():
    run(k)
c.finish()
