// BuildDag, SelectStages and the renderings of `forja dag`: edges for outs
// equal to, containing and inside deps, the order, every error (one line
// each), and LoadProject / FindConfig on a real folder.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/pipeline/dag.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {
namespace {

using config::Node;
using Strings = std::vector<std::string>;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/forja-dag-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::string cmd = "rm -rf " + path_;
    if (std::system(cmd.c_str()) != 0) {
    }
  }
  const std::string& path() const { return path_; }
  void Write(const std::string& rel, const std::string& text = "x\n") const {
    std::string p = path_ + "/" + rel;
    EXPECT_TRUE(MakeDirs(Dirname(p)).ok());
    EXPECT_TRUE(WriteFileAtomic(p, text).ok());
  }

 private:
  std::string path_;
};

Result<Dag> Build(const std::string& yaml, const std::string& root) {
  auto doc = config::ParseConfigYaml(yaml, "forja.yaml");
  if (!doc.ok()) return doc.status();
  auto stages = ParseStages(*doc, Node::Map());
  if (!stages.ok()) return stages.status();
  return BuildDag(std::move(*stages), root);
}

Dag Ok(const std::string& yaml, const std::string& root) {
  auto d = Build(yaml, root);
  EXPECT_TRUE(d.ok()) << d.status().message();
  return d.ok() ? std::move(*d) : Dag{};
}

std::string Error(const std::string& yaml, const std::string& root) {
  auto d = Build(yaml, root);
  EXPECT_FALSE(d.ok());
  if (d.ok()) return "";
  EXPECT_EQ(d.status().code(), Code::kUser);
  EXPECT_EQ(d.status().message().find('\n'), std::string::npos);
  return d.status().message();
}

Strings Names(const Dag& dag, const std::vector<int>& idx) {
  Strings out;
  for (int i : idx) out.push_back(dag.stages[i].name);
  return out;
}

Strings Upstream(const Dag& dag, const std::string& name) {
  int i = dag.Find(name);
  EXPECT_GE(i, 0) << name;
  return i < 0 ? Strings{} : Names(dag, dag.upstream[i]);
}

// prepare -> train -> evaluate, with a folder out read as a file inside it and
// a dep that contains two outs.
const char kPipeline[] =
    "stages:\n"
    "  prepare:\n"
    "    cmd: python prepare.py\n"
    "    deps: [data/raw, prepare.py]\n"
    "    outs: [data/prepared]\n"
    "  features:\n"
    "    cmd: python features.py\n"
    "    deps: [data/raw]\n"
    "    outs: [data/features/a.csv, data/features/b.csv]\n"
    "  train:\n"
    "    cmd: python train.py\n"
    "    deps: [data/prepared/train.csv, data/features]\n"
    "    outs: [models/model.bin]\n"
    "  evaluate:\n"
    "    cmd: python evaluate.py\n"
    "    deps: [models]\n"
    "    metrics: [{eval/metrics.json: {cache: false}}]\n";

class PipelineDag : public testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("data/raw/a.csv");
    dir_.Write("prepare.py");
  }
  const std::string& root() const { return dir_.path(); }
  TempDir dir_;
};

TEST_F(PipelineDag, EdgesForEqualInsideAndContainingPaths) {
  Dag dag = Ok(kPipeline, root());
  ASSERT_EQ(dag.stages.size(), 4u);
  EXPECT_EQ(Upstream(dag, "prepare"), Strings{});
  EXPECT_EQ(Upstream(dag, "features"), Strings{});
  EXPECT_EQ(Upstream(dag, "train"), (Strings{"prepare", "features"}));  // inside an out; containing two
  EXPECT_EQ(Upstream(dag, "evaluate"), Strings{"train"});                // containing one
  EXPECT_EQ(Names(dag, dag.downstream[dag.Find("prepare")]), Strings{"train"});
  EXPECT_EQ(Names(dag, dag.order), (Strings{"prepare", "features", "train", "evaluate"}));
}

