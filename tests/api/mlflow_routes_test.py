"""Every route the pinned MLflow 3 Python client calls (tracking, registry, artifacts) answers
forja server either for real (a 2xx, or a 4xx in MLflow's error format for the probe's empty
request) or 501 NOT_IMPLEMENTED saying why: never ENDPOINT_NOT_FOUND, never a 200 to a write
that carried no data. The routes come from the client's own endpoint tables (the proto
services its RestStores are built from, kept to the request classes the RestStores' methods
use, the scorers' few literal paths and the MCP server registry's routes recorded from its
methods), so the list cannot go stale; the README's "MLflow routes" table must list exactly
these routes with the status the server gives.

    python tests/api/mlflow_routes_test.py --store sqlite|postgres
    python tests/api/mlflow_routes_test.py --print-table   # the Markdown rows of the docs table
"""
import ast
import inspect
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE, Checks, Server, fresh_store, new_workspace, store_kind, tempdir  # noqa: E402

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
import mlflow.store.model_registry.rest_store as registry_rest  # noqa: E402
import mlflow.store.tracking.rest_store as tracking_rest  # noqa: E402
from mlflow.protos.mlflow_artifacts_pb2 import MlflowArtifactsService  # noqa: E402
from mlflow.utils.rest_utils import extract_all_api_info_for_service  # noqa: E402


def names_used_in_functions(module):
    """The names a module's functions and methods mention (the request classes they send)."""
    used = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            used |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return used


