// A DVC repository's dvc.yaml, read with DVC 3's rules (docs/dvc-compat.md, "dvc.yaml").
//
// The stages are parsed by stage.cc's StageParser (ParseDvcStages): the fields
// are forja.yaml's, and where DVC differs the parser follows DVC:
//   params: [train.lr]         a key of <wdir>/params.yaml (not the composed config)
//   params: [{f.yaml: [a]}]    a key of <wdir>/f.yaml; {f.yaml: } (no keys) is all of it
//   vars: [params2.yaml, f.yaml:a,b, {x: 1}]   names for ${...}, after params.yaml
//   ${a.b} ${a[0]} ${item} ${key}              dvc/parsing's grammar: no resolvers
//   frozen: true               never run, never reported changed
// This file holds what belongs to DVC alone: the document's top level, the
// vars context, and DVC's interpolation (DvcResolve), which stage.cc calls.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"
#include "forja/pipeline/stage.h"

namespace forja::pipeline {

// The names ${...} may use: params.yaml (when it exists), then vars:, merged as
// DVC's Context does (mappings merge; a name defined twice is an error).
struct DvcContext {
  config::Node values = config::Node::Map();
  // The files loaded so far (repository-relative): nullopt = the whole file,
  // else the top-level keys taken from it.
  std::map<std::string, std::optional<std::vector<std::string>>> imports;
};

// Loads a vars: list (file names "f.yaml", "f.yaml:k1,k2" relative to `wdir`,
// and inline mappings) into *ctx. `field` names it in errors ("vars",
// "stages.train.vars"). Errors are one line: "dvc.yaml:3: vars[1]: ...".
Status LoadDvcVars(const config::Node& vars, const std::string& root, const std::string& wdir,
                   const std::string& field, DvcContext* ctx);

// What ${...} sees in one place: the context, and item / key inside foreach
// and matrix stages (null elsewhere).
struct DvcScope {
  const config::Node* ctx = nullptr;
  const config::Node* item = nullptr;
  const config::Node* key = nullptr;
};

// `value` with DVC's interpolation applied to every string (and mapping key)
// in it: "${a}" alone keeps a's type; inside text, booleans are true/false and
// a mapping is unpacked to "--k v" in cmd only; lists and mappings elsewhere are
// refused, except in foreach and matrix (`field` is the stage's field: cmd,
// outs, foreach, matrix ...). "\${" is a literal "${". Errors name the ${...}.
Result<config::Node> DvcResolve(const config::Node& value, const DvcScope& scope, std::string_view field);

struct DvcYaml {
  std::vector<Stage> stages;
  std::vector<std::string> metrics;  // top-level metrics: files, repository-relative
  std::vector<Param> params;         // top-level params: whole files (key "")
  std::vector<std::string> plots;    // top-level plots: their files or ids
  // The same plots as written, ${...} resolved: "file" or {id: {x, y, template ...}};
  // forja plots reads them (cli/cmd_plots.cc, docs/plots.md).
  std::vector<config::Node> plot_defs;
  std::vector<std::string> notices;  // one line each: what was accepted but is ignored
};

// Parses dvc.yaml's document (parsed with config::ParseConfigYaml, origins
// "dvc.yaml:<line>"); `root` is the workspace, where params.yaml and vars files are.
Result<DvcYaml> ParseDvcYaml(const config::Node& doc, const std::string& root);

// Reads and parses <root>/dvc.yaml.
Result<DvcYaml> ReadDvcYaml(const std::string& root);

}  // namespace forja::pipeline
