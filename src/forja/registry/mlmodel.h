// MLflow's model format: a folder with an `MLmodel` file (YAML), as mlflow.<flavor>.log_model
// and save_model write it. forja serves such a folder as it is, through the same ModelPackage
// as its own model.yaml:
//
//   flavors:
//     xgboost: {data: model.ubj, model_format: ubj, model_class: xgboost.core.Booster}
//     python_function: {loader_module: mlflow.xgboost, data: model.ubj, env: {...}}
//   signature:
//     inputs: '[{"type": "double", "name": "x1"}, ...]'          # columns, or
//     inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]'
//     outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
//   saved_input_example_info: {artifact_path: input_example.json, serving_input_path: serving_input_example.json}
//
// Which runtime: `xgboost` with model_format json or ubj and a model_class whose predict is the
// booster's (Booster, XGBRegressor, XGBRanker, XGBRF*Regressor) -> forja's native evaluator;
// every other flavor with `python_function` (sklearn, pyfunc, custom, an xgboost classifier,
// whose predict answers labels, or the old binary format) -> the python runtime, whose workers
// load the folder with mlflow.pyfunc.load_model (python_module kMlflowPyfuncModule). `lightgbm`
// goes to python until the native LightGBM evaluator is wired in (see NativeFlavorFor in
// mlmodel.cc). A flavor with neither is refused, naming the flavor.
//
// Signatures become forja TensorSpecs: a column is one input of shape [-1] (boolean BOOL,
// integer INT32, long INT64, float FP32, double FP64, string BYTES); a tensor spec keeps its
// dtype and shape, an unnamed one is "input-0". An unnamed output is "predictions".
// ModelPackage::input_example is the saved scoring request (serving_input_path), which forja
// serve warms the model up with.
#pragma once

#include <string>

#include "forja/core/status.h"
#include "forja/registry/package.h"

namespace forja::registry {

// The name of MLflow's model file in a model folder.
inline constexpr const char* kMLmodelFile = "MLmodel";
// ModelPackage::python_module of an MLflow model served by the python runtime: no file or
// module has this name; the worker program loads the folder with mlflow.pyfunc.load_model.
// python_function then says how a batch is framed for predict: "dataframe" (a pandas
// DataFrame, one column per input), "tensor" (the one input's array), "tensors" (a dict of
// arrays) or "auto" (no signature: a DataFrame of 1-D inputs, else the one array, else a dict).
inline constexpr const char* kMlflowPyfuncModule = ":mlflow.pyfunc";

// Reads MLmodel's text (at most 1 MiB). Errors are one line: "<file>:<line>: <field>: <what to do>".
Result<ModelPackage> ParseMLmodel(const std::string& text, const std::string& file);

// Reads <dir>/MLmodel and checks that the files it names are regular files in the folder.
Result<ModelPackage> LoadMLmodel(const std::string& dir);

}  // namespace forja::registry
