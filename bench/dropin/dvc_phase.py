"""Section 1: a DVC repository, run by DVC and taken over by forja."""

import hashlib
import os
import random
import re
import shutil

import yaml

from common import DVC, FORJA, Failed, fresh, log, median, run, table

EXCLUDE = {".git", ".dvc", ".forja", "forja.yaml", "forja.lock", ".gitignore", ".dvcignore", "dvc.lock"}

DVC_YAML = {
    "stages": {
        "prepare": {
            "cmd": "mkdir -p prep && find data -type f | wc -l > prep/count.txt"
                   " && head -c 4096 big.bin > prep/head.bin && echo ${prepare.split} ${prepare.seed} > prep/split.txt",
            "deps": ["data", "big.bin"],
            "params": ["prepare.split", "prepare.seed"],
            "outs": ["prep"],
        },
        "featurize": {
            "foreach": ["train", "test"],
            "do": {
                "cmd": "mkdir -p features && cat prep/count.txt prep/split.txt > features/${item}.txt"
                       " && echo ${featurize.max_features} ${item} >> features/${item}.txt",
                "deps": ["prep"],
                "params": ["featurize.max_features", "featurize.ngrams"],
                "outs": ["features/${item}.txt"],
            },
        },
        "train": {
            "cmd": "mkdir -p models && cat features/train.txt > models/model.txt"
                   " && echo n_est=${train.n_est} seed=${train.seed} lr=${train.lr} >> models/model.txt",
            "deps": ["features/train.txt"],
            "params": ["train.n_est", "train.seed", "train.lr"],
            "outs": ["models/model.txt"],
        },
        "evaluate": {
            "cmd": "mkdir -p eval && cat models/model.txt features/test.txt | cksum"
                   " | awk '{print \"{\\\"score\\\": \" $1 % 1000 \"}\"}' > eval/metrics.json",
            "deps": ["models/model.txt", "features/test.txt"],
            "metrics": [{"eval/metrics.json": {"cache": False}}],
        },
        "report": {
            "cmd": "cat eval/metrics.json > report.txt && echo ${report.title} >> report.txt",
            "deps": ["eval/metrics.json"],
            "params": ["report.title"],
            "outs": ["report.txt"],
        },
    }
}

PARAMS = {
    "prepare": {"split": 0.2, "seed": 20170428},
    "featurize": {"max_features": 100, "ngrams": 1},
    "train": {"n_est": 50, "seed": 42, "lr": 0.1},
    "report": {"title": "bench"},
}


def env_for(scratch):
    home = os.path.join(scratch, "home")
    os.makedirs(home, exist_ok=True)
    gitconfig = os.path.join(home, ".gitconfig")
    with open(gitconfig, "w") as f:
        f.write("[user]\n\tname = bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n")
    return dict(os.environ, GIT_CONFIG_GLOBAL=gitconfig, DVC_NO_ANALYTICS="1", DVC_NO_UPDATER="1",
                DVC_SITE_CACHE_DIR=os.path.join(scratch, "dvc-site"),
                DVC_GLOBAL_CONFIG_DIR=os.path.join(scratch, "dvc-global"),
                DVC_SYSTEM_CONFIG_DIR=os.path.join(scratch, "dvc-system"))


