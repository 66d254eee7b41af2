#!/usr/bin/env python3
"""Makes the LightGBM fixtures of tests/runtime/lightgbm_test.cc.

For each LightGBM version below, a throwaway venv under /tmp gets that LightGBM and numpy,
and this same file is run inside it with --inside: it trains small models on deterministic
synthetic data and writes, under tests/runtime/fixtures/lightgbm/<version>/:

  <name>.txt         the model, saved by Booster.save_model (LightGBM's text format)
  <name>.rows.csv    the test rows (features as columns, "nan" for missing); every value is
                     a float32 (forja's rows are float32), so LightGBM sees the same numbers
  <name>.pred.csv    LightGBM's predictions, %.17g, one row per test row
  <name>.raw.csv     the same with raw_score=True
  binary.iter3.pred.csv   binary's predictions with num_iteration=3
  <name>.json        for the models of JSON_DUMPS: the same model as Booster.dump_model() gives it

and the seeds of fuzz/lightgbm_model_fuzz.cc, fuzz/corpus/lightgbm_model_fuzz/<version>-<name>.txt
(versions 3.3.5 and 4.6.0): the same models with 2 rounds of 4 leaves, cut after "end of trees",
a truncated one, and three as JSON dumps (<version>-<name>.json).

The test rows hold NaN, zeros (+0 and -0), values below LightGBM's zero threshold (1e-35),
values at the split thresholds' neighbours, and for categorical features unseen, negative,
fractional and huge categories.

Usage: tests/runtime/make_lightgbm_fixtures.py [VERSION...]   (default: all of VERSIONS)
Reproducible: data from numpy's legacy RandomState with fixed seeds, training with
num_threads=1, deterministic=true and seeds.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "runtime", "fixtures", "lightgbm")

# version -> the pip requirements of its venv (3.3.5 needs numpy 1 and the scikit-learn of its time)
VERSIONS = {
    "3.3.5": ["lightgbm==3.3.5", "numpy<2", "scipy<1.14", "scikit-learn<1.6"],
    "4.1.0": ["lightgbm==4.1.0", "numpy<2"],
    "4.6.0": ["lightgbm==4.6.0", "numpy"],
}

TEST_ROWS = 48
# The models also written as LightGBM's JSON dump (the rest would only repeat them).
JSON_DUMPS = ["binary", "no_missing", "zero_as_missing", "multiclass", "regression_sqrt", "rf", "categorical",
              "linear_tree", "stump", "quantile"]
ROUNDS = 8


def make_venv(version):
    venv = f"/tmp/forja-lgb-{version}"
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q"] + VERSIONS[version], check=True)
    return py


# ---- inside the venv ------------------------------------------------------------------

def features(seed, rows, n, nan_frac=0.0, zero_frac=0.0):
    import numpy as np
    rs = np.random.RandomState(seed)
    x = rs.normal(size=(rows, n)).astype(np.float32)
    if zero_frac:
        x[rs.uniform(size=x.shape) < zero_frac] = 0.0
    if nan_frac:
        x[rs.uniform(size=x.shape) < nan_frac] = np.nan
    return x


def test_rows(x_train, seed, categorical=()):
    """Rows like the training rows, plus the edge cases a decision turns on."""
    import numpy as np
    rs = np.random.RandomState(seed)
    n = x_train.shape[1]
    rows = x_train[rs.randint(0, len(x_train), TEST_ROWS)].copy()
    edge = [np.nan, 0.0, -0.0, 1e-36, -1e-36, 1e-30, 3.0e38, -3.0e38, np.inf, -np.inf]
    for i in range(TEST_ROWS // 2):
        f = rs.randint(0, n)
        rows[i, f] = edge[i % len(edge)]
    for f in categorical:
        cats = [0, 1, 2, 3, 7, 9, 31, 32, 33, 63, 64, 1000, -1, -5, 2.7, 1e10, np.nan, 0.5]
        for i in range(TEST_ROWS // 2, TEST_ROWS):
            rows[i, f] = cats[(i + f) % len(cats)]
    return rows.astype(np.float32)


def write_csv(path, arr):
    import numpy as np
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    with open(path, "w") as f:
        for row in arr:
            f.write(",".join("nan" if np.isnan(v) else "%.17g" % v for v in row) + "\n")


def write_rows(path, rows):
    import numpy as np
    with open(path, "w") as f:
        for row in rows:
            f.write(",".join("nan" if np.isnan(v) else "%.9g" % v for v in row) + "\n")


def models():
    """name -> (params, x, y, group, categorical)"""
    import numpy as np
    out = {}
    x = features(1, 400, 6, nan_frac=0.1)
    logit = x[:, 0] - 0.5 * np.nan_to_num(x[:, 1]) + np.where(np.isnan(x[:, 2]), 1.0, 0.0)
    ybin = (np.nan_to_num(logit) + np.random.RandomState(2).normal(size=400) * 0.5 > 0).astype(float)
    base = {"num_leaves": 15, "min_data_in_leaf": 5, "learning_rate": 0.3}
    out["binary"] = ({"objective": "binary", **base}, x, ybin, None, ())
    out["binary_sigmoid2"] = ({"objective": "binary", "sigmoid": 2.0, **base}, x, ybin, None, ())
    out["cross_entropy"] = ({"objective": "cross_entropy", **base}, x, ybin, None, ())
    out["cross_entropy_lambda"] = ({"objective": "cross_entropy_lambda", **base}, x, ybin, None, ())
    xz = features(3, 400, 6, zero_frac=0.3)
    yz = ((xz[:, 0] == 0) ^ (xz[:, 1] > 0.2)).astype(float)
    out["zero_as_missing"] = ({"objective": "binary", "zero_as_missing": True, **base}, xz, yz, None, ())
    out["no_missing"] = ({"objective": "binary", "use_missing": False, **base}, x, ybin, None, ())
    ymc = (np.nan_to_num(x[:, 0]) > 0.3).astype(int) + (np.nan_to_num(x[:, 3]) > 0).astype(int)
    out["multiclass"] = ({"objective": "multiclass", "num_class": 3, **base}, x, ymc, None, ())
    out["multiclassova"] = ({"objective": "multiclassova", "num_class": 3, **base}, x, ymc, None, ())
    yreg = np.nan_to_num(x[:, 0]) * 2 + np.nan_to_num(x[:, 1]) ** 2 + np.random.RandomState(4).normal(size=400) * 0.1
    for obj in ["regression", "regression_l1", "huber", "fair", "quantile", "mape"]:
        out[obj] = ({"objective": obj, **base}, x, yreg, None, ())
    out["regression_sqrt"] = ({"objective": "regression", "reg_sqrt": True, **base}, x, yreg, None, ())
    ycount = np.random.RandomState(5).poisson(np.exp(0.5 * np.nan_to_num(x[:, 0]))).astype(float)
    for obj in ["poisson", "tweedie"]:
        out[obj] = ({"objective": obj, **base}, x, ycount, None, ())
    out["gamma"] = ({"objective": "gamma", **base}, x, ycount + 0.5, None, ())
    yrank = np.clip(np.round(np.nan_to_num(x[:, 0]) + 1.5), 0, 3).astype(int)
    group = [20] * 20
    out["lambdarank"] = ({"objective": "lambdarank", **base}, x, yrank, group, ())
    out["rank_xendcg"] = ({"objective": "rank_xendcg", **base}, x, yrank, group, ())
    out["rf"] = ({"objective": "binary", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7,
                  "feature_fraction": 0.8, **base}, x, ybin, None, ())
    out["dart"] = ({"objective": "binary", "boosting": "dart", "drop_rate": 0.3, **base}, x, ybin, None, ())
    xc = features(6, 600, 5, nan_frac=0.05)
    rs = np.random.RandomState(7)
    xc[:, 1] = rs.randint(0, 40, 600)
    xc[:, 3] = rs.randint(0, 8, 600)
    xc[rs.uniform(size=600) < 0.05, 3] = np.nan
    yc = (np.isin(xc[:, 1], [1, 3, 5, 8, 13, 21, 34]) | (xc[:, 3] == 2)).astype(float)
    yc = np.where(np.nan_to_num(xc[:, 0]) > 1.5, 1 - yc, yc)
    cat = {"objective": "binary", "num_leaves": 15, "min_data_in_leaf": 5, "min_data_per_group": 5,
           "cat_smooth": 1.0, "max_cat_to_onehot": 4, "learning_rate": 0.3}
    out["categorical"] = (cat, xc, yc, None, (1, 3))
    out["categorical_multiclass"] = ({**cat, "objective": "multiclass", "num_class": 3}, xc,
                                     (yc + (xc[:, 3] == 5)).astype(int), None, (1, 3))
    out["linear_tree"] = ({"objective": "regression", "linear_tree": True, **base}, x, yreg, None, ())
    out["stump"] = ({"objective": "regression", "num_leaves": 2, "min_data_in_leaf": 500}, x, yreg, None, ())
    return out


def inside(version):
    import numpy as np
    import lightgbm as lgb
    assert lgb.__version__ == version, (lgb.__version__, version)
    out = os.path.join(OUT, version)
    os.makedirs(out, exist_ok=True)
    for name, (params, x, y, group, categorical) in models().items():
        p = {**params, "num_threads": 1, "deterministic": True, "seed": 7, "verbose": -1}
        try:
            ds = lgb.Dataset(x, y, group=group, categorical_feature=list(categorical) or "auto",
                             free_raw_data=False)
            booster = lgb.train(p, ds, num_boost_round=ROUNDS)
        except Exception as e:  # a version that cannot train it: no fixture, said on stderr
            print(f"{version} {name}: skipped ({e})", file=sys.stderr)
            continue
        path = os.path.join(out, name + ".txt")
        booster.save_model(path)
        loaded = lgb.Booster(model_file=path)  # what a user serving the file gets
        rows = test_rows(x, 11, categorical)
        x64 = rows.astype(np.float64)
        write_rows(os.path.join(out, name + ".rows.csv"), rows)
        write_csv(os.path.join(out, name + ".pred.csv"), loaded.predict(x64))
        write_csv(os.path.join(out, name + ".raw.csv"), loaded.predict(x64, raw_score=True))
        if name == "binary":
            write_csv(os.path.join(out, name + ".iter3.pred.csv"), loaded.predict(x64, num_iteration=3))
        if name in JSON_DUMPS:
            import json
            with open(os.path.join(out, name + ".json"), "w") as f:
                json.dump(loaded.dump_model(), f)
    if version in ("3.3.5", "4.6.0"):
        write_seeds(version)
    print(f"{version}: wrote {out}")


def write_seeds(version):
    import lightgbm as lgb
    seeds = os.path.join(ROOT, "fuzz", "corpus", "lightgbm_model_fuzz")
    os.makedirs(seeds, exist_ok=True)
    all_models = models()
    for name in ["binary", "multiclass", "categorical", "linear_tree", "rf", "zero_as_missing"]:
        params, x, y, group, categorical = all_models[name]
        p = {**params, "num_leaves": 4, "num_threads": 1, "deterministic": True, "seed": 7, "verbose": -1}
        ds = lgb.Dataset(x, y, group=group, categorical_feature=list(categorical) or "auto")
        booster = lgb.train(p, ds, num_boost_round=2)
        if name in ("binary", "categorical", "linear_tree"):
            import json
            with open(os.path.join(seeds, f"{version}-{name}.json"), "w") as f:
                json.dump(booster.dump_model(), f)
        text = booster.model_to_string()
        text = text[: text.index("end of trees") + len("end of trees\n")]
        with open(os.path.join(seeds, f"{version}-{name}.txt"), "w") as f:
            f.write(text)
        if name == "binary":
            with open(os.path.join(seeds, f"{version}-truncated.txt"), "w") as f:
                f.write(text[: len(text) // 2])


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--inside":
        inside(sys.argv[2])
        return
    for version in sys.argv[1:] or list(VERSIONS):
        py = make_venv(version)
        subprocess.run([py, os.path.abspath(__file__), "--inside", version], check=True)


if __name__ == "__main__":
    main()
