#!/usr/bin/env python3
"""A Hydra app moves to forja by changing one import: tests/config/hydra_app/app.py
run (a) with real @hydra.main (hydra-core in this Python), (b) with @forja.main
from python/forja-hydra pip-installed into a throwaway virtualenv (offline), and
(c) as a `forja run` stage; the configs it is called with must be the same.

What differs by nature is compared by shape: the working folder (each run has
its own) and the timestamps of output folders (<date>/<time>). Under (c) the
config is the run's, composed by forja run: job.name is the config's name (no
script to name the job after) and ${hydra:mode} is the string RUN (Hydra gives
its RunMode enum, whose str() is RunMode.RUN).

Usage: hydra_app_test.py --forja PATH/TO/forja   (exit 77 when hydra-core is missing)
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "hydra_app")
PACKAGE = os.path.join(HERE, "..", "..", "python", "forja-hydra")
NOTICE = "ignoring Hydra settings forja does not implement"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}/\d{2}-\d{2}-\d{2}")

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def run(cmd, cwd, env=None, ok=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ok and p.returncode != 0:
        raise SystemExit("%s failed (exit %d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


def normalized(text, cwd):
    return STAMP.sub("<date>/<time>", text.replace(cwd, "<cwd>"))


def make_venv(tmp):
    """A virtualenv that sees this Python's packages (omegaconf) through a .pth
    file, with the forja package pip-installed from the source tree, offline."""
    venv = os.path.join(tmp, "venv")
    run([sys.executable, "-m", "venv", venv], tmp)
    py = os.path.join(venv, "bin", "python")
    purelib = run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    with open(os.path.join(purelib, "base_packages.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", os.path.abspath(PACKAGE)], tmp)
    where = run([py, "-c", "import forja.main, forja; print(forja.__file__)"], tmp).stdout.strip()
    check(where.startswith(venv), "forja is imported from the venv, not " + where)
    return py


def app_run(py, cwd, args, forja_main, forja_bin, ok=True):
    """Runs the app in cwd (a copy of tests/config/hydra_app); returns the process."""
    env = dict(os.environ)
    env.pop("FORJA_PARAMS", None)
    env.pop("FORJA_HYDRA", None)
    if forja_main:
        env["FORJA_HYDRA_APP_IMPORT"] = "forja"
        env["FORJA"] = forja_bin
    return run([py, "app.py"] + args, cwd, env, ok)


def workdir(tmp, name):
    d = os.path.join(tmp, name)
    shutil.copytree(APP, d)
    return d


def compare_runs(tmp, py, forja_bin):
    cases = [
        [],
        ["model=cnn", "data=cifar", "seed=7", "trainer.lr=0.01"],
        ["trainer=fast", "hydra.run.dir=runs/${model.name}", "+extra=1", "hydra.job.name=train"],
        ["hydra.job.chdir=true", "hydra.run.dir=chdir_out", "model=cnn"],
        ["-m", "model=cnn,mlp", "seed=1", "hydra.sweep.dir=sweep"],
        ["-m", "data=mnist,cifar", "trainer=fast"],
        ["--cfg", "job", "model=cnn"],
        ["--cfg", "job", "--resolve", "model=cnn"],
        ["--cfg", "hydra", "-p", "hydra.job", "model=cnn", "seed=2"],
        ["--cfg", "all", "-p", "hydra.runtime.choices", "hydra/launcher=basic"],
        ["-cn", "config", "--config-path=conf", "data=cifar"],
        ["-cn", "plain", "model=cnn", "seed=3"],  # no hydra: section: no env_set (once a crash)
        ["-m", "-cn", "plain", "seed=1,2"],
    ]
    for i, args in enumerate(cases):
        h_dir, f_dir = workdir(tmp, "hydra_%d" % i), workdir(tmp, "forja_%d" % i)
        h = app_run(sys.executable, h_dir, args, False, forja_bin)
        f = app_run(py, f_dir, args, True, forja_bin)
        shown = "app.py " + " ".join(args)
        check(normalized(h.stdout, h_dir) == normalized(f.stdout, f_dir),
              "%s: @forja.main printed\n%s\nbut @hydra.main\n%s" % (shown, normalized(f.stdout, f_dir),
                                                                      normalized(h.stdout, h_dir)))
        check(f.stderr.count(NOTICE) == 1, "%s: the notice about hydra/job_logging once, not:\n%s" % (shown, f.stderr))
        if "--cfg" in args:
            continue
        # The output folders and their records are where Hydra puts them.
        made_h = sorted(normalized(p, h_dir) for p in glob.glob(h_dir + "/**/result.json", recursive=True))
        made_f = sorted(normalized(p, f_dir) for p in glob.glob(f_dir + "/**/result.json", recursive=True))
        check(made_h == made_f and made_h, "%s: outputs %s, Hydra's %s" % (shown, made_f, made_h))
        if "-m" in args:  # a multirun's jobs share one sweep folder
            sweeps = {os.path.dirname(os.path.dirname(p)) for p in glob.glob(f_dir + "/**/result.json", recursive=True)}
            check(len(sweeps) == 1, "%s: the jobs in one sweep folder, not %s" % (shown, sorted(sweeps)))
        for r in made_f:
            rec = os.path.join(os.path.dirname(r.replace("<cwd>", f_dir)), ".hydra")
            for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
                if "<date>" not in rec:
                    check(os.path.isfile(os.path.join(rec, name)), "%s: no %s/%s" % (shown, rec, name))
    return None


def check_errors(tmp, py, forja_bin):
    d = workdir(tmp, "errors")
    p = app_run(py, d, ["hydra.launcher.n_jobs=2"], True, forja_bin, ok=False)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    check(p.returncode != 0 and len(lines) == 1 and
          "override 'hydra.launcher.n_jobs=2': forja does not implement 'hydra.launcher.n_jobs'" in lines[0],
          "an unsupported hydra override: one line, not:\n" + p.stderr)
    for opt in ("--hydra-help", "--info", "--run", "--shell-completion", "--config-dir", "--version"):
        p = app_run(py, d, [opt], True, forja_bin, ok=False)
        lines = [x for x in p.stderr.splitlines() if x.strip()]
        check(p.returncode != 0 and len(lines) == 1 and
              "%s is a Hydra option forja.main does not support" % opt in lines[0],
              "%s: refused with one line, not:\n%s" % (opt, p.stderr))
    p = app_run(py, d, ["-cp", "conf", "data=cifar"], True, forja_bin)
    check(json.loads(p.stdout)["cfg"]["data"]["name"] == "cifar10", "-cp conf: the config of conf/, not " + p.stdout)
    p = app_run(py, d, ["--help"], True, forja_bin)
    check("== Configuration groups ==" in p.stdout and "model: cnn, mlp" in p.stdout and "seed: 42" in p.stdout,
          "--help: the groups and the config, not:\n" + p.stdout)
    env = dict(os.environ, FORJA_HYDRA_APP_IMPORT="forja", FORJA="", PATH=os.path.dirname(py))
    p = run([py, "app.py"], d, env, ok=False)
    check(p.returncode != 0 and "the forja binary was not found; set FORJA=" in p.stderr,
          "no forja binary: a clear error, not:\n" + p.stderr)


def check_stage(tmp, py, forja_bin):
    """(c): the app as a `forja run` stage gets the run's config."""
    overrides = ["model=cnn", "data=cifar", "seed=7", "trainer.lr=0.01"]
    h_dir = workdir(tmp, "hydra_stage")
    h = json.loads(app_run(sys.executable, h_dir, overrides, False, forja_bin).stdout)
    ws = workdir(tmp, "ws")
    with open(os.path.join(ws, "forja.yaml"), "w") as f:
        f.write("stages:\n  train:\n    cmd: python app.py && printenv FORJA_OUTPUT_DIR > outdir.txt"
                " && printenv APP_ENV > env.txt\n"
                "    deps: [app.py]\n    params: [model, data]\n")
    env = dict(os.environ, FORJA_HYDRA_APP_IMPORT="forja", FORJA=forja_bin,
               PATH=os.path.dirname(py) + os.pathsep + os.environ.get("PATH", ""))
    run([forja_bin, "init", "--no-scm"], ws, env)
    p = run([forja_bin, "run"] + overrides, ws, env)
    check(p.stderr.count(NOTICE) == 1, "forja run: the notice once, not:\n" + p.stderr)
    results = glob.glob(ws + "/outputs/*/*/result.json")
    check(len(results) == 1, "forja run: one output folder under outputs/<date>/<time>, not %s" % results)
    if len(results) != 1:
        return
    with open(results[0]) as f:
        s = json.load(f)
    check(s["cfg"]["paths"]["output_dir"] == os.path.dirname(results[0]), "stage: output_dir is the folder made")
    with open(os.path.join(ws, "outdir.txt")) as f:
        check(f.read().strip() == os.path.dirname(results[0]), "stage: FORJA_OUTPUT_DIR is the output folder")
    with open(os.path.join(ws, "env.txt")) as f:
        check(f.read().strip() == "from-hydra", "stage: hydra.job.env_set is in the stage's environment")
    check(s["cfg"]["job"]["name"] == "config" and s["cfg"]["job"]["mode"] == "RUN",
          "stage: job.name config, mode RUN, not %s" % s["cfg"]["job"])
    s["cfg"]["job"]["name"], s["cfg"]["job"]["mode"] = "app", "RunMode.RUN"
    a, b = normalized(json.dumps(h, sort_keys=True), h_dir), normalized(json.dumps(s, sort_keys=True), ws)
    check(a == b, "stage: the config\n%s\nbut Hydra's\n%s" % (b, a))
    # hydra.job.chdir=true: the command starts in the workspace, @forja.main moves into the folder.
    run([forja_bin, "run", "model=mlp", "hydra.job.chdir=true", "hydra.run.dir=chdir_out"], ws, env)
    with open(os.path.join(ws, "chdir_out", "result.json")) as f:
        check(json.load(f)["cwd"] == os.path.join(ws, "chdir_out"), "stage with hydra.job.chdir=true: runs there")