TEST_F(PipelineDag, FindAndProducer) {
  Dag dag = Ok(kPipeline, root());
  EXPECT_EQ(dag.Find("train"), 2);
  EXPECT_EQ(dag.Find("trai"), -1);
  EXPECT_EQ(dag.Find("zzz"), -1);
  EXPECT_EQ(dag.Producer("data/prepared"), 0);
  EXPECT_EQ(dag.Producer("data/prepared/x/y.csv"), 0);
  EXPECT_EQ(dag.Producer("data/features/b.csv"), 1);
  EXPECT_EQ(dag.Producer("data/features"), -1);  // contains outs, is none
  EXPECT_EQ(dag.Producer("data/prepared2"), -1);
  EXPECT_EQ(dag.Producer("eval/metrics.json"), 3);
  EXPECT_EQ(dag.Producer("data/raw"), -1);
}

TEST_F(PipelineDag, OrderIsStableAmongReadyStages) {
  Dag dag = Ok(
      "stages:\n"
      "  c: {cmd: x, deps: [b.out], outs: [c.out]}\n"
      "  a: {cmd: x, outs: [a.out]}\n"
      "  b: {cmd: x, deps: [a.out], outs: [b.out]}\n"
      "  d: {cmd: x}\n",
      root());
  EXPECT_EQ(Names(dag, dag.order), (Strings{"a", "b", "c", "d"}));
  Dag dag2 = Ok("stages:\n  z: {cmd: x}\n  y: {cmd: x}\n  x: {cmd: x}\n", root());
  EXPECT_EQ(Names(dag2, dag2.order), (Strings{"z", "y", "x"}));
}

TEST_F(PipelineDag, UpstreamIsSortedAndUnique) {
  Dag dag = Ok(
      "stages:\n"
      "  b: {cmd: x, outs: [d/b1, d/b2]}\n"
      "  a: {cmd: x, outs: [d/a]}\n"
      "  c: {cmd: x, deps: [d, d/b1, d/a]}\n",
      root());
  EXPECT_EQ(dag.upstream[2], (std::vector<int>{0, 1}));
}

TEST_F(PipelineDag, DepsOnDiskOrTrackedAreFine) {
  dir_.Write("data/tracked.forja");
  dir_.Write("big.forja");
  Ok("stages:\n  a: {cmd: x, deps: [data/raw/a.csv, data/tracked, big/inside/file.csv, prepare.py]}\n", root());
  EXPECT_EQ(::symlink("nowhere", (root() + "/dangling").c_str()), 0);
  Ok("stages:\n  a: {cmd: x, deps: [dangling]}\n", root());  // lstat: the link itself is there
}

TEST_F(PipelineDag, Errors) {
  EXPECT_EQ(Error("stages:\n  c:\n    cmd: x\n    deps: [data/nope]\n", root()),
            "forja.yaml:4: stages.c.deps: 'data/nope' does not exist and no stage writes it");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    outs: [data/x]\n  b:\n    cmd: y\n    outs: [data/x]\n", root()),
            "forja.yaml:7: stages.b.outs: 'data/x' is also an output of stage 'a' (forja.yaml:4)");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    outs: [data/x]\n  b:\n    cmd: y\n    outs: [data/x/y]\n", root()),
            "forja.yaml:7: stages.b.outs: 'data/x/y' is inside 'data/x', an output of stage 'a' (forja.yaml:4)");
  EXPECT_EQ(
      Error("stages:\n  a:\n    cmd: x\n    outs: [data/x/y]\n  b:\n    cmd: y\n    metrics: [data/x]\n", root()),
      "forja.yaml:7: stages.b.metrics: 'data/x' contains 'data/x/y', an output of stage 'a' (forja.yaml:4)");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    outs: [m]\n    plots: [m]\n", root()),
            "forja.yaml:5: stages.a.plots: 'm' is listed twice (forja.yaml:4); list each output once");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    outs: [d, d/e]\n", root()),
            "forja.yaml:4: stages.a.outs: 'd/e' is inside 'd', an output of stage 'a' (forja.yaml:4)");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    deps: [m]\n    outs: [m]\n", root()),
            "forja.yaml:4: stages.a.deps: 'm' is also an output of this stage (forja.yaml:5); a stage cannot read "
            "its own outputs (list the inputs one by one)");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    deps: [data]\n    outs: [data/model]\n", root()),
            "forja.yaml:4: stages.a.deps: 'data' contains 'data/model', an output of this stage (forja.yaml:5); a "
            "stage cannot read its own outputs (list the inputs one by one)");
  EXPECT_EQ(Error("stages:\n  a:\n    cmd: x\n    deps: [m/x]\n    outs: [m]\n", root()),
            "forja.yaml:4: stages.a.deps: 'm/x' is inside 'm', an output of this stage (forja.yaml:5); a stage "
            "cannot read its own outputs (list the inputs one by one)");
}

