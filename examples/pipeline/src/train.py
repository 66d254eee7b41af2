"""Trains gradient-boosted trees (xgboost) on the prepared training set and writes
them as a forja model package: models/package/ with model.yaml and model.json,
ready for `forja models register` and `forja serve`."""
import os

import pandas as pd
import xgboost as xgb

import params

cfg = params.load()["model"]
train = pd.read_csv("data/prepared/train.csv")
x, y = train.drop(columns="target"), train["target"]
model = xgb.XGBClassifier(n_estimators=cfg["n_estimators"], max_depth=cfg["max_depth"],
                          learning_rate=cfg["learning_rate"], random_state=cfg["seed"], n_jobs=1)
model.fit(x.to_numpy(dtype="float32"), y)
os.makedirs("models/package", exist_ok=True)
model.get_booster().save_model("models/package/model.json")
with open("models/package/model.yaml", "w") as f:
    f.write(f"""format: 1
flavor: xgboost
model: model.json
description: breast cancer classifier, {cfg['n_estimators']} trees of depth {cfg['max_depth']}
signature:
  inputs: [{{name: features, datatype: FP32, shape: [-1, {x.shape[1]}]}}]
  outputs: [{{name: probability, datatype: FP32, shape: [-1]}}]
""")
print(f"trained {cfg['n_estimators']} trees of depth {cfg['max_depth']} on {len(x)} rows")
