#!/usr/bin/env python3
"""Differential test of forja's override parser against Hydra's.

Generates random overrides (a mix of grammar-aware values and random strings
of tokens that sit at the edges of the lexer's rules), parses each with Hydra
(hydra_canonical.py) and with forja (the forja_override_json helper), and
fails on the first difference that is not one of forja's documented ones
(overrides.md: Hydra accepts, forja refuses with a clear error; or a random
shuffle of a list).

  diff_overrides.py --forja build/tests/config/forja_override_json --count 3000 --seed 1
"""
import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import hydra_canonical as hc
except ImportError as e:  # no hydra-core: skip, like the other peer tests
    print(f"skipped: {e}")
    sys.exit(77)

KEYS = ["a", "b.c", "db", "db/mysql", "hydra/launcher", "hydra.run.dir", "$x", "a.0", "_global_",
        "a-b", "x.1_0", "a@pkg", "db@_global_", "db@", "@p", "", "a$b", "a.$c"]
KEY_NOISE = ["a", ".", "0", "/", "@", ":", " ", "-", "$", "1", "_", "b", "~", "+", "="]
PREFIXES = ["", "", "", "+", "++", "~"]

ATOMS = ["1", "-1", "+1", "0", "01", "1_000", "1__0", "1.5", ".5", "1.", "-.5", "1e3", "1E-3",
         "1.e5", "1_0.5_0", "inf", "-inf", "+INF", "nan", "NaN", "infinity", "true", "TRUE",
         "False", "null", "NULL", "nul", "abc", "a-b", "_x", "x_1", "a b", "a\tb", "/", "-", "\\",
         "+", ".", "$", "%", "*", "@", "?", "|", ":", "a:b", "\\\\", "\\,", "\\ ", "\\(", "\\)",
         "\\[", "\\]", "\\{", "\\}", "\\:", "\\=", "\\\t", "${a}", "${a.b}", "${oc.env:X,d}",
         "${a b}", "${x:'y'}", "'x'", "''", "\"\"", "\"y\"", "'a b'", "'it\\'s'", "\"a\\\"b\"",
         "'\\\\'", "'a\\\\'", "'${a}'", "\"${a.${b}}\"", "'1'", "'true'", "'é'", "x/y",
         "9223372036854775807", "-9223372036854775808", "1e400"]
NOISE = ["1", "a", " ", "\t", ",", " , ", "[", "]", "{", "}", ":", " : ", "(", ")", "=", "'",
         "\"", "\\", "$", "${", "}", "e", "E", ".", "_", "-", "+", "é", "#", "!", "choice(",
         "range(", "int(", "sort(", "x=", "0", "5", "inf", "nan", "true", "null", "'a'",
         "\"b\"", "\\\\", "\\'", "@", "/", "*", "?"]
FUNCS = ["choice", "range", "interval", "glob", "sort", "shuffle", "tag", "int", "float", "str",
         "bool", "nope"]
KWARGS = ["reverse", "list", "sweep", "value", "start", "stop", "step", "end", "include",
          "exclude", "x"]


NUMS = ["0", "1", "2", "5", "10", "-1", "-3", "0.1", "0.25", "1.5", "-0.5", "1e-3", "true",
        "false", "inf", "-inf", "nan", "null", "'1'", "x", "3.0", "1_0", "100"]
STRS = ["a", "b", "c", "'b'", "\"a\"", "x y", "1", "A", "é", "'é'", "${x}", "a*", "*", "b?",
        "[ab]*", "[!a]*", "[a-c]", "[z-a]x", "[]", "*-*"]


