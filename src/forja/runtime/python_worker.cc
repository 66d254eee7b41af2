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


class LoadError(Exception):
    """A model file that cannot be loaded: its message is the whole story (no traceback)."""


ORT_TYPES = {"tensor(bool)": "BOOL", "tensor(uint8)": "UINT8", "tensor(uint16)": "UINT16",
             "tensor(uint32)": "UINT32", "tensor(uint64)": "UINT64", "tensor(int8)": "INT8",
             "tensor(int16)": "INT16", "tensor(int32)": "INT32", "tensor(int64)": "INT64",
             "tensor(float16)": "FP16", "tensor(float)": "FP32", "tensor(double)": "FP64",
             "tensor(string)": "BYTES"}


def onnx_module():
    """Flavor onnx (runtime/python_model.h): FUNCTION is the .onnx file. One InferenceSession per
    worker, one thread each (forja runs a worker per core); batches run along the first dim."""
    import types
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        sess = ort.InferenceSession(os.path.join(PACKAGE, FUNCTION), sess_options=opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as e:
        raise LoadError("%s: onnxruntime cannot load it: %s" % (FUNCTION, " ".join(str(e).split()))) from None

    def dims(arg):  # symbolic ("N") and unknown (None) dims are any size
        return [d if isinstance(d, int) and d > 0 else -1 for d in (arg.shape or [])]

    def checked(arg, kind):
        if "\t" in arg.name or "\n" in arg.name or not arg.name:
            raise LoadError("%s: %s name %r cannot be served" % (FUNCTION, kind, arg.name))
        return arg.name

    inputs = []  # (name, datatype, dims, first dim fixed to 1)
    for a in sess.get_inputs():
        dt = ORT_TYPES.get(a.type)
        if dt is None:
            raise LoadError("%s: input '%s' is %s, which forja cannot send (tensors of %s)"
                            % (FUNCTION, a.name, a.type, ", ".join(sorted(set(ORT_TYPES.values())))))
        d = dims(a)
        if not d:
            raise LoadError("%s: input '%s' is a scalar; forja batches along the first dimension: "
                            "export the graph with a batch dimension" % (FUNCTION, a.name))
        one = d[0] == 1  # a graph exported for one row: run the batch row by row
        inputs.append((checked(a, "input"), dt, [-1] + d[1:] if one else d, one))
    outputs = []  # sequences and maps (skl2onnx's ZipMap) are no tensors: left out
    for o in sess.get_outputs():
        if o.type in ORT_TYPES:
            outputs.append((checked(o, "output"), ORT_TYPES[o.type], dims(o)))
        elif sys.argv[1] == "1":
            print("%s: output '%s' is %s, not a tensor: not served (skl2onnx: options={'zipmap': False})"
                  % (FUNCTION, o.name, o.type))
    if not outputs:
        raise LoadError("%s: the graph has no tensor outputs" % FUNCTION)
    names = [o[0] for o in outputs]
    by_row = any(i[3] for i in inputs)
    invalid = getattr(ort.capi.onnxruntime_pybind11_state, "InvalidArgument", ())

    def feed(batch):
        feeds = {}
        for name, dt, _, _ in inputs:
            a = batch.get(name)
            if a is None:
                raise ValueError("missing input '%s'" % name)
            if dt == "BYTES":  # onnxruntime's string tensors hold str
                a = np.array([x.decode("utf-8", "replace") if isinstance(x, bytes) else x
                              for x in a.reshape(-1)], dtype=object).reshape(a.shape)
            feeds[name] = a
        return feeds

    def run(feeds):
        try:
            return sess.run(names, feeds)
        except invalid as e:  # the request's fault: a type or shape the graph does not take
            raise ValueError(" ".join(str(e).split())) from None

    def predict(batch):
        feeds = feed(batch)
        rows = next(iter(feeds.values())).shape[0]
        if by_row and rows != 1:
            parts = [run({k: v[i:i + 1] for k, v in feeds.items()}) for i in range(rows)]
            got = [np.concatenate([p[j] for p in parts]) for j in range(len(names))]
        else:
            got = run(feeds)
        return dict(zip(names, got))

    meta = sess.get_modelmeta()
    m = types.ModuleType("forja_onnx")
    setattr(m, FUNCTION, predict)
    m.FORJA_DESCRIBE = "onnxruntime %s" % ort.__version__
    if meta.producer_name:
        m.FORJA_DESCRIBE += ", made by " + meta.producer_name
    lines = ["I\t%s\t%s\t%s" % (n, dt, ",".join(map(str, d))) for n, dt, d, _ in inputs]
    lines += ["O\t%s\t%s\t%s" % (n, dt, ",".join(map(str, d))) for n, dt, d in outputs]
    m.FORJA_SIGNATURE = "\n".join(lines)
    return m


def load_module():
    if MODULE == ":mlflow.pyfunc":
        return mlflow_module()
    if MODULE == ":onnx":
        return onnx_module()
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
        stage = ("loading " + FUNCTION) if MODULE == ":onnx" else ("importing " + MODULE)
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
    except LoadError as e:
        send(b"E\1" + string(str(e)))
        return None
    except BaseException as e:
        if sys.argv[1] == "1":  # every worker fails alike: the first one's traceback is enough
            traceback.print_exception(type(e), e, e.__traceback__)
            sys.stderr.flush()
        send(b"E\1" + string("%s: %s: %s" % (stage, type(e).__name__, e)))
        return None
    version = "python %d.%d.%d, numpy %s" % (sys.version_info[:3] + (np.__version__,))
    if isinstance(getattr(module, "FORJA_DESCRIBE", None), str):
        version += ", " + " ".join(module.FORJA_DESCRIBE.split())  # one line: the rest is the signature
    if MODULE == ":onnx":
        version += "\n" + module.FORJA_SIGNATURE
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
