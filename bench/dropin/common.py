"""Shared pieces of bench/dropin: timing, logging, the Markdown table."""

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import benchlib  # noqa: E402  (free_port, stop)

FORJA = os.path.abspath(os.environ.get("BENCH_FORJA", os.path.join(ROOT, "build/src/forja/cli/forja")))
PYTHON = os.path.abspath(os.environ.get("BENCH_PYTHON", os.path.join(ROOT, ".venv/bin/python")))
DVC = os.path.abspath(os.environ.get("BENCH_DVC", os.path.join(ROOT, ".venv/bin/dvc")))
MLFLOW = os.path.abspath(os.environ.get("BENCH_MLFLOW", os.path.join(ROOT, ".venv/bin/mlflow")))
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "900"))


class Failed(Exception):
    """A timed command failed: its cell in the table says so instead of a time."""


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd, env=None, logfile=None, check=True):
    """Runs cmd (a list, or a string for /bin/sh) and returns its wall time in seconds."""
    out = open(logfile, "ab") if logfile else subprocess.DEVNULL
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), stdout=out,
                           stderr=subprocess.STDOUT if logfile else subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failed(f"timeout >{TIMEOUT}s")
    finally:
        if logfile:
            out.close()
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        where = f"see {logfile}" if logfile else (p.stderr or b"").decode(errors="replace").strip()[-300:]
        shown = cmd if isinstance(cmd, str) else " ".join(cmd[:4])
        raise Failed(f"`{shown}` exited {p.returncode}: {where}")
    return dt


def fresh(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


def median(xs):
    return statistics.median(xs) if xs else None


def fmt_s(s):
    if s is None:
        return "n/a"
    if isinstance(s, str):
        return s
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def ratio(peer, forja):
    if not isinstance(peer, (int, float)) or not isinstance(forja, (int, float)) or forja <= 0:
        return "n/a"
    return f"{peer / forja:.1f}x"


def table(title, peer_name, rows):
    """rows: (phase, forja seconds or failure text, peer seconds or failure text, note)."""
    lines = [f"### {title}", "",
             f"| phase | forja | {peer_name} | {peer_name} / forja | note |", "|---|---:|---:|---:|---|"]
    for phase, f, p, note in rows:
        lines.append(f"| {phase} | {fmt_s(f)} | {fmt_s(p)} | {ratio(p, f)} | {note} |")
    return "\n".join(lines) + "\n"
