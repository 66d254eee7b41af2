#!/bin/sh
# Writes a small model package into DIR: an (empty) xgboost forest with 4 FP32 features.
# Standalone, so that a pipeline stage of a test can run it too:
#   sh "$FORJA_SOURCE/tests/lib/test_package.sh" DIR
set -e
mkdir -p "$1"
printf '{"trees": []}\n' >"$1/model.json"
cat >"$1/model.yaml" <<'YAML'
format: 1
flavor: xgboost
model: model.json
signature:
  inputs:
    - {name: features, datatype: FP32, shape: [-1, 4]}
  outputs:
    - {name: probability, datatype: FP32, shape: [-1]}
YAML
