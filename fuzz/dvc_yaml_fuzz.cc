// Fuzzes dvc.yaml as forja reads it: ParseDvcYaml (the top level, vars, DVC's
// ${...}, foreach and matrix, params) and BuildDag. A DVC repository's
// dvc.yaml is versioned in git, so its text comes from anyone who can push.
//
// Invariants, beyond "no crash":
//  - no exception escapes;
//  - a failure is one line starting "dvc.yaml" (the line of the field), or a cycle;
//  - parsed stages have unique names, commands, and normalized repository
//    paths (relative, no "."/".."/empty parts, not in .git or .forja);
//  - the top-level metrics, params and plots are normalized relative paths;
//  - a DAG's order puts every stage after its upstream stages.
// fuzz-libs: forja_pipeline
#include <stdlib.h>
#include <unistd.h>

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
#include "forja/pipeline/dvc_yaml.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;

// A DVC repository: params.yaml, a vars file, a folder, files that are not YAML.
struct Repo {
  std::string root;
  Repo() {
    char tmpl[] = "/tmp/forja-dvc-yaml-fuzz-XXXXXX";
    root = ::mkdtemp(tmpl);
    auto write = [&](const char* rel, const char* text) {
      std::string p = root + "/" + rel;
      (void)forja::MakeDirs(forja::Dirname(p));
      (void)forja::WriteFileAtomic(p, text);
    };
    write("params.yaml", "train: {lr: 0.1, n: 3, models: [a, b], opts: {x: 1, y: [2, 3]}}\nflag: true\nname: m\n");
    write("conf/vars.yaml", "data: {dir: data/raw}\nseeds: [1, 2]\n");
    write("conf/list.yaml", "[1, 2]\n");
    write("data/raw/a.csv", "x\n");
    write("p.json", "{\"k\": 1}\n");
  }
  ~Repo() {
    std::string cmd = "rm -rf '" + root + "'";
    if (std::system(cmd.c_str()) != 0) {
    }
  }
};

void CheckError(const forja::Status& st, const std::string& text) {
  const std::string& m = st.message();
  FUZZ_CHECK(st.code() == forja::Code::kUser, m + " for " + Show(text));
  FUZZ_CHECK(m.find('\n') == std::string::npos, Show(m));
  FUZZ_CHECK(forja::fuzz::StartsWith(m, "dvc.yaml") || forja::fuzz::StartsWith(m, "pipeline has a cycle: "),
             m + " for " + Show(text));
}

void CheckPath(const std::string& p, bool may_be_root, const std::string& text) {
  forja::fuzz::CheckRelativePath(p, may_be_root, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Repo repo;
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto doc = forja::config::ParseConfigYaml(text, "dvc.yaml");
    if (!doc.ok()) return 0;  // the YAML parsers have their own targets
    auto d = forja::pipeline::ParseDvcYaml(*doc, repo.root);
    if (!d.ok()) {
      CheckError(d.status(), text);
      return 0;
    }
    std::set<std::string> names;
    for (const auto& s : d->stages) {
      FUZZ_CHECK(!s.name.empty() && !s.cmd.empty(), Show(text));
      FUZZ_CHECK(names.insert(s.name).second, s.name + " twice in " + Show(text));
      CheckPath(s.wdir, true, text);
      for (const auto& dep : s.deps) {
        CheckPath(dep.path, false, text);
        FUZZ_CHECK(!forja::IsReservedPath(dep.path), dep.path);
      }
      for (const auto& o : s.outs) {
        CheckPath(o.path, false, text);
        FUZZ_CHECK(!forja::IsReservedPath(o.path), o.path);
      }
      for (const auto& p : s.params) CheckPath(p.file, false, text);
    }
    for (const auto& p : d->metrics) CheckPath(p, false, text);
    for (const auto& p : d->params) CheckPath(p.file, false, text);
    for (const auto& p : d->plots) CheckPath(p, false, text);
    for (const auto& n : d->notices) FUZZ_CHECK(n.find('\n') == std::string::npos && n.starts_with("dvc.yaml"), Show(n));
    auto dag = forja::pipeline::BuildDag(std::move(d->stages), repo.root);
    if (!dag.ok()) {
      CheckError(dag.status(), text);
      return 0;
    }
    FUZZ_CHECK(dag->order.size() == dag->stages.size(), Show(text));
  } catch (const std::exception& e) {
    forja::fuzz::Fail(__FILE__, __LINE__, "no exception escapes ParseDvcYaml or BuildDag",
                      std::string("exception: ") + e.what() + " for " + Show(text));
  }
  return 0;
}
