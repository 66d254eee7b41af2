"""Scores the model package on the test set: metrics.json and a ROC curve."""
import json
import os

import pandas as pd
import xgboost as xgb
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

test = pd.read_csv("data/prepared/test.csv")
booster = xgb.Booster(model_file="models/package/model.json")
x, y = test.drop(columns="target"), test["target"]
proba = booster.inplace_predict(x.to_numpy(dtype="float32"))
pred = (proba >= 0.5).astype(int)
metrics = {"accuracy": round(accuracy_score(y, pred), 4), "f1": round(f1_score(y, pred), 4),
           "roc_auc": round(roc_auc_score(y, proba), 4)}
with open("metrics.json", "w") as f:
    json.dump(metrics, f, indent=2)
fpr, tpr, _ = roc_curve(y, proba)
os.makedirs("plots", exist_ok=True)
pd.DataFrame({"fpr": fpr, "tpr": tpr}).to_csv("plots/roc.csv", index=False)
print(json.dumps(metrics))
