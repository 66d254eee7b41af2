#!/usr/bin/env python3
"""Drop-in benchmark (issue 14): forja's drop-in paths against the tools users run today, on
the same machine in the same run, each phase with the same inputs, several repetitions, median.

  dvc     a DVC 3 repository made by the script (dvc.yaml: 5 stages, one a foreach of 2, so 6
          stages; params.yaml; `dvc add` of a folder of BENCH_DVC_FILES small files and one file
          of BENCH_DVC_BIG_MIB MiB; `dvc repro`; `dvc push` to a folder remote; committed).
          Fresh clones with empty caches: `dvc pull` against `forja import dvc` + `forja pull`
          (each, and the sum), the pulled trees compared byte for byte with the original. In
          those pulled clones: no-op `dvc status` vs `forja status --pipeline` and `dvc repro`
          vs `forja run`; then `train.n_est` changed (a new value each time, so no run cache
          hits): `dvc repro` vs `forja run`, outputs compared. Stage commands are cheap shell
          one-liners, so orchestration dominates.
  hydra   one app (3 config groups, ${hydra:...} interpolations) under `@hydra.main` (hydra-core
          1.3.8) and `@forja.main` (python/forja-hydra on PYTHONPATH): the wall time of the whole
          `python app.py ...` process per launch, and of a 20-job multirun (`-m`) with a trivial
          task; the composed configs are compared.
  mlflow  a training script (run, 20 params, 1,000 metric points in 10 log_batch calls, a 1 MiB
          artifact, sklearn.log_model with registered_model_name, pyfunc.load_model of
          models:/NAME/1) against `mlflow server` (SQLite, --artifacts-destination) and
          `forja server` started outside a workspace with its defaults; per-phase times measured
          inside the script. log_model gets pip_requirements so that MLflow's requirement
          inference subprocess (client-side, the same for both) does not drown the server's part.

The ratio column is the peer's time over forja's: above 1 forja is faster.

Usage: .venv/bin/python bench/dropin [--quick] [--sections dvc,hydra,mlflow]
Environment:
  BENCH_DIR          scratch folder (default /tmp/forja-bench-dropin); removed unless BENCH_KEEP=1
  BENCH_DVC_FILES    small files in the DVC data folder (default 3000; --quick 300)
  BENCH_DVC_BIG_MIB  size of the big file (default 200; --quick 16)
  BENCH_REPS         repetitions of the quick phases (default 5; --quick 2); pulls and
                     multiruns get 3 (--quick 1)
  BENCH_FORJA, BENCH_DVC, BENCH_MLFLOW, BENCH_PYTHON   the binaries (defaults: build/, .venv/)
  BENCH_OUT          where the Markdown goes (default bench/out/dropin.md; --quick dropin-quick.md)
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _private_forja():
    """A copy of the forja binary for this run: a rebuild during the run (others share the
    checkout) must not swap or remove the binary under the benchmark."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = os.environ.get("BENCH_FORJA", os.path.join(root, "build/src/forja/cli/forja"))
    scratch = os.path.abspath(os.environ.get("BENCH_DIR", "/tmp/forja-bench-dropin"))
    if not os.access(src, os.X_OK):
        sys.exit(f"bench/dropin: {src} is missing (build forja: ninja -C build forja)")
    os.makedirs(os.path.join(scratch, "bin"), exist_ok=True)
    dst = os.path.join(scratch, "bin", "forja")
    shutil.copy2(src, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    os.environ["BENCH_FORJA"] = dst


_private_forja()
from common import DVC, FORJA, MLFLOW, PYTHON, ROOT, log  # noqa: E402
import dvc_phase  # noqa: E402
import hydra_phase  # noqa: E402
import mlflow_phase  # noqa: E402


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def header():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = version(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    pyv = lambda mod: version([PYTHON, "-c", f"import {mod}; print({mod}.__version__)"])  # noqa: E731
    return (f"Machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; load average at the start "
            f"{os.getloadavg()[0]:.2f}.\n"
            f"Versions: forja {commit} ({version([FORJA, '--version'])}); DVC {version([DVC, '--version'])}; "
            f"hydra-core {pyv('hydra')}; MLflow {pyv('mlflow')}; scikit-learn {pyv('sklearn')}; "
            f"Python {version([PYTHON, '-c', 'import platform; print(platform.python_version())'])}.\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="dvc,hydra,mlflow")
    a = ap.parse_args()
    sections = a.sections.split(",")
    reps = int(os.environ.get("BENCH_REPS", "2" if a.quick else "5"))
    heavy = 1 if a.quick else 3
    n_files = int(os.environ.get("BENCH_DVC_FILES", "300" if a.quick else "3000"))
    big_mib = int(os.environ.get("BENCH_DVC_BIG_MIB", "16" if a.quick else "200"))
    scratch = os.path.abspath(os.environ.get("BENCH_DIR", "/tmp/forja-bench-dropin"))
    out_path = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench/out", "dropin-quick.md" if a.quick else "dropin.md"))
    for tool in (FORJA, DVC, MLFLOW, PYTHON):
        if not os.access(tool, os.X_OK):
            sys.exit(f"bench/dropin: {tool} is missing (build forja; run scripts/setup)")
    os.makedirs(scratch, exist_ok=True)
    text = "## drop-in: forja against DVC, Hydra and MLflow (issue 14)\n\n" + header() + "\n"
    log(text.strip())
    ok = True
    if "dvc" in sections:
        t, checks, same = dvc_phase.bench(scratch, {"noop": reps, "param": reps, "pull": heavy}, n_files, big_mib)
        ok &= same and all(c.startswith("byte-identical") for c in checks.values())
        text += t + "\n"
    if "hydra" in sections:
        t, same = hydra_phase.bench(scratch, {"launch": max(reps, 5) if not a.quick else reps, "multirun": heavy})
        ok &= same
        text += t + "\n"
    if "mlflow" in sections:
        text += mlflow_phase.bench(scratch, reps) + "\n"
    text += f"Load average at the end: {os.getloadavg()[0]:.2f}. Ratio = peer's time / forja's (above 1: forja faster).\n"
    print(text)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    log(f"wrote {out_path}")
    if os.environ.get("BENCH_KEEP") != "1":
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
