"""Send the rows of a CSV file to a model that forja serve serves, as production traffic would.

    python send_traffic.py URL MODEL DATA.csv [--exclude COL]... [--scale S] [--shift D]
                           [--seconds N] [--rows-per-request K] [--feedback LABEL_COLUMN]

Each request is one Open Inference Protocol v2 call (POST URL/v2/models/MODEL/infer) with K rows
of the file's feature columns (every column but the --exclude ones) as one FP32 input
[K, features]. --scale and --shift move every feature (x * S + D) to make the traffic drift.
With --feedback, the true label of each request's rows (column LABEL_COLUMN) is posted to
/v2/models/MODEL/feedback with the request id forja answered with. Rows are taken in order, again
from the start when the file ends, for --seconds seconds. Prints how many requests it sent.
"""

import argparse
import csv
import json
import time
import urllib.request


def post(url, body, headers=None):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers, json.load(r)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--shift", type=float, default=0.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rows-per-request", type=int, default=20)
    p.add_argument("--feedback", metavar="LABEL_COLUMN")
    a = p.parse_args()

    with open(a.data, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{a.data}: no rows")
    features = [c for c in rows[0] if c not in a.exclude and c != a.feedback]
    infer = f"{a.url}/v2/models/{a.model}/infer"
    sent, at, end = 0, 0, time.monotonic() + a.seconds
    while time.monotonic() < end:
        batch = [rows[(at + i) % len(rows)] for i in range(a.rows_per_request)]
        at += a.rows_per_request
        data = [float(r[c]) * a.scale + a.shift for r in batch for c in features]
        body = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [len(batch), len(features)], "data": data}]}
        headers, _ = post(infer, body)
        if a.feedback:
            labels = [float(r[a.feedback]) for r in batch]
            post(f"{a.url}/v2/models/{a.model}/feedback", {"request_id": headers["X-Request-Id"], "label": labels})
        sent += 1
        time.sleep(0.02)
    print(f"sent {sent} requests ({sent * a.rows_per_request} rows) to {a.model}")


if __name__ == "__main__":
    main()
