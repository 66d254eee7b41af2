// A model package: a folder with model.yaml, the unit the registry versions and
// the model server loads.
//
//   format: 1                 # the package format
//   flavor: xgboost           # xgboost | lightgbm | onnx | python
//   model: model.json         # the file the runtime loads, inside the folder
//   signature:                # optional for onnx: taken from the graph
//     inputs:  [{name: features, datatype: FP32, shape: [-1, 32]}]
//     outputs: [{name: probability, datatype: FP32, shape: [-1]}]
//   python: {module: predict.py, function: predict,    # flavor python only
//            workers: 2, timeout_ms: 30000}           # optional: processes (0: one per core), per call
//                                                     # (flavor onnx: workers and timeout_ms only)
//
// Datatypes are the Open Inference Protocol's (BOOL, INT8..INT64, UINT8..UINT64,
// FP16, FP32, FP64, BYTES); lower-case numpy names (float32, int64, ...) are
// accepted and normalized. A shape of -1 is any size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/core/tensor.h"

namespace forja {
class Cache;
}

namespace forja::registry {

using forja::TensorSpec;

struct ModelPackage {
  int format = 1;
  std::string flavor;
  std::string model_file;  // relative to the package folder
  std::vector<TensorSpec> inputs, outputs;
  std::string python_module, python_function;  // flavor python
  int64_t python_workers = 0;                   // worker processes (0: one per core)
  int64_t python_timeout_ms = 30000;            // one predict call; past it the worker is replaced (504)
  std::string description;
  // Read from an MLflow MLmodel file (mlmodel.h) rather than model.yaml: the flavor it was
  // logged with ("sklearn", "xgboost"), and the scoring request saved with it (MLflow's
  // serving_input_example.json, an /invocations body), relative to the folder.
  std::string mlflow_flavor, input_example;
};

// Reads and checks <dir>/model.yaml; errors name "model.yaml:<line>: <field>: <what>".
// A folder without model.yaml but with MLflow's MLmodel file is read as one (mlmodel.h).
Result<ModelPackage> LoadPackage(const std::string& dir);
// The same from model.yaml's text (for checks without a folder, and fuzzing).
Result<ModelPackage> ParsePackageYaml(const std::string& text, const std::string& name);

// The OIP datatype for a name, or "" ("float32" -> "FP32").
std::string CanonicalDatatype(const std::string& name);

// Stores every file of the folder in the cache (copies: the folder stays the
// user's) and its manifest; returns the manifest's oid, which names the package.
// Durable when it returns.
Result<Oid> StorePackage(Cache& cache, const std::string& dir);

// Writes the package named by `manifest` into `dir` (which must not exist or be
// empty), from the cache. Missing objects are NotFound, naming the first.
Status CheckoutPackage(Cache& cache, const Oid& manifest, const std::string& dir);

// The objects a package consists of (the manifest's files; not the manifest).
Result<std::vector<std::pair<Oid, uint64_t>>> PackageObjects(Cache& cache, const Oid& manifest);

}  // namespace forja::registry
