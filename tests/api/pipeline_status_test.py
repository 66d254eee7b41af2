#!/usr/bin/env python3
"""GET /api/2.0/forja/pipeline/status, what the web UI's pipeline page shows: a real forja
server in a workspace with three stages after `forja run` and a param change (the DAG, each
stage's state and reasons as `forja status --pipeline --json` says, the last run's durations
and log tails); outside a workspace a 404 that says why; a hostile symlink in .forja/runs is
never followed; a read token may ask."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Server, forja, new_workspace, tempdir  # noqa: E402

STAGES = """
stages:
  prepare:
    cmd: echo preparing with scale ${prepare.scale}; echo ${prepare.scale} >prepared.txt
    params: [prepare.scale]
    outs: [prepared.txt]
  train:
    cmd: echo training on $(cat prepared.txt) with lr ${train.lr}; cat prepared.txt >model.txt
    deps: [prepared.txt]
    params: [train.lr]
    outs: [model.txt]
  evaluate:
    cmd: echo evaluating; cat model.txt >score.txt
    deps: [model.txt]
    outs: [score.txt]
"""


def pipeline_workspace(tmp):
    """Three stages in a chain, run once, then train's param changed: train and evaluate would run."""
    ws = new_workspace(tmp, forja_yaml_extra=STAGES)
    os.makedirs(os.path.join(ws, "conf"))
    with open(os.path.join(ws, "conf", "config.yaml"), "w") as f:
        f.write("prepare:\n  scale: 2\ntrain:\n  lr: 0.1\n")
    forja("run", "--no-track", cwd=ws)
    with open(os.path.join(ws, "conf", "config.yaml"), "w") as f:
        f.write("prepare:\n  scale: 2\ntrain:\n  lr: 0.5\n")
    return ws


def by_name(body):
    return {s["name"]: s for s in body.get("stages", [])} if isinstance(body, dict) else {}


def main():
    c = Checks()
    tmp = tempdir()
    ws = pipeline_workspace(tmp)
    cli = json.loads(forja("status", "--pipeline", "--json", cwd=ws, check=False).stdout)
    store = "sqlite:///" + os.path.join(ws, ".forja", "forja.db")
    token = json.loads(forja("server", "token", "create", "--name", "reader", "--role", "read", "--json",
                             "--store", store, cwd=ws).stdout)["token"]
    server = Server(store, workspace=ws)
    server.call = lambda method, path, token=token, **kw: Server.call(server, method, path, token=token, **kw)
    try:
        status, body = server.call("GET", "/api/2.0/forja/pipeline/status")
        c.eq(status, 200, "pipeline status answers")
        stages = by_name(body)
        c.eq(sorted(stages), ["evaluate", "prepare", "train"], "the three stages")
        c.eq(sorted(map(tuple, body.get("edges", []))), [("prepare", "train"), ("train", "evaluate")], "the two edges")
        c.eq(stages["prepare"]["outcome"], "up to date", "prepare is up to date")
        c.eq(stages["train"]["outcome"], "would run", "train would run")
        c.eq(stages["evaluate"]["outcome"], "would run", "evaluate would run")
        c.true(any("train.lr" in r for r in stages["train"]["reasons"]), f"train's reason names the param: {stages['train']['reasons']}")
        for s in cli["stages"]:  # the same answer as the command line
            c.eq((stages[s["stage"]]["outcome"], stages[s["stage"]]["reasons"]), (s["outcome"], s["reasons"]),
                 f"{s['stage']}: as forja status --pipeline --json says")
        c.eq(stages["train"]["cmd"], ["echo training on $(cat prepared.txt) with lr 0.5; cat prepared.txt >model.txt"],
             "train's command as it would run")
        c.eq(stages["train"]["deps"], ["prepared.txt"], "train's deps")
        c.eq(stages["train"]["outs"], ["model.txt"], "train's outs")
        c.true(body.get("last_run", {}).get("run_id"), "the last run's id")
        last = stages["train"].get("last_run", {})
        c.eq(last.get("outcome"), "ran", "train ran in the last run")
        c.true(isinstance(last.get("seconds"), (int, float)) and last["seconds"] > 0, f"train's duration: {last}")
        c.eq(last.get("log_tail"), "training on 2 with lr 0.1\n", "train's log tail")
        c.eq(last.get("log_truncated"), False, "a short log is whole")

        # A long log: only its tail, and says so.
        run_dir = os.path.join(ws, ".forja", "runs", body["last_run"]["run_id"])
        with open(os.path.join(run_dir, "evaluate.log"), "w") as f:
            f.write("x" * 100000 + "\nthe end\n")
        _, body = server.call("GET", "/api/2.0/forja/pipeline/status")
        last = by_name(body)["evaluate"].get("last_run", {})
        c.true(last.get("log_tail", "").endswith("the end\n") and len(last["log_tail"]) <= 8192, "a long log's tail")
        c.eq(last.get("log_truncated"), True, "a long log says it is cut")
        c.eq(last.get("log_bytes"), 100009, "a long log's size")

        # Bytes that are not UTF-8 (a binary printed by a stage) still make JSON.
        with open(os.path.join(run_dir, "prepare.log"), "wb") as f:
            f.write(b"\xff\xfeok \xe2\x82\n")
        status, body = server.call("GET", "/api/2.0/forja/pipeline/status")
        c.eq((status, by_name(body)["prepare"].get("last_run", {}).get("log_tail")), (200, "??ok ??\n"),
             "a log that is not UTF-8 shows its bad bytes as ?")

        # Hostile: the stage's log a symlink to a secret outside, and a newer "run" that is a symlink.
        secret = os.path.join(tmp, "secret.txt")
        with open(secret, "w") as f:
            f.write("TOP SECRET\n")
        os.remove(os.path.join(run_dir, "train.log"))
        os.symlink(secret, os.path.join(run_dir, "train.log"))
        outside = os.path.join(tmp, "outside-run")
        os.makedirs(outside)
        os.symlink(secret, os.path.join(outside, "prepare.log"))
        with open(os.path.join(outside, "evaluate.log"), "w") as f:
            f.write("TOP SECRET\n")
        os.symlink(outside, os.path.join(ws, ".forja", "runs", "99991231-235959-ffffff"))
        status, body = server.call("GET", "/api/2.0/forja/pipeline/status")
        c.eq(status, 200, "a hostile run folder still answers")
        c.true("TOP SECRET" not in json.dumps(body), "no symlink is followed out of .forja/runs")
        c.eq(body.get("last_run", {}).get("run_id"), os.path.basename(run_dir), "a symlinked run folder is not the latest")
        c.true("log_tail" not in by_name(body)["train"].get("last_run", {}), "a symlinked log has no tail")

        # With tokens: a read token may ask, no token may not.
        status, _ = server.call("GET", "/api/2.0/forja/pipeline/status", token="")
        c.eq(status, 401, "with tokens, no token is refused")
        status, _ = server.call("GET", "/api/2.0/forja/pipeline/status", token=token)
        c.eq(status, 200, "a read token may see the pipeline")
    finally:
        server.stop()

    # Outside a workspace: 404 with the reason.
    plain = os.path.join(tmp, "plain")
    os.makedirs(plain)
    server = Server("sqlite:///" + os.path.join(plain, "forja.db"), workspace=plain)
    try:
        c.error(server.call("GET", "/api/2.0/forja/pipeline/status"), 404, "RESOURCE_DOES_NOT_EXIST",
                "outside a workspace", contains="this server has no workspace")
    finally:
        server.stop()
    c.finish()


if __name__ == "__main__":
    main()
