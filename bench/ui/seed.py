"""The runs both UIs show, generated once from a seed and bulk-inserted with Python's sqlite3
straight into each server's own SQLite schema (made by the server itself: each is started once
and the experiment created through its REST API before the rows go in).

Every run: 10 params (p0..p9), 10 metrics (m0..m9, the latest value in latest_metrics, which
search-runs reads, and that point in metrics, which get-history reads), a name and the
mlflow.runName tag. The COMPARED runs (10, spread over the experiment, tagged compare=yes)
get a full 1,000-point history of all 10 metrics; their latest value is step 999's. A
1,000-point history for every metric of every run would be 1e8 (10,000 runs) to 1e9 rows
(100,000 runs): no UI reads histories of runs it does not chart, so only the compared runs
have them.
"""

import math
import random
import sqlite3
import uuid

BASE_MS = 1_780_000_000_000  # start_time of run 0; run i starts i seconds later
N_PARAMS = 10
N_METRICS = 10
N_COMPARED = 10
HISTORY = 1000
FILTER = "metrics.m0 > 0.5"


class Runs:
    """n runs, the same for both stores. Rows are built lazily per table (memory at 100,000
    runs: about 3 million tuples per table set)."""

    def __init__(self, n):
        rnd = random.Random(20261207)
        self.n = n
        self.ids = [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(n)]
        # Latest values: run i's m_k; the newest run fails the filter, so a filtered table's
        # first row differs from the unfiltered one's (what the filter timing waits for).
        self.latest = [[rnd.random() for _ in range(N_METRICS)] for _ in range(n)]
        self.latest[n - 1][0] = 0.25
        self.params = [[f"{'abcdefghij'[k]}{rnd.randrange(10 if k < 5 else 1000)}" for k in range(N_PARAMS)]
                       for _ in range(n)]
        step = max(1, n // N_COMPARED)
        self.compared = [n - 1 - step // 2 - j * step for j in range(N_COMPARED)]
        self.history = {}
        for i in self.compared:
            curves = []
            for k in range(N_METRICS):
                a, b = rnd.uniform(0.2, 1.0), rnd.uniform(0.002, 0.01)
                curves.append([a * math.exp(-b * s) + 0.02 * rnd.random() for s in range(HISTORY)])
                self.latest[i][k] = curves[k][-1]
            self.history[i] = curves
        self.latest[n - 1][0] = 0.25  # in case the newest run is a compared one

    def start(self, i):
        return BASE_MS + i * 1000

    def name(self, i):
        return f"run-{i:06d}"

    def filtered_first(self):
        """The index of the first row of the table filtered by FILTER, newest first."""
        for i in range(self.n - 1, -1, -1):
            if self.latest[i][0] > 0.5:
                return i
        raise RuntimeError("no run passes the filter")

    def order(self):
        # Insert in primary-key order: B-tree appends, not random page splits.
        return sorted(range(self.n), key=lambda i: self.ids[i])

    def param_rows(self):
        for i in self.order():
            for k in range(N_PARAMS):
                yield (self.ids[i], f"p{k}", self.params[i][k])

    def tag_rows(self):
        comp = set(self.compared)
        for i in self.order():
            yield (self.ids[i], "mlflow.runName", self.name(i))
            if i in comp:
                yield (self.ids[i], "compare", "yes")

    def latest_rows(self):
        """(run_uuid, key, value, timestamp, step) of each run's latest point."""
        comp = set(self.compared)
        for i in self.order():
            step = HISTORY - 1 if i in comp else 0
            for k in range(N_METRICS):
                yield (self.ids[i], f"m{k}", self.latest[i][k], self.start(i) + step * 10, step)

    def metric_rows(self):
        """Every point of every series: one for most runs, 1,000 for the compared ones."""
        comp = set(self.compared)
        for i in self.order():
            if i not in comp:
                for k in range(N_METRICS):
                    yield (self.ids[i], f"m{k}", self.latest[i][k], self.start(i), 0)
                continue
            for k in range(N_METRICS):
                for s, v in enumerate(self.history[i][k]):
                    yield (self.ids[i], f"m{k}", v, self.start(i) + s * 10, s)


def _open(path):
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    # The server is stopped while rows go in: no reader to protect, so no journal sync.
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("BEGIN")
    return db


def _finish(db):
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


def fill_forja(path, exp_id, runs):
    db = _open(path)
    db.executemany(
        "INSERT INTO runs(run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, "
        "lifecycle_stage) VALUES (?, ?, ?, 'bench', 'FINISHED', ?, ?, ?, 'active')",
        ((runs.ids[i], int(exp_id), runs.name(i), runs.start(i), runs.start(i) + 60_000,
          f"mlflow-artifacts:/{exp_id}/{runs.ids[i]}/artifacts") for i in runs.order()))
    db.executemany("INSERT INTO params(run_uuid, key, value) VALUES (?, ?, ?)", runs.param_rows())
    db.executemany("INSERT INTO tags(run_uuid, key, value) VALUES (?, ?, ?)", runs.tag_rows())
    db.executemany("INSERT INTO latest_metrics(run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, 0, ?, ?)",
                   runs.latest_rows())
    db.executemany("INSERT INTO metrics(run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, 0, ?, ?)",
                   runs.metric_rows())
    _finish(db)


def fill_mlflow(path, exp_id, runs):
    db = _open(path)
    db.executemany(
        "INSERT INTO runs(run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
        "end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
        "VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
        ((runs.ids[i], runs.name(i), runs.start(i), runs.start(i) + 60_000,
          f"mlflow-artifacts:/{exp_id}/{runs.ids[i]}/artifacts", int(exp_id)) for i in runs.order()))
    db.executemany("INSERT INTO params(run_uuid, key, value) VALUES (?, ?, ?)", runs.param_rows())
    db.executemany("INSERT INTO tags(run_uuid, key, value) VALUES (?, ?, ?)", runs.tag_rows())
    db.executemany("INSERT INTO latest_metrics(run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
                   runs.latest_rows())
    db.executemany("INSERT INTO metrics(run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
                   runs.metric_rows())
    _finish(db)
