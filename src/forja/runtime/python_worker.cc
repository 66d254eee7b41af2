#include "forja/runtime/python_worker.h"

namespace forja::runtime {

const char* const kPythonBootstrap =
    "import os, struct, sys\n"
    "def _read(n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = os.read(3, n - len(b))\n"
    "        if not c: sys.exit(0)\n"
    "        b += c\n"
    "    return b\n"
    "exec(compile(_read(struct.unpack('<Q', _read(8))[0]), 'forja-python-worker', 'exec'))\n";

// Kept free of per-element python work on the fixed-size datatypes: inputs are
// np.frombuffer views of the received frame, outputs are sent with tobytes().
const char* const kPythonWorkerProgram = R"PY(
import faulthandler, importlib, importlib.util, inspect, os, socket, struct, sys, traceback

PACKAGE, MODULE, FUNCTION = sys.argv[2:5]  # argv[1]: the worker's number
OUTPUTS = list(zip(sys.argv[5::2], sys.argv[6::2]))  # (name, datatype or "")


sys.stdout = sys.stderr  # fd 1 and 2 are one pipe anyway; print() must not block-buffer
faulthandler.enable()  # a crash in C code prints the python stack before the worker dies
SOCK = socket.socket(fileno=3)
U16, U32, U64 = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<Q")
NAMES = [None, "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
         "INT64", "FP16", "FP32", "FP64", "BYTES"]
NUMPY = {"BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
         "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
         "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}


def send(body):
    SOCK.sendall(U64.pack(len(body)) + body)


def string(s):
    b = s.encode("utf-8", "replace")
    return U32.pack(len(b)) + b


def send_error(user, exc, trace=True):
    if trace:  # from the user's frames on: serve()'s own says nothing
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        sys.stderr.flush()
    send(b"E" + bytes([0 if user else 1]) + string("%s: %s" % (type(exc).__name__, exc)))


def recv_exact(n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = SOCK.recv_into(view[got:])
        if k == 0:
            raise EOFError
        got += k
    return buf


def decode_bytes(buf, off, count):
    items = np.empty(count, dtype=object)
    for i in range(count):
        (n,) = U32.unpack_from(buf, off)
        items[i] = bytes(buf[off + 4:off + 4 + n])
        off += 4 + n
    return items


def decode_batch(buf):
    (count,) = U32.unpack_from(buf, 1)
    off = 5
    batch = {}
    for _ in range(count):
        (n,) = U16.unpack_from(buf, off)
        name = bytes(buf[off + 2:off + 2 + n]).decode("utf-8", "replace")
        off += 2 + n
        datatype, rank = NAMES[buf[off]], buf[off + 1]
        shape = struct.unpack_from("<%dq" % rank, buf, off + 2)
        off += 2 + 8 * rank
        (size,) = U64.unpack_from(buf, off)
        off += 8 + (-(off + 8)) % 8
        if datatype == "BYTES":
            elements = 1
            for d in shape:
                elements *= d
            arr = decode_bytes(buf, off, elements)
        else:
            dtype = np.dtype(NUMPY[datatype])
            arr = np.frombuffer(buf, dtype=dtype, count=size // dtype.itemsize, offset=off)
        batch[name] = arr.reshape(shape)
        off += size
    return batch


class OutputError(Exception):
    pass


def as_bytes(x):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, np.bytes_):
        return bytes(x)
    raise OutputError("a BYTES output holds %s, not bytes or str" % type(x).__name__)


def encode_output(name, value, datatype):
    if hasattr(value, "to_numpy"):  # pandas DataFrame / Series
        value = value.to_numpy()
    arr = np.asarray(value)
    if not datatype:
        if arr.dtype.kind in "OSU":
            datatype = "BYTES"
        else:
            for dt, code in NUMPY.items():
                if arr.dtype == np.dtype(code):
                    datatype = dt
                    break
            else:
                raise OutputError("output '%s' has numpy dtype %s, which has no OIP datatype" % (name, arr.dtype))
    if datatype == "BYTES":
        data = b"".join(U32.pack(len(b)) + b for b in map(as_bytes, arr.reshape(-1)))
    else:
        target = np.dtype(NUMPY[datatype])
        if arr.dtype != target:
            if arr.dtype.kind != "O" and not np.can_cast(arr.dtype, target, "same_kind"):
                raise OutputError("output '%s' is %s, which does not convert to %s without loss"
                                  % (name, arr.dtype, datatype))
            try:
                arr = arr.astype(target)
            except (TypeError, ValueError) as e:
                raise OutputError("output '%s' does not convert to %s: %s" % (name, datatype, e))
        data = np.ascontiguousarray(arr).tobytes()
    head = U16.pack(len(name.encode())) + name.encode() + bytes([NAMES.index(datatype), arr.ndim])
    head += struct.pack("<%dq" % arr.ndim, *arr.shape) + U64.pack(len(data))
    return head, data


def encode_outputs(result):
    if hasattr(result, "to_numpy") and hasattr(result, "columns") and len(OUTPUTS) > 1:
        result = {c: result[c] for c in result.columns}  # a DataFrame with a column per output
    if isinstance(result, dict):
        declared = dict(OUTPUTS)
        missing = [n for n in declared if n not in result]
        if missing:
            raise OutputError("predict returned no output named %s (it returned %s)"
                              % (", ".join(missing), ", ".join(map(str, result)) or "an empty dict"))
        names = list(declared) if declared else [str(k) for k in result]
        items = [(n, result[n], declared.get(n, "")) for n in names]
    else:
        if len(OUTPUTS) > 1:
            raise OutputError("predict returned one %s but the signature declares %d outputs: return a dict"
                              % (type(result).__name__, len(OUTPUTS)))
        name, datatype = OUTPUTS[0] if OUTPUTS else ("output", "")
        items = [(name, result, datatype)]
    parts = [b"O", U32.pack(len(items))]
    size = 5
    for name, value, datatype in items:
        head, data = encode_output(name, value, datatype)
        size += len(head)
        pad = b"\0" * ((-size) % 8)
        parts += [head, pad, data]
        size += len(pad) + len(data)
    return b"".join(parts)


def mlflow_module():
    """An MLflow model folder (registry/mlmodel.h): loaded with mlflow.pyfunc.load_model, each
    batch framed as FUNCTION says (dataframe, tensor, tensors, auto) before model.predict."""
    import types
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException
    import pandas as pd

    def column(a):
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.dtype == object:  # BYTES: string columns are str to MLflow
            a = np.array([x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in a], dtype=object)
        return a

    def predict(batch, model):
        one = len(batch) == 1
        if FUNCTION == "dataframe" or (FUNCTION == "auto" and all(a.ndim == 1 for a in batch.values())):
            data = pd.DataFrame({k: column(v) for k, v in batch.items()})
        elif FUNCTION == "tensor" or (FUNCTION == "auto" and one):
            data = next(iter(batch.values()))
        else:
            data = dict(batch)
        try:
            return model.predict(data)
        except MlflowException as e:  # its schema checks: the request's fault
            raise ValueError(e.message) from None

    m = types.ModuleType("forja_mlflow_pyfunc")
    m.load = mlflow.pyfunc.load_model
    setattr(m, FUNCTION, predict)  # start() looks predict up by the framing's name
    m.FORJA_DESCRIBE = "mlflow " + mlflow.__version__
    return m


def load_module():
    if MODULE == ":mlflow.pyfunc":
        return mlflow_module()
    sys.path.insert(0, PACKAGE)
    if MODULE.endswith(".py"):
        name = os.path.splitext(os.path.basename(MODULE))[0]
        spec = importlib.util.spec_from_file_location(name, os.path.join(PACKAGE, MODULE))
        if spec is None:
            raise ImportError("cannot load %s" % MODULE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # so that pickles naming the module find it
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(MODULE)


def start():
    global np
    stage = "importing numpy"
    try:
        import numpy as np
        stage = "importing " + MODULE
        module = load_module()
        stage = "looking up %s.%s" % (MODULE, FUNCTION)
        predict = getattr(module, FUNCTION, None)
        if not callable(predict):
            raise AttributeError("%s has no function %s" % (MODULE, FUNCTION))
        state, pass_state = None, False
        load = getattr(module, "load", None)
        if callable(load):
            stage = "calling load()"
            state = load(PACKAGE)
            params = inspect.signature(predict).parameters.values()
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            pass_state = len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
    except BaseException as e:
        if sys.argv[1] == "1":  # every worker fails alike: the first one's traceback is enough
            traceback.print_exception(type(e), e, e.__traceback__)
            sys.stderr.flush()
        send(b"E\1" + string("%s: %s: %s" % (stage, type(e).__name__, e)))
        return None
    version = "python %d.%d.%d, numpy %s" % (sys.version_info[:3] + (np.__version__,))
    if isinstance(getattr(module, "FORJA_DESCRIBE", None), str):
        version += ", " + module.FORJA_DESCRIBE
    send(b"R" + string(version))
    return (lambda batch: predict(batch, state)) if pass_state else predict


def serve(predict):
    while True:
        try:
            header = recv_exact(8)
        except EOFError:
            return
        buf = recv_exact(U64.unpack(header)[0])
        batch = decode_batch(buf)
        try:
            result = predict(batch)
        except (ValueError, TypeError) as e:
            send_error(True, e)
            continue
        except BaseException as e:
            send_error(False, e)
            continue
        try:
            body = encode_outputs(result)
        except OutputError as e:
            send_error(False, e, trace=False)  # our code's traceback says nothing
            continue
        except BaseException as e:
            send_error(False, e)
            continue
        send(body)


predict = start()
if predict is not None:
    serve(predict)
sys.stderr.flush()
)PY";

}  // namespace forja::runtime
