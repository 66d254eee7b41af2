// MLflow's MLmodel file read as a model package: which runtime serves which flavor, signatures
// as TensorSpecs, and the one-line errors a user sees for files forja cannot serve. The texts are
// what mlflow 3 writes (tests/serve/mlflow_models_test.py checks the real thing end to end).
#include <gtest/gtest.h>

#include <cstdlib>

#include "forja/core/fs.h"
#include "forja/registry/mlmodel.h"

namespace forja::registry {
namespace {

const char* kSklearn = R"yaml(flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
mlflow_version: 3.1.0
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type":
    "long", "name": "n", "required": true}, {"type": "string", "name": "s"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
)yaml";

std::string Xgboost(const std::string& format, const std::string& cls) {
  return "flavors:\n  python_function:\n    data: model." + format +
         "\n    loader_module: mlflow.xgboost\n  xgboost:\n    data: model." + format + "\n    model_class: " + cls +
         "\n    model_format: " + format +
         "\nsignature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 4]}}]'\n";
}

TEST(MLmodelTest, SklearnColumnsGoToThePythonRuntimeAsADataFrame) {
  auto p = ParseMLmodel(kSklearn, "MLmodel");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->flavor, "python");
  EXPECT_EQ(p->mlflow_flavor, "sklearn");
  EXPECT_EQ(p->python_module, kMlflowPyfuncModule);
  EXPECT_EQ(p->python_function, "dataframe");
  EXPECT_EQ(p->model_file, "model.skops");
  EXPECT_EQ(p->input_example, "serving_input_example.json");  // the scoring request: forja serve warms up with it
  ASSERT_EQ(p->inputs.size(), 3u);
  EXPECT_EQ(p->inputs[0].name, "sepal length (cm)");
  EXPECT_EQ(p->inputs[0].datatype, "FP64");
  EXPECT_EQ(p->inputs[0].shape, std::vector<int64_t>{-1});
  EXPECT_EQ(p->inputs[1].datatype, "INT64");
  EXPECT_EQ(p->inputs[2].datatype, "BYTES");
  ASSERT_EQ(p->outputs.size(), 1u);
  EXPECT_EQ(p->outputs[0].name, "predictions");
  EXPECT_EQ(p->outputs[0].datatype, "INT64");
  EXPECT_NE(p->description.find("mlflow 3.1.0"), std::string::npos);
}

TEST(MLmodelTest, XgboostBoosterIsServedNatively) {
  auto p = ParseMLmodel(Xgboost("ubj", "xgboost.core.Booster"), "MLmodel");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->flavor, "xgboost");
  EXPECT_EQ(p->model_file, "model.ubj");
  ASSERT_EQ(p->inputs.size(), 1u);
  EXPECT_EQ(p->inputs[0].name, "input-0");
  EXPECT_EQ(p->inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  auto json = ParseMLmodel(Xgboost("json", "xgboost.sklearn.XGBRegressor"), "MLmodel");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->flavor, "xgboost");
}

TEST(MLmodelTest, XgboostClassifierAndOldBinaryGoToPython) {
  // XGBClassifier.predict answers labels, not the booster's probabilities.
  auto c = ParseMLmodel(Xgboost("ubj", "xgboost.sklearn.XGBClassifier"), "MLmodel");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->flavor, "python");
  EXPECT_EQ(c->python_function, "tensor");  // one unnamed tensor: the array itself
  auto old = ParseMLmodel(Xgboost("xgb", "xgboost.core.Booster"), "MLmodel");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->flavor, "python");
}

std::string Lightgbm(const std::string& data, const std::string& cls) {
  return "flavors:\n  lightgbm:\n    data: " + data + (cls.empty() ? "" : "\n    model_class: " + cls) +
         "\n    lgb_version: 4.6.0\n  python_function: {loader_module: mlflow.lightgbm, data: " + data + "}\n";
}

TEST(MLmodelTest, LightgbmBoosterRegressorAndRankerAreServedNatively) {
  for (const char* cls : {"lightgbm.basic.Booster", "lightgbm.sklearn.LGBMRegressor", "lightgbm.sklearn.LGBMRanker", ""}) {
    auto p = ParseMLmodel(Lightgbm("model.lgb", cls), "MLmodel");
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->flavor, "lightgbm") << cls;  // no model_class: MLflow's loader takes a Booster
    EXPECT_EQ(p->mlflow_flavor, "lightgbm");
    EXPECT_EQ(p->model_file, "model.lgb");
  }
}

