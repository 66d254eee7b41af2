"""Splits scikit-learn's bundled breast cancer dataset into train and test CSVs."""
import os

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import params

cfg = params.load()["data"]
frame = load_breast_cancer(as_frame=True).frame
train, test = train_test_split(frame, test_size=cfg["test_size"], random_state=cfg["seed"],
                               stratify=frame["target"])
os.makedirs("data/prepared", exist_ok=True)
train.to_csv("data/prepared/train.csv", index=False)
test.to_csv("data/prepared/test.csv", index=False)
print(f"prepared {len(train)} training and {len(test)} test rows")
