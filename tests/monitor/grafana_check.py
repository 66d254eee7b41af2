"""Checks `forja monitor grafana`'s provisioning folder against Grafana's published models.

Grafana itself is not started: it is neither in Debian 12 nor on the registries this machine
reaches. Instead each dashboard goes through the types of grafana-foundation-sdk (pinned in
scripts/requirements.txt), the Python code Grafana generates from its dashboard schema: the
dashboard is decoded into the SDK's Dashboard (panels into the panel type's own Options and
FieldConfig classes) and encoded back, and every key and value we wrote must come back
unchanged. A key the schema does not have, or one under the wrong parent, is dropped by the
decoder and reported here with its path. The decoder does not check values' types (Python
does not at run time), so the ones Grafana cannot load without are checked here: integer
schemaVersion, panel ids and grid positions. Beyond the types: the fields the schema requires,
unique panel ids and dashboard uids, panels inside the 24-column grid without overlap, every
query on the provisioned data source, every variable a panel uses defined, and the provisioning
YAML files as Grafana's provisioning reads them.

Usage: grafana_check.py DIR QUERIES_OUT
QUERIES_OUT gets one line per PromQL expression (panel targets and variable queries), as
"dashboard<TAB>panel<TAB>expr" with the dashboard's variables replaced by values Prometheus
accepts ($model, $version -> .*, $__rate_interval -> 1m), for grafana_test.sh to evaluate.
"""
import json
import os
import re
import sys

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

# Panel options and field config decode into each panel type's own classes (timeseries,
# heatmap, stat, table...), and queries into the Prometheus data source's query type.
register_default_plugins()

DATASOURCE_UID = "forja-prometheus"
DASHBOARDS = ["forja-serving.json", "forja-model-health.json", "forja-tracking.json"]
errors = []


def error(where, what):
    errors.append(f"{where}: {what}")


def lost_in_round_trip(ours, theirs, path):
    """Paths where `ours` has a key or value that the SDK's encoding `theirs` lacks or changed."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [f"{path}: became {type(theirs).__name__}"]
        out = []
        for k, v in ours.items():
            if k not in theirs:
                out.append(f"{path}.{k}: not in the schema (dropped by the SDK's decoder)")
            else:
                out += lost_in_round_trip(v, theirs[k], f"{path}.{k}")
        return out
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [f"{path}: list changed"]
        out = []
        for i, (a, b) in enumerate(zip(ours, theirs)):
            out += lost_in_round_trip(a, b, f"{path}[{i}]")
        return out
    if ours != theirs or type(ours) is not type(theirs):
        return [f"{path}: {ours!r} came back as {theirs!r}"]
    return []


def check_round_trip(name, doc):
    decoded = Dashboard.from_json(doc)
    encoded = json.loads(json.dumps(decoded, cls=JSONEncoder))
    for lost in lost_in_round_trip(doc, encoded, "$"):
        error(name, lost)


def check_layout(name, panels):
    taken = set()
    for p in panels:
        g = p.get("gridPos", {})
        x, y, w, h = g.get("x"), g.get("y"), g.get("w"), g.get("h")
        if not all(isinstance(v, int) for v in (x, y, w, h)) or w <= 0 or h <= 0 or x < 0 or x + w > 24:
            error(name, f"panel {p.get('id')}: gridPos {g} outside the 24-column grid")
            continue
        cells = {(cx, cy) for cx in range(x, x + w) for cy in range(y, y + h)}
        if cells & taken:
            error(name, f"panel {p.get('id')}: overlaps another panel")
        taken |= cells


def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m")
    return re.sub(r"\$(model|version)\b", ".*", expr)


def variable_expr(query):
    """label_values(METRIC, label) is Grafana's; the PromQL in it is METRIC."""
    m = re.fullmatch(r"label_values\((.*),\s*\w+\)", query.strip())
    if not m:
        return None
    return m.group(1)


def check_dashboard(path, queries):
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for key in ("uid", "title", "schemaVersion", "version", "templating", "annotations", "panels"):
        if key not in doc:
            error(name, f"no {key}")
    if not isinstance(doc.get("schemaVersion"), int):
        error(name, "schemaVersion is not an integer")
    check_round_trip(name, doc)

    variables = {}
    for v in doc.get("templating", {}).get("list", []):
        variables[v.get("name")] = v
        if v.get("type") != "query" or v.get("datasource", {}).get("uid") != DATASOURCE_UID:
            error(name, f"variable {v.get('name')}: not a query on {DATASOURCE_UID}")
        expr = variable_expr(v.get("query", ""))
        if expr is None:
            error(name, f"variable {v.get('name')}: query {v.get('query')!r} is not label_values(METRIC, label)")
        else:
            queries.append((doc["uid"], "variable " + v["name"], substitute(expr)))

    ids = set()
    panels = doc.get("panels", [])
    check_layout(name, panels)
    for p in panels:
        where = f"{name} panel {p.get('id')} ({p.get('title')})"
        if not isinstance(p.get("id"), int):
            error(where, "id is not an integer")
        if p.get("id") in ids:
            error(where, "id used twice")
        ids.add(p.get("id"))
        if p.get("datasource", {}).get("uid") != DATASOURCE_UID:
            error(where, f"datasource is not {DATASOURCE_UID}")
        if not p.get("targets"):
            error(where, "no query")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != DATASOURCE_UID or not t.get("refId") or not t.get("expr"):
                error(where, f"target {t.get('refId')}: needs refId, expr and the {DATASOURCE_UID} datasource")
                continue
            for used in re.findall(r"\$(\w+)", t["expr"]):
                if not used.startswith("__") and used not in variables:
                    error(where, f"uses ${used}, which is not a variable of the dashboard")
            queries.append((doc["uid"], p["title"], substitute(t["expr"])))
    return doc["uid"]


def check_provisioning(root):
    with open(os.path.join(root, "datasources", "forja-prometheus.yaml"), encoding="utf-8") as f:
        ds = yaml.safe_load(f)
    if ds.get("apiVersion") != 1 or len(ds.get("datasources", [])) != 1:
        error("forja-prometheus.yaml", "want apiVersion 1 and one data source")
    else:
        d = ds["datasources"][0]
        if d.get("type") != "prometheus" or d.get("uid") != DATASOURCE_UID or d.get("access") != "proxy":
            error("forja-prometheus.yaml", f"want a prometheus data source with uid {DATASOURCE_UID}, access proxy")
        if not str(d.get("url", "")).startswith("http"):
            error("forja-prometheus.yaml", "no url")
    with open(os.path.join(root, "dashboards", "provider.yaml"), encoding="utf-8") as f:
        prov = yaml.safe_load(f)
    providers = prov.get("providers", [])
    if prov.get("apiVersion") != 1 or len(providers) != 1 or providers[0].get("type") != "file":
        error("provider.yaml", "want apiVersion 1 and one file provider")
    elif not providers[0].get("options", {}).get("path", "").startswith("/"):
        error("provider.yaml", "options.path is not an absolute path")


def main():
    root, out = sys.argv[1], sys.argv[2]
    check_provisioning(root)
    queries, uids = [], []
    for name in DASHBOARDS:
        uids.append(check_dashboard(os.path.join(root, "dashboards", name), queries))
    if len(set(uids)) != len(uids):
        error("dashboards", f"uids not unique: {uids}")
    with open(out, "w", encoding="utf-8") as f:
        for q in queries:
            f.write("\t".join(q) + "\n")
    for e in errors:
        print("FAIL:", e)
    print(f"{len(DASHBOARDS)} dashboards, {len(queries)} queries checked; {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
