#!/usr/bin/env python3
"""forja's hydra node against Hydra's, override set by override set.

For tests/config/hydra_app/conf and each override list below, Hydra's compose
API (hydra-core in this Python, return_hydra_config=True) and
`forja config show --json --hydra -p hydra` must give the same
job.override_dirname, runtime.choices (in order), overrides.task,
overrides.hydra, job.name, job.config_name, job.chdir, output_subdir and
runtime.cwd; run.dir and sweep.dir must have the same shape (forja's are
resolved: a timestamp where Hydra has ${now:...}).

Usage: hydra_app_runtime_check.py --forja PATH/TO/forja   (exit 77 without hydra-core)
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "hydra_app", "conf")

CASES = [
    [],
    ["model=cnn", "seed=3", "+extra.key=v", "~trainer.lr"],
    ["trainer=fast", "data=cifar", "hydra.job.config.override_dirname.kv_sep=_",
     "hydra.job.config.override_dirname.item_sep=/"],
    ["hydra.job.config.override_dirname.exclude_keys=[model,seed]", "model=cnn", "seed=1", "data=cifar"],
    ["model=cnn", "trainer.lr=1e-3", "+tags=[a,b]", "paths.data_root='/x y'", "+note='a=b'"],
    ["hydra/launcher=basic", "model=cnn", "hydra.run.dir=out/${model.name}", "hydra.job.chdir=true"],
    ["hydra.job.name=train", "hydra.output_subdir=null", "data=cifar"],
    ["++seed=5", "+model.extra={a: 1}", "data.batch_size=32"],
]

KEYS = ["job.override_dirname", "overrides.task", "overrides.hydra", "job.name", "job.config_name",
        "job.chdir", "output_subdir", "runtime.cwd"]


def select(d, key):
    for part in key.split("."):
        if not isinstance(d, dict) or part not in d:
            return "<absent>"
        d = d[part]
    return d


def shape(path):
    return re.sub(r"\d{4}-\d{2}-\d{2}/\d{2}-\d{2}-\d{2}", "${now:%Y-%m-%d}/${now:%H-%M-%S}", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forja", required=True)
    args = ap.parse_args()
    try:
        from hydra import compose, initialize_config_dir
        from omegaconf import OmegaConf
    except ImportError:
        print("hydra-core is not installed in this Python; skipped", file=sys.stderr)
        return 77
    failures = 0
    with initialize_config_dir(config_dir=CONF, version_base=None, job_name="app"):
        for overrides in CASES:
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
            h = OmegaConf.to_container(cfg.hydra, resolve=False)
            p = subprocess.run([args.forja, "config", "show", "--json", "--hydra", "-p", "hydra", "--config-dir",
                                CONF, "--job-name", "app", "--"] + overrides,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                print("FAIL %s: forja failed: %s" % (overrides, p.stderr.strip()))
                failures += 1
                continue
            f = json.loads(p.stdout)
            got = {k: select(f, k) for k in KEYS}
            # @hydra.main (which forja follows) appends hydra.mode=RUN; the compose API does not.
            if got["overrides.hydra"][-1:] == ["hydra.mode=RUN"]:
                got["overrides.hydra"] = got["overrides.hydra"][:-1]
            want = {k: select(h, k) for k in KEYS}
            got["runtime.choices"] = list(f["runtime"]["choices"].items())
            want["runtime.choices"] = list(h["runtime"]["choices"].items())
            for k in ("run.dir", "sweep.dir"):
                got[k], want[k] = select(f, k), select(h, k)
                want[k] = want[k].replace("${model.name}", cfg.model.name) if isinstance(
                    want[k], str) else want[k]
                got[k] = shape(got[k])
            for k in want:
                if got[k] != want[k]:
                    print("FAIL %s: hydra.%s is %r in forja, %r in Hydra" % (overrides, k, got[k], want[k]))
                    failures += 1
    if failures:
        return 1
    print("ok: %d override sets, forja's hydra node agrees with Hydra's" % len(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
