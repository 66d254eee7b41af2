"""Hydra's parse of an override as forja's canonical JSON (see overrides.md).

Shared by check_overrides_hydra.py (the conformance table) and
diff_overrides.py (random differential testing against forja).
"""
import json
import warnings

warnings.simplefilter("ignore")

from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: E402
from hydra.core.override_parser.types import (  # noqa: E402
    ChoiceSweep,
    Glob,
    IntervalSweep,
    Override,
    OverrideType,
    QuotedString,
    RangeSweep,
    Sweep,
    ValueType,
)

_PARSER = OverridesParser.create()
_OPS = {
    OverrideType.CHANGE: "change",
    OverrideType.ADD: "add",
    OverrideType.FORCE_ADD: "force_add",
    OverrideType.DEL: "delete",
}


class NotCanonical(Exception):
    """Hydra accepted something forja's canonical form cannot hold (a sweep
    nested in a list, a non-string glob pattern, ...)."""


def _key(k):
    # forja's mappings have string keys; a typed dict key becomes its text.
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        return repr(k)
    if isinstance(k, str):
        return k
    raise NotCanonical(f"dict key {k!r}")


def node(v):
    """A parsed element as a Node: quotes dropped (Override.value() does so)."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise NotCanonical(f"int {v} does not fit in 64 bits")
        return v
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, QuotedString):
        return v.text
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return [node(x) for x in v]
    if isinstance(v, dict):
        out = []
        seen = {}
        for k, x in v.items():
            ks = _key(k)
            if ks in seen:  # two Python keys with one text (nan, nan)
                out[seen[ks]][1] = node(x)
            else:
                seen[ks] = len(out)
                out.append([ks, node(x)])
        return {"dict": out}
    raise NotCanonical(f"{type(v).__name__} inside a value")


def element(v):
    return {"elem": node(v), "str": Override._get_value_element_as_str(v)}


def _num(v):
    if isinstance(v, bool) or isinstance(v, int):
        return node(v)
    if isinstance(v, float):
        return {"float": repr(v)}
    raise NotCanonical(f"range or interval bound {v!r}")


def value(o):
    v = o._value
    if o.value_type in (ValueType.CHOICE_SWEEP, ValueType.SIMPLE_CHOICE_SWEEP):
        return {
            "choice": [element(x) for x in v.list],
            "shuffle": bool(v.shuffle),
            "simple": bool(v.simple_form),
            "tags": sorted(v.tags),
        }
    if o.value_type == ValueType.RANGE_SWEEP:
        return {
            "range": [_num(v.start), _num(v.stop), _num(v.step)],
            "shuffle": bool(v.shuffle),
            "tags": sorted(v.tags),
        }
    if o.value_type == ValueType.INTERVAL_SWEEP:
        return {"interval": [_num(v.start), _num(v.end)], "tags": sorted(v.tags)}
    if o.value_type == ValueType.GLOB_CHOICE_SWEEP:
        def pats(lst):
            out = []
            for p in lst:
                if isinstance(p, QuotedString):
                    p = p.text
                if not isinstance(p, str):
                    raise NotCanonical(f"glob pattern {p!r}")
                out.append(p)
            return out
        return {"glob": {"exclude": pats(v.exclude), "include": pats(v.include)}}
    if isinstance(v, (Sweep, Glob)):
        raise NotCanonical("sweep as an element")
    return element(v)


def canonical(o):
    out = {"key": o.key_or_group, "op": _OPS[o.type], "package": o.package}
    if o.value_type is not None:
        out["value"] = value(o)
    return out


def parse(s):
    """("ok", canonical dict) | ("error", message) | ("accepts", why)."""
    try:
        o = _PARSER.parse_overrides([s])[0]
    except Exception as e:  # OverrideParseException, and anything Hydra lets escape
        return "error", str(e).split("\n")[0]
    try:
        return "ok", canonical(o)
    except NotCanonical as e:
        return "accepts", str(e)


def dumps(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
