// Reading a stage's params: keys of the composed configuration, or of plain
// YAML/JSON params files, as one-line JSON values (the form forja.lock keeps).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"
#include "forja/data/lockfile.h"
#include "forja/pipeline/stage.h"

namespace forja::pipeline {

struct Project;

class ParamReader {
 public:
  explicit ParamReader(const Project& project) : proj_(project) {}

  // The value of one param of `stage`, as one-line JSON. Errors name the
  // stage's forja.yaml line: "forja.yaml:9: stages.train.params: 'x' is not in ...".
  Result<std::string> Value(const Param& p, const Stage& stage);
  // All params of a stage, grouped by source (kComposedParams or the file), in declaration order.
  Result<std::vector<LockParams>> Values(const Stage& stage);

 private:
  Result<const config::Node*> File(const Param& p, const Stage& stage);  // parsed once

  const Project& proj_;
  std::map<std::string, config::Node> files_;  // params files read so far
};

// A param's value flattened to its leaves: ("model", {"depth": 3}) gives
// ("model.depth", "3"); a scalar or list is one leaf. Values are one-line JSON.
std::vector<std::pair<std::string, std::string>> FlattenParam(const std::string& key, const std::string& value_json);

// Why a param's change matters, leaf by leaf: "param model.depth changed (3 -> 4)",
// "param model.seed added", "param model.old removed".
std::vector<std::string> DescribeParamChange(const std::string& key, const std::string& old_json,
                                             const std::string& new_json);

}  // namespace forja::pipeline
