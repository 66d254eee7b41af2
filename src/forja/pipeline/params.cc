#include "forja/pipeline/params.h"

#include <algorithm>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {

Result<const config::Node*> ParamReader::File(const Param& p, const Stage& stage) {
  auto it = files_.find(p.file);
  if (it == files_.end()) {
    auto text = ReadFile(proj_.root + "/" + p.file);
    if (!text.ok())
      return Status::User(p.origin + ": stages." + stage.name + ".params: cannot read params file '" + p.file +
                          "': " + text.status().message());
    ASSIGN_OR_RETURN(config::Node doc, config::ParseConfigYaml(*text, p.file));
    it = files_.emplace(p.file, std::move(doc)).first;
  }
  return &it->second;
}

Result<std::string> ParamReader::Value(const Param& p, const Stage& stage) {
  const config::Node* root = nullptr;
  std::string where;
  if (p.file.empty()) {
    if (!proj_.has_config)
      return Status::User(p.origin + ": stages." + stage.name + ".params: '" + p.key +
                          "' names a config key, but the project has no configuration; create conf/config.yaml "
                          "or write the param as FILE:KEY");
    root = &proj_.composed.config;
    where = "the configuration";
  } else {
    ASSIGN_OR_RETURN(root, File(p, stage));
    where = p.file;
  }
  const config::Node* n = root->Select(p.key);
  if (!n)
    return Status::User(p.origin + ": stages." + stage.name + ".params: '" + p.key + "' is not in " + where +
                        "; fix the key or add it there");
  return config::ToJson(*n, 0);
}

Result<std::vector<LockParams>> ParamReader::Values(const Stage& stage) {
  std::vector<LockParams> out;
  auto add = [&](const std::string& source, const std::string& key, std::string value) {
    auto it = std::find_if(out.begin(), out.end(), [&](const LockParams& lp) { return lp.source == source; });
    if (it == out.end()) {
      out.push_back({source, {}});
      it = out.end() - 1;
    }
    it->values.push_back({key, std::move(value)});
  };
  for (const Param& p : stage.params) {
    std::string source = p.file.empty() ? std::string(kComposedParams) : p.file;
    if (p.key.empty() && !p.file.empty()) {  // dvc.yaml's `- file.yaml:`: every top-level key, as it is now
      ASSIGN_OR_RETURN(const config::Node* doc, File(p, stage));
      if (!doc->is_map())
        return Status::User(p.origin + ": stages." + stage.name + ".params: '" + p.file +
                            "' is not a mapping of params; write key: value lines");
      for (const auto& [k, v] : doc->entries()) add(source, k, config::ToJson(v, 0));
      continue;
    }
    ASSIGN_OR_RETURN(std::string value, Value(p, stage));
    add(source, p.key, std::move(value));
  }
  return out;
}

namespace {

void Flatten(const config::Node& n, const std::string& key, std::vector<std::pair<std::string, std::string>>* out) {
  if (n.is_map() && !n.entries().empty()) {
    for (const auto& [k, v] : n.entries()) Flatten(v, key + "." + k, out);
    return;
  }
  out->push_back({key, config::ToJson(n, 0)});
}

std::string Short(const std::string& json) { return json.size() > 40 ? json.substr(0, 37) + "..." : json; }

}  // namespace

std::vector<std::pair<std::string, std::string>> FlattenParam(const std::string& key, const std::string& value_json) {
  std::vector<std::pair<std::string, std::string>> out;
  auto node = config::ParseConfigYaml(value_json, "forja.lock");
  if (!node.ok()) return {{key, value_json}};
  Flatten(*node, key, &out);
  return out;
}

std::vector<std::string> DescribeParamChange(const std::string& key, const std::string& old_json,
                                             const std::string& new_json) {
  auto before = FlattenParam(key, old_json), after = FlattenParam(key, new_json);
  std::vector<std::string> out;
  // (No structured bindings: clang before 16 cannot capture them in the lambdas.)
  for (const auto& leaf : after) {
    const std::string& k = leaf.first;
    const std::string& v = leaf.second;
    auto it = std::find_if(before.begin(), before.end(), [&](const auto& b) { return b.first == k; });
    if (it == before.end()) out.push_back("param " + k + " added (" + Short(v) + ")");
    else if (it->second != v) out.push_back("param " + k + " changed (" + Short(it->second) + " -> " + Short(v) + ")");
  }
  for (const auto& leaf : before)
    if (std::none_of(after.begin(), after.end(), [&](const auto& a) { return a.first == leaf.first; }))
      out.push_back("param " + leaf.first + " removed");
  if (out.empty()) out.push_back("param " + key + " changed");  // e.g. 1 became 1.0
  return out;
}

}  // namespace forja::pipeline
