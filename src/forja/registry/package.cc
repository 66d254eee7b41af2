#include "forja/registry/package.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/cas/walk.h"
#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/registry/mlmodel.h"

namespace forja::registry {

using config::Node;

namespace {

// "model.yaml:7: signature.inputs[0].datatype: ..."
Status FieldError(const Node* n, const std::string& file, const std::string& field, const std::string& what) {
  std::string where = n && !n->origin().empty() ? n->origin() : file;
  return Status::User(where + ": " + field + ": " + what);
}

Result<std::string> String(const Node& parent, const char* key, const std::string& file, const std::string& field,
                           bool required) {
  const Node* n = parent.Find(key);
  if (!n || n->is_null()) {
    if (required) return FieldError(&parent, file, field, "missing; see forja models register --help");
    return std::string();
  }
  if (!n->is_scalar() || n->kind() == Node::Kind::kBool)
    return FieldError(n, file, field, std::string("must be a string, not a ") + n->KindName());
  return config::ScalarToString(*n);
}

Status ParseTensors(const Node* list, const std::string& file, const std::string& field,
                    std::vector<TensorSpec>* out) {
  if (!list) return Status::Ok();
  if (!list->is_list()) return FieldError(list, file, field, "must be a list of {name, datatype, shape}");
  std::set<std::string> names;
  for (size_t i = 0; i < list->items().size(); i++) {
    const Node& t = list->items()[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (!t.is_map()) return FieldError(&t, file, f, "must be a mapping with name, datatype and shape");
    for (const auto& [k, v] : t.entries())
      if (k != "name" && k != "datatype" && k != "type" && k != "shape")
        return FieldError(&v, file, f + "." + k, "unknown field (known: name, datatype, shape)");
    TensorSpec s;
    ASSIGN_OR_RETURN(s.name, String(t, "name", file, f + ".name", true));
    if (!names.insert(s.name).second) return FieldError(t.Find("name"), file, f + ".name", "'" + s.name + "' twice");
    const char* dkey = t.Find("datatype") ? "datatype" : "type";
    ASSIGN_OR_RETURN(std::string dt, String(t, dkey, file, f + ".datatype", true));
    s.datatype = CanonicalDatatype(dt);
    if (s.datatype.empty())
      return FieldError(t.Find(dkey), file, f + ".datatype",
                        "'" + dt + "' is not a datatype (BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, "
                        "UINT64, FP16, FP32, FP64, BYTES)");
    const Node* shape = t.Find("shape");
    if (!shape) return FieldError(&t, file, f + ".shape", "missing: a list of sizes, -1 for any");
    if (!shape->is_list() || shape->items().empty())
      return FieldError(shape, file, f + ".shape", "must be a non-empty list of sizes, -1 for any");
    for (const Node& d : shape->items()) {
      if (d.kind() != Node::Kind::kInt || d.as_int() < -1 || d.as_int() == 0)
        return FieldError(&d, file, f + ".shape", "sizes are positive integers or -1");
      s.shape.push_back(d.as_int());
    }
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

std::string CanonicalDatatype(const std::string& name) {
  static const std::map<std::string, std::string> kNames = {
      {"bool", "BOOL"},     {"int8", "INT8"},     {"int16", "INT16"},   {"int32", "INT32"},   {"int64", "INT64"},
      {"uint8", "UINT8"},   {"uint16", "UINT16"}, {"uint32", "UINT32"}, {"uint64", "UINT64"}, {"fp16", "FP16"},
      {"float16", "FP16"},  {"fp32", "FP32"},     {"float32", "FP32"},  {"float", "FP32"},    {"fp64", "FP64"},
      {"float64", "FP64"},  {"double", "FP64"},   {"bytes", "BYTES"},   {"string", "BYTES"},  {"str", "BYTES"},
  };
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kNames.find(lower);
  return it == kNames.end() ? "" : it->second;
}

Result<ModelPackage> ParsePackageYaml(const std::string& text, const std::string& file) {
  ASSIGN_OR_RETURN(Node root, config::ParseConfigYaml(text, file));
  if (!root.is_map()) return FieldError(&root, file, "model.yaml", "must be a mapping (format, flavor, model, signature)");
  static const std::set<std::string> kKnown = {"format", "flavor", "model", "signature", "python", "description",
                                               "serve", "metadata"};
  for (const auto& [k, v] : root.entries())
    if (!kKnown.count(k))
      return FieldError(&v, file, k, "unknown field (known: format, flavor, model, signature, python, description)");
  ModelPackage p;
  const Node* fmt = root.Find("format");
  if (!fmt) return FieldError(&root, file, "format", "missing (format: 1)");
  if (fmt->kind() != Node::Kind::kInt || fmt->as_int() != 1)
    return FieldError(fmt, file, "format", "this forja reads package format 1");
  ASSIGN_OR_RETURN(p.flavor, String(root, "flavor", file, "flavor", true));
  if (p.flavor != "xgboost" && p.flavor != "lightgbm" && p.flavor != "python" && p.flavor != "onnx")
    return FieldError(root.Find("flavor"), file, "flavor",
                      "'" + p.flavor + "' is not a flavor (xgboost, lightgbm, onnx, python)");
  ASSIGN_OR_RETURN(p.model_file, String(root, "model", file, "model", p.flavor != "python"));
  ASSIGN_OR_RETURN(p.description, String(root, "description", file, "description", false));
  const Node* sig = root.Find("signature");
  // An ONNX graph declares its own inputs and outputs (the runtime reads them at load).
  if (sig || p.flavor != "onnx") {
    if (!sig) return FieldError(&root, file, "signature", "missing: the inputs and outputs the model takes and gives");
    if (!sig->is_map()) return FieldError(sig, file, "signature", "must be a mapping with inputs and outputs");
    for (const auto& [k, v] : sig->entries())
      if (k != "inputs" && k != "outputs") return FieldError(&v, file, "signature." + k, "unknown field (inputs, outputs)");
    RETURN_IF_ERROR(ParseTensors(sig->Find("inputs"), file, "signature.inputs", &p.inputs));
    RETURN_IF_ERROR(ParseTensors(sig->Find("outputs"), file, "signature.outputs", &p.outputs));
    if (p.inputs.empty()) return FieldError(sig, file, "signature.inputs", "at least one input is needed");
  }
  // onnx runs in the python workers too: it may size them (workers, timeout_ms), nothing else.
  const bool onnx_workers = p.flavor == "onnx" && root.Find("python");
  if (p.flavor == "python" || onnx_workers) {
    const Node* py = root.Find("python");
    if (!py || !py->is_map()) return FieldError(py ? py : &root, file, "python", "missing: {module: predict.py, function: predict}");
    if (!onnx_workers) {
      ASSIGN_OR_RETURN(p.python_module, String(*py, "module", file, "python.module", true));
      ASSIGN_OR_RETURN(p.python_function, String(*py, "function", file, "python.function", false));
      if (p.python_function.empty()) p.python_function = "predict";
    }
    for (const auto& [k, v] : py->entries()) {
      if (onnx_workers && k != "workers" && k != "timeout_ms")
        return FieldError(&v, file, "python." + k, "unknown field for flavor onnx (workers, timeout_ms)");
      int64_t* target = k == "workers" ? &p.python_workers : k == "timeout_ms" ? &p.python_timeout_ms : nullptr;
      if (target) {
        int64_t lo = k == "workers" ? 0 : 1, hi = k == "workers" ? 256 : 86400000;
        if (v.kind() != Node::Kind::kInt || v.as_int() < lo || v.as_int() > hi)
          return FieldError(&v, file, "python." + k,
                            "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
        *target = v.as_int();
      } else if (k != "module" && k != "function") {
        return FieldError(&v, file, "python." + k, "unknown field (module, function, workers, timeout_ms)");
      }
    }
  }
  for (const std::string* rel : {&p.model_file, &p.python_module}) {
    if (rel->empty()) continue;
    if ((*rel)[0] == '/' || rel->find("..") != std::string::npos)
      return FieldError(root.Find(rel == &p.model_file ? "model" : "python"), file,
                        rel == &p.model_file ? "model" : "python.module",
                        "'" + *rel + "' must be a path inside the package folder");
  }
  return p;
}

Result<ModelPackage> LoadPackage(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::User(dir + " is not a folder; a model package is a folder with model.yaml");
  std::string yaml = JoinPath(dir, "model.yaml");
  if (!Exists(yaml) && Exists(JoinPath(dir, kMLmodelFile))) return LoadMLmodel(dir);
  if (!Exists(yaml)) return Status::User(dir + " has no model.yaml; see forja models register --help for its fields");
  ASSIGN_OR_RETURN(std::string text, ReadFile(yaml));
  ASSIGN_OR_RETURN(ModelPackage p, ParsePackageYaml(text, yaml));
  for (const std::string* rel : {&p.model_file, &p.python_module}) {
    if (rel->empty()) continue;
    std::string path = JoinPath(dir, *rel);
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return Status::User(yaml + ": " + (rel == &p.model_file ? "model" : "python.module") + ": " + *rel +
                          " is not a file in " + dir);
  }
  return p;
}

Result<Oid> StorePackage(Cache& cache, const std::string& dir) {
  ASSIGN_OR_RETURN(auto files, WalkTree(dir));
  std::vector<ManifestEntry> entries;
  for (const WalkEntry& f : files) {
    if (f.symlink) return Status::User(JoinPath(dir, f.path) + " is a symlink; a package holds plain files only");
    ASSIGN_OR_RETURN(Oid oid, cache.StoreCopy(JoinPath(dir, f.path)));
    entries.push_back({f.path, oid, f.stat.size, (f.stat.mode & 0111) ? 0755u : 0644u});
  }
  SortManifest(&entries);
  ASSIGN_OR_RETURN(Oid manifest, cache.StoreBytes(SerializeManifest(entries)));
  RETURN_IF_ERROR(cache.Sync());
  return manifest;
}

Result<std::vector<std::pair<Oid, uint64_t>>> PackageObjects(Cache& cache, const Oid& manifest) {
  auto text = cache.Read(manifest);
  if (!text.ok()) return Status::NotFound("the package " + manifest.Hex() + " is not in the cache");
  ASSIGN_OR_RETURN(auto entries, ParseManifest(*text, "package " + manifest.Hex().substr(0, 12)));
  std::vector<std::pair<Oid, uint64_t>> out;
  for (const auto& e : entries) out.push_back({e.oid, e.size});
  return out;
}

Status CheckoutPackage(Cache& cache, const Oid& manifest, const std::string& dir) {
  auto text = cache.Read(manifest);
  if (!text.ok()) return Status::NotFound("the package sha256:" + manifest.Hex() + " is not in the cache");
  ASSIGN_OR_RETURN(auto entries, ParseManifest(*text, "package " + manifest.Hex().substr(0, 12)));
  for (const auto& e : entries)
    if (!cache.Has(e.oid))
      return Status::NotFound("the package's file " + e.path + " (" + ObjectKey(e.oid) + ") is not in the cache");
  RETURN_IF_ERROR(MakeDirs(dir));
  for (const auto& e : entries) {
    std::string path = JoinPath(dir, e.path);
    RETURN_IF_ERROR(MakeDirs(Dirname(path)));
    RETURN_IF_ERROR(cache.Checkout(e.oid, path, e.mode));
  }
  return Status::Ok();
}

}  // namespace forja::registry
