#!/usr/bin/env python3
"""Makes the xgboost fixtures of tests/runtime/xgboost_test.cc.

For each xgboost version below, a throwaway venv under /tmp gets that xgboost (the
`xgboost-cpu` wheel where one exists: it is a tenth of the size) and numpy, and this same
file is run inside it with --inside: it trains small models on deterministic synthetic
data and writes, under tests/runtime/fixtures/xgboost/<version>/:

  <name>.json, <name>.ubj   the model, saved by Booster.save_model
  <name>.rows.csv           the test rows (features as columns, "nan" for missing)
  <name>.pred.csv           xgboost's predictions, %.9g, one row per test row
  <name>.margin.csv         the same with output_margin=True

Models a version cannot train are not asked of it: multi_target (two regression targets)
needs 2.0, reg:absoluteerror and categorical splits 1.7. One that fails all the same is
skipped with a note on stderr.

Usage: tests/runtime/make_xgb_fixtures.py [VERSION...]   (default: all of VERSIONS)
Reproducible: the data come from numpy's legacy RandomState with fixed seeds, and
training uses nthread=1 and seeds, so the same version writes the same files.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "runtime", "fixtures", "xgboost")

# version -> the pip requirements of its venv
VERSIONS = {
    "1.7.6": ["xgboost==1.7.6", "numpy<2", "scipy<1.14"],
    "2.0.3": ["--no-deps", "xgboost==2.0.3", "numpy<2", "scipy<1.14"],  # no-deps: skips nvidia-nccl
    "2.1.4": ["xgboost-cpu==2.1.4", "numpy<2.2"],
    "3.0.5": ["xgboost-cpu==3.0.5", "numpy"],
    "3.2.0": ["xgboost-cpu==3.2.0", "numpy"],
}

TEST_ROWS = 40


def make_venv(version):
    venv = f"/tmp/forja-xgb-{version}"
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        reqs = VERSIONS[version]
        if reqs[0] == "--no-deps":  # numpy and scipy first, then xgboost alone
            subprocess.run([py, "-m", "pip", "install", "-q"] + reqs[2:], check=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", reqs[1]], check=True)
        else:
            subprocess.run([py, "-m", "pip", "install", "-q"] + reqs, check=True)
    return py


# ---- inside the venv ------------------------------------------------------------------

def data(seed, rows, features, nan_frac=0.0):
    import numpy as np
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(rows, features)).astype(np.float32)
    if nan_frac:
        X[rs.uniform(size=X.shape) < nan_frac] = np.nan
    return X, rs


def labels(X, rs, kind):
    import numpy as np
    z = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) ** 2 - np.nan_to_num(X[:, 2]) * 0.7
    if kind == "binary":
        return (z + rs.normal(scale=0.5, size=len(z)) > 0.3).astype(np.float32)
    if kind == "multi":
        return np.digitize(z, [-0.3, 0.8]).astype(np.float32)
    if kind == "count":
        return rs.poisson(np.exp(0.3 * np.clip(z, -3, 3))).astype(np.float32)
    if kind == "positive":
        return (np.exp(0.3 * np.clip(z, -3, 3)) + rs.uniform(0.01, 0.2, size=len(z))).astype(np.float32)
    if kind == "rank":
        return np.clip(np.round(z + 1), 0, 3).astype(np.float32)
    if kind == "reg2":
        return np.stack([z, np.nan_to_num(X[:, 3]) * 2 - z], axis=1).astype(np.float32)
    return (3.0 * z + 10 + rs.normal(scale=0.3, size=len(z))).astype(np.float32)


def models(xgb_version):
    """(name, label kind, params, rounds, features, nan fraction, categorical columns)."""
    major_minor = tuple(int(p) for p in xgb_version.split(".")[:2])
    base = {"max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 7}
    out = [
        ("binary_logistic", "binary", dict(base, objective="binary:logistic"), 20, 8, 0.15, 0),
        ("binary_logitraw", "binary", dict(base, objective="binary:logitraw"), 8, 5, 0.1, 0),
        ("binary_hinge", "binary", dict(base, objective="binary:hinge"), 8, 5, 0.0, 0),
        ("multi_softprob", "multi", dict(base, objective="multi:softprob", num_class=3), 10, 6, 0.1, 0),
        ("multi_softmax", "multi", dict(base, objective="multi:softmax", num_class=3), 6, 6, 0.0, 0),
        ("reg_squarederror", "reg", dict(base, objective="reg:squarederror"), 15, 6, 0.1, 0),
        ("reg_logistic", "binary", dict(base, objective="reg:logistic"), 8, 5, 0.0, 0),
        ("reg_pseudohubererror", "reg", dict(base, objective="reg:pseudohubererror"), 8, 5, 0.0, 0),
        ("count_poisson", "count", dict(base, objective="count:poisson"), 12, 6, 0.1, 0),
        ("reg_gamma", "positive", dict(base, objective="reg:gamma"), 8, 5, 0.0, 0),
        ("reg_tweedie", "positive", dict(base, objective="reg:tweedie", tweedie_variance_power=1.4), 8, 5, 0.0, 0),
        ("rank_pairwise", "rank", dict(base, objective="rank:pairwise"), 6, 5, 0.0, 0),
        ("rank_ndcg", "rank", dict(base, objective="rank:ndcg"), 6, 5, 0.0, 0),
        ("reg_squaredlogerror", "positive", dict(base, objective="reg:squaredlogerror"), 6, 5, 0.0, 0),
        ("survival_cox", "positive", dict(base, objective="survival:cox"), 6, 5, 0.0, 0),
        ("dart", "binary", dict(base, booster="dart", objective="binary:logistic", rate_drop=0.3,
                                skip_drop=0.0, sample_type="weighted"), 12, 6, 0.1, 0),
        ("forest", "reg", dict(base, objective="reg:squarederror", num_parallel_tree=3, subsample=0.7,
                               colsample_bynode=0.6), 4, 6, 0.1, 0),
        ("gblinear", "reg", {"booster": "gblinear", "objective": "reg:squarederror", "nthread": 1,
                             "seed": 7}, 10, 5, 0.0, 0),
    ]
    if major_minor >= (2, 0):
        # Two regression targets, one tree per target and round (tree_info tells which).
        out.append(("multi_target", "reg2", dict(base, objective="reg:squarederror", tree_method="hist",
                                                 multi_strategy="one_output_per_tree"), 6, 5, 0.0, 0))
    if major_minor >= (1, 7):
        out.append(("reg_absoluteerror", "reg", dict(base, objective="reg:absoluteerror"), 8, 5, 0.0, 0))
        # Two categorical columns (7 and 20 levels) so both one-hot and partition splits appear.
        out.append(("categorical", "reg", dict(base, objective="reg:squarederror", tree_method="hist",
                                               max_cat_to_onehot=8), 15, 6, 0.05, 2))
    return out


def train_one(xgb, np, name, kind, params, rounds, features, nan_frac, n_cat, outdir):
    X, rs = data(sum(map(ord, name)), 600 + TEST_ROWS, features, nan_frac)
    feature_types = None
    if n_cat:
        levels = [7, 20][:n_cat]
        for j, k in enumerate(levels):
            col = rs.randint(0, k, size=X.shape[0]).astype(np.float32)
            col[rs.uniform(size=X.shape[0]) < nan_frac] = np.nan
            X[:, features - n_cat + j] = col
        feature_types = ["q"] * (features - n_cat) + ["c"] * n_cat
    y = labels(X, rs, kind)
    if n_cat:  # make the categories matter
        c = np.nan_to_num(X[:, features - 1], nan=0)
        y = y + np.where(c % 3 == 0, 4.0, -2.0).astype(np.float32)
    train, test = X[:-TEST_ROWS], X[-TEST_ROWS:]
    kw = {"missing": np.nan}
    if feature_types:
        kw.update(feature_types=feature_types, enable_categorical=True)
    dtrain = xgb.DMatrix(train, label=y[:-TEST_ROWS], **kw)
    if kind == "rank":
        dtrain.set_group([20] * ((600) // 20))
    booster = xgb.train(params, dtrain, rounds)
    dtest = xgb.DMatrix(test, **kw)
    pred = booster.predict(dtest)
    margin = booster.predict(dtest, output_margin=True)
    booster.save_model(os.path.join(outdir, name + ".json"))
    booster.save_model(os.path.join(outdir, name + ".ubj"))
    np.savetxt(os.path.join(outdir, name + ".rows.csv"), test, fmt="%.9g", delimiter=",")
    np.savetxt(os.path.join(outdir, name + ".pred.csv"), pred.reshape(TEST_ROWS, -1), fmt="%.9g", delimiter=",")
    np.savetxt(os.path.join(outdir, name + ".margin.csv"), margin.reshape(TEST_ROWS, -1), fmt="%.9g",
               delimiter=",")


def inside(version):
    import numpy as np
    import xgboost as xgb
    assert xgb.__version__ == version, (xgb.__version__, version)
    outdir = os.path.join(OUT, version)
    os.makedirs(outdir, exist_ok=True)
    for spec in models(version):
        try:
            train_one(xgb, np, *spec, outdir)
        except Exception as e:  # a model this version cannot make: say so and go on
            print(f"xgboost {version}: skipped {spec[0]}: {e}", file=sys.stderr)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        inside(sys.argv[2])
        return
    for version in sys.argv[1:] or list(VERSIONS):
        print(f"xgboost {version}: venv", file=sys.stderr, flush=True)
        py = make_venv(version)
        subprocess.run([py, os.path.abspath(__file__), "--inside", version], check=True)
        print(f"xgboost {version}: written to {os.path.join(OUT, version)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
