"""Runs every case of interpolation_cases.json through OmegaConf itself (with
Hydra's `now` resolver registered) and checks that its expectation holds there
too, so forja's interpolation and OmegaConf's cannot drift apart.

A case's `expected` (or `error`) is what forja gives; tests/config/
interpolation_test.cc checks forja against the same file. Here:
  - `expected` must equal, types and key order included, what OmegaConf gives:
    OmegaConf.resolve(cfg) then to_container(cfg), and/or
    to_container(cfg, resolve=True), as `omegaconf` says (default: both);
    with `select`, OmegaConf.select(cfg, path, throw_on_missing=True);
  - with `omegaconf_error`, OmegaConf must raise, and "<Type>: <message>" must
    contain it;
  - `regex` keys must fully match their pattern (their `expected` is ignored).

Usage: check_interpolation_omegaconf.py [--show]   (--show prints OmegaConf's output)
"""
import json
import math
import os
import re
import sys
import warnings
from pathlib import Path

from hydra.core.utils import setup_globals
from omegaconf import Container, OmegaConf

setup_globals()  # Hydra's resolvers: now, hydra, python_version
warnings.simplefilter("ignore")  # OmegaConf warns about empty arguments and oc.deprecated

HERE = Path(__file__).parent


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


def apply_regex(value, regex, problems):
    """Checks the regex keys and replaces them by a placeholder."""
    for path, pattern in regex.items():
        node = value
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        last = int(parts[-1]) if isinstance(node, list) else parts[-1]
        got = node[last]
        if not (isinstance(got, str) and re.fullmatch(pattern, got)):
            problems.append(f"{path}: {got!r} does not match {pattern!r}")
        node[last] = "<regex>"
    return value


def run(case, api):
    cfg = OmegaConf.create(case["config"])
    if "select" in case:
        v = OmegaConf.select(cfg, case["select"], throw_on_missing=True)
        return OmegaConf.to_container(v, resolve=True) if isinstance(v, Container) else v
    if api == "resolve":
        OmegaConf.resolve(cfg)
        return OmegaConf.to_container(cfg)
    return OmegaConf.to_container(cfg, resolve=True)


def check(case, show):
    problems = []
    saved = {k: os.environ.get(k) for k in case.get("env", {})}
    os.environ.update(case.get("env", {}))
    try:
        mode = case.get("omegaconf", "both")
        apis = ["resolve", "to_container"] if mode == "both" else [mode]
        if "select" in case:
            apis = ["select"]
        for api in apis:
            try:
                got = run(case, api)
                err = None
            except Exception as e:  # noqa: BLE001 - any OmegaConf failure is an outcome
                got, err = None, f"{type(e).__name__}: {e}".replace("\n", " | ")
            if show:
                print(f"  {api}: {err if err else json.dumps(got)}")
            if "omegaconf_error" in case:
                if err is None:
                    problems.append(f"{api}: expected an error containing "
                                    f"{case['omegaconf_error']!r}, got {got!r}")
                elif case["omegaconf_error"] not in err:
                    problems.append(f"{api}: error {err!r} does not contain "
                                    f"{case['omegaconf_error']!r}")
                continue
            if err is not None:
                problems.append(f"{api}: raised {err}")
                continue
            expected = case["expected"]
            if case.get("regex"):
                expected = apply_regex(json.loads(json.dumps(expected)), case["regex"], [])
                got = apply_regex(got, case["regex"], problems)
            if not same(expected, got):
                problems.append(f"{api}: got {got!r}, expected {expected!r}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return problems


def main():
    show = "--show" in sys.argv
    cases = json.loads((HERE / "interpolation_cases.json").read_text())["cases"]
    failed = 0
    for case in cases:
        if show:
            print(case["name"])
        if "error" in case and "omegaconf_error" not in case:
            print(f"FAIL {case['name']}: an error case needs omegaconf_error")
            failed += 1
            continue
        problems = check(case, show)
        if problems:
            failed += 1
            for p in problems:
                print(f"FAIL {case['name']}: {p}")
    print(f"{len(cases) - failed} passed, {failed} failed (OmegaConf interpolation cases)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
