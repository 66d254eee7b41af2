// ParseDvcYaml: dvc.yaml's stages read with DVC 3's rules where they differ
// from forja.yaml's (params from params.yaml, vars, DVC's ${...}, foreach and
// matrix names, frozen, output options), its top-level sections, and the exact
// one-line message of each refused input. tests/cli/dvc_yaml_test.sh runs a
// whole DVC project, and checks its outputs against `dvc repro`'s.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/pipeline/dvc_yaml.h"
#include "forja/pipeline/params.h"
#include "forja/pipeline/project.h"

namespace forja::pipeline {
namespace {

using Strings = std::vector<std::string>;

class Repo {
 public:
  Repo() {
    char tmpl[] = "/tmp/forja-dvcyaml-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~Repo() {
    std::string cmd = "rm -rf " + path_;
    if (std::system(cmd.c_str()) != 0) {
    }
  }
  const std::string& path() const { return path_; }
  void Write(const std::string& rel, const std::string& text) const {
    std::string p = path_ + "/" + rel;
    EXPECT_TRUE(MakeDirs(Dirname(p)).ok());
    EXPECT_TRUE(WriteFileAtomic(p, text).ok());
  }
  Result<DvcYaml> Parse(const std::string& yaml) const {
    auto doc = config::ParseConfigYaml(yaml, "dvc.yaml");
    if (!doc.ok()) return doc.status();
    return ParseDvcYaml(*doc, path_);
  }
  DvcYaml Ok(const std::string& yaml) const {
    auto r = Parse(yaml);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : DvcYaml{};
  }
  std::string Error(const std::string& yaml) const {
    auto r = Parse(yaml);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  }

 private:
  std::string path_;
};

Strings Names(const std::vector<Stage>& stages) {
  Strings out;
  for (const auto& s : stages) out.push_back(s.name);
  return out;
}

Strings ParamsOf(const Stage& s) {
  Strings out;
  for (const auto& p : s.params) out.push_back(p.file + ":" + p.key);
  return out;
}

const char kParams[] =
    "prepare: {split: 0.2, seed: 20170428}\n"
    "featurize: {max_features: 100, ngrams: 1}\n"
    "train: {seed: 20170428, n_est: 50, min_split: 0.01, use_gpu: false, layers: [8, 4]}\n";

// ---------------------------------------------------------------------------
// params: DVC's files, not the composed configuration

TEST(DvcYaml, BareParamsAreKeysOfParamsYamlInWdir) {
  Repo r;
  r.Write("params.yaml", kParams);
  auto d = r.Ok(
      "stages:\n"
      "  train:\n"
      "    cmd: python train.py\n"
      "    params: [train.seed, train.n_est]\n"
      "  sub:\n"
      "    cmd: ./run.sh\n"
      "    wdir: models\n"
      "    params: [lr, {../other.json: [a.b]}, {all.yaml: }]\n");
  ASSERT_EQ(d.stages.size(), 2u);
  EXPECT_EQ(ParamsOf(d.stages[0]), (Strings{"params.yaml:train.seed", "params.yaml:train.n_est"}));
  EXPECT_EQ(ParamsOf(d.stages[1]), (Strings{"models/params.yaml:lr", "other.json:a.b", "models/all.yaml:"}));
}

TEST(DvcYaml, AWholeFileDropsItsListedKeys) {
  Repo r;
  auto d = r.Ok(
      "stages:\n"
      "  t:\n"
      "    cmd: x\n"
      "    params: [a, b, {params.yaml: []}, {p2.yaml: [k]}, {p2.yaml: }]\n");
  EXPECT_EQ(ParamsOf(d.stages[0]), (Strings{"params.yaml:", "p2.yaml:"}));
}

TEST(DvcYaml, WholeParamsFileGivesEveryTopLevelKey) {
  Repo r;
  r.Write("params.yaml", kParams);
  r.Write("dvc.yaml", "stages:\n  t:\n    cmd: x\n    params: [{params.yaml: }]\n");
  auto p = LoadProject(r.path(), {});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->from_dvc_yaml);
  ParamReader reader(*p);
  auto v = reader.Values(p->dag.stages[0]);
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].source, "params.yaml");
  Strings keys;
  for (const auto& lp : (*v)[0].values) keys.push_back(lp.key + "=" + lp.value_json);
  EXPECT_EQ(keys, (Strings{"prepare={\"split\":0.2,\"seed\":20170428}", "featurize={\"max_features\":100,\"ngrams\":1}",
                           "train={\"seed\":20170428,\"n_est\":50,\"min_split\":0.01,\"use_gpu\":false,\"layers\":[8,4]}"}));
}