def make_data(repo, n_files, big_mib):
    rng = random.Random(14)
    for i in range(n_files):
        d = os.path.join(repo, "data", f"part{i % 30:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))
    with open(os.path.join(repo, "big.bin"), "wb") as f:
        for _ in range(big_mib):
            f.write(rng.randbytes(1 << 20))


def tree_digest(root):
    """{relative path: md5} of the data a user sees (tool metadata excluded)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in EXCLUDE]
        for name in filenames:
            if rel == "." and (name in EXCLUDE or name.endswith((".dvc", ".forja"))):
                continue
            p = os.path.join(dirpath, name)
            h = hashlib.md5()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.normpath(os.path.join(rel, name))] = h.hexdigest()
    return out


def compare(expected, got):
    missing = sorted(set(expected) - set(got))
    differ = sorted(k for k in expected if k in got and got[k] != expected[k])
    extra = sorted(set(got) - set(expected))
    if not (missing or differ):
        return f"byte-identical ({len(got)} files)" + (f", {len(extra)} extra" if extra else "")
    return f"DIFFERS: {len(missing)} missing (e.g. {missing[:2]}), {len(differ)} differ (e.g. {differ[:2]})"


def set_param(repo, n_est):
    p = dict(PARAMS, train=dict(PARAMS["train"], n_est=n_est))
    with open(os.path.join(repo, "params.yaml"), "w") as f:
        yaml.safe_dump(p, f, sort_keys=False)


def timed(cell_list, fn):
    """Appends fn()'s seconds to cell_list, or a failure text (then the cell shows it)."""
    try:
        cell_list.append(fn())
    except Failed as e:
        log(f"failed: {e}")
        cell_list.append(f"failed: {e}")


def med_cell(xs):
    fails = [x for x in xs if isinstance(x, str)]
    return fails[0] if fails else median(xs)


def bench(scratch, reps, n_files, big_mib):
    env = env_for(scratch)
    logs = os.path.join(scratch, "logs")
    os.makedirs(logs, exist_ok=True)
    L = lambda name: os.path.join(logs, name + ".log")  # noqa: E731
    orig = fresh(os.path.join(scratch, "orig"))
    store = fresh(os.path.join(scratch, "dvc-store"))
    log(f"dvc: generating {n_files} files + {big_mib} MiB, dvc add, dvc repro, dvc push")
    make_data(orig, n_files, big_mib)
    with open(os.path.join(orig, "dvc.yaml"), "w") as f:
        yaml.safe_dump(DVC_YAML, f, sort_keys=False, width=1000)
    set_param(orig, PARAMS["train"]["n_est"])
    run(["git", "init", "-q"], orig, env)
    run([DVC, "init", "-q"], orig, env, L("orig"))
    run([DVC, "add", "-q", "data", "big.bin"], orig, env, L("orig"))
    run([DVC, "repro", "-q"], orig, env, L("orig"))
    run([DVC, "remote", "add", "-q", "-d", "store", store], orig, env, L("orig"))
    push_s = run([DVC, "push", "-q"], orig, env, L("orig"))
    run("git add -A && git commit -qm 'dvc repository'", orig, env, L("orig"))
    expected = tree_digest(orig)
    n_stages = 6

    # --- take-over and pull, fresh clones with empty caches ----------------------------
    pulls = {"dvc pull": [], "forja import dvc": [], "forja pull": [], "forja import + pull": []}
    checks = {}
    for i in range(reps["pull"]):
        d = os.path.join(scratch, f"dvc-clone{i}")
        shutil.rmtree(d, ignore_errors=True)
        run(["git", "clone", "-q", orig, d], scratch, env)
        run("sync", scratch)
        timed(pulls["dvc pull"], lambda: run([DVC, "pull", "-q"], d, env, L(f"dvc-pull{i}")))
        f = os.path.join(scratch, f"forja-clone{i}")
        shutil.rmtree(f, ignore_errors=True)
        run(["git", "clone", "-q", orig, f], scratch, env)
        run("sync", scratch)
        timed(pulls["forja import dvc"], lambda: run([FORJA, "import", "dvc"], f, env, L(f"forja-import{i}")))
        timed(pulls["forja pull"], lambda: run([FORJA, "pull"], f, env, L(f"forja-pull{i}")))
        a, b = pulls["forja import dvc"][-1], pulls["forja pull"][-1]
        pulls["forja import + pull"].append(a + b if not isinstance(a, str) and not isinstance(b, str)
                                            else (a if isinstance(a, str) else b))
        log(f"dvc: pull rep {i}: dvc {pulls['dvc pull'][-1]}, forja import {a}, pull {b}")
        if i == reps["pull"] - 1:
            checks["dvc"] = compare(expected, tree_digest(d))
            checks["forja"] = compare(expected, tree_digest(f))
        else:
            shutil.rmtree(d)
            shutil.rmtree(f)
    dvc_ws, forja_ws = d, f
    log(f"dvc: pulled trees: dvc {checks['dvc']}; forja {checks['forja']}")

    # --- no-op: both have everything (pulled); a warm-up each, then timed ---------------
    noop = {k: [] for k in ("dvc status", "forja status", "dvc repro", "forja run")}
    notes = {}
    try:
        run([DVC, "status", "-q"], dvc_ws, env, L("dvc-noop"))
        run([FORJA, "status", "--pipeline"], forja_ws, env, L("forja-noop"))
        with open(L("forja-noop-run"), "w"):
            pass
        run([FORJA, "run"], forja_ws, env, L("forja-noop-run"))
        notes["forja run"] = re.findall(r"\d+ stages? ran.*", open(L("forja-noop-run")).read())[-1:]
    except Failed as e:
        log(f"dvc: warm-up failed: {e}")
    for i in range(reps["noop"]):
        timed(noop["dvc status"], lambda: run([DVC, "status", "-q"], dvc_ws, env, L("dvc-noop")))
        timed(noop["forja status"], lambda: run([FORJA, "status", "--pipeline"], forja_ws, env, L("forja-noop")))
        timed(noop["dvc repro"], lambda: run([DVC, "repro", "-q"], dvc_ws, env, L("dvc-noop")))
        timed(noop["forja run"], lambda: run([FORJA, "run"], forja_ws, env, L("forja-noop")))
    log(f"dvc: no-op: {noop}")

    # --- one param changed: train.n_est, new values only (no run-cache hits) ------------
    param = {"dvc repro": [], "forja run": []}
    ran = {}
    same = True
    for i in range(reps["param"]):
        for ws in (dvc_ws, forja_ws):
            set_param(ws, 1000 + i)
        run("sync", scratch)
        timed(param["dvc repro"], lambda: run([DVC, "repro"], dvc_ws, env, L(f"dvc-param{i}")))
        timed(param["forja run"], lambda: run([FORJA, "run"], forja_ws, env, L(f"forja-param{i}")))
        ran["dvc"] = open(L(f"dvc-param{i}")).read().count("Running stage '")
        m = re.search(r"(\d+) stages? ran", open(L(f"forja-param{i}")).read())
        ran["forja"] = int(m.group(1)) if m else "?"
        for out in ("models/model.txt", "eval/metrics.json", "report.txt"):
            try:
                same &= open(os.path.join(dvc_ws, out), "rb").read() == open(os.path.join(forja_ws, out), "rb").read()
            except OSError:
                same = False
    log(f"dvc: param: {param}; outputs equal: {same}; stages ran {ran}")

    n = n_files
    rows = [
        ("`dvc status` / `forja status --pipeline`, nothing changed", med_cell(noop["forja status"]),
         med_cell(noop["dvc status"]), f"{n_stages} stages, {n:,} + 1 tracked files"),
        ("`dvc repro` / `forja run`, nothing to do", med_cell(noop["forja run"]), med_cell(noop["dvc repro"]),
         "forja: " + " ".join(notes.get("forja run", [])).replace("|", "/")),
        ("`dvc repro` / `forja run`, `train.n_est` changed", med_cell(param["forja run"]),
         med_cell(param["dvc repro"]),
         f"stages rerun of {n_stages}: DVC {ran.get('dvc')}, forja {ran.get('forja')} (train, evaluate, "
         f"report); outputs {'identical' if same else 'DIFFER'}"),
        ("fresh clone: `dvc pull` / `forja import dvc`", med_cell(pulls["forja import dvc"]), None,
         "import fetches what dvc.lock's stages used"),
        ("fresh clone: `dvc pull` / `forja pull` (after import)", med_cell(pulls["forja pull"]), None, ""),
        ("fresh clone: `dvc pull` / `forja import dvc` + `forja pull`", med_cell(pulls["forja import + pull"]),
         med_cell(pulls["dvc pull"]), f"dvc: {checks['dvc']}; forja: {checks['forja']}"),
    ]
    title = (f"DVC {reps['noop']}x no-op, {reps['param']}x param change, {reps['pull']}x pull (median); "
             f"`dvc push` of the repository to the folder remote took {push_s:.1f} s (once, untimed in the table)")
    return table(title, "DVC", rows), checks, same
