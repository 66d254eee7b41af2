"""Writes the raw dataset the pipeline starts from, data/raw.csv: scikit-learn's bundled
breast-cancer table. With --new N it appends N new labelled rows instead (existing rows
resampled with a little noise, seeded), as a team's data collection would: the change
`forja add data/raw.csv` records and a `data:` trigger of `forja agent` retrains on."""
import argparse
import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

ap = argparse.ArgumentParser()
ap.add_argument("--new", type=int, default=0, help="append this many new rows to data/raw.csv")
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()

path = "data/raw.csv"
os.makedirs("data", exist_ok=True)
if args.new == 0:
    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    print(f"wrote {path}")
else:
    frame = pd.read_csv(path)
    rng = np.random.default_rng(args.seed)
    rows = frame.sample(args.new, replace=True, random_state=args.seed).reset_index(drop=True)
    features = [c for c in frame.columns if c != "target"]
    rows[features] = rows[features] * (1 + rng.normal(0, 0.01, size=(args.new, len(features))))
    # A tracked file is a read-only link into the cache: write a new file, never in place.
    pd.concat([frame, rows]).to_csv(path + ".new", index=False)
    os.replace(path + ".new", path)
    print(f"appended {args.new} rows to {path} ({len(frame) + args.new} rows)")
