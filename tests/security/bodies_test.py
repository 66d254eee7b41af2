"""Request bodies and memory (issue 11, findings 9 and 18), against real servers.

9: forja server decides on a request's head: a caller without a valid token gets its 401
   (a reader uploading gets its 403) before sending one byte of body, with no
   "100 Continue", and the connection is closed; the server's memory does not grow with
   what unauthenticated clients push. A writer's large upload still works.
18: forja serve refuses a Content-Length over its limit on the head (413), and a body
   within the limit that holds too many JSON values is refused without its peak memory
   ballooning to several times the body.

Memory is read from /proc/<pid>/status (VmHWM, the peak resident set): a bound, not a time.
"""
import hashlib
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import harness  # noqa: E402  (tests/api/harness.py)

MB = 1 << 20
c = harness.Checks()


def peak_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


def send_head(port, method, path, headers):
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def read_response(sock):
    """(status, lower-cased headers, body) of the next response, or (None, {}, b'') if none came."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionError):
        pass
    if b"\r\n\r\n" not in data:
        return None, {}, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(headers.get("content-length", "0"))
    try:
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    except (socket.timeout, ConnectionError):
        pass
    return status, headers, rest[:n]


def push(sock, nbytes):
    """Sends nbytes of body, as far as the server lets us (it may close: that is the point)."""
    block = b"x" * MB
    try:
        for _ in range(nbytes // MB):
            sock.sendall(block)
    except OSError:
        pass


def error_code(body):
    try:
        return json.loads(body).get("error_code")
    except ValueError:
        return None


UPLOAD = "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/big.bin"


def test_server():
    tmp = harness.tempdir()
    store = harness.fresh_store("sqlite", tmp)
    srv = harness.Server(store, artifacts=os.path.join(tmp, "artifacts"), auth="on")

    def token(name, role):
        return harness.forja("server", "token", "create", "--store", store, "--name", name, "--role", role).stdout.strip()

    reader, writer = token("reader", "read"), token("writer", "write")
    try:
        base = peak_kb(srv.proc.pid)
        # Three unauthenticated 300 MB uploads at once: each is answered 401 on its head,
        # before any body is sent (we read the answer first), and its connection is closed.
        socks = [send_head(srv.port, "PUT", UPLOAD, {"Content-Length": 300 * MB}) for _ in range(3)]
        for i, s in enumerate(socks):
            status, headers, body = read_response(s)
            c.eq(status, 401, f"unauthenticated upload {i}: answered on its head")
            c.eq(error_code(body), "UNAUTHENTICATED", f"unauthenticated upload {i}: error code")
            c.true("bearer" in headers.get("www-authenticate", "").lower(), f"upload {i}: WWW-Authenticate")
            c.eq(headers.get("connection", "").lower(), "close", f"upload {i}: the connection is closed")
        # Then they push 48 MB each anyway: the server must not keep it.
        threads = [threading.Thread(target=push, args=(s, 48 * MB)) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for s in socks:
            s.close()

        # Expect: 100-continue: the refusal is the only answer, never a 100 first.
        s = send_head(srv.port, "PUT", UPLOAD, {"Content-Length": 300 * MB, "Expect": "100-continue",
                                                "Authorization": "Bearer forja_not_a_token"})
        status, _, body = read_response(s)
        c.eq(status, 401, "wrong token with Expect: 100-continue: 401, no 100 Continue")
        s.close()
        # A reader may not upload: 403 on the head, no body read.
        s = send_head(srv.port, "PUT", UPLOAD, {"Content-Length": 300 * MB, "Authorization": "Bearer " + reader})
        status, _, body = read_response(s)
        c.eq((status, error_code(body)), (403, "PERMISSION_DENIED"), "reader's upload: 403 on the head")
        s.close()
        # A writer's API request above the JSON limit (16 MiB): 413 on the head.
        s = send_head(srv.port, "POST", "/api/2.0/mlflow/runs/log-batch",
                      {"Content-Length": 20 * MB, "Content-Type": "application/json", "Authorization": "Bearer " + writer})
        status, _, _ = read_response(s)
        c.eq(status, 413, "an API body over the JSON limit: 413 on the head")
        s.close()

        grown = (peak_kb(srv.proc.pid) - base) // 1024
        # 3 x 48 MB pushed: the old server buffered all of it (>= 144 MB).
        print(f"server: peak grew {grown} MB")
        c.true(grown < 48, f"peak memory grew by {grown} MB after 144 MB of unauthenticated bodies (bound: 48 MB)")

        # A writer's 24 MB upload (above the JSON limit) with Expect: 100-continue: 100, then 200.
        payload = os.urandom(24 * MB)
        s = send_head(srv.port, "PUT", UPLOAD, {"Content-Length": len(payload), "Expect": "100-continue",
                                                "Authorization": "Bearer " + writer})
        status, _, _ = read_response(s)
        c.eq(status, 100, "writer's upload: 100 Continue")
        s.sendall(payload)
        status, _, body = read_response(s)
        c.eq(status, 200, f"writer's upload stored: {body[:200]!r}")
        s.close()
        status, got = srv.call("GET", UPLOAD, token=reader)
        c.eq((status, hashlib.sha256(got).hexdigest() if isinstance(got, bytes) else got),
             (200, hashlib.sha256(payload).hexdigest()), "the upload reads back")

        # Still serving.
        c.eq(srv.call("GET", "/health")[0], 200, "health after the refusals")
        status, _ = srv.api("POST", "experiments/create", {"name": "after"}, token=writer)
        c.eq(status, 200, "a writer's API call after the refusals")
    finally:
        c.eq(srv.stop(), 0, "forja server exits cleanly")


def test_serve():
    import importlib.util  # tests/serve/harness.py, by path: its name is taken by the api's
    spec = importlib.util.spec_from_file_location(
        "serve_harness", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "serve", "harness.py"))
    sh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sh)
    tmp = harness.tempdir()
    folder = os.path.join(tmp, "churn")
    sh.make_package(folder)
    s = sh.Serve(folder, "--max-body-mb", "64")
    url = "/v2/models/churn/infer"
    try:
        # Over the limit on the head: 413 before the body.
        sock = send_head(s.port, "POST", url, {"Content-Length": 1 << 30, "Content-Type": "application/json"})
        status, _, _ = read_response(sock)
        c.eq(status, 413, "serve: a Content-Length over --max-body-mb is refused on the head")
        sock.close()

        # A model that is not served: 404 on the head, its 60 MB never read.
        sock = send_head(s.port, "POST", "/v2/models/nope/infer", {"Content-Length": 60 * MB})
        status, _, b = read_response(sock)
        c.eq(status, 404, f"serve: an unknown model is refused on the head: {b[:200]!r}")
        sock.close()

        # 48 MB of '0,' within the limit: 24M values, more than the reader takes. The old
        # server peaked near 8x the body before saying so.
        base = peak_kb(s.proc.pid)
        values = b"0," * (24 * MB) + b"0"
        body = b'{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 8], "data": [' + values + b"]}]}"
        st, _, b = s.request("POST", url, body)
        c.eq(st, 400, f"serve: too many values is a 400: {b[:200]!r}")
        c.true(b"values" in b, f"serve: the error names the value limit: {b[:200]!r}")
        grown = (peak_kb(s.proc.pid) - base) // 1024
        body_mb = len(body) // MB
        print(f"serve: peak grew {grown} MB, body {body_mb} MB")
        c.true(grown < 3 * body_mb, f"serve: peak memory grew by {grown} MB for a {body_mb} MB body (bound: 3x)")

        rows = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 8], "data": [0.5] * 8}]}
        c.eq(s.request("POST", url, rows)[0], 200, "serve: still answering")
    finally:
        c.eq(s.stop(), 0, "forja serve exits cleanly")


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        sys.exit(77)
    test_server()
    test_serve()
    c.finish()


if __name__ == "__main__":
    main()
