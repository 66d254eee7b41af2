"""Splits the raw dataset (data/raw.csv, written by src/make_raw.py and tracked with
`forja add`) into train and test CSVs."""
import os

import pandas as pd
from sklearn.model_selection import train_test_split

import params

cfg = params.load()["data"]
frame = pd.read_csv("data/raw.csv")
train, test = train_test_split(frame, test_size=cfg["test_size"], random_state=cfg["seed"],
                               stratify=frame["target"])
os.makedirs("data/prepared", exist_ok=True)
train.to_csv("data/prepared/train.csv", index=False)
test.to_csv("data/prepared/test.csv", index=False)
print(f"prepared {len(train)} training and {len(test)} test rows")
