"""forja serve's Open Inference Protocol over gRPC (--grpc-port), driven by tritonclient.grpc and
by the raw stub tritonclient ships: liveness, readiness and metadata; ModelInfer with raw and with
typed contents answering what REST answers; the request id and the served version as metadata;
REST and gRPC requests batched together; every bad input's gRPC status (the server keeps
serving); the metrics; SIGTERM draining a gRPC call in flight. The HTTP/2 transport (forja's
own, net/h2_session.h): a peer that does not speak HTTP/2 gets a GOAWAY and is closed, unknown
methods, oversized metadata, many calls at once on one connection, and clients that go away
mid-call (a reset stream, a closed socket) while the server keeps serving.
"""
import concurrent.futures
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FEATURES, Serve, check, failures  # noqa: E402

TMP = tempfile.mkdtemp(prefix="forja-grpc-py-")
ROWS = np.random.default_rng(11).normal(size=(40, FEATURES)).astype(np.float32)


def grpc_port(s):
    m = re.search(r"gRPC \(Open Inference Protocol\) on [0-9.]+:(\d+)", s.output())
    if not m:
        raise AssertionError("no gRPC port in the log: " + s.output())
    return int(m.group(1))


def stub(port):
    import grpc
    from tritonclient.grpc import service_pb2_grpc
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)])
    return channel, service_pb2_grpc.GRPCInferenceServiceStub(channel)


def request(rows, typed=False, name="features", datatype="FP32", shape=None, model="churn", version=""):
    from tritonclient.grpc import service_pb2 as pb
    rows = np.asarray(rows)
    r = pb.ModelInferRequest(model_name=model, model_version=version)
    t = r.inputs.add(name=name, datatype=datatype, shape=list(shape or rows.shape))
    if typed:
        t.contents.fp32_contents.extend(rows.ravel().tolist())
    else:
        r.raw_input_contents.append(rows.tobytes())
    return r


def code_of(call):
    """The gRPC status code name of a call that may fail."""
    import grpc
    try:
        call()
        return "OK"
    except grpc.RpcError as e:
        return e.code().name


def rest_answer(s, rows):
    import tritonclient.http as httpclient
    c = httpclient.InferenceServerClient(url=f"127.0.0.1:{s.port}")
    inp = httpclient.InferInput("features", list(rows.shape), "FP32")
    inp.set_data_from_numpy(rows, binary_data=True)
    return c.infer("churn", [inp]).as_numpy("probability")


def test_health_and_metadata(s, port):
    import tritonclient.grpc as grpcclient
    c = grpcclient.InferenceServerClient(url=f"127.0.0.1:{port}")
    check(c.is_server_live() and c.is_server_ready(), "gRPC: server live and ready")
    check(c.is_model_ready("churn") and c.is_model_ready("churn", "1"), "gRPC: model ready")
    meta = c.get_server_metadata()
    check(meta.name == "forja" and meta.version, f"gRPC server metadata: {meta}")
    mm = c.get_model_metadata("churn")
    check(mm.name == "churn" and list(mm.versions) == ["1"] and mm.inputs[0].name == "features" and
          mm.inputs[0].datatype == "FP32" and list(mm.inputs[0].shape) == [-1, FEATURES] and
          mm.outputs[0].name == "probability", f"gRPC model metadata: {mm}")


