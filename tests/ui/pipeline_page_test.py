"""The pipeline page (#/pipelines) in a real browser: a real `forja server` in a workspace with
three stages in a chain, run once with `forja run`, then train's param changed (train and
evaluate would run), and a second server outside any workspace; pipeline_page.mjs drives
Debian's chromium with playwright-core, asserts what a person sees and runs axe-core.
Screenshots go to $FORJA_UI_ARTIFACTS.

    python tests/ui/pipeline_page_test.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import Server, tempdir  # noqa: E402
from pipeline_status_test import pipeline_workspace  # noqa: E402  (the same workspace the API test checks)

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

tmp = tempdir()
ws = pipeline_workspace(tmp)
artifacts = os.environ.get("FORJA_UI_ARTIFACTS", os.path.join(tmp, "screenshots"))
os.makedirs(artifacts, exist_ok=True)
plain = os.path.join(tmp, "plain")
os.makedirs(plain)

srv = Server("sqlite:///" + os.path.join(ws, ".forja", "forja.db"), workspace=ws)
bare = Server("sqlite:///" + os.path.join(plain, "forja.db"), workspace=plain)
# What the page must show, from the workspace above (not from the server).
spec = {
    "url": srv.url,
    "bare_url": bare.url,
    "artifacts": artifacts,
    "stages": ["evaluate", "prepare", "train"],
    "edges": 2,
    "states": {"prepare": "up to date", "train": "would run", "evaluate": "would run"},
    "reason": "train.lr",
    "log_tail": "training on 2 with lr 0.1",
    "cmd": "echo training on $(cat prepared.txt) with lr 0.5; cat prepared.txt >model.txt",
}
p = subprocess.run(["node", os.path.join(HERE, "pipeline_page.mjs")], input=json.dumps(spec), text=True)
srv.stop()
bare.stop()
print(f"screenshots: {artifacts}")
sys.exit(1 if p.returncode else 0)