TEST(DvcYaml, ForjaYamlStagesWinOverDvcYaml) {
  Repo r;
  r.Write("forja.yaml", "stages:\n  mine:\n    cmd: echo\n");
  r.Write("dvc.yaml", "stages:\n  theirs:\n    cmd: echo\n");
  auto p = LoadProject(r.path(), {});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->from_dvc_yaml);
  EXPECT_EQ(Names(p->dag.stages), (Strings{"mine"}));
  EXPECT_EQ(p->notices, (Strings{"dvc.yaml is not read: forja.yaml has a stages: section of its own"}));
}

// ---------------------------------------------------------------------------
// vars and ${...}

TEST(DvcYaml, InterpolatesFromParamsYamlAndVars) {
  Repo r;
  r.Write("params.yaml", kParams);
  r.Write("conf/extra.yaml", "data: {dir: data/raw}\nunused: 1\nmodel: {name: rf}\n");
  auto d = r.Ok(
      "vars:\n"
      "  - conf/extra.yaml:data,model\n"
      "  - {out: out, ratio: 1.5}\n"
      "stages:\n"
      "  prepare:\n"
      "    cmd: python prepare.py ${data.dir} ${prepare.split} ${train.use_gpu} ${ratio} ${train.layers[0]}\n"
      "    deps: ['${data.dir}']\n"
      "    outs: ['${out}/${model.name}.txt', {'${out}/m.json': {cache: false}}]\n"
      "  train:\n"
      "    cmd: python train.py ${train}\n");
  ASSERT_EQ(d.stages.size(), 2u);
  EXPECT_EQ(d.stages[0].cmd, (Strings{"python prepare.py data/raw 0.2 false 1.5 8"}));
  EXPECT_EQ(d.stages[0].deps[0].path, "data/raw");
  EXPECT_EQ(d.stages[0].outs[0].path, "out/rf.txt");
  EXPECT_EQ(d.stages[0].outs[1].path, "out/m.json");
  EXPECT_FALSE(d.stages[0].outs[1].cache);
  // A mapping in cmd becomes arguments: booleans as flags (false: left out), lists as nargs.
  EXPECT_EQ(d.stages[1].cmd,
            (Strings{"python train.py --seed 20170428 --n_est 50 --min_split 0.01 --layers 8 4"}));
}

TEST(DvcYaml, StageVarsAreRelativeToWdirAndLocal) {
  Repo r;
  r.Write("src/local.yaml", "lr: 0.5\n");
  auto d = r.Ok(
      "stages:\n"
      "  a:\n"
      "    wdir: src\n"
      "    vars: [local.yaml, {name: a}]\n"
      "    cmd: fit ${lr} ${name}\n"
      "  b:\n"
      "    vars: [{name: b}]\n"
      "    cmd: echo ${name}\n");
  EXPECT_EQ(d.stages[0].cmd, (Strings{"fit 0.5 a"}));
  EXPECT_EQ(d.stages[1].cmd, (Strings{"echo b"}));
}

TEST(DvcYaml, EscapedInterpolationIsLiteral) {
  Repo r;
  auto d = r.Ok("stages:\n  a:\n    cmd: echo \\${HOME} ${x}\n    vars: [{x: 1}]\n");
  EXPECT_EQ(d.stages[0].cmd, (Strings{"echo ${HOME} 1"}));
}

