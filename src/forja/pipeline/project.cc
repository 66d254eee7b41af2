// Loading a workspace's pipeline (project.h): forja.yaml, the configuration
// composed with the command line's overrides, the stages, the DAG.
#include "forja/pipeline/project.h"

#include <limits.h>
#include <stdlib.h>

#include <chrono>

#include "forja/config/hydra_runtime.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/dvc_yaml.h"

namespace forja::pipeline {

using config::Node;

Result<ConfigLocation> FindConfig(const std::string& root, const config::Node& forja_yaml) {
  const char* hint = "write config: {root: conf, name: config}";
  const Node* c = forja_yaml.is_map() ? forja_yaml.Find("config") : nullptr;
  std::string dir, name;
  if (c && !c->is_null()) {
    if (!c->is_map())
      return Status::User(c->origin() + ": config: expected a mapping, got a " + c->KindName() + "; " + hint);
    for (const auto& [k, v] : c->entries()) {
      if (k != "root" && k != "name")
        return Status::User(v.origin() + ": config." + Quote(k).substr(1, Quote(k).size() - 2) + ": unknown key; config has root and name");
      if (!v.is_string() || v.as_string().empty())
        return Status::User(v.origin() + ": config." + k + ": expected a non-empty string; " + hint);
      (k == "root" ? dir : name) = v.as_string();
    }
  }
  ConfigLocation loc;
  if (!dir.empty() || !name.empty()) {
    // Given in forja.yaml: composing tells when it is not there.
    if (dir.empty()) dir = "conf";
    loc.dir = NormalizeAbsolute(dir[0] == '/' ? dir : root + "/" + dir);
    loc.name = name.empty() ? "config" : name;
  } else if (IsFile(root + "/conf/config.yaml")) {
    loc.dir = root + "/conf";
    loc.name = "config";
  }
  return loc;
}

Result<std::string> FindWorkspaceRoot(const std::string& start) {
  char real[PATH_MAX];
  if (::realpath(start.c_str(), real) == nullptr) return Status::FromErrno("cannot open " + start, errno);
  for (std::string dir = real;; dir = Dirname(dir)) {
    if (IsDir(dir + "/.forja") || IsFile(dir + "/forja.yaml")) return dir;
    if (dir == "/" || dir.empty()) break;
  }
  return Status::User("not inside a forja repository (no forja.yaml or .forja/ here or above " + start +
                      "); run `forja init`");
}

Result<Project> LoadProject(const std::string& root, const std::vector<std::string>& overrides) {
  Project p;
  p.root = root;
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(root));  // the one reader: sections checked there
  p.forja_yaml = std::move(doc.root);
  ASSIGN_OR_RETURN(p.config_location, FindConfig(root, p.forja_yaml));
  ASSIGN_OR_RETURN(p.executor, ParseExecutorConfig(p.forja_yaml.is_map() ? p.forja_yaml.Find("executor") : nullptr));
  Node no_config = Node::Map();
  std::optional<Node> lock_cfg;
  if (!p.config_location.dir.empty()) {
    config::ComposeOptions opts;
    opts.config_dir = p.config_location.dir;
    opts.config_name = p.config_location.name;
    opts.overrides = overrides;
    opts.hydra_run.cwd = root;  // ${hydra:runtime.cwd}: where stages run
    // A `forja exp run` job: its output folder in the main workspace, its job number.
    RETURN_IF_ERROR(config::HydraRunFromEnvironment(&opts.hydra_run, &opts.resolve_options.now));
    if (!opts.resolve_options.now) opts.resolve_options.now = std::chrono::system_clock::now();
    ASSIGN_OR_RETURN(p.composed, config::Compose(opts));
    p.has_config = true;
    if (p.composed.uses_hydra) {  // the config as forja.lock sees it (stage commands that name its values)
      opts.hydra_lock_view = true;
      if (auto lock = config::Compose(opts); lock.ok()) lock_cfg = std::move(lock->config);
    }
  } else if (!overrides.empty()) {
    return Status::User("no configuration to override: create conf/config.yaml or set config.root in forja.yaml");
  }
  std::vector<Stage> stages;
  const Node* own = p.forja_yaml.is_map() ? p.forja_yaml.Find("stages") : nullptr;
  bool has_dvc_yaml = IsFile(root + "/dvc.yaml");
  if ((!own || own->is_null()) && has_dvc_yaml) {
    ASSIGN_OR_RETURN(DvcYaml dvc, ReadDvcYaml(root));
    stages = std::move(dvc.stages);
    p.from_dvc_yaml = true;
    p.dvc_metrics = std::move(dvc.metrics);
    p.dvc_params = std::move(dvc.params);
    p.notices = std::move(dvc.notices);
  } else {
    ASSIGN_OR_RETURN(stages, ParseStages(p.forja_yaml, p.has_config ? p.composed.config : no_config,
                                         p.has_config ? &p.composed.hydra : nullptr,
                                         lock_cfg ? &*lock_cfg : nullptr));
    // ${hydra:...} in a stage: the run makes the output folder, as for the config's.
    if (p.has_config && own && config::MentionsHydra(*own)) p.composed.uses_hydra = true;
    if (has_dvc_yaml) p.notices.push_back("dvc.yaml is not read: forja.yaml has a stages: section of its own");
  }
  ASSIGN_OR_RETURN(p.dag, BuildDag(std::move(stages), root));
  return p;
}

}  // namespace forja::pipeline