def direct_http_routes(module):
    """(method, path) of the module's functions that send a literal /api/N.0/mlflow/ path with
    http_request themselves (the scorers' online configs), not through an endpoint table."""
    routes = set()
    for fn in ast.walk(ast.parse(inspect.getsource(module))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        paths = {n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 and re.match(r"^/api/\d\.0/mlflow/", n.value)}
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "http_request" and len(paths) == 1:
                for k in call.keywords:
                    if k.arg == "method" and isinstance(k.value, ast.Constant):
                        routes.add((k.value.value, next(iter(paths))))
    return routes


class _Sent(Exception):
    pass


def mcp_routes():
    """The MCP server registry's routes, recorded by calling each of the client's methods with
    "{parameter}" for every argument (its paths are built in code, not from a proto table)."""
    from urllib.parse import unquote

    from mlflow.store.tracking.mcp_server_registry import rest_mixin

    class Recorder(rest_mixin.RestMCPServerRegistryMixin):
        seen = set()

        def _mcp_request(self, method, path, json=None, params=None):
            self.seen.add((method, rest_mixin._MCP_API_PREFIX + unquote(path)))
            raise _Sent()

    rec = Recorder()
    for name, fn in inspect.getmembers(rest_mixin.RestMCPServerRegistryMixin, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(fn).parameters.values())[1:]
        args = ["{%s}" % p.name for p in params if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        try:
            getattr(rec, name)(*args)
        except Exception:  # _Sent, or a method that checks its arguments first
            pass
    return Recorder.seen


def client_routes():
    """{(method, path template)} of every route the client's RestStores and artifact repo call."""
    routes = set()
    used = names_used_in_functions(tracking_rest)
    store = tracking_rest.RestStore
    for table in (store._METHOD_TO_INFO, ):
        for request, (path, method) in table.items():
            if request.__name__ in used:
                routes.add((method, path))
    for request in store._V3_APIS:  # the gateway's, sent under /api/3.0
        path, method = store._V3_METHOD_TO_INFO[request]
        routes.add((method, path))
    used = names_used_in_functions(registry_rest)
    for request, endpoints in registry_rest._METHOD_TO_ALL_INFO.items():
        if request.__name__ in used:
            routes |= {(m, p) for p, m in endpoints}
    for request, (path, method) in registry_rest._WEBHOOK_METHOD_TO_INFO.items():
        if request.__name__ in used:
            routes.add((method, path))
    for endpoints in extract_all_api_info_for_service(MlflowArtifactsService, "/api/2.0").values():
        routes |= {(m, p) for p, m in endpoints}
    return routes | direct_http_routes(tracking_rest) | mcp_routes()


def concrete(path):
    """A template's path with its parameters filled in."""
    path = re.sub(r"<path:[^>]+>", "probe/file.txt", path)
    return re.sub(r"\{[^}]+\}", "probe-0", path)


# Writes that are complete with no data: a run in the default experiment, deleting an
# artifact that is not there (as MLflow's server does).
EMPTY_WRITES_OK = {("POST", "/api/2.0/mlflow/runs/create"),
                   ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>"),
                   ("PUT", "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>")}
# Families the client sends under /api/3.0 (rest_store.py's _V3_*_REST_API_PATH_PREFIX, scorers).
V3_FAMILIES = ("traces", "issues", "label-schemas", "review-queues", "scorers", "datasets")


def is_write(method, path):
    reads = path.endswith("/search") or "get-latest-versions" in path or path.endswith("/batchGetInfos")
    return method != "GET" and not reads and (method, path) not in EMPTY_WRITES_OK


def docs_table(path):
    """{(method, route): status} from the README's "MLflow routes" table."""
    text = open(path).read()
    m = re.search(r"^#### MLflow routes\n(.*?)(?=^#{1,4} |\Z)", text, re.S | re.M)
    rows = {}
    if not m:
        return rows
    for line in m.group(1).splitlines():
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            rows[(cells[0], cells[1].strip("`"))] = cells[2]
    return rows


def probe(srv, method, path):
    body = b"probe" if method == "PUT" else (b"{}" if method != "GET" else None)
    headers = {} if method == "PUT" else {"Content-Type": "application/json"}
    return srv.call(method, concrete(path), raw=body, headers=headers)


def main():
    c = Checks()
    tmp = tempdir()
    ws = new_workspace(tmp)
    srv = Server(fresh_store("sqlite" if "--print-table" in sys.argv else store_kind(), tmp), workspace=ws)
    routes = sorted(client_routes(), key=lambda r: (r[1], r[0]))
    c.true(len(routes) > 100, f"the client's tables name the routes ({len(routes)})")
    answers = {}
    for method, path in routes:
        status, body = probe(srv, method, path)
        what = f"{method} {path}"
        answers[(method, path)] = (status, body)
        if status >= 300 or status < 200:
            c.true(isinstance(body, dict) and "error_code" in body and "message" in body,
                   f"{what}: MLflow's error format ({status} {body!r:.120})")
        code = body.get("error_code") if isinstance(body, dict) else None
        c.true(code != "ENDPOINT_NOT_FOUND", f"{what}: routed ({status} {body!r:.160})")
        if status == 501:
            c.eq(code, "NOT_IMPLEMENTED", f"{what}: 501 is NOT_IMPLEMENTED")
            if path.startswith(tuple(f"/api/2.0/mlflow/{f}" for f in V3_FAMILIES)):  # sent under /api/3.0 too
                v3 = srv.call(method, concrete(path).replace("/api/2.0/", "/api/3.0/"), raw=b"{}" if method != "GET"
                              else None, headers={"Content-Type": "application/json"})
                c.eq(v3[0], 501, f"{what} under /api/3.0: 501")
        else:
            c.true(status in (200, 400, 404), f"{what}: a real answer or 400/404 ({status} {body!r:.160})")
            if status == 404:
                c.eq(code, "RESOURCE_DOES_NOT_EXIST", f"{what}: 404 is RESOURCE_DOES_NOT_EXIST")
            if status == 200 and is_write(method, path):
                c.true(False, f"{what}: a write with no data answered 200 ({body!r:.160})")
    # The artifact proxy for real: what is put comes back, lists, and deletes.
    put = srv.call("PUT", "/api/2.0/mlflow-artifacts/artifacts/probe/file.txt", raw=b"probe")
    c.eq(put[0], 200, "artifact PUT")
    got = srv.call("GET", "/api/2.0/mlflow-artifacts/artifacts/probe/file.txt")
    c.eq(got[1], b"probe", "artifact GET returns what was put")
    listed = srv.call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": "probe"})
    c.eq([f.get("path") for f in listed[1].get("files", [])] if isinstance(listed[1], dict) else listed,
         ["file.txt"], "artifact list")

    table = {}
    for (method, path), (status, body) in answers.items():
        if status == 501:
            why = body.get("message", "").split("is not implemented by forja server: ", 1)[-1]
            table[(method, path)] = "501: " + why.removesuffix("; nothing was stored")
        else:
            table[(method, path)] = "supported"
    if "--print-table" in sys.argv:
        for method, path in routes:
            print(f"| {method} | `{path}` | {table[(method, path)]} |")
        srv.stop()
        return
    docs = docs_table(os.path.join(SOURCE, "README.md"))
    c.eq(sorted(set(docs) - set(table)), [], "README's MLflow routes table lists no route the client does not call")
    c.eq(sorted(set(table) - set(docs)), [], "README's MLflow routes table lists every route the client calls")
    for key, status in sorted(table.items()):
        if key in docs:
            want = "supported" if status == "supported" else "501"
            c.eq(docs[key].split(":")[0], want, f"README's status of {key[0]} {key[1]}")
    srv.stop()
    c.finish()


main()
