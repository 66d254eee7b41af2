#!/usr/bin/env python3
"""The web UI's runs table routes over HTTP (GET /api/2.0/forja/runs/window, count, keys, groups),
on a real forja server filled by the MLflow client: a window's rows, count and columns; the
same filter and order_by as runs/search, with the parser's message on a bad filter; limits
refused with a 400 that says what is allowed; groups by a param over every matching run;
a read token may ask.

    python tests/api/runs_window_test.py --store sqlite|postgres
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, forja, fresh_store, quiet_mlflow_client, store_kind, tempdir  # noqa: E402

quiet_mlflow_client()
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402

WINDOW = "/api/2.0/forja/runs/window"


def main():
    c = Checks()
    tmp = tempdir()
    store = fresh_store(store_kind(), tmp)
    srv = Server(store, artifacts=os.path.join(tmp, "objects"))
    client = MlflowClient(tracking_uri=srv.url)
    exp = client.create_experiment("window")
    # w00..w29: model xgb for even i, lr for odd; rmse = i / 100; logged in one batch each.
    for i in range(30):
        run = client.create_run(exp, run_name=f"w{i:02d}", start_time=1_780_000_000_000 + i)
        client.log_batch(run.info.run_id, metrics=[Metric("rmse", i / 100, 0, 0), Metric("auc", 1 - i / 100, 0, 0)],
                         params=[Param("model", "lr" if i % 2 else "xgb"), Param("depth", str(i % 3))])
    names = lambda body: [r["run_name"] for r in body.get("runs", [])]  # noqa: E731

    # Without columns: every param and metric, the count, newest first.
    status, body = srv.call("GET", WINDOW, query={"experiment_id": exp, "limit": 5})
    c.eq(status, 200, "a window answers")
    c.eq(body.get("total"), 30, "with the count of every run")
    c.eq(body.get("columns"), ["params.depth", "params.model", "metrics.auc", "metrics.rmse"],
         "and the server's columns: params and metrics, by name")
    c.eq(names(body), ["w29", "w28", "w27", "w26", "w25"], "newest first, as runs/search")
    c.eq(body.get("keys"), {"params": ["depth", "model"], "metrics": ["auc", "rmse"], "tags": ["mlflow.runName"]},
         "with the keys the columns were chosen from")
    first = body.get("runs", [{}])[0]
    c.eq(sorted(first), ["end_time", "metrics", "params", "run_id", "run_name", "start_time", "status", "tags"]
         if "end_time" in first else ["metrics", "params", "run_id", "run_name", "start_time", "status", "tags"],
         "a row is compact: id, name, status, times and the chosen keys")
    c.eq(first.get("params"), {"depth": "2", "model": "lr"}, "with its params")
    c.eq(first.get("metrics", {}).get("rmse"), 0.29, "and its metrics")

    # Chosen columns, an offset, the filter and order_by of runs/search.
    query = {"experiment_id": exp, "filter": "params.model = 'xgb' and metrics.rmse < 0.2",
             "order_by": "metrics.rmse ASC", "offset": 2, "limit": 3, "columns": "metrics.rmse,tags.mlflow.runName"}
    status, body = srv.call("GET", WINDOW, query=query)
    c.eq(status, 200, "a filtered window answers")
    c.eq(body.get("total"), 10, "counting the matches (w00, w02, ..., w18)")
    c.eq(names(body), ["w04", "w06", "w08"], "from the offset, in the order asked")
    c.eq(body.get("columns"), ["metrics.rmse", "tags.mlflow.runName"], "the columns asked for")
    c.eq(body.get("runs", [{}])[0].get("params"), {}, "no param was asked for")
    c.true("keys" not in body, "chosen columns: no keys in the answer")
    c.eq(body.get("runs", [{}])[0].get("tags"), {"mlflow.runName": "w04"}, "the tag was")
    search = srv.call("POST", "/api/2.0/mlflow/runs/search",
                      body={"experiment_ids": [exp], "filter": query["filter"], "order_by": [query["order_by"]]})[1]
    c.eq([r["info"]["run_name"] for r in search.get("runs", [])][2:5], names(body), "the same runs as runs/search")

    # count=false: the same rows without the count, saying whether more follow; forja/runs/count after.
    status, body = srv.call("GET", WINDOW, query={**query, "count": "false"})
    c.eq(status, 200, "a window without the count answers")
    c.eq(names(body), ["w04", "w06", "w08"], "the same rows")
    c.true("total" not in body, "no count")
    c.eq(body.get("more"), True, "and says more runs follow (w10..w18)")
    c.eq(body.get("runs", [{}])[0].get("metrics"), {"rmse": 0.04}, "only the columns asked for")
    c.eq(body.get("runs", [{}])[0].get("params"), {}, "no param")
    last = srv.call("GET", WINDOW, query={**query, "offset": 8, "count": "false"})[1]
    c.eq((names(last), last.get("more")), (["w16", "w18"], False), "the last window says none follow")
    status, body = srv.call("GET", "/api/2.0/forja/runs/count", query={"experiment_id": exp, "filter": query["filter"]})
    c.eq((status, body), (200, {"total": 10}), "forja/runs/count counts the matches")
    c.error(srv.call("GET", "/api/2.0/forja/runs/count", query={"experiment_id": exp, "filter": "metrics.rmse <<< 1"}),
            400, "INVALID_PARAMETER_VALUE", "a bad filter to count", contains="character")

    # Bad input: the parser's message with its position, limits with what is allowed.
    bad = srv.call("GET", WINDOW, query={"experiment_id": exp, "filter": "metrics.rmse <<< 1"})
    same = srv.call("POST", "/api/2.0/mlflow/runs/search", body={"experiment_ids": [exp], "filter": "metrics.rmse <<< 1"})
    c.error(bad, 400, "INVALID_PARAMETER_VALUE", "a bad filter", contains="character")
    c.eq(bad[1].get("message"), same[1].get("message"), "with runs/search's message")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "limit": 1001}), 400, "INVALID_PARAMETER_VALUE",
            "a window over 1000 rows", contains="1 to 1000")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "limit": 0}), 400, "INVALID_PARAMETER_VALUE",
            "an empty window")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "offset": -1}), 400, "INVALID_PARAMETER_VALUE",
            "a negative offset")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "limit": "ten"}), 400, "INVALID_PARAMETER_VALUE",
            "a limit that is not a number")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "columns": "rmse"}), 400, "INVALID_PARAMETER_VALUE",
            "a column without params., metrics. or tags.", contains="params.KEY")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "columns": ",".join(f"params.k{i}" for i in range(501))}),
            400, "INVALID_PARAMETER_VALUE", "more than 500 columns", contains="at most 500")
    c.error(srv.call("GET", WINDOW, query={}), 400, "INVALID_PARAMETER_VALUE", "no experiment_id",
            contains="experiment_id")
    c.error(srv.call("GET", WINDOW, query={"experiment_id": exp, "order_by": "metrics.rmse SIDEWAYS"}), 400,
            "INVALID_PARAMETER_VALUE", "a bad order_by")

    # Keys: what the runs have, for the column picker.
    status, body = srv.call("GET", "/api/2.0/forja/runs/keys", query={"experiment_id": exp})
    c.eq(status, 200, "keys answer")
    c.eq((body.get("params"), body.get("metrics"), body.get("tags")),
         (["depth", "model"], ["auc", "rmse"], ["mlflow.runName"]), "the params, metrics and tags of the runs")

    # Groups: every matching run, not a window.
    status, body = srv.call("GET", "/api/2.0/forja/runs/groups",
                            query={"experiment_id": exp, "group_by": "depth", "filter": "metrics.rmse < 0.2",
                                   "columns": "metrics.rmse"})
    c.eq(status, 200, "groups answer")
    groups = {g.get("value"): g for g in body.get("groups", [])}
    c.eq({v: g["count"] for v, g in groups.items()}, {"0": 7, "1": 7, "2": 6}, "a group per depth, counting w00..w19")
    rmse = groups.get("2", {}).get("metrics", {}).get("rmse", {})
    c.eq({k: round(v, 9) for k, v in rmse.items()}, {"count": 6, "min": 0.02, "mean": 0.095, "max": 0.17},
         "with min, mean and max of rmse (w02, w05, w08, w11, w14, w17)")
    c.error(srv.call("GET", "/api/2.0/forja/runs/groups", query={"experiment_id": exp}), 400,
            "INVALID_PARAMETER_VALUE", "groups without group_by", contains="group_by")
    srv.stop()

    # A read token may ask.
    token = forja("server", "token", "create", "--store", store, "--name", "reader", "--role", "read").stdout.strip()
    srv = Server(store, artifacts=os.path.join(tmp, "objects"))
    c.eq(srv.call("GET", WINDOW, query={"experiment_id": exp})[0], 401, "a server with tokens asks for one")
    c.eq(srv.call("GET", WINDOW, query={"experiment_id": exp}, token=token)[0], 200, "a read token may read the window")
    c.eq(srv.call("GET", "/api/2.0/forja/runs/groups", query={"experiment_id": exp, "group_by": "model"},
                  token=token)[0], 200, "and the groups")
    c.eq(srv.call("GET", "/api/2.0/forja/runs/count", query={"experiment_id": exp}, token=token)[1], {"total": 30},
         "and the count")
    srv.stop()
    c.finish()


main()
