// Fuzzes the pipeline of forja.yaml: ParseStages (fields, foreach and matrix,
// interpolation against a configuration) and BuildDag (outs, edges, order).
// forja.yaml is versioned in git, so its text comes from anyone who can push.
//
// Invariants, beyond "no crash":
//  - no exception escapes;
//  - a failure is one line: "forja.yaml..." naming the line, or a cycle;
//  - parsed stages have unique names, commands, and normalized repository
//    paths (relative, no "."/".."/empty parts, not in .git or .forja); numbers
//    are in range;
//  - a DAG's order is a permutation that puts every stage after its upstream
//    stages; Find and Producer agree with the stages; SelectStages of a stage
//    holds it and what it needs.
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/pipeline/dag.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::pipeline::Dag;
using forja::pipeline::Stage;

const char kConfig[] =
    "train: {lr: 0.1, epochs: 3, models: [a, b], out: 'runs/${train.lr}'}\n"
    "data: {dir: data/raw, splits: {tr: 0.8, te: 0.2}}\n"
    "flag: true\n"
    "later: ???\n";

// A workspace with a few files, for the deps nobody writes.
struct Workspace {
  std::string root;
  Workspace() {
    char tmpl[] = "/tmp/forja-stages-fuzz-XXXXXX";
    root = ::mkdtemp(tmpl);
    for (const char* f : {"data/raw/a.csv", "prepare.py", "train.py", "params.yaml"}) {
      std::string p = root + "/" + f;
      (void)forja::MakeDirs(forja::Dirname(p));
      (void)forja::WriteFileAtomic(p, "x\n");
    }
  }
  ~Workspace() {
    std::string cmd = "rm -rf '" + root + "'";
    if (std::system(cmd.c_str()) != 0) {
    }
  }
};

void CheckError(const forja::Status& st, const std::string& text) {
  const std::string& m = st.message();
  FUZZ_CHECK(st.code() == forja::Code::kUser, m + " for " + Show(text));
  FUZZ_CHECK(m.find('\n') == std::string::npos, Show(m));
  FUZZ_CHECK(forja::fuzz::StartsWith(m, "forja.yaml") || forja::fuzz::StartsWith(m, "pipeline has a cycle: "),
             m + " for " + Show(text));
}

void CheckPath(const std::string& p, bool may_be_root, const std::string& text) {
  forja::fuzz::CheckRelativePath(p, may_be_root, text);
  FUZZ_CHECK(!forja::IsReservedPath(p), Show(p));
}

void CheckStage(const Stage& s, const std::string& text) {
  FUZZ_CHECK(!s.name.empty(), Show(text));
  FUZZ_CHECK(!s.cmd.empty(), s.name + " in " + Show(text));
  for (const auto& c : s.cmd) FUZZ_CHECK(!c.empty(), s.name);
  CheckPath(s.wdir, true, text);
  for (const auto& d : s.deps) CheckPath(d.path, false, text);
  for (const auto& o : s.outs) CheckPath(o.path, false, text);
  for (const auto& p : s.params) {
    FUZZ_CHECK(!p.key.empty(), s.name);
    if (!p.file.empty()) CheckPath(p.file, false, text);
  }
  const auto& r = s.retries;
  FUZZ_CHECK(r.count >= 0 && r.count <= 1000, s.name);
  FUZZ_CHECK(r.jitter >= 0 && r.jitter <= 1, s.name);
  FUZZ_CHECK(r.backoff >= 1 && std::isfinite(r.backoff), s.name);
  FUZZ_CHECK(r.delay_s >= 0 && std::isfinite(r.delay_s), s.name);
  FUZZ_CHECK(r.max_delay_s >= 0 && std::isfinite(r.max_delay_s), s.name);
  FUZZ_CHECK(s.timeout_s >= 0 && std::isfinite(s.timeout_s), s.name);
}

void CheckDag(const Dag& dag, const std::string& text) {
  size_t n = dag.stages.size();
  FUZZ_CHECK(dag.order.size() == n, Show(text));
  std::vector<int> pos(n, -1);
  for (size_t k = 0; k < n; k++) {
    int s = dag.order[k];
    FUZZ_CHECK(s >= 0 && static_cast<size_t>(s) < n && pos[s] < 0, Show(text));
    pos[s] = static_cast<int>(k);
  }
  for (size_t s = 0; s < n; s++) {
    FUZZ_CHECK(dag.Find(dag.stages[s].name) == static_cast<int>(s), dag.stages[s].name);
    const auto& up = dag.upstream[s];
    for (size_t i = 0; i < up.size(); i++) {
      FUZZ_CHECK(up[i] != static_cast<int>(s) && pos[up[i]] < pos[s], dag.stages[s].name);
      FUZZ_CHECK(i == 0 || up[i - 1] < up[i], dag.stages[s].name);
    }
    for (const auto& o : dag.stages[s].outs)
      FUZZ_CHECK(dag.Producer(o.path) == static_cast<int>(s), o.path + " in " + Show(text));
    auto sel = forja::pipeline::SelectStages(dag, {dag.stages[s].name}, false);
    FUZZ_CHECK(sel.ok(), sel.status().message());
    std::set<int> in(sel->begin(), sel->end());
    FUZZ_CHECK(in.count(static_cast<int>(s)) == 1, dag.stages[s].name);
    for (int u : up) FUZZ_CHECK(in.count(u) == 1, dag.stages[s].name);
  }
  std::vector<int> all(dag.order);
  (void)forja::pipeline::DagText(dag, all);
  (void)forja::pipeline::DagMermaid(dag, all);
  (void)forja::pipeline::DagDot(dag, all);
  (void)forja::pipeline::DagJson(dag, all);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Workspace ws;
  static const forja::config::Node cfg = *forja::config::ParseYaml(kConfig, "conf/config.yaml");
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto doc = forja::config::ParseConfigYaml(text, "forja.yaml");
    if (!doc.ok()) return 0;  // the YAML parsers have their own targets
    auto stages = forja::pipeline::ParseStages(*doc, cfg);
    if (!stages.ok()) {
      CheckError(stages.status(), text);
      return 0;
    }
    std::set<std::string> names;
    for (const auto& s : *stages) {
      CheckStage(s, text);
      FUZZ_CHECK(names.insert(s.name).second, s.name + " twice in " + Show(text));
    }
    auto dag = forja::pipeline::BuildDag(std::move(*stages), ws.root);
    if (!dag.ok()) {
      CheckError(dag.status(), text);
      return 0;
    }
    CheckDag(*dag, text);
  } catch (const std::exception& e) {
    forja::fuzz::Fail(__FILE__, __LINE__, "no exception escapes ParseStages or BuildDag",
                      std::string("exception: ") + e.what() + " for " + Show(text));
  }
  return 0;
}
