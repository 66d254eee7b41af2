#include "forja/pipeline/params.h"

#include <algorithm>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {

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
    auto it = files_.find(p.file);
    if (it == files_.end()) {
      auto text = ReadFile(proj_.root + "/" + p.file);
      if (!text.ok())
        return Status::User(p.origin + ": stages." + stage.name + ".params: cannot read params file '" + p.file +
                            "': " + text.status().message());
      ASSIGN_OR_RETURN(config::Node doc, config::ParseConfigYaml(*text, p.file));
      it = files_.emplace(p.file, std::move(doc)).first;
    }
    root = &it->second;
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
  for (const Param& p : stage.params) {
    std::string source = p.file.empty() ? std::string(kComposedParams) : p.file;
    ASSIGN_OR_RETURN(std::string value, Value(p, stage));
    auto it = std::find_if(out.begin(), out.end(), [&](const LockParams& lp) { return lp.source == source; });
    if (it == out.end()) {
      out.push_back({source, {}});
      it = out.end() - 1;
    }
    it->values.push_back({p.key, std::move(value)});
  }
  return out;
}

}  // namespace forja::pipeline
