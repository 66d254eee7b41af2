#!/usr/bin/env python3
"""GET /api/2.0/forja/metrics/histories over HTTP, on a real forja server filled by the MLflow
client: many runs' histories in one call as parallel arrays (steps, values, timestamps), the
same points as metrics/get-history, NaN and infinities as strings, empty arrays for a key a run
lacks; more than 100 runs or keys refused with a 400 that says the limit; a run that does not
exist is a 404; a read token may ask.

    python tests/api/metric_histories_test.py --store sqlite|postgres
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, forja, fresh_store, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric  # noqa: E402

ROUTE = "/api/2.0/forja/metrics/histories"


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

    c.error(srv.call("GET", ROUTE, query={"run_ids": ",".join(f"r{i}" for i in range(101)), "metric_keys": "loss"}),
            400, "INVALID_PARAMETER_VALUE", "more than 100 runs", contains="at most 100")
    c.error(srv.call("GET", ROUTE, query={"run_ids": a, "metric_keys": ",".join(f"k{i}" for i in range(101))}),
            400, "INVALID_PARAMETER_VALUE", "more than 100 keys", contains="at most 100")
    c.error(srv.call("GET", ROUTE, query={"metric_keys": "loss"}), 400, "INVALID_PARAMETER_VALUE", "no run_ids",
            contains="run_ids")
    c.eq(srv.call("GET", ROUTE, query={"run_ids": "0" * 32, "metric_keys": "loss"})[0], 404, "a run that does not exist")
    srv.stop()

    token = forja("server", "token", "create", "--store", store, "--name", "reader", "--role", "read").stdout.strip()
    srv = Server(store, artifacts=os.path.join(tmp, "objects"))
    query = {"run_ids": a, "metric_keys": "acc"}
    c.eq(srv.call("GET", ROUTE, query=query)[0], 401, "a server with tokens asks for one")
    c.eq(srv.call("GET", ROUTE, query=query, token=token)[0], 200, "a read token may read histories")
    srv.stop()
    c.finish()


main()