TEST(MLmodelTest, LightgbmClassifierAndPickledWrappersGoToPython) {
  // LGBMClassifier.predict answers labels; MLflow pickles the scikit-learn wrappers (not LightGBM's text).
  for (auto [data, cls] : {std::pair{"model.lgb", "lightgbm.sklearn.LGBMClassifier"},
                           std::pair{"model.pkl", "lightgbm.sklearn.LGBMRegressor"},
                           std::pair{"model.skops", "lightgbm.sklearn.LGBMRanker"}}) {
    auto p = ParseMLmodel(Lightgbm(data, cls), "MLmodel");
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->flavor, "python") << cls;
    EXPECT_EQ(p->mlflow_flavor, "lightgbm");
    EXPECT_EQ(p->model_file, data);
    EXPECT_EQ(p->python_function, "auto");  // no signature
  }
  auto bad = ParseMLmodel("flavors:\n  lightgbm: {data: ../model.lgb}\n", "MLmodel");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("MLmodel:2: flavors.lightgbm.data"), std::string::npos) << bad.status().message();
}

TEST(MLmodelTest, AFlavorWithoutRuntimeIsOneLineNamingIt) {
  auto p = ParseMLmodel("mlflow_version: 3.1.0\nflavors:\n  h2o:\n    data: model.h2o\n", "/m/MLmodel");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message().find('\n'), std::string::npos);
  EXPECT_TRUE(p.status().message().starts_with("/m/MLmodel:3: flavors: 'h2o' has no runtime in forja")) << p.status().message();
  EXPECT_NE(p.status().message().find("python_function"), std::string::npos);
}

TEST(MLmodelTest, OnnxIsServedByTheOnnxRuntimeWithTheGraphsSignature) {
  // MLflow's onnx flavor, with a python_function flavor and a signature beside it: the graph's
  // file goes to forja's onnx runtime, whose signature comes from the graph itself.
  auto p = ParseMLmodel("flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.23.2\n"
                        "  python_function: {loader_module: mlflow.onnx, data: model.onnx}\n"
                        "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", "
                        "\"shape\": [-1, 4]}}]'\n",
                        "/m/MLmodel");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->flavor, "onnx");
  EXPECT_EQ(p->model_file, "model.onnx");
  EXPECT_TRUE(p->inputs.empty());
  EXPECT_TRUE(p->outputs.empty());
}

TEST(MLmodelTest, HostileFieldsAreRefusedNamingLineAndField) {
  struct Case {
    std::string text, want;
  };
  std::vector<Case> cases = {
      {"flavors:\n  python_function: {loader_module: mlflow.sklearn, data: ../../etc/passwd}\n",
       "MLmodel:2: flavors.python_function.data: '../../etc/passwd' must be a path inside the model folder"},
      {"flavors:\n  python_function: {loader_module: 'os; import x'}\n",
       "MLmodel:2: flavors.python_function.loader_module: 'os; import x' is not a python module name"},
      {"flavors:\n  xgboost: {data: /abs/model.ubj, model_format: ubj}\n", "MLmodel:2: flavors.xgboost.data"},
      {"flavors: {python_function: {loader_module: m}}\nsignature:\n  inputs: '[{\"type\": \"datetime\", \"name\": \"t\"}]'\n",
       "MLmodel:3: signature.inputs[0].type: column type 'datetime' is not served"},
      {"flavors: {python_function: {loader_module: m}}\nsignature:\n  inputs: '[[[[' \n", "MLmodel:3: signature.inputs: malformed JSON"},
      {"flavors: {python_function: {loader_module: m}}\nsignature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"complex64\", \"shape\": [-1]}}]'\n",
       "MLmodel:3: signature.inputs[0].tensor-spec.dtype: 'complex64' has no Open Inference Protocol datatype"},
      {"flavors: {python_function: {loader_module: m}}\nsignature:\n  inputs: '[{\"type\": \"long\", \"name\": \"a\"}, {\"type\": \"long\", \"name\": \"a\"}]'\n",
       "MLmodel:3: signature.inputs: 'a' twice"},
      {"flavors: {}\n", "MLmodel:1: flavors: missing or empty"},
      {"- a\n- b\n", "MLmodel:1: MLmodel: must be a mapping"},
  };
  for (const Case& c : cases) {
    auto p = ParseMLmodel(c.text, "MLmodel");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_TRUE(p.status().message().starts_with(c.want)) << p.status().message() << "\nwanted: " << c.want;
    EXPECT_EQ(p.status().message().find('\n'), std::string::npos);
  }
  std::string deep = "flavors: {python_function: {loader_module: m}}\nsignature:\n  inputs: '" + std::string(5000, '[') + "'\n";
  EXPECT_FALSE(ParseMLmodel(deep, "MLmodel").ok());
  EXPECT_FALSE(ParseMLmodel(std::string(2 << 20, '#'), "MLmodel").ok());
}

TEST(MLmodelTest, AFolderIsReadAsAPackageAndItsDataMustBeThere) {
  char tmpl[] = "/tmp/mlmodel-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(WriteFileAtomic(dir + "/MLmodel", kSklearn).ok());
  auto missing = LoadPackage(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("model.skops (the model's data) is not a file in"), std::string::npos)
      << missing.status().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/model.skops", "x").ok());
  auto p = LoadPackage(dir);  // model.yaml absent: MLmodel is read
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->mlflow_flavor, "sklearn");
  (void)RemoveTree(dir);
}

}  // namespace
}  // namespace forja::registry
