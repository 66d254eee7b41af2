#!/usr/bin/env python3
"""forja's per-column drift verdicts equal Evidently's DataDriftPreset's on the same data.

Runs in .venv-evidently (scripts/setup: evidently==0.7.23 with pandas < 3). For several shifts
(none, mean shift, variance change, new categories, missing values) at three sizes (500 rows on
both sides: the p-value tests; 5000: the distances; 800 against 12,000: asymptotic KS p-values), it writes reference.csv and current.csv, runs
Evidently on the frames pandas reads back from them, and forja_monitor_drift_tool (env
DRIFT_TOOL) on the files, and wants for every column the same method, the same verdict and the
same score (to 1e-6 relative), and the same dataset drift share. It also prints how often the
binned comparison live serving makes (--binned) agrees; that is not asserted.
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

TOOL = os.environ.get("DRIFT_TOOL")
# scipy's chisquare divides by a zero expected count for a new category (the statistic is then
# infinite, as intended); Evidently's numpy warnings about it are noise here.
warnings.filterwarnings("ignore")
np.seterr(all="ignore")

# Evidently's display names -> forja's method names, and which are p-values.
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def evidently_drifted(method, score, threshold):
    # The comparisons of each stattest in evidently/legacy/calculations/stattests/.
    if method == "ks":
        return score <= threshold
    if method in ("chisquare", "z"):
        return score < threshold
    return score >= threshold


def frame(rng, n):
    return pd.DataFrame({
        "x": rng.normal(0, 1, n),                                          # float
        "spread": rng.normal(10, 2, n),                                    # float
        "count": rng.integers(0, 100, n),                                  # int64, > 10 values: numeric
        "level": rng.choice([1.5, 2.5, 3.5], n),                           # numeric, 3 values
        "switch": rng.choice([0.0, 1.0], n, p=[0.7, 0.3]),                 # numeric, 2 values
        "color": rng.choice(["red", "green", "blue", "black"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "flag": rng.choice(["yes", "no"], n, p=[0.6, 0.4]),                # categorical, 2 values
        "grade": rng.choice([1, 2, 3, 4, 5], n),                           # int64, <= 10 values: categorical
        "steady": np.full(n, 2.5),                                         # constant
        "city": rng.choice([f"c{i:02d}" for i in range(40)], n),           # categorical, many values
    })


def shifted(rng, n, shift):
    df = frame(rng, n)
    if shift == "mean":
        df["x"] += 0.5
        df["spread"] += 1.0
        df["count"] += 10
        df["level"] = rng.choice([1.5, 2.5, 3.5], n, p=[0.2, 0.3, 0.5])
    elif shift == "variance":
        df["x"] *= 2
        df["spread"] = 10 + (df["spread"] - 10) * 0.3
    elif shift == "new_categories":
        df.loc[rng.random(n) < 0.05, "steady"] = 3.5
        df.loc[rng.random(n) < 0.2, "city"] = "c99"
        new = rng.random(n) < 0.15
        df.loc[new, "color"] = rng.choice(["purple", "orange"], int(new.sum()))
        df.loc[rng.random(n) < 0.1, "grade"] = 6
        df.loc[rng.random(n) < 0.1, "level"] = 4.5
    elif shift == "missing":
        for column in ("x", "count", "level", "switch", "color", "flag"):
            df.loc[rng.random(n) < 0.2, column] = np.nan
    return df


def evidently_verdicts(reference, current):
    snapshot = Report([DataDriftPreset()]).run(current, reference).dict()
    columns, share = {}, None
    for m in snapshot["metrics"]:
        config = m["config"]
        if config["type"].endswith("ValueDrift"):
            method = METHODS[config["method"]]
            columns[config["column"]] = (method, m["value"], evidently_drifted(method, m["value"], config["threshold"]))
        elif config["type"].endswith("DriftedColumnsCount"):
            share = m["value"]["share"]
    return columns, share


def forja_verdicts(ref_path, cur_path, binned=False):
    args = [TOOL, ref_path, cur_path] + (["--binned"] if binned else [])
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {out.stderr}")
    doc = json.loads(out.stdout)
    return {c["name"]: c for c in doc["columns"]}, doc["share"]


def close(a, b, relative=1e-6):
    return a == b or (a is not None and b is not None and abs(a - b) <= 1e-9 + relative * abs(b))


def main():
    if not TOOL:
        print("DRIFT_TOOL is not set (ctest sets it)", file=sys.stderr)
        return 2
    problems, checked, binned_agree, binned_total = [], 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, m in ((500, 500), (5000, 5000), (800, 12000)):
            for seed, shift in enumerate(("none", "mean", "variance", "new_categories", "missing")):
                rng = np.random.default_rng(1000 * n + seed)
                ref_path = os.path.join(tmp, f"ref-{n}-{shift}.csv")
                cur_path = os.path.join(tmp, f"cur-{n}-{shift}.csv")
                frame(rng, n).to_csv(ref_path, index=False)
                shifted(rng, m, shift).to_csv(cur_path, index=False)
                reference, current = pd.read_csv(ref_path), pd.read_csv(cur_path)
                theirs, their_share = evidently_verdicts(reference, current)
                ours, our_share = forja_verdicts(ref_path, cur_path)
                live, _ = forja_verdicts(ref_path, cur_path, binned=True)
                where = f"n={n}/{m} shift={shift}"
                # Over 10,000 values ks_2samp's p-value is asymptotic; forja approximates scipy's
                # kstwo there (stats.h): the verdicts must agree, the p-values to 2%.
                tolerance = 0.02 if max(n, m) > 10000 else 1e-6
                if set(theirs) != set(ours):
                    problems.append(f"{where}: columns {sorted(theirs)} (Evidently) vs {sorted(ours)} (forja)")
                    continue
                drifted = []
                for column, (method, score, drift) in sorted(theirs.items()):
                    mine = ours[column]
                    checked += 1
                    if mine["method"] != method or (mine["verdict"] == "drift") != drift or not close(mine["score"], score, tolerance):
                        problems.append(f"{where} column {column}: Evidently {method} {score!r} drift={drift}; "
                                        f"forja {mine['method']} {mine['score']!r} {mine['verdict']}")
                    if drift:
                        drifted.append(column)
                    binned_total += 1
                    if (live[column]["verdict"] == "drift") == drift:
                        binned_agree += 1
                    else:
                        print(f"  binned differs: {where} column {column}: {live[column]['method']} "
                              f"{live[column]['score']!r} vs exact {mine['score']!r}")
                if not close(our_share, their_share):
                    problems.append(f"{where}: dataset drift share {our_share} (forja) vs {their_share} (Evidently)")
                print(f"{where}: drifted {drifted or 'none'}")
    print(f"{checked} column verdicts compared; the binned (live) comparison agrees on {binned_agree} of {binned_total}")
    for p in problems:
        print("MISMATCH", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
