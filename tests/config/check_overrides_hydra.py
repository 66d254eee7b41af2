#!/usr/bin/env python3
"""Checks the override conformance tables against Hydra itself.

  check_overrides_hydra.py overrides.jsonl [sweeps.jsonl]

overrides.jsonl, one row per line (overrides.md has the format):
  {"input": s, "expect": <canonical JSON>}  Hydra's parse of s must be exactly this;
  {"input": s, "error": "column N: ..."}    Hydra must reject s too;
  "hydra": "accepts"    (with "error") forja refuses on purpose, Hydra accepts: checked
                        that Hydra does accept, so the row stays honest;
  "hydra": "unordered"  (with "expect") Hydra shuffles at random: the items must agree
                        as a multiset.
sweeps.jsonl: {"overrides": [...], "options": {group: [...]}, "jobs": [[...], ...]} or
"error": the job lists Hydra's BasicSweeper makes must be these (as a multiset of
jobs for "hydra": "unordered"; "hydra": "accepts" as above).

forja_config_tests reads the same files and checks forja's side, so forja and
Hydra cannot drift apart.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import hydra_canonical as hc
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
except ImportError as e:
    print(f"skipped: hydra-core is not installed in this Python ({e})")
    sys.exit(77)


def unordered(x):
    if isinstance(x, list):
        return sorted((unordered(v) for v in x), key=hc.dumps)
    if isinstance(x, dict):
        return {k: unordered(v) for k, v in x.items() if k != "str"}
    return x


def check_override_row(row):
    s = row["input"]
    kind, got = hc.parse(s)
    mode = row.get("hydra")
    if "expect" in row:
        if kind != "ok":
            return f"Hydra gives {kind}: {got}"
        want = row["expect"]
        if mode == "unordered":
            return None if unordered(got) == unordered(want) else f"Hydra gives {hc.dumps(got)}"
        return None if got == want else f"Hydra gives {hc.dumps(got)}\n  the table says {hc.dumps(want)}"
    if mode == "accepts":
        return None if kind in ("ok", "accepts") else f"Hydra rejects it too ({got}): drop \"hydra\": \"accepts\""
    return None if kind == "error" else f"Hydra accepts it: {hc.dumps(got) if kind == 'ok' else got}"


class _Loader:
    """The part of Hydra's ConfigLoader that glob() uses."""

    def __init__(self, options):
        self.options = options

    def get_group_options(self, group, results_filter=None):
        return sorted(self.options.get(group, []))


def check_sweep_row(row):
    parser = OverridesParser.create(config_loader=_Loader(row.get("options", {})))
    try:
        overrides = parser.parse_overrides(row["overrides"])
        jobs = BasicSweeper.split_arguments(overrides, None)[0]
    except Exception as e:  # noqa: BLE001 - any failure is Hydra refusing
        if "error" in row and row.get("hydra") != "accepts":
            return None
        return f"Hydra fails: {type(e).__name__}: {e}"
    if "error" in row:
        if row.get("hydra") == "accepts":
            return None
        return f"Hydra makes the jobs {jobs}"
    want = row["jobs"]
    if row.get("hydra") == "unordered":
        return None if sorted(map(json.dumps, jobs)) == sorted(map(json.dumps, want)) else f"Hydra makes {jobs}"
    return None if jobs == want else f"Hydra makes {jobs}\n  the table says {want}"


def run(path, check, describe):
    failures = 0
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            n += 1
            problem = check(row)
            if problem:
                failures += 1
                print(f"{os.path.basename(path)}:{lineno}: {describe(row)}: {problem}")
    return n, failures


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    total_fail = 0
    n, fails = run(sys.argv[1], check_override_row, lambda r: repr(r["input"]))
    total_fail += fails
    print(f"{sys.argv[1]}: {n} overrides checked against Hydra, {fails} differ")
    if len(sys.argv) > 2:
        n, fails = run(sys.argv[2], check_sweep_row, lambda r: repr(r["overrides"]))
        total_fail += fails
        print(f"{sys.argv[2]}: {n} sweeps checked against Hydra's BasicSweeper, {fails} differ")
    sys.exit(1 if total_fail else 0)


if __name__ == "__main__":
    main()