def test_infer(s, port, booster):
    import tritonclient.grpc as grpcclient
    want = harness.xgb_predict(booster, ROWS)
    rest = rest_answer(s, ROWS)
    c = grpcclient.InferenceServerClient(url=f"127.0.0.1:{port}")
    inp = grpcclient.InferInput("features", list(ROWS.shape), "FP32")
    inp.set_data_from_numpy(ROWS)
    r = c.infer("churn", [inp], request_id="req-7")
    got = r.as_numpy("probability")
    check(got is not None and np.array_equal(got, rest), "gRPC raw contents answer what REST answers")
    check(np.max(np.abs(got.astype(np.float64) - want)) <= 1e-6, "gRPC answers xgboost's predictions")
    resp = r.get_response()
    check(resp.id == "req-7" and resp.model_name == "churn" and resp.model_version == "1",
          f"gRPC response id and model: {resp.id!r} {resp.model_name} {resp.model_version}")
    one = grpcclient.InferInput("features", [1, FEATURES], "FP32")
    one.set_data_from_numpy(ROWS[:1])
    check(np.array_equal(c.infer("churn", [one], model_version="1").as_numpy("probability"), rest[:1]),
          "gRPC one row, version named")

    channel, st = stub(port)
    try:
        resp, call = st.ModelInfer.with_call(request(ROWS, typed=True), metadata=[("x-request-id", "trace-42")])
        out = resp.outputs[0]
        check(out.name == "probability" and out.datatype == "FP32" and list(out.shape) == [len(ROWS)] and
              not resp.raw_output_contents and np.array_equal(np.asarray(out.contents.fp32_contents, np.float32), rest),
              "gRPC typed contents answer typed contents equal to REST's")
        md = dict(call.initial_metadata())
        check(md.get("x-request-id") == "trace-42" and md.get("forja-model-version") == "churn/1",
              f"gRPC metadata carries the request id and the version: {md}")
        _, call = st.ModelInfer.with_call(request(ROWS[:2]))
        md = dict(call.initial_metadata())
        check(len(md.get("x-request-id", "")) == 20, f"gRPC: a request id is made when none is sent: {md}")
        # Named outputs only.
        r2 = request(ROWS[:3])
        r2.outputs.add(name="probability")
        check(len(st.ModelInfer(r2).outputs) == 1, "gRPC: a requested output")
    finally:
        channel.close()


def test_bad_input(s, port):
    import grpc
    from tritonclient.grpc import service_pb2 as pb
    channel, st = stub(port)
    infer = st.ModelInfer
    try:
        cases = []
        short = request(ROWS[:1], typed=True)
        del short.inputs[0].contents.fp32_contents[-1]
        cases.append(("shape x contents mismatch", short, "INVALID_ARGUMENT"))
        wrong_field = request(ROWS[:1], typed=True)
        wrong_field.inputs[0].contents.ClearField("fp32_contents")
        wrong_field.inputs[0].contents.int64_contents.extend([1] * FEATURES)
        cases.append(("FP32 in int64_contents", wrong_field, "INVALID_ARGUMENT"))
        cases.append(("raw contents of the wrong size", request(ROWS[:1], shape=[2, FEATURES]), "INVALID_ARGUMENT"))
        two_raw = request(ROWS[:1])
        two_raw.raw_input_contents.append(b"1234")
        cases.append(("more raw contents than inputs", two_raw, "INVALID_ARGUMENT"))
        cases.append(("a datatype the signature does not take", request(ROWS[:1].astype(np.float64), datatype="FP64"),
                      "INVALID_ARGUMENT"))
        cases.append(("an unknown input", request(ROWS[:1], name="nope"), "INVALID_ARGUMENT"))
        cases.append(("an unknown datatype", request(ROWS[:1], datatype="FP8"), "INVALID_ARGUMENT"))
        cases.append(("a negative dimension", request(ROWS[:1], shape=[-1, FEATURES]), "INVALID_ARGUMENT"))
        cases.append(("no inputs", pb.ModelInferRequest(model_name="churn"), "INVALID_ARGUMENT"))
        unknown_out = request(ROWS[:1])
        unknown_out.outputs.add(name="nope")
        cases.append(("an unknown output", unknown_out, "INVALID_ARGUMENT"))
        cases.append(("an unknown model", request(ROWS[:1], model="nope"), "NOT_FOUND"))
        cases.append(("an unknown version", request(ROWS[:1], version="9"), "NOT_FOUND"))
        cases.append(("more rows than --max-rows", request(np.zeros((101, FEATURES), np.float32)), "RESOURCE_EXHAUSTED"))
        # Over --max-body-mb 1: refused before it is parsed.
        cases.append(("a message over the body limit", request(np.zeros((40000, FEATURES), np.float32)), "RESOURCE_EXHAUSTED"))
        for what, req, want in cases:
            got = code_of(lambda: infer(req))
            check(got == want, f"gRPC {what}: {got}, want {want}")
        check(code_of(lambda: st.ModelMetadata(pb.ModelMetadataRequest(name="nope"))) == "NOT_FOUND",
              "gRPC metadata of an unknown model: NOT_FOUND")
        check(code_of(lambda: st.ModelReady(pb.ModelReadyRequest(name="churn", version="9"))) == "NOT_FOUND",
              "gRPC readiness of an unknown version: NOT_FOUND")
        # Bytes that are no ModelInferRequest at all.
        garbage = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                      request_serializer=lambda b: b, response_deserializer=lambda b: b)
        for junk in [b"\xff\xff\xff\xff", b"\x2a\x05\x0a\x03abc\x12", b"\x3a\xff\xff\xff\xff\x0f"]:
            got = code_of(lambda: garbage(junk))
            check(got in ("INTERNAL", "INVALID_ARGUMENT"), f"gRPC undecodable message: {got}")
        check(s.proc.poll() is None, "forja serve is still running after the bad gRPC messages")
        check(infer(request(ROWS[:1])).outputs[0].name == "probability", "gRPC still serving after the bad input")
    finally:
        channel.close()
    m = s.request("GET", "/metrics")[2].decode()
    check((harness.metric(m, "forja_serve_grpc_responses_total", code="INVALID_ARGUMENT") or 0) >= 10,
          "gRPC INVALID_ARGUMENTs counted")
    check((harness.metric(m, "forja_serve_grpc_responses_total", code="OK") or 0) >= 5, "gRPC OKs counted")
    check((harness.metric(m, "forja_serve_requests_total", model="churn", version="1", code="400") or 0) >= 7,
          "gRPC's refused infer calls counted with REST's, per version")


