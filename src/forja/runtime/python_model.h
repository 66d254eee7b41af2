// The python runtime: a pool of worker processes, each running the package's
// python module and calling its predict function on batches sent over a
// socket (the framing is in python_frame.h, the worker's program in python_worker.cc).
//
// The package's module (model.yaml `python: {module: predict.py, function:
// predict}`; a file in the package or a dotted module name) is imported once
// per worker, with the package folder first on sys.path and as the working
// directory. The convention:
//
//   def load(package_dir):        # optional; called once per worker at startup
//       return pickle.load(...)   # any object: the model's state
//   def predict(batch):           # or predict(batch, state) to receive load()'s value
//       ...
//
// `batch` is a dict {input name: numpy array} with each tensor's shape and
// dtype (views of the received request, no per-element work; BYTES inputs are
// object arrays of bytes). predict returns a numpy array or a list (the one
// output, named after the signature's first output), a dict {output name:
// array} (every declared output must be there), or a pandas DataFrame/Series
// (.to_numpy(); a DataFrame's columns are the outputs when several are
// declared). Outputs are converted to the declared datatype when numpy can do so
// without changing kind (float64 -> FP32 yes, float -> INT64 no); every output
// must have the batch's row count first.
//
// Errors: raising ValueError or TypeError in predict means "bad input" and is a
// Status::User (400); any other exception, or outputs that do not fit, are
// Status::Internal (500); the worker stays. A worker that dies during a request
// fails that request (Status::Internal) and is replaced in the background; a
// predict longer than timeout_ms gets its worker's process group SIGKILLed and
// a Status::Remote (504), and the worker is replaced. Each Predict takes an idle
// worker (waiting up to timeout_ms for one), so N workers serve N calls at once.
//
// print() in the model's code goes to forja's stderr, as do its warnings and
// tracebacks, every line prefixed "[python worker N] ".
#pragma once

#include <memory>

#include "forja/runtime/model.h"

namespace forja::runtime {

// ModelSpec::python_module of flavor onnx: the workers load python_function (the .onnx file,
// relative to the package) into an onnxruntime.InferenceSession and run each batch through it.
// The graph's inputs and outputs (names, datatypes, shapes with -1 for dynamic dimensions)
// become the model's signature when the spec declares none; a graph that onnxruntime cannot
// load is a Status::User with its message.
inline constexpr const char* kOnnxModule = ":onnx";

// Starts spec.workers workers (0: one per core) and waits until each has
// imported the module and run load(). An import error, a missing function or an
// exception in load() is a Status::User with the package path and the python
// exception ("...: importing predict.py: ModuleNotFoundError: No module named
// 'foo'"; the traceback goes to stderr); so is a python executable that cannot
// be found.
Result<std::unique_ptr<Model>> LoadPythonModel(const ModelSpec& spec);

}  // namespace forja::runtime
