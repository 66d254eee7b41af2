// The pipeline's graph: stage B depends on stage A when one of B's deps is one
// of A's outs, lies inside one, or contains one.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/pipeline/stage.h"

namespace forja::pipeline {

struct Dag {
  std::vector<Stage> stages;              // as declared
  std::vector<std::vector<int>> upstream;    // stage -> the stages it depends on (sorted, unique)
  std::vector<std::vector<int>> downstream;  // stage -> the stages that depend on it
  std::vector<int> order;                    // a topological order (declaration order among ties)
  // Indexes BuildDag makes for Find and Producer (O(log n) each).
  std::vector<int> by_name;                    // stages, sorted by name
  std::vector<std::pair<int, int>> out_index;  // (stage, out), sorted by the out's path

  int Find(const std::string& name) const;  // -1 when absent
  // The stage whose out is `path` or contains it; -1 when none.
  int Producer(const std::string& path) const;
};

// Builds and checks the graph. `root` is the workspace (absolute), for the
// existence of deps nobody produces. Errors, one line each:
//   forja.yaml:20: stages.b.outs: 'data/x' is also an output of stage 'a' (forja.yaml:12)
//   forja.yaml:20: stages.b.outs: 'data/x/y' is inside 'data/x', an output of stage 'a' (forja.yaml:12)
//   forja.yaml:31: stages.c.deps: 'data/raw' does not exist and no stage writes it
//   pipeline has a cycle: a -> b -> c -> a
Result<Dag> BuildDag(std::vector<Stage> stages, const std::string& root);

// The stages to consider for targets (names; a foreach/matrix base name selects
// all its stages) and, unless `single`, everything they depend on — in
// topological order. Empty targets = every stage. Unknown names are an error
// that lists the stages.
Result<std::vector<int>> SelectStages(const Dag& dag, const std::vector<std::string>& targets, bool single);

// `forja dag` renderings of the selected stages.
std::string DagText(const Dag& dag, const std::vector<int>& sel);     // one line per stage: "b <- a"
std::string DagMermaid(const Dag& dag, const std::vector<int>& sel);  // flowchart TD
std::string DagDot(const Dag& dag, const std::vector<int>& sel);      // digraph
std::string DagJson(const Dag& dag, const std::vector<int>& sel);     // {"stages":[{name,cmd,deps,outs,upstream}],"edges":[[a,b]]}

}  // namespace forja::pipeline