TEST_F(PipelineDag, CycleIsNamed) {
  EXPECT_EQ(Error("stages:\n"
                  "  z: {cmd: x}\n"
                  "  a: {cmd: x, deps: [c.out], outs: [a.out]}\n"
                  "  b: {cmd: x, deps: [a.out], outs: [b.out]}\n"
                  "  c: {cmd: x, deps: [b.out], outs: [c.out]}\n",
                  root()),
            "pipeline has a cycle: a -> b -> c -> a");
  EXPECT_EQ(Error("stages:\n"
                  "  b: {cmd: x, deps: [a.out], outs: [b.out]}\n"
                  "  a: {cmd: x, deps: [b.out/f], outs: [a.out]}\n"
                  "  after: {cmd: x, deps: [a.out]}\n",
                  root()),
            "pipeline has a cycle: b -> a -> b");
}

TEST_F(PipelineDag, DuplicateNamesAreRefused) {
  Stage a;
  a.name = "a";
  a.origin = "forja.yaml:2";
  a.cmd = {"x"};
  Stage b = a;
  b.origin = "forja.yaml:5";
  auto d = BuildDag({a, b}, root());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "forja.yaml:5: stages.a: declared twice (also at forja.yaml:2); rename one of them");
}

// ---------------------------------------------------------------------------
// SelectStages

const char kSweep[] =
    "stages:\n"
    "  prepare: {cmd: x, outs: [p]}\n"
    "  train:\n"
    "    foreach: [s, l]\n"
    "    do: {cmd: 'fit ${item}', deps: [p], outs: ['m-${item}']}\n"
    "  report: {cmd: x, deps: [m-s, m-l]}\n"
    "  lint: {cmd: x}\n";

TEST_F(PipelineDag, SelectStages) {
  Dag dag = Ok(kSweep, root());
  auto all = SelectStages(dag, {}, false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(dag, *all), (Strings{"prepare", "train@s", "train@l", "report", "lint"}));
  auto one = SelectStages(dag, {"train@l"}, false);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Names(dag, *one), (Strings{"prepare", "train@l"}));
  auto single = SelectStages(dag, {"train@l"}, true);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(Names(dag, *single), Strings{"train@l"});
  auto base = SelectStages(dag, {"train"}, false);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(Names(dag, *base), (Strings{"prepare", "train@s", "train@l"}));
  auto two = SelectStages(dag, {"lint", "report"}, false);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(Names(dag, *two), (Strings{"prepare", "train@s", "train@l", "report", "lint"}));
  auto bad = SelectStages(dag, {"trian"}, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown stage 'trian' (stages: prepare, train, report, lint); forja dag lists the pipeline");
  auto prefix = SelectStages(dag, {"train@"}, false);
  EXPECT_FALSE(prefix.ok());
  auto none = SelectStages(Dag{}, {"x"}, false);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "unknown stage 'x': forja.yaml has no stages; add a stages: section");
}

TEST_F(PipelineDag, UnknownStageListsAtMostTwenty) {
  std::string yaml = "stages:\n";
  for (int i = 0; i < 25; i++) yaml += "  s" + std::to_string(i) + ": {cmd: x}\n";
  Dag dag = Ok(yaml, root());
  auto bad = SelectStages(dag, {"nope"}, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s18, s19 and 5 more); "), std::string::npos) << bad.status().message();
}

// ---------------------------------------------------------------------------
// Renderings

