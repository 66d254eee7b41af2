// fuzz-libs: forja_registry
// Fuzzes the reader of MLflow's MLmodel file (registry/mlmodel.h), which forja serve reads from
// any model folder and from artifacts a forja server stores for anyone who may log.
//
// Invariants, beyond "no crash":
//  - a failure is one user-error line naming the file ("MLmodel...");
//  - a parsed model has a native flavor (xgboost, lightgbm, onnx: with its model file) or python
//    (MLflow's pyfunc loader and a known framing), every tensor a name and a canonical datatype, names unique.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "forja/registry/mlmodel.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using forja::fuzz::Show;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = forja::registry::ParseMLmodel(text, "MLmodel");
  if (!p.ok()) {
    FUZZ_CHECK(p.status().code() == forja::Code::kUser, p.status().message() + " from " + Show(text));
    FUZZ_CHECK(forja::fuzz::StartsWith(p.status().message(), "MLmodel"), p.status().message() + " from " + Show(text));
    FUZZ_CHECK(p.status().message().find('\n') == std::string::npos, p.status().message());
    return 0;
  }
  if (p->flavor != "python") {  // a native runtime (NativeFlavorFor in mlmodel.cc): a file to load
    static const std::set<std::string> kNative = {"xgboost", "lightgbm", "onnx"};
    FUZZ_CHECK(kNative.count(p->flavor) == 1, p->flavor);
    FUZZ_CHECK(!p->model_file.empty(), Show(text));
  } else {
    FUZZ_CHECK(p->flavor == "python", p->flavor);
    FUZZ_CHECK(p->python_module == forja::registry::kMlflowPyfuncModule, p->python_module);
    static const std::set<std::string> kFraming = {"dataframe", "tensor", "tensors", "auto"};
    FUZZ_CHECK(kFraming.count(p->python_function) == 1, p->python_function);
  }
  for (const auto* list : {&p->inputs, &p->outputs}) {
    std::set<std::string> names;
    for (const auto& t : *list) {
      FUZZ_CHECK(!t.name.empty(), Show(text));
      FUZZ_CHECK(names.insert(t.name).second, t.name + " twice from " + Show(text));
      FUZZ_CHECK(forja::registry::CanonicalDatatype(t.datatype) == t.datatype, t.datatype);
    }
  }
  return 0;
}