// ---------------------------------------------------------------------------
// foreach and matrix: DVC's names, item and key

TEST(DvcYaml, ForeachNamesAsDvcDoes) {
  Repo r;
  r.Write("params.yaml", "models: {rf: {n: 10}, gb: {n: 20}}\n");
  auto d = r.Ok(
      "stages:\n"
      "  plain:\n"
      "    foreach: [us, 1.5, true]\n"
      "    do: {cmd: 'echo ${item}'}\n"
      "  nested:\n"
      "    foreach: [{a: 1}, x]\n"
      "    do: {cmd: 'echo ${item}'}\n"
      "  bykey:\n"
      "    foreach: ${models}\n"
      "    do:\n"
      "      cmd: fit ${key} ${item.n}\n"
      "      outs: ['${key}.bin']\n");
  EXPECT_EQ(Names(d.stages), (Strings{"plain@us", "plain@1.5", "plain@true", "nested@0", "nested@1", "bykey@rf",
                                      "bykey@gb"}));
  EXPECT_EQ(d.stages[2].cmd, (Strings{"echo true"}));
  EXPECT_EQ(d.stages[5].cmd, (Strings{"fit rf 10"}));
  EXPECT_EQ(d.stages[6].outs[0].path, "gb.bin");
}

TEST(DvcYaml, MatrixBindsKeyAndNamesListsByIndex) {
  Repo r;
  auto d = r.Ok(
      "stages:\n"
      "  sweep:\n"
      "    matrix:\n"
      "      model: [rf, gb]\n"
      "      opts: [[1, 2], [3]]\n"
      "    cmd: fit ${item.model} ${key}\n");
  EXPECT_EQ(Names(d.stages), (Strings{"sweep@rf-opts0", "sweep@rf-opts1", "sweep@gb-opts0", "sweep@gb-opts1"}));
  EXPECT_EQ(d.stages[1].cmd, (Strings{"fit rf rf-opts1"}));
}

// ---------------------------------------------------------------------------
// The other fields

TEST(DvcYaml, FrozenOutOptionsAndAnnotations) {
  Repo r;
  auto d = r.Ok(
      "stages:\n"
      "  a:\n"
      "    cmd: x\n"
      "    desc: makes a\n"
      "    meta: {owner: me}\n"
      "    frozen: true\n"
      "    always_changed: true\n"
      "    outs:\n"
      "      - big.bin: {push: false, persist: true, desc: big}\n"
      "    metrics: [{m.json: {cache: false}}]\n"
      "    plots: [{roc.csv: {x: fpr, y: tpr, template: linear, cache: false}}]\n");
  const Stage& s = d.stages[0];
  EXPECT_TRUE(s.frozen);
  EXPECT_TRUE(s.always_changed);
  ASSERT_EQ(s.outs.size(), 3u);
  EXPECT_FALSE(s.outs[0].push);
  EXPECT_TRUE(s.outs[0].persist);
  EXPECT_EQ(s.outs[1].kind, OutKind::kMetrics);
  EXPECT_FALSE(s.outs[2].cache);
  EXPECT_TRUE(d.notices.empty()) << d.notices[0];  // push: false is honoured (forja.lock keeps it)
}

TEST(DvcYaml, TopLevelSections) {
  Repo r;
  r.Write("params.yaml", "dir: eval\n");
  auto d = r.Ok(
      "metrics: ['${dir}/metrics.json', other/./m.yaml]\n"
      "params: [hp.yaml]\n"
      "plots: ['${dir}/prc.json', {roc: {x: fpr, y: {eval/roc.json: tpr}}}]\n"
      "artifacts:\n"
      "  model: {path: model.pkl, type: model}\n"
      "stages:\n"
      "  a: {cmd: x}\n");
  EXPECT_EQ(d.metrics, (Strings{"eval/metrics.json", "other/m.yaml"}));
  ASSERT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.params[0].file, "hp.yaml");
  EXPECT_EQ(d.params[0].key, "");
  EXPECT_EQ(d.plots, (Strings{"eval/prc.json", "roc"}));
  EXPECT_EQ(d.notices,
            (Strings{"dvc.yaml:5: artifacts: ignored; forja's model registry does not read them (forja models register)"}));
}

