"""Section 2: one Hydra app under @hydra.main and under @forja.main."""

import json
import os

from common import FORJA, PYTHON, ROOT, Failed, fresh, log, median, run, table

CONF = {
    "config.yaml": "defaults:\n  - model: cnn\n  - trainer: default\n  - data: mnist\n  - _self_\n\n"
                   "seed: 0\nname: ${model.name}-${data.name}\n"
                   "paths:\n  output_dir: ${hydra:runtime.output_dir}\n  data_dir: ${hydra:runtime.cwd}/data\n",
    "model/cnn.yaml": "name: cnn\nwidth: 64\nlayers: [32, 64, 128]\ndropout: 0.1\n",
    "model/mlp.yaml": "name: mlp\nwidth: 256\nlayers: [256, 256]\ndropout: 0.0\n",
    "trainer/default.yaml": "epochs: 10\nlr: 0.001\nbatch_size: 64\noptimizer: {name: adam, betas: [0.9, 0.999]}\n",
    "trainer/fast.yaml": "epochs: 1\nlr: 0.01\nbatch_size: 256\noptimizer: {name: sgd, momentum: 0.9}\n",
    "data/mnist.yaml": "name: mnist\nsize: 60000\nroot: ${paths.data_dir}/mnist\n",
    "data/cifar.yaml": "name: cifar\nsize: 50000\nroot: ${paths.data_dir}/cifar\n",
}

APP = '''import json
import os
if os.environ.get("BENCH_IMPORT") == "forja":
    import forja as hydra
else:
    import hydra
from omegaconf import OmegaConf


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg):
    # Trivial task: what a real app does first (read a few values, resolve the config).
    resolved = OmegaConf.to_container(cfg, resolve=True)
    if os.environ.get("BENCH_PRINT"):
        resolved["paths"] = {}   # the output folder's time stamp differs by run
        resolved["data"].pop("root")
        print(json.dumps(resolved, sort_keys=True))
    return cfg.trainer.lr * cfg.model.width


if __name__ == "__main__":
    main()
'''

OVERRIDES = ["model=mlp", "data=cifar", "trainer=fast", "trainer.lr=0.02", "seed=7", "+extra.tag=bench"]
SWEEP = ["-m", "model=cnn,mlp", "seed=" + ",".join(str(i) for i in range(10))]


def bench(scratch, reps):
    app = fresh(os.path.join(scratch, "hydra-app"))
    for rel, text in CONF.items():
        p = os.path.join(app, "conf", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    with open(os.path.join(app, "app.py"), "w") as f:
        f.write(APP)
    base = {k: v for k, v in os.environ.items() if k not in ("FORJA_PARAMS", "FORJA_HYDRA", "PYTHONPATH")}
    envs = {"hydra": dict(base, BENCH_IMPORT="hydra"),
            "forja": dict(base, BENCH_IMPORT="forja", FORJA=FORJA,
                          PYTHONPATH=os.path.join(ROOT, "python/forja-hydra"))}
    logf = os.path.join(scratch, "logs", "hydra.log")
    os.makedirs(os.path.dirname(logf), exist_ok=True)

    # Same config from both (checked once, untimed).
    import subprocess
    outs = {}
    for who, env in envs.items():
        p = subprocess.run([PYTHON, "app.py"] + OVERRIDES, cwd=app, env=dict(env, BENCH_PRINT="1"),
                           capture_output=True, text=True, timeout=120)
        outs[who] = p.stdout.strip() if p.returncode == 0 else f"exit {p.returncode}: {p.stderr[-300:]}"
    same = outs["hydra"] == outs["forja"]
    log(f"hydra: composed configs {'equal' if same else 'DIFFER'}: hydra {outs['hydra'][:200]} / forja {outs['forja'][:200]}")

    cases = [
        ("python + import only (`import hydra` / `import forja`)", lambda who: [PYTHON, "-c", f"import {who}"], reps["launch"]),
        ("one launch, 6 overrides", lambda who: [PYTHON, "app.py"] + OVERRIDES, reps["launch"]),
        ("multirun `-m`, 20 jobs", lambda who: [PYTHON, "app.py"] + SWEEP, reps["multirun"]),
    ]
    rows = []
    for label, cmd, n in cases:
        times = {"hydra": [], "forja": []}
        for who in ("hydra", "forja"):  # warm-up: page cache, .pyc files
            run(cmd(who), app, envs[who], logf, check=False)
        err = {}
        for _ in range(n):
            for who in ("hydra", "forja"):
                try:
                    times[who].append(run(cmd(who), app, envs[who], logf))
                except Failed as e:
                    err[who] = f"failed: {e}"
        cell = {w: err.get(w) or median(times[w]) for w in times}
        log(f"hydra: {label}: {cell}")
        rows.append((label, cell["forja"], cell["hydra"], f"median of {n}"))
    note = "composed configs identical" if same else "composed configs DIFFER (see log)"
    rows[1] = rows[1][:3] + (rows[1][3] + "; " + note,)
    return table("Hydra 1.3.8 `@hydra.main` vs `@forja.main` (wall time of the whole `python app.py ...` process)",
                 "Hydra", rows), same
