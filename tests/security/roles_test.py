"""Roles and the registry's protections (issue 11, findings 5, 6, 7, 8, 13), against a
real forja server on a SQLite store: every escalation of the roles table
(src/forja/registry/roles.h) as a read, a write and an admin token; a refusal is a
403 (or 409) that leaves the store as it was.

    python tests/security/roles_test.py
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))
from harness import Checks, Server, forja, new_workspace, tempdir  # noqa: E402

c = Checks()
tmp = tempdir()
ws = new_workspace(tmp, forja_yaml_extra="""models:
  churn:
    protected: ['@champion']
  fraud:
    protected: ['@champion']
""")
store = "sqlite:///" + os.path.join(tmp, "forja.db")


def token(name, role):
    return forja("server", "token", "create", "--store", store, "--name", name, "--role", role).stdout.strip()


TOK = {"read": token("reader", "read"), "write": token("writer", "write"), "admin": token("admin", "admin")}
srv = Server(store, workspace=ws)


def api(method, endpoint, body=None, role="admin", **kw):
    path = endpoint if endpoint.startswith("/") else "/api/2.0/mlflow/" + endpoint
    return srv.call(method, path, body, token=TOK[role], **kw)


def ok(result, what):
    c.eq(result[0], 200, what + f" ({result[1]!r})"[:300])
    return result[1]


def snapshot():
    _, models = api("GET", "registered-models/search", query={"max_results": "1000"})
    _, versions = api("GET", "model-versions/search", query={"max_results": "10000"})
    _, arts = srv.call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": PKG_ROOT} if PKG_ROOT else None,
                       token=TOK["admin"])
    return json.dumps([models, versions, arts], sort_keys=True)


PKG_ROOT = ""


def model(name, versions=2, production=None, aliases=()):
    ok(api("POST", "registered-models/create", {"name": name}), f"create {name}")
    for _ in range(versions):
        ok(api("POST", "model-versions/create", {"name": name, "source": "s3://bucket/m"}), f"version of {name}")
    if production:
        ok(api("POST", "model-versions/transition-stage", {"name": name, "version": str(production),
                                                            "stage": "Production"}), f"{name} v{production} Production")
    for alias, v in aliases:
        ok(api("POST", "registered-models/alias", {"name": name, "alias": alias, "version": str(v)}),
           f"{name}@{alias} -> v{v}")


def escalation(what, method, endpoint, body, weaker=("read", "write"), code=403, admin_ok=True):
    """The weaker roles are refused with `code` and change nothing; admin succeeds."""
    for role in weaker:
        before = snapshot()
        st, b = api(method, endpoint, body, role=role)
        err = b.get("error_code") if isinstance(b, dict) else b
        want = "PERMISSION_DENIED" if code == 403 else "RESOURCE_CONFLICT"
        c.eq((st, err), (code, want), f"{what}: {role} token refused")
        c.eq(snapshot(), before, f"{what}: the store is unchanged after the {role} token's refusal")
    if admin_ok:
        ok(api(method, endpoint, body, role="admin"), f"{what}: admin token succeeds")


# ---- finding 5: a rename cannot carry a model out of (or into) its protections ----------------------------
model("churn", aliases=[("champion", 1)])
# The reported attack: rename, set the protected alias on the new name, rename back.
before = snapshot()
c.eq(api("POST", "registered-models/rename", {"name": "churn", "new_name": "churn-tmp"}, role="write")[0], 403,
     "attack step 1: a write token cannot rename a model whose name has a policy")
c.eq(api("POST", "registered-models/alias", {"name": "churn-tmp", "alias": "champion", "version": "2"},
         role="write")[0], 404, "attack step 2: there is no renamed model to set the alias on")
_, got = api("GET", "registered-models/alias", query={"name": "churn", "alias": "champion"}, role="read")
c.eq(got.get("model_version", {}).get("version"), "1", "churn@champion still names version 1")
c.eq(snapshot(), before, "the attack left the store unchanged")
escalation("rename a model holding a protected alias", "POST", "registered-models/rename",
           {"name": "churn", "new_name": "churn-2"})
ok(api("POST", "registered-models/rename", {"name": "churn-2", "new_name": "churn"}), "admin renames it back")
# Into a protected name: the alias set while the model had another name is protected under the new one.
model("sneak")
ok(api("POST", "registered-models/alias", {"name": "sneak", "alias": "champion", "version": "2"}, role="write"),
   "a write token sets @champion on a model without a policy")
escalation("rename onto a name with a policy (fraud)", "POST", "registered-models/rename",
           {"name": "sneak", "new_name": "fraud"})
model("prod-rename", production=1)
escalation("rename a model holding a Production version", "POST", "registered-models/rename",
           {"name": "prod-rename", "new_name": "prod-renamed"})
model("plain")
escalation("rename a model without protections", "POST", "registered-models/rename",
           {"name": "plain", "new_name": "plain-2"}, weaker=("read",))
c.true(api("GET", "registered-models/get", query={"name": "plain-2"}, role="read")[0] == 200, "plain-2 exists")
ok(api("POST", "registered-models/rename", {"name": "plain-2", "new_name": "plain-3"}, role="write"),
   "a write token renames a model without protections")

# ---- finding 6: deleting what serves production --------------------------------------------------------------
model("del-v", production=2)
escalation("delete a Production version", "DELETE", "model-versions/delete", {"name": "del-v", "version": "2"})
escalation("delete a version in None", "DELETE", "model-versions/delete", {"name": "del-v", "version": "1"},
           weaker=("read",))
model("del-m", production=1)
escalation("delete a model with a Production version", "DELETE", "registered-models/delete", {"name": "del-m"})
escalation("delete a version holding a protected alias", "DELETE", "model-versions/delete",
           {"name": "churn", "version": "1"})
escalation("demote the Production version", "POST", "model-versions/transition-stage",
           {"name": "prod-renamed", "version": "1", "stage": "Archived"})
model("del-plain")
escalation("delete a model without protections", "DELETE", "registered-models/delete", {"name": "del-plain"},
           weaker=("read",))
model("moves")
escalation("move a version into Production", "POST", "model-versions/transition-stage",
           {"name": "moves", "version": "1", "stage": "Production"})
escalation("set a protected alias", "POST", "registered-models/alias", {"name": "fraud", "alias": "champion", "version": "1"})
escalation("remove a protected alias", "DELETE", "registered-models/alias", {"name": "fraud", "alias": "champion"})
escalation("force past a gate", "POST", "/api/2.0/forja/models/promote",
           {"name": "moves", "version": "2", "target": "staging", "force": True})
c.eq(api("POST", "registered-models/rename", {"name": "nope", "new_name": "x"}, role="write")[0], 404,
     "renaming a missing model is a 404")

# ---- finding 7: registered packages are immutable -----------------------------------------------------------
pkg = os.path.join(ws, "pkg")
os.makedirs(pkg)
with open(os.path.join(pkg, "model.json"), "w") as f:
    f.write('{"trees": []}\n')
with open(os.path.join(pkg, "model.yaml"), "w") as f:
    f.write("format: 1\nflavor: xgboost\nmodel: model.json\nsignature:\n  inputs:\n"
            "    - {name: x, datatype: FP32, shape: [-1, 2]}\n  outputs:\n    - {name: y, datatype: FP32, shape: [-1]}\n")
reg = json.loads(forja("models", "register", "pkgm", "pkg", "--store", store, "--json", cwd=ws).stdout)
PKG_ROOT = reg["source"].split(":", 1)[1].lstrip("/")
art = "/api/2.0/mlflow-artifacts/artifacts/" + PKG_ROOT
original = srv.call("GET", art + "/model.json", token=TOK["read"])
c.eq(original, (200, {"trees": []}), "the package's model.json downloads")
evil = b'{"trees": ["evil"]}\n'
for role, code in (("read", 403), ("write", 409), ("admin", 409)):
    before = snapshot()
    c.eq(srv.call("PUT", art + "/model.json", raw=evil, token=TOK[role])[0], code, f"PUT new bytes as {role}: {code}")
    c.eq(srv.call("PUT", art + "/extra.py", raw=b"import os\n", token=TOK[role])[0], code,
         f"PUT a new file into the package as {role}: {code}")
    c.eq(srv.call("DELETE", art + "/model.json", token=TOK[role])[0], code, f"DELETE a package file as {role}: {code}")
    c.eq(snapshot(), before, f"the package is unchanged after the {role} token's attempts")
c.eq(srv.call("PUT", "/api/2.0/mlflow-artifacts/artifacts/forja-packages/" + "ab" * 32 + "/model.json", raw=evil,
              token=TOK["write"])[0], 409, "no package can be made up under forja-packages/")
# forja's own reference route: the object may exist, but it is not the package's file.
import hashlib  # noqa: E402
h = hashlib.sha256(evil).hexdigest()
ok(srv.call("PUT", "/api/2.0/forja/objects/sha256/" + h, raw=evil, token=TOK["write"]), "upload an object")
c.eq(srv.call("POST", "/api/2.0/forja/artifacts/put", {"path": PKG_ROOT + "/model.json", "hash": "sha256:" + h,
                                                      "size": len(evil)}, token=TOK["admin"])[0], 409,
     "forja/artifacts/put cannot repoint a package's file")
c.eq(srv.call("GET", art + "/model.json", token=TOK["read"]), original, "MLflow clients still get the registered bytes")
c.eq(srv.call("PUT", art + "/model.json", raw=b'{"trees": []}\n', token=TOK["write"])[0], 200,
     "the same bytes again are accepted (a retried upload)")
p = forja("models", "register", "pkgm", "pkg", "--store", srv.url, "--json", cwd=ws,
          env={"FORJA_TRACKING_TOKEN": TOK["write"]}, check=False)
c.eq(p.returncode, 0, "registering through the server still works: " + p.stderr[-300:])

# ---- finding 13: stage names are not aliases ----------------------------------------------------------------
for alias in ("production", "Staging", "ARCHIVED", "none"):
    st, b = api("POST", "registered-models/alias", {"name": "moves", "alias": alias, "version": "1"})
    c.eq((st, b.get("error_code")), (400, "INVALID_PARAMETER_VALUE"), f"alias '{alias}' is refused")
    c.true("reserved" in b.get("message", "") and "stage" in b.get("message", ""), f"the message says why: {b}")
st, b = api("POST", "/api/2.0/forja/models/promote", {"name": "moves", "version": "1", "target": "@production"})
c.eq(st, 400, "forja/models/promote to @production is refused")
p = forja("models", "promote", "moves", "1", "--to", "@Production", "--store", store, cwd=ws, check=False)
c.eq(p.returncode, 1, "forja models promote --to @Production fails")
c.true("reserved" in p.stderr, "and says the alias is reserved: " + p.stderr.strip())
p = forja("models", "promote", "moves", "1", "--to", "@none", "--store", srv.url, cwd=ws,
          env={"FORJA_TRACKING_TOKEN": TOK["admin"]}, check=False)
c.eq(p.returncode, 1, "the same through a forja server store")
c.eq(api("POST", "registered-models/alias", {"name": "moves", "alias": "production-candidate", "version": "1"})[0], 200,
     "an alias that only starts with a stage name is fine")

# ---- the web UI's serving reports and run logs: reporting writes, reading reads --------------------------------
report = {"instance": "web-1:8080", "report": {"models": [{"name": "churn", "versions": [{"version": "1"}]}]}}
c.eq(api("POST", "/api/2.0/forja/serving/report", report, role="read")[0], 403, "a read token cannot report as forja serve")
c.eq(api("GET", "/api/2.0/forja/serving/instances", role="read")[1].get("instances"), [], "and nothing was kept")
c.eq(api("POST", "/api/2.0/forja/serving/report", report, role="write")[0], 200, "a write token reports")
c.eq([i["instance"] for i in api("GET", "/api/2.0/forja/serving/instances", role="read")[1].get("instances", [])],
     ["web-1:8080"], "a read token lists the instances")
c.eq(srv.call("GET", "/api/2.0/forja/serving/instances")[0], 401, "anonymous does not")
c.eq(api("GET", "/api/2.0/forja/runs/logs", query={"run_id": "0" * 32}, role="read")[0], 404,
     "a read token may ask for a run's logs (an unknown run: 404)")

# ---- finding 8: revoking the last token does not open the server ---------------------------------------------
for name in ("reader", "writer", "admin"):
    forja("server", "token", "revoke", "--store", store, name)
time.sleep(2.2)  # the server rereads the token table every 2 s
c.eq(srv.call("GET", "/api/2.0/mlflow/registered-models/search")[0], 401, "no tokens left: still 401 for anonymous")
c.eq(srv.call("POST", "/api/2.0/mlflow/registered-models/delete", {"name": "churn"})[0], 401,
     "and anonymous cannot delete")
p = forja("server", "token", "list", "--store", store)
c.true("--auth off" in p.stderr, "token list says how to open the server: " + p.stderr.strip())
srv.stop()
srv = Server(store, workspace=ws)
c.eq(srv.call("GET", "/api/2.0/mlflow/registered-models/search")[0], 401, "a restarted server still needs a token")
srv.stop()
srv = Server(store, workspace=ws, auth="off")
c.eq(srv.call("GET", "/api/2.0/mlflow/registered-models/search")[0], 200, "--auth off is the explicit way back")
srv.stop()
c.finish()