# ---- raw HTTP/2, for what a well-behaved client never sends ----

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GOAWAY, DATA, HEADERS, SETTINGS = 7, 0, 1, 4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def header_block(path):
    """HPACK literal fields without indexing (no Huffman): enough for a request's head."""
    out = b""
    for k, v in [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path), (b":authority", b"t"),
                 (b"content-type", b"application/grpc"), (b"te", b"trailers")]:
        out += b"\x00" + bytes([len(k)]) + k + bytes([len(v)]) + v
    return out


def grpc_frame(msg):
    body = msg.SerializeToString()
    return b"\0" + struct.pack(">I", len(body)) + body


def read_frames(sock, seconds=3.0):
    """The frames the server sends until it closes (closed=True) or `seconds` pass."""
    sock.settimeout(seconds)
    data, closed = b"", False
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                closed = True
                break
            data += b
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    frames, i = [], 0
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        frames.append((data[i + 3], int.from_bytes(data[i + 5:i + 9], "big") & 0x7fffffff, data[i + 9:i + 9 + n]))
        i += 9 + n
    return frames, closed


def test_transport(s, port):
    import grpc
    from tritonclient.grpc import service_pb2 as pb
    # Not HTTP/2 at all: HTTP/1.1, then random bytes after a valid preface.
    for what, junk in [("an HTTP/1.1 request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                       ("garbage after the preface", PREFACE + frame(SETTINGS, 0, 0) + b"\xff" * 64)]:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(junk)
            frames, closed = read_frames(sock)
        check(any(k == GOAWAY for k, _, _ in frames) and closed,
              f"gRPC port, {what}: GOAWAY and closed ({[k for k, _, _ in frames]}, closed={closed})")

    channel, st = stub(port)
    try:
        for path in ["/inference.GRPCInferenceService/RepositoryIndex", "/other.Service/Method"]:
            call = channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            got = code_of(lambda: call(b""))
            check(got == "UNIMPLEMENTED", f"gRPC unknown method {path}: {got}")
        got = code_of(lambda: st.ServerLive(pb.ServerLiveRequest(), metadata=[("x-big", "a" * 20000)]))
        check(got != "OK", f"gRPC metadata over the header limit refused: {got}")
        # More calls at once on one connection than SETTINGS_MAX_CONCURRENT_STREAMS (128).
        want = st.ModelInfer(request(ROWS[:1])).raw_output_contents[0]
        futures = [st.ModelInfer.future(request(ROWS[i % len(ROWS):][:1])) for i in range(300)]
        answers = [f.result(timeout=30) for f in futures]
        check(all(a.raw_output_contents[0] == st.ModelInfer(request(ROWS[i % len(ROWS):][:1])).raw_output_contents[0]
                  for i, a in enumerate(answers[:40])) and answers[0].raw_output_contents[0] == want and
              len(answers) == 300, "gRPC: 300 concurrent calls on one connection, each answered with its own rows")
    finally:
        channel.close()

    # A client that sends half a call and closes its socket.
    msg = grpc_frame(request(ROWS[:4]))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(PREFACE + frame(SETTINGS, 0, 0) +
                     frame(HEADERS, 0x4, 1, header_block(b"/inference.GRPCInferenceService/ModelInfer")) +
                     frame(DATA, 0, 1, msg[:len(msg) // 2]))
    # A whole call on raw frames, answered with grpc-status 0 in trailers.
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(PREFACE + frame(SETTINGS, 0, 0) +
                     frame(HEADERS, 0x4, 1, header_block(b"/inference.GRPCInferenceService/ModelInfer")) +
                     frame(DATA, 0x1, 1, msg))
        frames, _ = read_frames(sock, 1.0)
    kinds = [k for k, sid, _ in frames if sid == 1]
    check(kinds[:1] == [HEADERS] and DATA in kinds and kinds[-1] == HEADERS,
          f"gRPC on raw HTTP/2: headers, the message, trailers: {kinds}")
    check(s.proc.poll() is None and st_alive(port), "forja serve still serves gRPC after the transport cases")


def st_alive(port):
    import tritonclient.grpc as grpcclient
    return grpcclient.InferenceServerClient(url=f"127.0.0.1:{port}").is_server_live()


def test_gone_mid_call(folder):
    """Calls whose client goes away while the batcher holds them: the answers find no stream
    (reset by the client) or no connection (closed), and the server keeps serving."""
    import grpc
    s = Serve(folder, "--grpc-port", "0", "--max-queue-delay-us", "300000", "--max-batch-size", "1000")
    try:
        port = grpc_port(s)
        channel, st = stub(port)
        got = code_of(lambda: st.ModelInfer(request(ROWS[:1]), timeout=0.05))
        check(got == "DEADLINE_EXCEEDED", f"a call given up by its client mid-call: {got}")
        msg = grpc_frame(request(ROWS[:1]))
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(PREFACE + frame(SETTINGS, 0, 0) +
                         frame(HEADERS, 0x4, 1, header_block(b"/inference.GRPCInferenceService/ModelInfer")) +
                         frame(DATA, 0x1, 1, msg))
            time.sleep(0.05)
        time.sleep(0.5)  # both answers are due now, to a reset stream and a closed socket
        check(s.proc.poll() is None and len(st.ModelInfer(request(ROWS[:2])).raw_output_contents) == 1,
              "forja serve answers the next call after two clients went away mid-call")
        channel.close()
    finally:
        s.stop()


def test_shared_batching(folder):
    """A REST and a gRPC request that arrive together are scored in one batch."""
    import tritonclient.grpc as grpcclient
    s = Serve(folder, "--grpc-port", "0", "--max-batch-size", "2", "--max-queue-delay-us", "5000000")
    try:
        port = grpc_port(s)
        before = s.request("GET", "/metrics")[2].decode()
        b0 = harness.metric(before, "forja_serve_batch_rows_count", model="churn") or 0
        c = grpcclient.InferenceServerClient(url=f"127.0.0.1:{port}")
        inp = grpcclient.InferInput("features", [1, FEATURES], "FP32")
        inp.set_data_from_numpy(ROWS[:1])
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            g = ex.submit(lambda: c.infer("churn", [inp]).as_numpy("probability"))
            r = ex.submit(lambda: rest_answer(s, ROWS[1:2]))
            g, r = g.result(), r.result()
        check(g is not None and r is not None, "REST and gRPC answered")
        m = s.request("GET", "/metrics")[2].decode()
        batches = (harness.metric(m, "forja_serve_batch_rows_count", model="churn") or 0) - b0
        rows2 = harness.metric(m, "forja_serve_batch_rows_bucket", model="churn", le="2")
        rows1 = harness.metric(m, "forja_serve_batch_rows_bucket", model="churn", le="1")
        check(batches == 1 and rows2 - rows1 == 1, f"one batch of 2 rows for a REST and a gRPC request: {batches} batches")
        check(harness.metric(m, "forja_serve_requests_total", model="churn", code="200") == 2,
              "both requests in the version's request count")
    finally:
        s.stop()


def test_sigterm_drains(folder):
    import tritonclient.grpc as grpcclient
    s = Serve(folder, "--grpc-port", "0", "--max-queue-delay-us", "300000", "--max-batch-size", "1000")
    port = grpc_port(s)
    results = []

    def call():
        c = grpcclient.InferenceServerClient(url=f"127.0.0.1:{port}")
        inp = grpcclient.InferInput("features", [1, FEATURES], "FP32")
        inp.set_data_from_numpy(ROWS[:1])
        try:
            results.append(c.infer("churn", [inp]).as_numpy("probability").shape)
        except Exception as e:  # noqa: BLE001 - reported below
            results.append(repr(e))

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.1)  # the call waits 300 ms for company
    rc = s.stop()
    t.join()
    check(results == [(1,)] and rc == 0, f"SIGTERM with a gRPC call in flight: {results}, exit {rc}")


def test_loadgen(s, port):
    """bench/loadgen.cc, the client bench/serving measures REST and gRPC with: a second of each
    protocol answers without errors, and answers it should not count (an unknown model: 404,
    grpc-status NOT_FOUND) are counted as errors."""
    import json
    import subprocess
    loadgen = os.environ["LOADGEN"]
    body = os.path.join(TMP, "rest.json")
    with open(body, "w") as f:
        json.dump({"inputs": [{"name": "features", "shape": [1, FEATURES], "datatype": "FP32",
                               "data": ROWS[0].tolist()}]}, f)
    for model, ok in (("churn", True), ("nope", False)):
        frame_file = os.path.join(TMP, f"grpc-{model}.bin")
        with open(frame_file, "wb") as f:
            f.write(grpc_frame(request(ROWS[:1], model=model)))
        runs = {
            "rest": ["--http1", "--port", str(s.port), "--path", f"/v2/models/{model}/infer", "--body", body,
                     "--header", "Content-Type: application/json", "--conns", "2"],
            "grpc": ["--grpc", "--port", str(port), "--path", "/inference.GRPCInferenceService/ModelInfer",
                     "--body", frame_file, "--header", "content-type: application/grpc", "--header", "te: trailers",
                     "--conns", "2"],
        }
        runs["grpc-mux"] = runs["grpc"] + ["--streams", "4"]
        for name, args in runs.items():
            out = subprocess.run([loadgen, *args, "--duration", "1"], capture_output=True, text=True, timeout=30)
            r = json.loads(out.stdout) if out.returncode == 0 else {}
            if ok:
                check(r.get("answers", 0) > 0 and r.get("errors") == 0 and 0 < r["p50_ms"] <= r["p99_ms"],
                      f"loadgen {name}: {out.stdout} {out.stderr}")
            else:
                check(r.get("answers") == 0 and r.get("errors", 0) > 0, f"loadgen {name} to a missing model: {out.stdout}")


def main():
    if not os.path.exists(harness.FORJA):
        print("SKIP: no forja binary at", harness.FORJA)
        return 77
    try:
        import tritonclient.grpc  # noqa: F401
    except ImportError:
        print("SKIP: tritonclient[grpc] is not installed (scripts/setup installs it)")
        return 77
    folder = os.path.join(TMP, "churn")
    booster = harness.make_package(folder)
    try:
        s = Serve(folder, "--grpc-port", "0", "--max-rows", "100", "--max-body-mb", "1")
    except AssertionError as e:
        if "built without gRPC" in str(e):
            print("SKIP: forja was built without gRPC")
            return 77
        raise
    try:
        port = grpc_port(s)
        test_health_and_metadata(s, port)
        test_infer(s, port, booster)
        test_bad_input(s, port)
        test_transport(s, port)
        if os.environ.get("LOADGEN"):
            test_loadgen(s, port)
    finally:
        s.stop()
    test_gone_mid_call(folder)
    test_shared_batching(folder)
    test_sigterm_drains(folder)
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
