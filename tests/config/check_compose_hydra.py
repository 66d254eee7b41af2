"""Runs every composition scenario of compose/scenarios.json through Hydra
itself (hydra-core's compose API, version_base="1.3") and checks that each
expectation holds there too, so forja's composition and Hydra's cannot drift.

tests/config/compose_test.cc runs the same scenarios through forja.
A scenario (see compose/README.md):
  - `expected`: the composed config, resolved, with key order: Hydra's
    OmegaConf.to_container(compose(...), resolve=True) must equal it, types
    and key order included (unless `hydra_expected` says what Hydra gives
    where forja deliberately differs; `note` says why);
  - `choices`: Hydra's hydra.runtime.choices, in order, without Hydra's own
    hydra/* groups;
  - `error`: {"forja": ..., "hydra": ...}: Hydra must fail and
    "<ExceptionType>: <message>" (causes included) must contain `hydra`;
  - `sweep` + `jobs`: Hydra's BasicSweeper must split the overrides into
    exactly these jobs (glob() expanded against the config groups);
  - `hydra_error`: where forja deliberately differs and succeeds, Hydra must
    fail with this (the `note` says why);
  - `omegaconf: "resolve"`: Hydra's result is resolved with OmegaConf.resolve()
    (what `--cfg job --resolve` prints) instead of to_container(resolve=True).

Usage: check_compose_hydra.py [--show] [NAME...]   (--show prints Hydra's results)
Exit 77 when hydra-core is not installed (CTest counts that as skipped).
"""
import json
import math
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")
try:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from omegaconf import OmegaConf
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e}")
    sys.exit(77)

HERE = Path(__file__).parent / "compose"


def same(a, b):
    """Equal with types and key order (True != 1, 1 != 1.0)."""
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def describe(e):
    msg = f"{type(e).__name__}: {e}"
    c = e
    seen = 0
    while (c.__cause__ is not None or c.__context__ is not None) and seen < 10:
        c = c.__cause__ or c.__context__
        msg += f" || {type(c).__name__}: {c}"
        seen += 1
    return msg


def run_compose(sc, with_hydra):
    GlobalHydra.instance().clear()
    conf = str((HERE / sc["config_dir"]).resolve())
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        return compose(sc.get("config_name", "config"), overrides=sc.get("overrides", []),
                       return_hydra_config=with_hydra)


def run_sweep(sc):
    GlobalHydra.instance().clear()
    conf = str((HERE / sc["config_dir"]).resolve())
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        gh = GlobalHydra.instance()
        parser = OverridesParser.create(config_loader=gh.config_loader())
        overrides = parser.parse_overrides(sc["sweep"])
        return [list(j) for j in BasicSweeper.split_arguments(overrides, None)[0]]


def check(sc, show):
    """Returns a list of problems (empty when Hydra agrees)."""
    name = sc["name"]
    if "sweep" in sc:
        try:
            jobs = run_sweep(sc)
        except Exception as e:  # noqa: BLE001
            return [f"{name}: Hydra failed: {describe(e)}"]
        if show:
            print(json.dumps({"name": name, "jobs": jobs}))
        if jobs != sc["jobs"]:
            return [f"{name}: Hydra's jobs {jobs} != expected {sc['jobs']}"]
        return []
    try:
        cfg = run_compose(sc, with_hydra=False)
        if sc.get("omegaconf") == "resolve":  # OmegaConf.resolve(), as `--cfg job --resolve` prints
            OmegaConf.resolve(cfg)
            got = OmegaConf.to_container(cfg)
        else:
            got = OmegaConf.to_container(cfg, resolve=sc.get("resolve", True))
        err = None
    except Exception as e:  # noqa: BLE001
        got, err = None, describe(e)
    if show:
        print(json.dumps({"name": name, "result": got, "error": err}))
    problems = []
    if "hydra_error" in sc:  # forja deliberately succeeds where Hydra fails (see the note)
        want = sc["hydra_error"]
        if err is None or want not in err:
            problems.append(f"{name}: expected Hydra to fail with {want!r}, got {err or json.dumps(got)}")
        return problems
    if "error" in sc:
        want = sc["error"]["hydra"]
        if err is None:
            problems.append(f"{name}: Hydra succeeded, expected an error containing {want!r}")
        elif want not in err:
            problems.append(f"{name}: Hydra's error does not contain {want!r}: {err}")
        return problems
    if err is not None:
        return [f"{name}: Hydra failed: {err}"]
    want = sc.get("hydra_expected", sc["expected"])
    if not same(got, want):
        problems.append(f"{name}: Hydra gives {json.dumps(got)}, expected {json.dumps(want)}")
    if "choices" in sc:
        cfg = run_compose(sc, with_hydra=True)
        choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if not k.startswith("hydra/")}
        if show:
            print(json.dumps({"name": name, "choices": choices}))
        want = sc["choices"]
        if not isinstance(want, dict) or list(choices.items()) != list(want.items()):
            problems.append(f"{name}: Hydra's choices {choices} != expected {sc['choices']}")
    return problems


def main():
    args = sys.argv[1:]
    show = "--show" in args
    names = [a for a in args if not a.startswith("--")]
    scenarios = json.loads((HERE / "scenarios.json").read_text())["scenarios"]
    problems = []
    ran = 0
    for sc in scenarios:
        if names and sc["name"] not in names:
            continue
        ran += 1
        problems += check(sc, show)
    for p in problems:
        print("FAIL:", p)
    print(f"{ran - len({p.split(':')[0] for p in problems})} of {ran} scenarios agree with Hydra")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
