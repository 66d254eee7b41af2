"""Trains a random forest on the prepared training set."""
import os
import pickle

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

import params

cfg = params.load()["model"]
train = pd.read_csv("data/prepared/train.csv")
model = RandomForestClassifier(n_estimators=cfg["n_estimators"], max_depth=cfg["max_depth"],
                               random_state=cfg["seed"])
model.fit(train.drop(columns="target"), train["target"])
os.makedirs("models", exist_ok=True)
with open("models/model.pkl", "wb") as f:
    pickle.dump(model, f)
print(f"trained {cfg['n_estimators']} trees of depth {cfg['max_depth']}")