def gen_call(r, depth):
    name = r.choice(["range", "range", "interval", "sort", "shuffle", "tag", "int", "float",
                     "str", "bool", "choice", "glob"])
    if name in ("range", "interval"):
        args = [r.choice(NUMS) for _ in range(r.randint(1, 3))]
        if r.random() < 0.2:
            args[-1] = r.choice(["stop=", "step=", "start=", "end="]) + args[-1]
    elif name == "glob":
        pats = lambda: r.choice(STRS) if r.random() < 0.5 else (
            "[" + ",".join(r.choice(STRS) for _ in range(r.randint(0, 3))) + "]")
        args = [pats()] + ([pats() if r.random() < 0.5 else "exclude=" + pats()]
                           if r.random() < 0.6 else [])
    elif name == "tag":
        args = [r.choice(STRS) for _ in range(r.randint(0, 2))] + [gen_sweepish(r, depth - 1)]
        if r.random() < 0.2:
            args[-1] = "sweep=" + args[-1]
    else:
        pool = NUMS + STRS
        args = [r.choice(pool) if r.random() < 0.7 else gen_sweepish(r, depth - 1)
                for _ in range(r.randint(0, 4))]
        if name == "sort" and r.random() < 0.4:
            args.append("reverse=" + r.choice(["true", "false", "1", "True"]))
        if name in ("sort", "shuffle") and r.random() < 0.2:
            args = [r.choice(["list=", "sweep="]) + gen_sweepish(r, depth - 1)]
        if name in ("int", "float", "str", "bool") and r.random() < 0.2:
            args = ["value=" + gen_sweepish(r, depth - 1)]
    return name + "(" + ",".join(args) + ")"


def gen_sweepish(r, depth):
    if depth <= 0:
        return r.choice(NUMS + STRS)
    k = r.random()
    if k < 0.4:
        return gen_call(r, depth)
    if k < 0.7:
        return "[" + ",".join(r.choice(NUMS + STRS) if r.random() < 0.8 else gen_sweepish(r, depth - 1)
                              for _ in range(r.randint(0, 4))) + "]"
    return r.choice(NUMS + STRS)


def gen_value(r, depth):
    k = r.random()
    if k < 0.25:
        return gen_call(r, 3)
    if depth <= 0 or k < 0.45:
        return r.choice(ATOMS)
    if k < 0.6:
        return "[" + ",".join(gen_value(r, depth - 1) for _ in range(r.randint(0, 3))) + "]"
    if k < 0.7:
        keys = ["a", "b", "1", "true", "null", "1.5", "x y", "-", "\\:", "a.b"]
        return "{" + ",".join(r.choice(keys) + r.choice([":", ": ", " :"]) + gen_value(r, depth - 1)
                              for _ in range(r.randint(0, 3))) + "}"
    name = r.choice(FUNCS)
    args = []
    for _ in range(r.randint(0, 4)):
        a = gen_value(r, depth - 1)
        if r.random() < 0.2:
            a = r.choice(KWARGS) + "=" + a
        args.append(a)
    return name + r.choice(["(", " ("]) + r.choice([",", ", ", " ,"]).join(args) + ")"


def gen(r):
    if r.random() < 0.15:  # noise in the key
        key = "".join(r.choice(KEY_NOISE) for _ in range(r.randint(0, 5)))
    else:
        key = r.choice(KEYS)
    prefix = r.choice(PREFIXES)
    if prefix == "~" and r.random() < 0.3:
        return prefix + key
    sep = r.choice(["=", "=", "= ", "=\t"])
    m = r.random()
    if m < 0.15:  # characters at the lexer's edges
        value = "".join(r.choice("a1 0,'\"\\.-+e_${}[]():=\t5iInN") for _ in range(r.randint(1, 12)))
    elif m < 0.45:
        value = gen_value(r, 3)
        if r.random() < 0.3:
            value += "," + gen_value(r, 2)
    elif m < 0.9:
        value = "".join(r.choice(ATOMS + NOISE) for _ in range(r.randint(0, 6)))
    else:
        value = ""
    if r.random() < 0.1:
        value += r.choice([" ", "\t", "  "])
    return prefix + key + sep + value


def unordered(x):
    """x with every list sorted and the texts dropped: shuffle(list) is random
    in Hydra and seeded in forja, so only the multiset of items can agree."""
    if isinstance(x, list):
        return sorted((unordered(v) for v in x), key=hc.dumps)
    if isinstance(x, dict):
        return {k: unordered(v) for k, v in x.items() if k != "str"}
    return x


