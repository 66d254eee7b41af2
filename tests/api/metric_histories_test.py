#!/usr/bin/env python3
"""GET /api/2.0/forja/metrics/histories over HTTP, on a real forja server filled by the MLflow
client: many runs' histories in one call as parallel arrays (steps, values, timestamps), the
same points as metrics/get-history, NaN and infinities as strings, empty arrays for a key a run
lacks; without metric_keys, every key the runs logged; format=binary (what the web UI reads): the
same numbers as float64 arrays, steps and timestamps that advance by a fixed amount as
[first, delta]; more than 100 runs or keys refused with a 400 that says the limit; a run that
does not exist is a 404; a read token may ask. GET /api/2.0/forja/runs/get-many (the comparison's
runs in one call): each run as runs/get answers it, in the order asked; the same limits and errors.

    python tests/api/metric_histories_test.py --store sqlite|postgres
"""
import json
import math
import os
import struct
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, forja, fresh_store, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric  # noqa: E402

ROUTE = "/api/2.0/forja/metrics/histories"


def binary(srv, query):
    """format=binary's answer as (content type, {"truncated", "histories": [{run_id, key, steps,
    values, timestamps, ranges}]}), its arrays read back from the bytes (ranges: which columns
    came as [first, delta])."""
    url = srv.url + ROUTE + "?" + urllib.parse.urlencode({**query, "format": "binary"}, doseq=True)
    with urllib.request.urlopen(url, timeout=60) as r:
        kind, data = r.headers.get("Content-Type"), r.read()
    n = struct.unpack_from("<I", data, 0)[0]
    head = json.loads(data[4:4 + n])
    at = (4 + n + 7) // 8 * 8
    out = []
    for h in head["histories"]:
        count = h["count"]

        def take():
            nonlocal at
            xs = list(struct.unpack_from(f"<{count}d", data, at))
            at += 8 * count
            return xs

        values = take()
        cols, ranges = {}, []
        for name in ("steps", "timestamps"):
            rule = h[name]
            if rule is None:
                cols[name] = [int(x) for x in take()]
            else:
                cols[name] = [rule[0] + i * rule[1] for i in range(count)]
                ranges.append(name)
        out.append({"run_id": h["run_id"], "key": h["key"], "values": values, "ranges": ranges, **cols})
    return kind, {"truncated": head["truncated"], "histories": out, "rest": len(data) - at}


