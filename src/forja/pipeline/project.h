// Loading a workspace's pipeline: forja.yaml's stages, interpolated against
// the configuration composed with the command line's overrides, as a checked DAG.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forja/config/compose.h"
#include "forja/core/status.h"
#include "forja/pipeline/dag.h"
#include "forja/pipeline/executor.h"

namespace forja::pipeline {

// Where the project's configuration lives: `config: {root: conf, name: config}`
// in forja.yaml (root relative to the workspace); else conf/config.yaml when it
// exists; else none.
struct ConfigLocation {
  std::string dir;   // absolute; "" = the project has no composed configuration
  std::string name;  // "config"
};
Result<ConfigLocation> FindConfig(const std::string& root, const config::Node& forja_yaml);

struct Project {
  std::string root;         // the workspace, absolute
  config::Node forja_yaml;  // the parsed manifest (origins "forja.yaml:<line>")
  ConfigLocation config_location;
  // The composed config (Compose with the overrides, resolved); has_config is
  // false when the project has none (then an override is an error).
  bool has_config = false;
  config::Composed composed;
  Dag dag;
  // The stages come from dvc.yaml (dvc_yaml.h) when forja.yaml has no stages:.
  bool from_dvc_yaml = false;
  std::vector<std::string> dvc_metrics;  // dvc.yaml's top-level metrics: files
  std::vector<Param> dvc_params;         // dvc.yaml's top-level params: files (key "": all of it)
  ExecutorConfig executor;  // forja.yaml's executor: (executor.h); kind local when absent
  std::vector<std::string> notices;      // read but ignored, one line each (forja run and status print them)
};

// The workspace around `start`: the nearest folder upward with forja.yaml or
// .forja/ (as Workspace::Open finds it, but without creating local state:
// reading the pipeline changes nothing).
Result<std::string> FindWorkspaceRoot(const std::string& start);

// Reads <root>/forja.yaml, composes the config with `overrides`, parses the
// stages and builds the DAG. When forja.yaml has no stages: section (or no
// forja.yaml at all) and <root>/dvc.yaml exists, the stages are dvc.yaml's. Errors are the one-line messages of ParseStages,
// BuildDag and Compose.
Result<Project> LoadProject(const std::string& root, const std::vector<std::string>& overrides);

}  // namespace forja::pipeline
