#!/bin/sh
# Writes a small python model package into DIR, for the serving and rollout tests:
#   sh "$FORJA_SOURCE/tests/lib/python_package.sh" DIR CONSTANT [FAIL_PERCENT] [broken]
# Input `features` FP32 [-1, 2]; output `total` = features[0] + features[1] + CONSTANT (the
# constant tells versions apart in answers).
# FAIL_PERCENT (0..100, default 0): a request fails (RuntimeError: HTTP 500) when a row's first
# feature is a whole number k >= 1 that falls in the FAIL_PERCENT% share; the share is spread
# evenly (k = 1..100 holds exactly FAIL_PERCENT failures, none two in a row below 50%), so a
# client sending k = 1, 2, 3, ... sees exactly that error rate. Other rows, and the all-zero
# row forja serve warms a version up with, never fail.
# broken: the module raises on import, so the version fails to load (forja serve refuses it).
# Needs FORJA_PYTHON with numpy (the project's .venv) when served.
set -e
dir=$1 constant=$2 percent=${3:-0} mode=${4:-}
case $percent in '' | *[!0-9]*) echo "python_package.sh: FAIL_PERCENT must be 0..100, got '$percent'" >&2; exit 2 ;; esac
[ "$percent" -le 100 ] || { echo "python_package.sh: FAIL_PERCENT must be 0..100, got $percent" >&2; exit 2; }
mkdir -p "$dir"
cat >"$dir/predict.py" <<PY
import numpy as np

CONSTANT = $constant
FAIL_PERCENT = $percent
if "$mode" == "broken":
    raise ImportError("this version is broken on purpose (tests/lib/python_package.sh ... broken)")


def failing(k):
    # Bresenham's spread: k falls in the share when floor(k*P/100) steps up at k.
    return k >= 1 and (k * FAIL_PERCENT) // 100 != ((k - 1) * FAIL_PERCENT) // 100


def predict(batch):
    x = batch["features"]
    for f in x[:, 0]:
        if float(f).is_integer() and failing(int(f)):
            raise RuntimeError(f"failing on purpose: feature 0 is {int(f)} ({FAIL_PERCENT}% of requests fail)")
    return x.sum(axis=1) + CONSTANT
PY
cat >"$dir/model.yaml" <<'YAML'
format: 1
flavor: python
python: {module: predict.py, function: predict, workers: 2, timeout_ms: 5000}
signature:
  inputs: [{name: features, datatype: FP32, shape: [-1, 2]}]
  outputs: [{name: total, datatype: FP32, shape: [-1]}]
YAML