def main():
    c = Checks()
    tmp = tempdir()
    store = fresh_store(store_kind(), tmp)
    srv = Server(store, artifacts=os.path.join(tmp, "objects"))
    client = MlflowClient(tracking_uri=srv.url)
    exp = client.create_experiment("histories")
    a = client.create_run(exp, run_name="a").info.run_id
    b = client.create_run(exp, run_name="b").info.run_id
    # a: loss at steps 0..4 (the last NaN), acc at step 0 only; b: loss at 0..1 with +inf.
    client.log_batch(a, metrics=[Metric("loss", 1 / (s + 1), 1000 + s, s) for s in range(4)] +
                     [Metric("loss", math.nan, 1004, 4), Metric("acc", 0.5, 2000, 0)])
    client.log_batch(b, metrics=[Metric("loss", 2.0, 3000, 0), Metric("loss", math.inf, 3001, 1)])
    # b: lr at irregular steps and times, its step 5 logged twice (a retried batch): one point.
    lr = [Metric("lr", 0.1, 5000, 0), Metric("lr", 0.05, 5007, 5), Metric("lr", 0.01, 5100, 9)]
    client.log_batch(b, metrics=lr)
    client.log_batch(b, metrics=[lr[1]])

    status, body = srv.call("GET", ROUTE, query={"run_ids": f"{a},{b}", "metric_keys": "loss,acc"})
    c.eq(status, 200, "histories answer")
    c.eq(body.get("truncated"), False, "not cut")
    got = {(h["run_id"], h["key"]): h for h in body.get("histories", [])}
    c.eq(sorted(got), sorted([(a, "loss"), (a, "acc"), (b, "loss"), (b, "acc")]), "one history per run and key asked")
    c.eq(got.get((a, "loss"), {}).get("steps"), [0, 1, 2, 3, 4], "steps in order")
    c.eq(got.get((a, "loss"), {}).get("values"), [1.0, 0.5, 1 / 3, 0.25, "NaN"], "values, NaN as a string")
    c.eq(got.get((a, "loss"), {}).get("timestamps"), [1000, 1001, 1002, 1003, 1004], "and timestamps")
    c.eq(got.get((b, "loss"), {}).get("values"), [2.0, "Infinity"], "infinity as a string")
    c.eq(got.get((b, "acc")), {"run_id": b, "key": "acc", "steps": [], "values": [], "timestamps": []},
         "a key the run never logged: empty arrays")
    one = srv.call("GET", "/api/2.0/mlflow/metrics/get-history", query={"run_id": a, "metric_key": "loss"})[1]
    c.eq([(m["step"], m["timestamp"]) for m in one.get("metrics", [])],
         list(zip(got[(a, "loss")]["steps"], got[(a, "loss")]["timestamps"])), "the points of metrics/get-history")
    repeated = srv.call("GET", ROUTE, query={"run_ids": [a, b], "metric_keys": ["acc"]})[1]
    c.eq([(h["run_id"], h["values"]) for h in repeated.get("histories", [])], [(a, [0.5]), (b, [])],
         "run_ids and metric_keys may repeat instead of commas")

    every = srv.call("GET", ROUTE, query={"run_ids": f"{a},{b}"})[1]
    c.eq([(h["run_id"], h["key"], len(h["steps"])) for h in every.get("histories", [])],
         [(a, "acc", 1), (a, "loss", 5), (a, "lr", 0), (b, "acc", 0), (b, "loss", 2), (b, "lr", 3)],
         "without metric_keys: every key the runs logged, sorted, for each run")
    lr_b = [h for h in every.get("histories", []) if (h["run_id"], h["key"]) == (b, "lr")]
    c.eq(lr_b and (lr_b[0]["steps"], lr_b[0]["values"], lr_b[0]["timestamps"]),
         ([0, 5, 9], [0.1, 0.05, 0.01], [5000, 5007, 5100]), "a point logged twice is one point")

    kind, bin_all = binary(srv, {"run_ids": f"{a},{b}"})
    c.eq(kind, "application/vnd.forja.metric-histories", "format=binary has its own content type")
    c.eq(bin_all["rest"], 0, "the binary answer ends with its last array")
    as_json = [(h["run_id"], h["key"], h["steps"], h["timestamps"]) for h in every.get("histories", [])]
    c.eq([(h["run_id"], h["key"], h["steps"], h["timestamps"]) for h in bin_all["histories"]], as_json,
         "format=binary: the same series, steps and timestamps as the JSON")
    got_b = {(h["run_id"], h["key"]): h for h in bin_all["histories"]}
    loss_a = got_b.get((a, "loss"), {}).get("values", [])
    c.eq(loss_a[:4], [1.0, 0.5, 1 / 3, 0.25], "values as float64, exactly")
    c.eq(len(loss_a) == 5 and math.isnan(loss_a[4]), True, "NaN as a float64 NaN")
    c.eq(got_b.get((b, "loss"), {}).get("values"), [2.0, math.inf], "infinity as a float64 infinity")
    c.eq(got_b.get((a, "loss"), {}).get("ranges"), ["steps", "timestamps"],
         "steps and times that advance by a fixed amount come as [first, delta]")
    c.eq(got_b.get((b, "lr"), {}).get("ranges"), [], "irregular ones as arrays")
    c.error(srv.call("GET", ROUTE, query={"run_ids": "0" * 32, "format": "binary"}), 404, "RESOURCE_DOES_NOT_EXIST",
            "format=binary's errors are JSON", contains="0" * 32)
    c.error(srv.call("GET", ROUTE, query={"run_ids": a, "format": "xml"}), 400, "INVALID_PARAMETER_VALUE",
            "an unknown format", contains="binary")

    c.error(srv.call("GET", ROUTE, query={"run_ids": ",".join(f"r{i}" for i in range(101)), "metric_keys": "loss"}),
            400, "INVALID_PARAMETER_VALUE", "more than 100 runs", contains="at most 100")
    c.error(srv.call("GET", ROUTE, query={"run_ids": a, "metric_keys": ",".join(f"k{i}" for i in range(101))}),
            400, "INVALID_PARAMETER_VALUE", "more than 100 keys", contains="at most 100")
    c.error(srv.call("GET", ROUTE, query={"metric_keys": "loss"}), 400, "INVALID_PARAMETER_VALUE", "no run_ids",
            contains="run_ids")
    c.eq(srv.call("GET", ROUTE, query={"run_ids": "0" * 32, "metric_keys": "loss"})[0], 404, "a run that does not exist")

    many = "/api/2.0/forja/runs/get-many"
    status, body = srv.call("GET", many, query={"run_ids": f"{b},{a}"})
    c.eq(status, 200, "runs/get-many answers")
    each = [srv.call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": r})[1].get("run") for r in (b, a)]
    c.eq(body.get("runs"), each, "each run as runs/get answers it, in the order asked")
    c.eq([r["info"]["run_id"] for r in srv.call("GET", many, query={"run_ids": [a, b, a]})[1].get("runs", [])], [a, b, a],
         "run_ids may repeat instead of commas, and a run asked twice comes twice")
    c.error(srv.call("GET", many, query={"run_ids": f"{a},{'0' * 32}"}), 404, "RESOURCE_DOES_NOT_EXIST",
            "runs/get-many: a run that does not exist is runs/get's 404", contains="0" * 32)
    c.error(srv.call("GET", many, query={"run_ids": ",".join(a for _ in range(101))}), 400, "INVALID_PARAMETER_VALUE",
            "runs/get-many: more than 100 runs", contains="at most 100")
    c.error(srv.call("GET", many), 400, "INVALID_PARAMETER_VALUE", "runs/get-many: no run_ids", contains="run_ids")
    for hostile in ("../../etc/passwd", "' OR 1=1 --", "x" * 5000, "%00"):
        status = srv.call("GET", many, query={"run_ids": hostile})[0]
        c.eq(status in (400, 404), True, f"runs/get-many refuses a hostile id ({hostile[:16]!r}: {status})")
    srv.stop()

    token = forja("server", "token", "create", "--store", store, "--name", "reader", "--role", "read").stdout.strip()
    srv = Server(store, artifacts=os.path.join(tmp, "objects"))
    query = {"run_ids": a, "metric_keys": "acc"}
    c.eq(srv.call("GET", ROUTE, query=query)[0], 401, "a server with tokens asks for one")
    c.eq(srv.call("GET", ROUTE, query=query, token=token)[0], 200, "a read token may read histories")
    c.eq(srv.call("GET", "/api/2.0/forja/runs/get-many", query={"run_ids": a}, token=token)[0], 200,
         "and runs/get-many")
    srv.stop()
    c.finish()


main()
