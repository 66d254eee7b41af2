#include "forja/registry/mlmodel.h"

#include <sys/stat.h>

#include <cctype>
#include <map>
#include <set>

#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/path.h"

namespace forja::registry {

using config::Node;

namespace {

// MLmodel files are a few kilobytes; a signature of thousands of columns is still far below.
constexpr size_t kMaxMLmodelBytes = size_t{1} << 20;
constexpr size_t kMaxSignatureEntries = 4096;
constexpr size_t kMaxRank = 16;
constexpr size_t kMaxNameBytes = 1024;

// Text from the file inside an error line: at most `max` bytes, control characters as '?',
// so a message stays one line whatever the file holds.
std::string Shown(std::string_view s, size_t max = 80) {
  std::string out(s.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

Status Error(const Node* n, const std::string& file, const std::string& field, const std::string& what) {
  std::string where = n && !n->origin().empty() ? n->origin() : file;
  return Status::User(where + ": " + field + ": " + what);
}

// An optional string field ("" when absent or null).
Result<std::string> Str(const Node& parent, const char* key, const std::string& file, const std::string& field) {
  const Node* n = parent.Find(key);
  if (!n || n->is_null()) return std::string();
  if (!n->is_scalar() || n->kind() == Node::Kind::kBool)
    return Error(n, file, field, std::string("must be a string, not a ") + n->KindName());
  return config::ScalarToString(*n);
}

// A path MLmodel names inside the model folder: relative, normalized, no "..".
Status CheckRel(const Node* n, const std::string& file, const std::string& field, const std::string& rel) {
  Status st = CheckUntrustedPath(rel, PathBase::kFolder);
  if (!st.ok()) return Error(n, file, field, "'" + Shown(rel, 200) + "' must be a path inside the model folder: " + Shown(st.message(), 200));
  return Status::Ok();
}

// A model_class whose predict() is the booster's output (so forja's evaluator answers the same).
bool BoosterPredict(const std::string& model_class) {
  static const std::set<std::string> kClasses = {"xgboost.core.Booster", "xgboost.sklearn.XGBRegressor",
                                                 "xgboost.sklearn.XGBRanker", "xgboost.sklearn.XGBRFRegressor"};
  return model_class.empty() || kClasses.count(model_class) > 0;
}

// The hook for native runtimes of other flavors: the forja flavor that serves `flavor`'s files
// natively, or "" for the python runtime. (xgboost and lightgbm look at model_class first:
// NativeXgboost, NativeLightgbm.)
std::string NativeFlavorFor(const std::string& flavor) {
  if (flavor == "onnx") return "onnx";  // ONNX Runtime in the python workers (runtime/python_model.h)
  return "";
}

// MLflow's column types (mlflow.types.DataType) as OIP datatypes.
std::string ColumnDatatype(const std::string& type) {
  if (type == "boolean") return "BOOL";
  if (type == "integer") return "INT32";
  if (type == "long") return "INT64";
  if (type == "float") return "FP32";
  if (type == "double") return "FP64";
  if (type == "string") return "BYTES";
  return "";
}

// A tensor spec's numpy dtype as an OIP datatype.
std::string TensorDatatype(const std::string& dtype) {
  if (dtype == "object" || dtype == "str" || dtype == "bytes" || dtype == "string") return "BYTES";
  std::string d = dtype;
  if (!d.empty() && (d[0] == '<' || d[0] == '=' || d[0] == '|')) d.erase(0, 1);
  static const std::map<std::string, std::string> kShort = {{"f2", "float16"}, {"f4", "float32"}, {"f8", "float64"},
                                                            {"i1", "int8"},    {"i2", "int16"},   {"i4", "int32"},
                                                            {"i8", "int64"},   {"u1", "uint8"},   {"u2", "uint16"},
                                                            {"u4", "uint32"},  {"u8", "uint64"},  {"b1", "bool"}};
  if (auto it = kShort.find(d); it != kShort.end()) d = it->second;
  return CanonicalDatatype(d);
}

enum class SchemaKind { kNone, kColumns, kTensors };

struct Schema {
  SchemaKind kind = SchemaKind::kNone;
  bool unnamed = false;  // every entry had no name
  std::vector<TensorSpec> specs;
};

// One entry of a schema: {"type": "double", "name": ...} or {"type": "tensor", "tensor-spec": {...}}.
Status SchemaEntry(const JsonDoc& doc, const JsonNode& e, const Node* at, const std::string& file,
                   const std::string& field, Schema* s, bool* named) {
  if (e.kind != JsonNode::kObject) return Error(at, file, field, "must be an object with a type");
  const JsonNode* type = doc.Find(e, "type");
  if (!type || type->kind != JsonNode::kString)
    return Error(at, file, field + ".type", "missing: a column type (double, long, string, ...) or \"tensor\"");
  TensorSpec t;
  const JsonNode* name = doc.Find(e, "name");
  if (name && name->kind != JsonNode::kNull) {
    if (name->kind != JsonNode::kString) return Error(at, file, field + ".name", "must be a string");
    t.name = JsonString(*name);
    if (t.name.empty() || t.name.size() > kMaxNameBytes)
      return Error(at, file, field + ".name", "must be 1 to " + std::to_string(kMaxNameBytes) + " bytes");
  }
  *named = !t.name.empty();
  std::string ty = JsonString(*type);
  SchemaKind kind = ty == "tensor" ? SchemaKind::kTensors : SchemaKind::kColumns;
  if (s->kind != SchemaKind::kNone && s->kind != kind)
    return Error(at, file, field, "mixes columns and tensors; MLflow writes one or the other: log the model again");
  s->kind = kind;
  if (kind == SchemaKind::kColumns) {
    t.datatype = ColumnDatatype(ty);
    if (t.datatype.empty())
      return Error(at, file, field + ".type",
                   "column type '" + Shown(ty, 40) + "' is not served (boolean, integer, long, float, double, "
                   "string are): log the model with a signature of those column types or of tensors");
    t.shape = {-1};
    s->specs.push_back(std::move(t));
    return Status::Ok();
  }
  const JsonNode* ts = doc.Find(e, "tensor-spec");
  if (!ts || ts->kind != JsonNode::kObject) return Error(at, file, field + ".tensor-spec", "missing: {dtype, shape}");
  const JsonNode* dtype = doc.Find(*ts, "dtype");
  if (!dtype || dtype->kind != JsonNode::kString) return Error(at, file, field + ".tensor-spec.dtype", "missing: a numpy dtype");
  std::string dt = JsonString(*dtype);
  t.datatype = TensorDatatype(dt);
  if (t.datatype.empty())
    return Error(at, file, field + ".tensor-spec.dtype",
                 "'" + Shown(dt, 40) + "' has no Open Inference Protocol datatype (bool, int8..int64, uint8..uint64, "
                 "float16, float32, float64, str, bytes, object are)");
  const JsonNode* shape = doc.Find(*ts, "shape");
  if (!shape || shape->kind != JsonNode::kArray || shape->count == 0 || shape->count > kMaxRank)
    return Error(at, file, field + ".tensor-spec.shape", "must be a list of 1 to " + std::to_string(kMaxRank) + " sizes (-1: any)");
  for (const JsonNode* d = doc.First(*shape); d; d = doc.Next(*d)) {
    int64_t v = 0;
    if (!JsonInt(*d, &v) || v < -1 || v > (int64_t{1} << 40))
      return Error(at, file, field + ".tensor-spec.shape", "sizes must be whole numbers from -1 (any) up");
    t.shape.push_back(v);
  }
  s->specs.push_back(std::move(t));
  return Status::Ok();
}

// signature.inputs / .outputs: MLflow writes each as a JSON string of a list.
Status ParseSchema(const Node* n, const std::string& file, const std::string& field, Schema* s) {
  if (!n || n->is_null()) return Status::Ok();
  if (!n->is_string()) return Error(n, file, field, "must be a JSON string of a list (as MLflow writes it)");
  const std::string& text = n->as_string();
  JsonDoc doc;
  Status st = doc.Parse(text);
  if (!st.ok()) return Error(n, file, field, Shown(st.message(), 200) + ": log the model again with MLflow");
  const JsonNode& root = doc.root();
  if (root.kind != JsonNode::kArray) return Error(n, file, field, "must be a list of columns or tensors");
  if (root.count > kMaxSignatureEntries)
    return Error(n, file, field, "has " + std::to_string(root.count) + " entries, more than " +
                                     std::to_string(kMaxSignatureEntries) + ": pass the features as one tensor");
  size_t i = 0, unnamed = 0;
  for (const JsonNode* e = doc.First(root); e; e = doc.Next(*e), i++) {
    bool named = false;
    RETURN_IF_ERROR(SchemaEntry(doc, *e, n, file, field + "[" + std::to_string(i) + "]", s, &named));
    unnamed += named ? 0 : 1;
  }
  if (unnamed != 0 && unnamed != s->specs.size())
    return Error(n, file, field, "names some entries and not others: log the model again with every entry named");
  s->unnamed = unnamed != 0;
  std::set<std::string> names;
  for (const TensorSpec& t : s->specs)
    if (!t.name.empty() && !names.insert(t.name).second)
      return Error(n, file, field, "'" + Shown(t.name) + "' twice: names must differ");
  return Status::Ok();
}

// Names for unnamed entries: inputs "input-<i>", a lone output "predictions", several "output-<i>".
void NameUnnamed(std::vector<TensorSpec>* specs, bool inputs) {
  for (size_t i = 0; i < specs->size(); i++) {
    TensorSpec& t = (*specs)[i];
    if (!t.name.empty()) continue;
    t.name = inputs ? "input-" + std::to_string(i) : specs->size() == 1 ? "predictions" : "output-" + std::to_string(i);
  }
}

Status ReadSignature(const Node& root, const std::string& file, ModelPackage* p, Schema* in) {
  const Node* sig = root.Find("signature");
  if (!sig || sig->is_null()) return Status::Ok();
  if (!sig->is_map()) return Error(sig, file, "signature", "must be a mapping with inputs and outputs");
  Schema out;
  RETURN_IF_ERROR(ParseSchema(sig->Find("inputs"), file, "signature.inputs", in));
  RETURN_IF_ERROR(ParseSchema(sig->Find("outputs"), file, "signature.outputs", &out));
  p->inputs = in->specs;
  p->outputs = out.specs;
  NameUnnamed(&p->inputs, true);
  NameUnnamed(&p->outputs, false);
  return Status::Ok();
}

Status ReadInputExample(const Node& root, const std::string& file, ModelPackage* p) {
  const Node* info = root.Find("saved_input_example_info");
  if (!info || info->is_null()) return Status::Ok();
  if (!info->is_map()) return Error(info, file, "saved_input_example_info", "must be a mapping with artifact_path");
  for (const char* key : {"artifact_path", "serving_input_path"}) {
    std::string field = std::string("saved_input_example_info.") + key;
    ASSIGN_OR_RETURN(std::string rel, Str(*info, key, file, field));
    if (!rel.empty()) RETURN_IF_ERROR(CheckRel(info->Find(key), file, field, rel));
    // The scoring request MLflow saved beside the example is what forja serve can send.
    if (std::string(key) == "serving_input_path") p->input_example = rel;
  }
  return Status::Ok();
}

// flavors.python_function: what mlflow.pyfunc.load_model reads. Its paths must stay inside the
// folder (the worker's MLflow opens them).
Status ReadPyfunc(const Node& pf, const std::string& file, ModelPackage* p) {
  if (!pf.is_map()) return Error(&pf, file, "flavors.python_function", "must be a mapping with loader_module");
  ASSIGN_OR_RETURN(std::string loader, Str(pf, "loader_module", file, "flavors.python_function.loader_module"));
  if (loader.empty())
    return Error(&pf, file, "flavors.python_function.loader_module", "missing: the module mlflow.pyfunc loads the model with");
  for (char c : loader)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.')
      return Error(pf.Find("loader_module"), file, "flavors.python_function.loader_module",
                   "'" + Shown(loader) + "' is not a python module name");
  for (const char* key : {"data", "model_path", "code", "artifacts_path"}) {
    std::string field = std::string("flavors.python_function.") + key;
    ASSIGN_OR_RETURN(std::string rel, Str(pf, key, file, field));
    if (rel.empty()) continue;
    RETURN_IF_ERROR(CheckRel(pf.Find(key), file, field, rel));
    if (p->model_file.empty() && (std::string(key) == "data" || std::string(key) == "model_path")) p->model_file = rel;
  }
  if (const Node* env = pf.Find("env"); env && !env->is_null()) {
    if (env->is_string()) {
      RETURN_IF_ERROR(CheckRel(env, file, "flavors.python_function.env", env->as_string()));
    } else if (env->is_map()) {
      for (const auto& [k, v] : env->entries()) {
        if (!v.is_string()) return Error(&v, file, "flavors.python_function.env." + Shown(k), "must be a file name");
        RETURN_IF_ERROR(CheckRel(&v, file, "flavors.python_function.env." + Shown(k), v.as_string()));
      }
    } else {
      return Error(env, file, "flavors.python_function.env", "must be a file name or a mapping of them");
    }
  }
  return Status::Ok();
}

// The flavor the model was logged with (the first that is not python_function), for messages.
std::string LoggedFlavor(const Node& flavors) {
  for (const auto& [k, v] : flavors.entries())
    if (k != "python_function") return k;
  return "python_function";
}

// flavors.xgboost, when forja's evaluator can serve it: sets flavor xgboost and the model file.
Result<bool> NativeXgboost(const Node& xg, const std::string& file, ModelPackage* p) {
  if (!xg.is_map()) return Error(&xg, file, "flavors.xgboost", "must be a mapping with data and model_format");
  ASSIGN_OR_RETURN(std::string data, Str(xg, "data", file, "flavors.xgboost.data"));
  ASSIGN_OR_RETURN(std::string format, Str(xg, "model_format", file, "flavors.xgboost.model_format"));
  ASSIGN_OR_RETURN(std::string model_class, Str(xg, "model_class", file, "flavors.xgboost.model_class"));
  if (data.empty()) return Error(&xg, file, "flavors.xgboost.data", "missing: the model file");
  RETURN_IF_ERROR(CheckRel(xg.Find("data"), file, "flavors.xgboost.data", data));
  if (format.empty()) format = data.ends_with(".json") ? "json" : data.ends_with(".ubj") ? "ubj" : "xgb";
  if ((format != "json" && format != "ubj") || !BoosterPredict(model_class)) return false;
  p->flavor = "xgboost";
  p->model_file = data;
  return true;
}

// flavors.lightgbm, when forja's evaluator (runtime/lightgbm_*) can serve it: sets flavor lightgbm
// and the model file. Only a model_class whose predict() is the booster's output (a classifier's
// is labels), and only LightGBM's text file: MLflow saves a Booster as model.lgb
// (Booster.save_model) but pickles the scikit-learn wrappers (model.pkl, model.skops), which
// stay on python.
Result<bool> NativeLightgbm(const Node& lg, const std::string& file, ModelPackage* p) {
  static const std::set<std::string> kClasses = {"lightgbm.basic.Booster", "lightgbm.sklearn.LGBMRegressor",
                                                 "lightgbm.sklearn.LGBMRanker"};
  if (!lg.is_map()) return Error(&lg, file, "flavors.lightgbm", "must be a mapping with data and model_class");
  ASSIGN_OR_RETURN(std::string data, Str(lg, "data", file, "flavors.lightgbm.data"));
  ASSIGN_OR_RETURN(std::string model_class, Str(lg, "model_class", file, "flavors.lightgbm.model_class"));
  if (data.empty()) return false;  // the python runtime reads python_function's data, if any
  RETURN_IF_ERROR(CheckRel(lg.Find("data"), file, "flavors.lightgbm.data", data));
  // MLflow's loader takes a missing model_class as a Booster.
  if (!data.ends_with(".lgb") || !(model_class.empty() || kClasses.count(model_class) > 0)) return false;
  p->flavor = "lightgbm";
  p->model_file = data;
  return true;
}

}  // namespace

Result<ModelPackage> ParseMLmodel(const std::string& text, const std::string& file) {
  if (text.size() > kMaxMLmodelBytes)
    return Status::User(file + ": " + std::to_string(text.size()) + " bytes, more than an MLmodel file has (1 MiB)");
  ASSIGN_OR_RETURN(Node root, config::ParseConfigYaml(text, file));
  if (!root.is_map()) return Error(&root, file, "MLmodel", "must be a mapping with flavors (as MLflow writes it)");
  const Node* flavors = root.Find("flavors");
  if (!flavors || !flavors->is_map() || flavors->entries().empty())
    return Error(flavors ? flavors : &root, file, "flavors",
                 "missing or empty: an MLmodel names at least one flavor; save the model with mlflow.<flavor>.log_model");
  ModelPackage p;
  p.mlflow_flavor = LoggedFlavor(*flavors);
  ASSIGN_OR_RETURN(std::string version, Str(root, "mlflow_version", file, "mlflow_version"));
  p.description = "MLflow " + Shown(p.mlflow_flavor) + " model" + (version.empty() ? "" : " (mlflow " + Shown(version, 40) + ")");
  Schema in;
  RETURN_IF_ERROR(ReadSignature(root, file, &p, &in));
  RETURN_IF_ERROR(ReadInputExample(root, file, &p));
  const Node* pf = flavors->Find("python_function");
  if (pf) RETURN_IF_ERROR(ReadPyfunc(*pf, file, &p));
  if (const Node* xg = flavors->Find("xgboost")) {
    ASSIGN_OR_RETURN(bool native, NativeXgboost(*xg, file, &p));
    if (native) {
      p.mlflow_flavor = "xgboost";
      return p;
    }
  }
  if (const Node* lg = flavors->Find("lightgbm")) {
    ASSIGN_OR_RETURN(bool native, NativeLightgbm(*lg, file, &p));
    if (native) {
      p.mlflow_flavor = "lightgbm";
      return p;
    }
  }
  for (const auto& [k, v] : flavors->entries()) {
    std::string native = NativeFlavorFor(k);
    if (native.empty()) continue;
    ASSIGN_OR_RETURN(std::string data, Str(v, "data", file, "flavors." + Shown(k) + ".data"));
    if (data.empty()) break;
    RETURN_IF_ERROR(CheckRel(v.Find("data"), file, "flavors." + Shown(k) + ".data", data));
    p.flavor = native;
    p.model_file = data;
    if (native == "onnx") {  // the graph's own inputs and outputs rule (MLflow's may be unnamed)
      p.inputs.clear();
      p.outputs.clear();
    }
    return p;
  }
  if (!pf)
    return Error(flavors, file, "flavors",
                 "'" + Shown(p.mlflow_flavor) + "' has no runtime in forja and the model has no python_function "
                 "flavor: log it with a flavor that has one (mlflow.pyfunc.log_model wraps any model), or export it as "
                 "xgboost JSON/UBJ");
  p.flavor = "python";
  p.python_module = kMlflowPyfuncModule;
  p.python_function = in.kind == SchemaKind::kColumns ? "dataframe"
                      : in.kind == SchemaKind::kNone  ? "auto"
                      : in.unnamed && in.specs.size() == 1 ? "tensor"
                                                           : "tensors";
  return p;
}

Result<ModelPackage> LoadMLmodel(const std::string& dir) {
  std::string path = JoinPath(dir, kMLmodelFile);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::User(dir + " has no MLmodel file (a regular file, not a link): save the model with mlflow.<flavor>.save_model");
  if (static_cast<uint64_t>(st.st_size) > kMaxMLmodelBytes)
    return Status::User(path + ": " + std::to_string(st.st_size) + " bytes, more than an MLmodel file has (1 MiB)");
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(ModelPackage p, ParseMLmodel(text, path));
  if (!p.model_file.empty()) {
    std::string f = JoinPath(dir, p.model_file);
    bool ok = ::lstat(f.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || (p.flavor == "python" && S_ISDIR(st.st_mode)));
    if (!ok) return Status::User(path + ": " + p.model_file + " (the model's data) is not a file in " + dir);
  }
  return p;
}

}  // namespace forja::registry