TEST_F(PipelineDag, Renderings) {
  Dag dag = Ok(
      "stages:\n"
      "  prepare: {cmd: python prepare.py, deps: [prepare.py], outs: [p]}\n"
      "  train: {cmd: [fit \"a\", save], deps: [p], outs: [m, {log: {cache: false}}]}\n"
      "  lint: {cmd: x}\n",
      root());
  auto all = SelectStages(dag, {}, false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(DagText(dag, *all), "prepare\ntrain <- prepare\nlint\n");
  EXPECT_EQ(DagMermaid(dag, *all),
            "flowchart TD\n  s0[\"prepare\"]\n  s1[\"train\"]\n  s2[\"lint\"]\n  s0 --> s1\n");
  EXPECT_EQ(DagDot(dag, *all),
            "digraph pipeline {\n  \"prepare\";\n  \"train\";\n  \"lint\";\n  \"prepare\" -> \"train\";\n}\n");
  EXPECT_EQ(DagJson(dag, *all),
            "{\n"
            "  \"stages\": [\n"
            "    {\"name\": \"prepare\", \"cmd\": [\"python prepare.py\"], \"deps\": [\"prepare.py\"], "
            "\"outs\": [\"p\"], \"upstream\": []},\n"
            "    {\"name\": \"train\", \"cmd\": [\"fit \\\"a\\\"\", \"save\"], \"deps\": [\"p\"], "
            "\"outs\": [\"m\", \"log\"], \"upstream\": [\"prepare\"]},\n"
            "    {\"name\": \"lint\", \"cmd\": [\"x\"], \"deps\": [], \"outs\": [], \"upstream\": []}\n"
            "  ],\n"
            "  \"edges\": [\n"
            "    [\"prepare\", \"train\"]\n"
            "  ]\n"
            "}\n");
  auto single = SelectStages(dag, {"train"}, true);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(DagText(dag, *single), "train\n");
  EXPECT_EQ(DagJson(Dag{}, {}), "{\n  \"stages\": [],\n  \"edges\": []\n}\n");
  EXPECT_EQ(DagText(Dag{}, {}), "");
}

TEST_F(PipelineDag, RenderingsEscapeNames) {
  Dag dag = Ok("stages:\n  t:\n    foreach: ['say \"hi\"', 'back\\slash']\n    do: {cmd: x}\n", root());
  auto all = SelectStages(dag, {}, false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(DagMermaid(dag, *all), "flowchart TD\n  s0[\"t@say #quot;hi#quot;\"]\n  s1[\"t@back\\slash\"]\n");
  EXPECT_EQ(DagDot(dag, *all), "digraph pipeline {\n  \"t@say \\\"hi\\\"\";\n  \"t@back\\\\slash\";\n}\n");
}

// ---------------------------------------------------------------------------
// Speed: a thousand stages in a chain, each with interpolations.

TEST_F(PipelineDag, ThousandStagesBuildFast) {
  std::string yaml = "stages:\n";
  for (int i = 0; i < 1000; i++) {
    std::string n = std::to_string(i);
    yaml += "  s" + n + ":\n    cmd: python step.py --i " + n + "\n";
    yaml += "    deps: [" + (i ? "data/s" + std::to_string(i - 1) + "/part.csv, " : std::string()) + "prepare.py]\n";
    yaml += "    outs: [data/s" + n + "]\n";
  }
  auto doc = config::ParseConfigYaml(yaml, "forja.yaml");
  ASSERT_TRUE(doc.ok());
  auto stages = ParseStages(*doc, Node::Map());
  ASSERT_TRUE(stages.ok());
  auto t0 = std::chrono::steady_clock::now();
  auto dag = BuildDag(std::move(*stages), root());
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(dag.ok()) << dag.status().message();
  EXPECT_EQ(dag->order.front(), 0);
  EXPECT_EQ(dag->order.back(), 999);
  EXPECT_LT(ms, 100) << "building the DAG of 1000 stages took " << ms << " ms";
  RecordProperty("build_ms", std::to_string(ms));
}

// ---------------------------------------------------------------------------
// Projects

TEST_F(PipelineDag, FindConfig) {
  auto yaml = [](const std::string& text) { return *config::ParseConfigYaml(text, "forja.yaml"); };
  auto none = FindConfig(root(), yaml("cache: {link: [copy]}\n"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->dir, "");
  dir_.Write("conf/config.yaml", "a: 1\n");
  auto found = FindConfig(root(), yaml(""));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->dir, root() + "/conf");
  EXPECT_EQ(found->name, "config");
  auto given = FindConfig(root(), yaml("config:\n  root: settings/./hydra\n  name: main\n"));
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->dir, root() + "/settings/hydra");
  EXPECT_EQ(given->name, "main");
  auto name_only = FindConfig(root(), yaml("config: {name: other}\n"));
  ASSERT_TRUE(name_only.ok());
  EXPECT_EQ(name_only->dir, root() + "/conf");
  EXPECT_EQ(name_only->name, "other");
  auto absolute = FindConfig(root(), yaml("config: {root: /etc/forja}\n"));
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ(absolute->dir, "/etc/forja");
  auto bad = FindConfig(root(), yaml("config: [conf]\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "forja.yaml:1: config: expected a mapping, got a list; write config: {root: conf, name: config}");
  auto unknown = FindConfig(root(), yaml("config:\n  dir: conf\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "forja.yaml:2: config.dir: unknown key; config has root and name");
  auto empty = FindConfig(root(), yaml("config:\n  root: ''\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "forja.yaml:2: config.root: expected a non-empty string; write config: {root: conf, name: config}");
}

TEST_F(PipelineDag, LoadProjectComposesAndInterpolates) {
  dir_.Write("conf/config.yaml", "defaults:\n  - model: small\n  - _self_\ntrain:\n  lr: 0.1\n");
  dir_.Write("conf/model/small.yaml", "name: small\n");
  dir_.Write("conf/model/large.yaml", "name: large\n");
  dir_.Write("forja.yaml",
             "stages:\n"
             "  train:\n"
             "    cmd: fit --model ${model.name} --lr ${train.lr}\n"
             "    deps: [prepare.py]\n"
             "    params: [train.lr]\n"
             "    outs: ['models/${model.name}.bin']\n");
  auto p = LoadProject(root(), {});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->has_config);
  EXPECT_EQ(p->config_location.dir, root() + "/conf");
  ASSERT_EQ(p->dag.stages.size(), 1u);
  EXPECT_EQ(p->dag.stages[0].cmd, Strings{"fit --model small --lr 0.1"});
  auto o = LoadProject(root(), {"model=large", "train.lr=0.5"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->dag.stages[0].cmd, Strings{"fit --model large --lr 0.5"});
  EXPECT_EQ(o->dag.stages[0].outs[0].path, "models/large.bin");
  auto bad = LoadProject(root(), {"train.lrr=1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train.lrr"), std::string::npos) << bad.status().message();
}

TEST_F(PipelineDag, LoadProjectWithoutConfig) {
  auto empty = LoadProject(root(), {});  // no forja.yaml at all
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_FALSE(empty->has_config);
  EXPECT_TRUE(empty->dag.stages.empty());
  dir_.Write("forja.yaml", "stages:\n  a: {cmd: x, deps: [prepare.py]}\n");
  auto p = LoadProject(root(), {});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->dag.stages.size(), 1u);
  auto o = LoadProject(root(), {"a=1"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "no configuration to override: create conf/config.yaml or set config.root in forja.yaml");
  dir_.Write("forja.yaml", "stages:\n  a: {cmd: x, deps: [nope]}\n");
  auto missing = LoadProject(root(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "forja.yaml:2: stages.a.deps: 'nope' does not exist and no stage writes it");
}

TEST_F(PipelineDag, FindWorkspaceRoot) {
  dir_.Write("forja.yaml", "");
  dir_.Write("sub/deeper/f");
  auto r = FindWorkspaceRoot(root() + "/sub/deeper");
  ASSERT_TRUE(r.ok()) << r.status().message();
  char real[4096];
  ASSERT_NE(::realpath(root().c_str(), real), nullptr);
  EXPECT_EQ(*r, std::string(real));
  EXPECT_FALSE(Exists(root() + "/.forja"));  // nothing is created
  auto none = FindWorkspaceRoot("/");
  EXPECT_FALSE(none.ok());
}

}  // namespace
}  // namespace forja::pipeline
