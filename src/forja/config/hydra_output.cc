#include "forja/config/hydra_output.h"

#include "forja/config/compose.h"
#include "forja/config/py_values.h"
#include "forja/core/fs.h"

namespace forja::config {

Result<HydraOutput> PrepareHydraOutput(const Composed& c, const std::string& run_dir) {
  HydraOutput out;
  if (!c.uses_hydra) return out;
  const Node* dir = c.hydra.Select("runtime.output_dir");
  if (!dir || !dir->is_string() || dir->as_string().empty())
    return Status::Internal("the hydra node has no runtime.output_dir");
  out.dir = dir->as_string();
  const Node* chdir = c.hydra.Select("job.chdir");
  out.chdir = chdir && chdir->kind() == Node::Kind::kBool && chdir->as_bool();
  if (const Node* env = c.hydra.Select("job.env_set"); env && env->is_map()) {
    for (const auto& [k, v] : env->entries()) {
      if (!v.is_scalar() || v.is_null() || k.empty() || k.find('=') != std::string::npos ||
          k.find('\0') != std::string::npos || (v.is_string() && v.as_string().find('\0') != std::string::npos))
        return Status::User((v.origin().empty() ? "hydra.job.env_set" : v.origin()) +
                            ": hydra.job.env_set." + k + " must be a variable name with a string, number or bool");
      out.env.emplace_back(k, v.is_string() ? v.as_string() : PyStr(v));
    }
  }
  RETURN_IF_ERROR(MakeDirs(out.dir));
  std::string hydra_yaml = ToYaml(Node::Map({{"hydra", c.hydra}}));
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(run_dir, "hydra.yaml"), hydra_yaml));
  const Node* sub = c.hydra.Find("output_subdir");
  if (!sub || sub->is_null()) return out;
  if (!sub->is_string() || sub->as_string().empty())
    return Status::User("hydra.output_subdir must be a folder name or null, not " + ToJson(*sub, 0));
  std::string rec = JoinPath(out.dir, sub->as_string());
  RETURN_IF_ERROR(WriteRunRecord(c, rec));  // config.yaml, overrides.yaml, choices.yaml
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(rec, "hydra.yaml"), hydra_yaml));
  return out;
}

}  // namespace forja::config