// ---------------------------------------------------------------------------
// Refused, one line each

TEST(DvcYaml, Errors) {
  Repo r;
  r.Write("params.yaml", "a: 1\nl: [1, 2]\n");
  r.Write("p.toml", "a = 1\n");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    params: [{p.toml: [a]}]\n"),
            "dvc.yaml:4: stages.t.params: 'p.toml' is a TOML params file; forja reads YAML and JSON ones: convert "
            "it to YAML");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    params: [other.yaml:lr]\n"),
            "dvc.yaml:4: stages.t.params: 'other.yaml:lr': in dvc.yaml a string is a key of params.yaml; for a key "
            "of another file write - other.yaml: [lr]");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    env: {A: 1}\n"),
            "dvc.yaml:4: stages.t.env: is a field of forja.yaml's stages, not of dvc.yaml (dvc repro would refuse "
            "it); declare the stage in forja.yaml to use it");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    md5: abc\n"),
            "dvc.yaml:4: stages.t.md5: unknown key; a dvc.yaml stage has cmd, wdir, deps, params, outs, metrics, "
            "plots, vars, frozen, always_changed, desc, meta (and foreach with do, or matrix)");
  EXPECT_EQ(r.Error("schema: '2.0'\nstages: {}\n"),
            "dvc.yaml:1: schema: unknown key; dvc.yaml has stages, vars, params, metrics, plots, artifacts, datasets");
  EXPECT_EQ(r.Error("vars: [{a: 2}]\nstages: {}\n"),
            "dvc.yaml:1: vars[0]: cannot redefine 'a' from vars[0]: it is already defined (by params.yaml or an "
            "earlier vars entry)");
  EXPECT_EQ(r.Error("vars: [p.toml]\n"),
            "dvc.yaml:1: vars[0]: 'p.toml' is a TOML vars file; forja reads YAML and JSON ones: convert it to "
            "p.yaml");
  EXPECT_EQ(r.Error("vars: [params.yaml:a]\n"),
            "dvc.yaml:1: vars[0]: cannot load 'params.yaml:a': params.yaml is already loaded (DVC refuses it too)");
  EXPECT_TRUE(r.Error("vars: [missing.yaml]\n").starts_with("dvc.yaml:1: vars[0]: cannot read 'missing.yaml': "));
  EXPECT_EQ(r.Error("vars: ['${a}.yaml']\n"),
            "dvc.yaml:1: vars[0]: ${...} is not allowed in vars (DVC does not interpolate them)");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    deps: ['${l}']\n"),
            "dvc.yaml:4: stages.t.deps: ${l}: cannot interpolate a list here (only in cmd, where a mapping becomes "
            "--key value, and in foreach and matrix)");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: echo ${nope.x}\n"),
            "dvc.yaml:3: stages.t.cmd: ${nope.x}: 'nope.x' is not defined; the names come from params.yaml, vars: "
            "and item / key in foreach and matrix stages");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: echo ${a.b}\n"),
            "dvc.yaml:3: stages.t.cmd: ${a.b}: 'a' is a value, it has no 'b'");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: echo ${a[}\n"),
            "dvc.yaml:3: stages.t.cmd: ${a[}: not a key; write ${name}, ${a.b} or ${a[0]}");
  EXPECT_EQ(r.Error("stages:\n  t:\n    cmd: x\n    frozen: yes please\n"),
            "dvc.yaml:4: stages.t.frozen: expected true or false, got a string; write frozen: true");
}

}  // namespace
}  // namespace forja::pipeline