def same(s, mine, hydra):
    if mine == hydra:
        return True
    return "shuffle" in s and unordered(mine) == unordered(hydra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forja", required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--sweeps", type=int, default=300,
                    help="random lists of 1-3 parsed overrides expanded by both sweepers")
    args = ap.parse_args()
    r = random.Random(args.seed)
    inputs = [gen(r) for _ in range(args.count)]
    proc = subprocess.run([args.forja], input="".join(json.dumps(s) + "\n" for s in inputs),
                          capture_output=True, text=True, check=True)
    outs = proc.stdout.splitlines()
    assert len(outs) == len(inputs), (len(outs), len(inputs))
    bad = 0
    kinds = {"ok": 0, "error": 0, "accepts": 0}
    for s, line in zip(inputs, outs):
        mine = json.loads(line)
        kind, hydra = hc.parse(s)
        kinds[kind] += 1
        if kind == "error":
            ok = "error" in mine
        elif kind == "accepts":
            ok = "error" in mine  # a documented refusal
            if args.verbose:
                print(f"accepts {s!r}: {hydra}; forja: {mine.get('error')}")
        else:
            ok = "error" not in mine and same(s, mine, hydra)
        if not ok:
            bad += 1
            print(f"DIFF {s!r}\n  hydra: {kind} {hc.dumps(hydra) if kind == 'ok' else hydra}\n"
                  f"  forja: {line}")
            if not args.keep_going:
                break
    print(f"{len(inputs)} overrides: hydra ok {kinds['ok']}, error {kinds['error']}, "
          f"accepts (forja refuses, documented) {kinds['accepts']}; differences: {bad}")
    if not bad or args.keep_going:
        bad += diff_sweeps(args, r, [s for s, line in zip(inputs, outs) if "error" not in json.loads(line)])
    sys.exit(1 if bad else 0)


OPTIONS = {g: ["a", "ab", "b-1", "x_y", "zz"] for g in ["a", "db", "db/mysql", "hydra/launcher", ""]}


class _Loader:
    def get_group_options(self, group, results_filter=None):
        return sorted(OPTIONS.get(group, []))


def diff_sweeps(args, r, parsed):
    """BasicSweeper's jobs vs SweepJobOverrides' for random lists of overrides."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    parser = OverridesParser.create(config_loader=_Loader())
    combos = [[r.choice(parsed) for _ in range(r.randint(1, 3))] for _ in range(args.sweeps)]
    proc = subprocess.run([args.forja], input="".join(
        json.dumps({"overrides": c, "options": OPTIONS}) + "\n" for c in combos),
        capture_output=True, text=True, check=True)
    bad = compared = 0
    for combo, line in zip(combos, proc.stdout.splitlines()):
        mine = json.loads(line)
        if "jobs" in mine and len(mine["jobs"]) > 2000 or "more than" in mine.get("error", ""):
            continue  # Hydra would take long or loop (range(0, inf)), forja stops at 1,000,000
        try:
            jobs = BasicSweeper.split_arguments(parser.parse_overrides(combo), None)[0]
            # each job parses its overrides when it starts
            for job in jobs:
                parser.parse_overrides(job)
            hydra = {"jobs": jobs}
        except Exception as e:  # noqa: BLE001
            hydra = {"error": f"{type(e).__name__}: {e}"}
        if "QuotedString" in hydra.get("error", ""):
            continue  # glob(['a*']): Hydra's fnmatch fails on the quotes; forja reads a string (overrides.md)
        compared += 1
        if "error" in hydra or "error" in mine:
            ok = "error" in hydra and "error" in mine
        elif any("shuffle" in c for c in combo):
            # random order in Hydra: compare the jobs' parses, lists as multisets
            def norm(jobs):
                return sorted(hc.dumps([unordered(hc.parse(o)[1]) for o in job]) for job in jobs)
            ok = norm(hydra["jobs"]) == norm(mine["jobs"])
        else:
            ok = hydra == mine
        if not ok:
            bad += 1
            print(f"SWEEP DIFF {combo!r}\n  hydra: {str(hydra)[:400]}\n  forja: {str(mine)[:400]}")
            if not args.keep_going:
                break
    print(f"{compared} sweeps expanded by both; differences: {bad}")
    return bad


if __name__ == "__main__":
    main()
