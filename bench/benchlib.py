"""Shared pieces of the HTTP benchmarks (bench/http, bench/serving): ports, nginx with a
private config, wrk runs and their parsing."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: {what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench: {what} is not listening on {port} after {timeout} s")


def start_nginx(scratch, locations):
    """nginx on a free port with `locations`: {path: (kind, text)}, kind "file" (a static file
    of that text) or "return" (`return 200 '<text>'`, which answers any method, POST too)."""
    nginx = os.environ.get("BENCH_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        sys.exit("bench: nginx not found; run scripts/setup (Debian package nginx)")
    port = free_port()
    www = os.path.join(scratch, "www")
    os.makedirs(www, exist_ok=True)
    blocks = []
    for path, (kind, text) in locations.items():
        if kind == "file":
            with open(os.path.join(www, path.lstrip("/")), "w") as f:
                f.write(text)
            os.chmod(os.path.join(www, path.lstrip("/")), 0o644)
            blocks.append(f"    location = {path} {{ default_type application/json; }}")
        else:
            if "'" in text:
                raise ValueError("nginx return text must not hold a single quote")
            blocks.append(f"    location = {path} {{ default_type application/json; return 200 '{text}'; }}")
    # Workers may run as another user: let them read the folder.
    for d in (scratch, www):
        os.chmod(d, 0o755)
    workers = os.environ.get("BENCH_NGINX_WORKERS", "2")
    conf = os.path.join(scratch, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes {workers};
pid {scratch}/nginx.pid;
error_log {scratch}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 65;
  client_body_buffer_size 1m;
  client_body_temp_path {scratch}/body;
  proxy_temp_path {scratch}/proxy;
  fastcgi_temp_path {scratch}/fastcgi;
  uwsgi_temp_path {scratch}/uwsgi;
  scgi_temp_path {scratch}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {www};
{chr(10).join(blocks)}
  }}
}}
""")
    proc = subprocess.Popen([nginx, "-p", scratch, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    wait_for_port(port, proc, "nginx")
    return proc, port


def stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, conns, seconds, script=None):
    """One wrk run: {rps, p50, p99 (ms), errors (non-2xx and socket errors)}."""
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = 0
    for m in re.finditer(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return {"rps": float(rps.group(1)), "p50": to_ms(*p50.groups()), "p99": to_ms(*p99.groups()),
            "errors": errors}


def post_script(path, body_file, content_type="application/json"):
    """A wrk Lua script that POSTs the bytes of body_file; written beside it."""
    script = body_file + ".lua"
    with open(script, "w") as f:
        f.write(f"""local f = io.open("{body_file}", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{content_type}"
wrk.path = "{path}"
""")
    return script


def median(runs):
    runs = sorted(runs, key=lambda r: r["rps"])
    mid = dict(runs[len(runs) // 2])
    mid["errors"] = sum(r["errors"] for r in runs)
    return mid


def fmt_ms(ms):
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:.2f} ms"