def check_exp(tmp, py, forja_bin):
    """`forja exp run -m` over the app as a stage: each job's output folder is
    where `python app.py -m` puts it (multirun/<date>/<time>/<job.num>, in the
    main workspace, kept after the job's worktree is gone), with Hydra's config."""
    sweep = ["model=cnn,mlp", "seed=3"]
    h_dir = workdir(tmp, "hydra_exp")
    app_run(sys.executable, h_dir, ["-m"] + sweep, False, forja_bin)
    ws = workdir(tmp, "exp_ws")
    with open(os.path.join(ws, "forja.yaml"), "w") as f:
        f.write("stages:\n  train:\n    cmd: python app.py\n    deps: [app.py]\n    params: [model, seed]\n")
    with open(os.path.join(ws, ".gitignore"), "w") as f:
        f.write("outputs/\nmultirun/\n")
    env = dict(os.environ, FORJA_HYDRA_APP_IMPORT="forja", FORJA=forja_bin,
               PATH=os.path.dirname(py) + os.pathsep + os.environ.get("PATH", ""),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@localhost", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@localhost")
    env.pop("FORJA_PARAMS", None)
    env.pop("FORJA_HYDRA", None)
    run(["git", "init", "-q", "."], ws, env)
    run([forja_bin, "init"], ws, env)
    run(["git", "add", "."], ws, env)
    run(["git", "commit", "-qm", "app"], ws, env)
    p = run([forja_bin, "exp", "run", "-m"] + sweep, ws, env)
    check("2 of 2 experiments succeeded" in p.stdout + p.stderr, "exp run -m: both jobs ran, not:\n" + p.stderr)
    made_h = sorted(normalized(x, h_dir) for x in glob.glob(h_dir + "/multirun/**/result.json", recursive=True))
    made_f = sorted(normalized(x, ws) for x in glob.glob(ws + "/multirun/**/result.json", recursive=True))
    check(made_h == made_f and len(made_f) == 2, "exp run -m: outputs %s, Hydra's -m %s" % (made_f, made_h))
    worktree = re.compile(re.escape(ws) + r"/\.forja/exps/exp-[^/\"]+/ws")
    for h_path, f_path in zip(sorted(glob.glob(h_dir + "/multirun/**/result.json", recursive=True)),
                              sorted(glob.glob(ws + "/multirun/**/result.json", recursive=True))):
        with open(h_path) as f:
            h = json.load(f)
        with open(f_path) as f:
            text = f.read()
        s = json.loads(worktree.sub(ws, text))  # runtime.cwd is the job's worktree, gone now
        check(s["cfg"]["job"]["mode"] == "MULTIRUN" and s["cfg"]["job"]["name"] == "config",
              "exp run -m: job mode MULTIRUN, name config, not %s" % s["cfg"]["job"])
        s["cfg"]["job"]["name"], s["cfg"]["job"]["mode"] = "app", "RunMode.MULTIRUN"
        a, b = normalized(json.dumps(h, sort_keys=True), h_dir), normalized(json.dumps(s, sort_keys=True), ws)
        check(a == b, "exp run -m job %s: the config\n%s\nbut Hydra's\n%s" % (f_path, b, a))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forja", required=True)
    args = ap.parse_args()
    try:
        import hydra  # noqa: F401
    except ImportError:
        print("hydra-core is not installed in this Python; skipped", file=sys.stderr)
        return 77
    forja_bin = os.path.abspath(args.forja)
    tmp = tempfile.mkdtemp(prefix="forja-hydra-app-")
    try:
        py = make_venv(tmp)
        compare_runs(tmp, py, forja_bin)
        check_errors(tmp, py, forja_bin)
        check_stage(tmp, py, forja_bin)
        check_exp(tmp, py, forja_bin)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d checks failed" % len(failures), file=sys.stderr)
        return 1
    print("ok: @hydra.main, @forja.main and a forja run stage agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
