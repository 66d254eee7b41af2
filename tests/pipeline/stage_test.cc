// ParseStages: every field of a stage, foreach and matrix expansion,
// interpolation against the composed configuration, and the exact one-line
// message of each kind of malformed stage.
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/pipeline/stage.h"

namespace forja::pipeline {
namespace {

using config::Node;

const char kConfig[] =
    "train:\n"
    "  lr: 0.01\n"
    "  epochs: 10\n"
    "  use_gpu: true\n"
    "  models: [small, large]\n"
    "  out: runs/${train.lr}\n"
    "data:\n"
    "  dir: data/raw\n"
    "  splits: {train: 0.8, test: 0.2}\n"
    "item: from-config\n";

Node Config(const std::string& text = kConfig) {
  auto c = config::ParseYaml(text, "conf/config.yaml");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Node::Map();
}

Result<std::vector<Stage>> Parse(const std::string& yaml, const Node& cfg) {
  auto doc = config::ParseConfigYaml(yaml, "forja.yaml");
  if (!doc.ok()) return doc.status();
  return ParseStages(*doc, cfg);
}

std::vector<Stage> Ok(const std::string& yaml, const Node& cfg = Config()) {
  auto r = Parse(yaml, cfg);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<Stage>{};
}

std::vector<std::string> Names(const std::vector<Stage>& stages) {
  std::vector<std::string> out;
  for (const auto& s : stages) out.push_back(s.name);
  return out;
}

std::vector<std::string> DepPaths(const Stage& s) {
  std::vector<std::string> out;
  for (const auto& d : s.deps) out.push_back(d.path);
  return out;
}

std::vector<std::string> OutPaths(const Stage& s) {
  std::vector<std::string> out;
  for (const auto& o : s.outs) out.push_back(o.path);
  return out;
}

using Strings = std::vector<std::string>;

// ---------------------------------------------------------------------------
// Fields

TEST(PipelineStage, NoStagesGiveNone) {
  EXPECT_TRUE(Ok("").empty());
  EXPECT_TRUE(Ok("cache:\n  link: [copy]\n").empty());
  EXPECT_TRUE(Ok("stages:\n").empty());
}

TEST(PipelineStage, MinimalStageHasDefaults) {
  auto s = Ok("stages:\n  prepare:\n    cmd: python prepare.py\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "prepare");
  EXPECT_EQ(s[0].origin, "forja.yaml:3");
  EXPECT_EQ(s[0].cmd, Strings{"python prepare.py"});
  EXPECT_EQ(s[0].wdir, "");
  EXPECT_TRUE(s[0].deps.empty());
  EXPECT_TRUE(s[0].outs.empty());
  EXPECT_EQ(s[0].retries.count, 0);
  EXPECT_EQ(s[0].retries.backoff, 1);
  EXPECT_EQ(s[0].timeout_s, 0);
  EXPECT_FALSE(s[0].always_changed);
}

TEST(PipelineStage, EveryField) {
  auto s = Ok(
      "stages:\n"
      "  train:\n"
      "    desc: fits the model\n"
      "    meta: {owner: ana}\n"
      "    cmd:\n"
      "      - python train.py\n"
      "      - python export.py\n"
      "    wdir: src\n"
      "    deps: [../data/prepared, train.py]\n"
      "    params: [train.lr, {params.yaml: [a.b, c]}, \"extra.json:lr\"]\n"
      "    outs: [../models/m.bin, {../models/tmp: {cache: false, persist: true}}]\n"
      "    metrics: [{../eval/metrics.json: {cache: false}}]\n"
      "    plots: [../eval/roc.csv]\n"
      "    env: {OMP_NUM_THREADS: 1, MODE: fast, DEBUG: false, RATE: 0.5}\n"
      "    retries: {count: 3, delay: 1s, backoff: 2, max_delay: 1m, jitter: 0.2}\n"
      "    timeout: 2h\n"
      "    always_changed: true\n");
  ASSERT_EQ(s.size(), 1u);
  const Stage& t = s[0];
  EXPECT_EQ(t.cmd, (Strings{"python train.py", "python export.py"}));
  EXPECT_EQ(t.Script(), "python train.py && python export.py");
  EXPECT_EQ(t.wdir, "src");
  EXPECT_EQ(DepPaths(t), (Strings{"data/prepared", "src/train.py"}));
  EXPECT_EQ(t.deps[1].origin, "forja.yaml:9");
  ASSERT_EQ(t.params.size(), 4u);
  EXPECT_EQ(t.params[0].file, "");
  EXPECT_EQ(t.params[0].key, "train.lr");
  EXPECT_EQ(t.params[1].file, "src/params.yaml");
  EXPECT_EQ(t.params[1].key, "a.b");
  EXPECT_EQ(t.params[2].file, "src/params.yaml");
  EXPECT_EQ(t.params[2].key, "c");
  EXPECT_EQ(t.params[3].file, "src/extra.json");
  EXPECT_EQ(t.params[3].key, "lr");
  EXPECT_EQ(OutPaths(t), (Strings{"models/m.bin", "models/tmp", "eval/metrics.json", "eval/roc.csv"}));
  EXPECT_EQ(t.outs[0].kind, OutKind::kOut);
  EXPECT_TRUE(t.outs[0].cache);
  EXPECT_FALSE(t.outs[0].persist);
  EXPECT_FALSE(t.outs[1].cache);
  EXPECT_TRUE(t.outs[1].persist);
  EXPECT_EQ(t.outs[2].kind, OutKind::kMetrics);
  EXPECT_FALSE(t.outs[2].cache);
  EXPECT_EQ(t.outs[3].kind, OutKind::kPlots);
  EXPECT_TRUE(t.outs[3].cache);
  EXPECT_EQ(t.outs[3].origin, "forja.yaml:13");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(t.env, (Env{{"OMP_NUM_THREADS", "1"}, {"MODE", "fast"}, {"DEBUG", "false"}, {"RATE", "0.5"}}));
  EXPECT_EQ(t.retries.count, 3);
  EXPECT_EQ(t.retries.delay_s, 1);
  EXPECT_EQ(t.retries.backoff, 2);
  EXPECT_EQ(t.retries.max_delay_s, 60);
  EXPECT_DOUBLE_EQ(t.retries.jitter, 0.2);
  EXPECT_EQ(t.timeout_s, 7200);
  EXPECT_TRUE(t.always_changed);
}

TEST(PipelineStage, MetricsAndPlotsFollowOutsWhateverTheOrder) {
  auto s = Ok("stages:\n  a:\n    plots: [p.csv]\n    metrics: [m.json]\n    outs: [o]\n    cmd: x\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(OutPaths(s[0]), (Strings{"o", "m.json", "p.csv"}));
}

TEST(PipelineStage, PathsAreNormalized) {
  auto s = Ok(
      "stages:\n  a:\n    cmd: x\n    wdir: ./src/../lib/\n"
      "    deps: [./a//b/, ../data/./raw, c/..]\n    outs: [\"out dir/f\"]\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].wdir, "lib");
  EXPECT_EQ(DepPaths(s[0]), (Strings{"lib/a/b", "data/raw", "lib"}));
  EXPECT_EQ(OutPaths(s[0]), (Strings{"lib/out dir/f"}));
  EXPECT_EQ(Ok("stages:\n  a: {cmd: x, wdir: .}\n")[0].wdir, "");
}

TEST(PipelineStage, SingleStringsAreOneEntryLists) {
  auto s = Ok("stages:\n  a:\n    cmd: x\n    deps: data/raw\n    outs: model.bin\n    params: train.lr\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(DepPaths(s[0]), Strings{"data/raw"});
  EXPECT_EQ(OutPaths(s[0]), Strings{"model.bin"});
  ASSERT_EQ(s[0].params.size(), 1u);
  EXPECT_EQ(s[0].params[0].key, "train.lr");
}

TEST(PipelineStage, OutWithoutOptions) {
  auto s = Ok("stages:\n  a:\n    cmd: x\n    outs:\n      - model.bin:\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(s[0].outs.size(), 1u);
  EXPECT_EQ(s[0].outs[0].path, "model.bin");
  EXPECT_TRUE(s[0].outs[0].cache);
}

TEST(PipelineStage, RetriesAndDurations) {
  auto one = [](const std::string& field) {
    auto s = Ok("stages:\n  a:\n    cmd: x\n    " + field + "\n");
    return s.empty() ? Stage{} : s[0];
  };
  EXPECT_EQ(one("retries: 2").retries.count, 2);
  EXPECT_EQ(one("retries: {count: 0}").retries.count, 0);
  EXPECT_DOUBLE_EQ(one("timeout: 500ms").timeout_s, 0.5);
  EXPECT_EQ(one("timeout: 30s").timeout_s, 30);
  EXPECT_EQ(one("timeout: 10m").timeout_s, 600);
  EXPECT_EQ(one("timeout: 1.5h").timeout_s, 5400);
  EXPECT_EQ(one("timeout: 45").timeout_s, 45);
  EXPECT_DOUBLE_EQ(one("timeout: 2.5").timeout_s, 2.5);
  EXPECT_EQ(one("timeout: 0").timeout_s, 0);
  EXPECT_EQ(one("retries: {delay: 250ms, max_delay: 2}").retries.max_delay_s, 2);
  EXPECT_DOUBLE_EQ(one("retries: {delay: 250ms}").retries.delay_s, 0.25);
  EXPECT_EQ(one("always_changed: false").always_changed, false);
}

TEST(PipelineStage, NeedsShell) {
  EXPECT_FALSE(NeedsShell("python train.py --lr 0.1"));
  EXPECT_FALSE(NeedsShell("make -C build all"));
  for (const char* c : {"echo 'a b'", "echo \"a\"", "echo $HOME", "a | b", "a && b", "a; b", "a < in", "a > out",
                        "ls *.csv", "ls ?", "ls [ab]", "cd ~", "(a)", "echo `date`", "a # note", "a\\ b",
                        "a\nb", "a\tb", "cd src", "export A=1", "A=1 python x.py", "test -f x", ". env.sh", ""})
    EXPECT_TRUE(NeedsShell(c)) << c;
}

TEST(PipelineStage, QuoteEscapesControlCharacters) {
  EXPECT_EQ(Quote("data/raw"), "'data/raw'");
  EXPECT_EQ(Quote("a\nb\x01"), "'a\\nb\\x01'");
}

// ---------------------------------------------------------------------------
// Interpolation

TEST(PipelineStage, InterpolatesEveryString) {
  auto s = Ok(
      "stages:\n"
      "  train:\n"
      "    cmd: python train.py --lr ${train.lr} --epochs ${train.epochs} --gpu ${train.use_gpu}\n"
      "    wdir: ${data.dir}/..\n"
      "    deps: ['../${data.dir}']\n"
      "    outs:\n"
      "      - ${train.out}/model.bin\n"
      "      - ${train.out}/log: {cache: false}\n"
      "    params: [\"${data.dir}/p.yaml:x\"]\n"
      "    env: {LR: '${train.lr}', EPOCHS: '${train.epochs}'}\n"
      "    timeout: ${train.epochs}m\n");
  ASSERT_EQ(s.size(), 1u);
  // Inside a longer string, values print as Python's str() prints them (OmegaConf).
  EXPECT_EQ(s[0].cmd, Strings{"python train.py --lr 0.01 --epochs 10 --gpu True"});
  EXPECT_EQ(s[0].wdir, "data");
  EXPECT_EQ(DepPaths(s[0]), Strings{"data/raw"});
  EXPECT_EQ(OutPaths(s[0]), (Strings{"data/runs/0.01/model.bin", "data/runs/0.01/log"}));
  EXPECT_FALSE(s[0].outs[1].cache);
  EXPECT_EQ(s[0].params[0].file, "data/data/raw/p.yaml");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(s[0].env, (Env{{"LR", "0.01"}, {"EPOCHS", "10"}}));
  EXPECT_EQ(s[0].timeout_s, 600);
}

TEST(PipelineStage, WholeValueInterpolationKeepsTheType) {
  auto s = Ok(
      "stages:\n  a:\n    cmd: [\"echo ${train.epochs}\", echo]\n    retries: ${train.epochs}\n"
      "    always_changed: ${train.use_gpu}\n    deps: ${train.models}\n    outs: ['${train.epochs}']\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].cmd, (Strings{"echo 10", "echo"}));
  EXPECT_EQ(OutPaths(s[0]), Strings{"10"});
  EXPECT_EQ(s[0].retries.count, 10);
  EXPECT_TRUE(s[0].always_changed);
  EXPECT_EQ(DepPaths(s[0]), (Strings{"small", "large"}));
}

TEST(PipelineStage, EscapedInterpolationIsLiteral) {
  auto s = Ok("stages:\n  a:\n    cmd: echo \\${HOME} ${train.lr}\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].cmd, Strings{"echo ${HOME} 0.01"});
}

TEST(PipelineStage, ResolversWork) {
  auto s = Ok("stages:\n  a:\n    cmd: echo ${oc.select:train.missing,fallback}\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].cmd, Strings{"echo fallback"});
}

// Plain ${a.b} keys are resolved without the config module's resolver; the
// result must be what the resolver gives (oc.select always goes through it).
TEST(PipelineStage, QuickInterpolationMatchesTheResolver) {
  Node cfg = Config("v: {f: 1.0e-05, g: 2.0, b: true, n: null, i: 3, s: hi}\nitem: 7\n");
  auto s = Ok(
      "stages:\n"
      "  quick:\n    cmd: x ${v.f} ${v.g} ${v.b} ${v.n} ${v.i} ${v.s} ${item}$${v.i}\n    deps: ['${v.i}', '${v.g}']\n"
      "  slow:\n"
      "    cmd: x ${oc.select:v.f} ${oc.select:v.g} ${oc.select:v.b} ${oc.select:v.n} ${oc.select:v.i} "
      "${oc.select:v.s} ${oc.select:item}$${oc.select:v.i}\n"
      "    deps: ['${oc.select:v.i}', '${oc.select:v.g}']\n",
      cfg);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].cmd, Strings{"x 1e-05 2.0 True None 3 hi 7$3"});
  EXPECT_EQ(s[0].cmd, s[1].cmd);
  EXPECT_EQ(DepPaths(s[0]), (Strings{"3", "2.0"}));
  EXPECT_EQ(DepPaths(s[0]), DepPaths(s[1]));
}

TEST(PipelineStage, ConfigItemIsVisibleOutsideForeach) {
  auto s = Ok("stages:\n  a:\n    cmd: echo ${item}\n");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].cmd, Strings{"echo from-config"});
}

// ---------------------------------------------------------------------------
// foreach and matrix

TEST(PipelineStage, ForeachOverAList) {
  auto s = Ok(
      "stages:\n"
      "  train:\n"
      "    foreach: [small, large]\n"
      "    do:\n"
      "      cmd: train.sh ${item}\n"
      "      outs: ['model-${item}.bin']\n"
      "  after:\n"
      "    cmd: echo ${item}\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"train@small", "train@large", "after"}));
  EXPECT_EQ(s[0].cmd, Strings{"train.sh small"});
  EXPECT_EQ(OutPaths(s[1]), Strings{"model-large.bin"});
  EXPECT_EQ(s[0].origin, "forja.yaml:3");
  // item is unbound again after the foreach: the config's own item shows.
  EXPECT_EQ(s[2].cmd, Strings{"echo from-config"});
}

TEST(PipelineStage, ForeachOverAMappingBindsKey) {
  auto s = Ok(
      "stages:\n"
      "  fit:\n"
      "    foreach:\n"
      "      us: {lr: 0.1, epochs: 3}\n"
      "      eu: {lr: 0.2, epochs: 4}\n"
      "    do:\n"
      "      cmd: fit --region ${key} --lr ${item.lr} --epochs ${item.epochs}\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"fit@us", "fit@eu"}));
  EXPECT_EQ(s[1].cmd, Strings{"fit --region eu --lr 0.2 --epochs 4"});
}

TEST(PipelineStage, ForeachOverNonScalarsUsesIndexes) {
  auto s = Ok(
      "stages:\n  s:\n    foreach:\n      - {n: 1}\n      - {n: 2}\n    do: {cmd: 'echo ${item.n}'}\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"s@0", "s@1"}));
  EXPECT_EQ(s[1].cmd, Strings{"echo 2"});
}

TEST(PipelineStage, ForeachFromTheConfig) {
  auto s = Ok("stages:\n  t:\n    foreach: ${train.models}\n    do: {cmd: 'fit ${item}'}\n"
              "  u:\n    foreach: ${data.splits}\n    do: {cmd: 'split ${key} ${item}'}\n"
              "  v:\n    foreach: [\"${train.lr}\", 2]\n    do: {cmd: 'v ${item}'}\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"t@small", "t@large", "u@train", "u@test", "v@0.01", "v@2"}));
  EXPECT_EQ(s[1].cmd, Strings{"fit large"});
  EXPECT_EQ(s[3].cmd, Strings{"split test 0.2"});
  EXPECT_EQ(s[4].cmd, Strings{"v 0.01"});
}

TEST(PipelineStage, MatrixIsTheCartesianProductInKeyOrder) {
  auto s = Ok(
      "stages:\n"
      "  sweep:\n"
      "    matrix:\n"
      "      model: [a, b]\n"
      "      lr: [0.1, 0.01]\n"
      "    cmd: fit ${item.model} ${item.lr}\n"
      "    outs: ['runs/${item.model}-${item.lr}']\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"sweep@a-0.1", "sweep@a-0.01", "sweep@b-0.1", "sweep@b-0.01"}));
  EXPECT_EQ(s[2].cmd, Strings{"fit b 0.1"});
  EXPECT_EQ(OutPaths(s[3]), Strings{"runs/b-0.01"});
}

TEST(PipelineStage, MatrixFromTheConfigAndNonScalarValues) {
  auto s = Ok(
      "stages:\n  m:\n    matrix:\n      model: ${train.models}\n      opt: [{name: sgd}, {name: adam}]\n"
      "    cmd: fit ${item.model} ${item.opt.name}\n");
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(Names(s), (Strings{"m@small-0", "m@small-1", "m@large-0", "m@large-1"}));
  EXPECT_EQ(s[1].cmd, Strings{"fit small adam"});
}

// ---------------------------------------------------------------------------
// Errors: each one line, naming the line and the field, saying what to write

struct BadCase {
  std::string label;
  std::string yaml;
  std::string message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.label; }

class PipelineStageBad : public testing::TestWithParam<BadCase> {};

TEST_P(PipelineStageBad, Message) {
  auto r = Parse(GetParam().yaml, Config());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message(), GetParam().message);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

const std::string kHead = "stages:\n  train:\n    cmd: python train.py\n";

INSTANTIATE_TEST_SUITE_P(
    Pipeline, PipelineStageBad,
    testing::Values(
        BadCase{"NotAMap", "- a\n", "forja.yaml:1: expected a mapping of sections (stages:, config: ...), got a list; "
                                    "see forja init's forja.yaml"},
        BadCase{"StagesNotAMap", "stages: [a]\n",
                "forja.yaml:1: stages: expected a mapping of stage names to stages, got a list; "
                "write stages: {train: {cmd: python train.py}}"},
        BadCase{"StageNotAMap", "stages:\n  train: python train.py\n",
                "forja.yaml:2: stages.train: expected a stage (a mapping with cmd, deps, outs ...), got a string; "
                "write train: {cmd: <command>, deps: [...], outs: [...]}"},
        BadCase{"BadName", "stages:\n  tr@in:\n    cmd: x\n",
                "forja.yaml:3: stages.tr@in: stage names use letters, digits, '_', '.' and '-' ('@' names the "
                "stages of a foreach or matrix); rename the stage"},
        BadCase{"MissingCmd", "stages:\n  train:\n    deps: [a]\n",
                "forja.yaml:3: stages.train.cmd: missing; every stage needs cmd: <the command to run>"},
        BadCase{"EmptyCmd", "stages:\n  train:\n    cmd: ''\n",
                "forja.yaml:3: stages.train.cmd: is empty; write cmd: python train.py, or a list of commands"},
        BadCase{"EmptyCmdList", "stages:\n  train:\n    cmd: []\n",
                "forja.yaml:3: stages.train.cmd: the list is empty; write cmd: python train.py, or a list of "
                "commands"},
        BadCase{"CmdNotString", "stages:\n  train:\n    cmd: 42\n",
                "forja.yaml:3: stages.train.cmd: expected a command (a string) or a list of commands, got an int; "
                "write cmd: python train.py, or a list of commands"},
        BadCase{"CmdListEntryNotString", "stages:\n  train:\n    cmd:\n      - a\n      - [b]\n",
                "forja.yaml:5: stages.train.cmd: expected a command (a string), got a list; write cmd: python "
                "train.py, or a list of commands"},
        BadCase{"UnknownKey", kHead + "    dep: [a]\n",
                "forja.yaml:4: stages.train.dep: unknown key; a stage has cmd, wdir, deps, params, outs, metrics, "
                "plots, env, retries, timeout, resources, always_changed, desc, meta (and foreach with do, or matrix)"},
        BadCase{"RetriesList", kHead + "    retries: [1]\n",
                "forja.yaml:4: stages.train.retries: expected a count or a mapping, got a list; write retries: 3 or "
                "retries: {count: 3, delay: 10s, backoff: 2}"},
        BadCase{"RetriesNegative", kHead + "    retries: -1\n",
                "forja.yaml:4: stages.train.retries: -1 is not a number of retries from 0 to 1000; write retries: 3 "
                "or retries: {count: 3, delay: 10s, backoff: 2}"},
        BadCase{"RetriesBool", kHead + "    retries: true\n",
                "forja.yaml:4: stages.train.retries: expected a count or a mapping, got a bool; write retries: 3 or "
                "retries: {count: 3, delay: 10s, backoff: 2}"},
        BadCase{"RetriesUnknownKey", kHead + "    retries:\n      count: 1\n      wait: 2\n",
                "forja.yaml:6: stages.train.retries.wait: unknown key; retries has count, delay, backoff, max_delay "
                "and jitter"},
        BadCase{"RetriesCountString", kHead + "    retries: {count: many}\n",
                "forja.yaml:4: stages.train.retries.count: expected a number of retries, got a string; write "
                "retries: 3 or retries: {count: 3, delay: 10s, backoff: 2}"},
        BadCase{"RetriesBadDelay", kHead + "    retries: {delay: soon}\n",
                "forja.yaml:4: stages.train.retries.delay: 'soon' is not a duration; write seconds (30) or 500ms, "
                "30s, 10m, 2h"},
        BadCase{"RetriesBackoffBelowOne", kHead + "    retries: {backoff: 0.5}\n",
                "forja.yaml:4: stages.train.retries.backoff: 0.5 is not a factor of at least 1; write retries: "
                "{backoff: 2}"},
        BadCase{"RetriesJitterTooBig", kHead + "    retries: {jitter: 2}\n",
                "forja.yaml:4: stages.train.retries.jitter: 2 is not a fraction from 0 to 1; write retries: "
                "{jitter: 0.2}"},
        BadCase{"RetriesJitterString", kHead + "    retries: {jitter: lots}\n",
                "forja.yaml:4: stages.train.retries.jitter: expected a fraction from 0 to 1, got a string; write "
                "retries: {jitter: 0.2}"},
        BadCase{"TimeoutUnit", kHead + "    timeout: 10d\n",
                "forja.yaml:4: stages.train.timeout: '10d' is not a duration; write seconds (30) or 500ms, 30s, "
                "10m, 2h"},
        BadCase{"TimeoutNegative", kHead + "    timeout: -5\n",
                "forja.yaml:4: stages.train.timeout: -5 is not a duration; write seconds (30) or 500ms, 30s, 10m, "
                "2h"},
        BadCase{"TimeoutList", kHead + "    timeout: [1]\n",
                "forja.yaml:4: stages.train.timeout: expected a duration, got a list; write timeout: 10m"},
        BadCase{"AlwaysChangedNotBool", kHead + "    always_changed: sometimes\n",
                "forja.yaml:4: stages.train.always_changed: expected true or false, got a string; write "
                "always_changed: true"},
        BadCase{"DescNotString", kHead + "    desc: [a]\n",
                "forja.yaml:4: stages.train.desc: expected a description (a string), got a list; write desc: what "
                "the stage does"},
        BadCase{"DepAbsolute", kHead + "    deps: [/etc/passwd]\n",
                "forja.yaml:4: stages.train.deps: '/etc/passwd' is an absolute path; write it relative to the "
                "repository root"},
        BadCase{"DepAbsoluteWithWdir", kHead + "    wdir: src\n    deps: [/x]\n",
                "forja.yaml:5: stages.train.deps: '/x' is an absolute path; write it relative to wdir 'src'"},
        BadCase{"DepEscapes", kHead + "    deps: [../x]\n",
                "forja.yaml:4: stages.train.deps: '../x' is outside the repository; write a path inside it"},
        BadCase{"DepEscapesThroughWdir", kHead + "    wdir: src\n    deps: [../../x]\n",
                "forja.yaml:5: stages.train.deps: '../../x' is outside the repository; write a path inside it"},
        BadCase{"DepIntoGit", kHead + "    deps: [.git/config]\n",
                "forja.yaml:4: stages.train.deps: '.git/config' is inside .git, which belongs to git; write a path "
                "elsewhere"},
        BadCase{"OutIntoForja", kHead + "    outs: [a/../.forja/cache]\n",
                "forja.yaml:4: stages.train.outs: 'a/../.forja/cache' is inside .forja, which belongs to forja; "
                "write a path elsewhere"},
        BadCase{"DepWholeRepository", kHead + "    deps: [.]\n",
                "forja.yaml:4: stages.train.deps: '.' is the whole repository; name the files and folders the "
                "stage reads"},
        BadCase{"OutWholeRepository", kHead + "    wdir: src\n    outs: [..]\n",
                "forja.yaml:5: stages.train.outs: '..' is the whole repository; name the files and folders the "
                "stage writes"},
        BadCase{"DepEmpty", kHead + "    deps: ['']\n",
                "forja.yaml:4: stages.train.deps: the path is empty; write a path relative to the repository root"},
        BadCase{"DepNotString", kHead + "    deps: [true]\n",
                "forja.yaml:4: stages.train.deps: expected a path (a string), got a bool; write deps: [data/raw, "
                "prepare.py]"},
        BadCase{"DepsNotList", kHead + "    deps: 3\n",
                "forja.yaml:4: stages.train.deps: expected a list, got an int; write deps: [data/raw, prepare.py]"},
        BadCase{"WdirOutside", kHead + "    wdir: ../elsewhere\n",
                "forja.yaml:4: stages.train.wdir: '../elsewhere' is outside the repository; write a path inside "
                "it"},
        BadCase{"WdirList", kHead + "    wdir: [a]\n",
                "forja.yaml:4: stages.train.wdir: expected a folder, got a list; write wdir: src"},
        BadCase{"OutTwoPaths", kHead + "    outs:\n      - {a: {cache: false}, b: {}}\n",
                "forja.yaml:5: stages.train.outs: an entry is one path, with its options under it; write outs: "
                "[path, {path: {cache: false, persist: true}}]"},
        BadCase{"OutUnknownOption", kHead + "    outs:\n      - model.bin:\n          push: false\n",
                "forja.yaml:6: stages.train.outs.model.bin.push: unknown option; an output has cache and persist"},
        BadCase{"OutOptionsNotMap", kHead + "    metrics:\n      - m.json: [cache]\n",
                "forja.yaml:5: stages.train.metrics.m.json: expected options (a mapping), got a list; write "
                "metrics: [path, {path: {cache: false, persist: true}}]"},
        BadCase{"OutCacheNotBool", kHead + "    plots:\n      - p.csv: {cache: no way}\n",
                "forja.yaml:5: stages.train.plots.p.csv.cache: expected true or false, got a string; write cache: "
                "false"},
        BadCase{"ParamUnknownKey", kHead + "    params: [train.lrr]\n",
                "forja.yaml:4: stages.train.params: 'train.lrr' is not a key of the composed configuration; check "
                "the name (forja config show lists the keys), or write file.yaml:train.lrr for a key of a file"},
        BadCase{"ParamBadFile", kHead + "    params: [\"params.txt:lr\"]\n",
                "forja.yaml:4: stages.train.params: 'params.txt' is not a .yaml, .yml or .json file; write params: "
                "[train.lr, params.yaml:seed, {params.yaml: [a, b]}]"},
        BadCase{"ParamEmptyKey", kHead + "    params: [\"params.yaml:\"]\n",
                "forja.yaml:4: stages.train.params: '' is not a dotted key such as train.lr; write params: "
                "[train.lr, params.yaml:seed, {params.yaml: [a, b]}]"},
        BadCase{"ParamBadKey", kHead + "    params: [\"params.yaml:a..b\"]\n",
                "forja.yaml:4: stages.train.params: 'a..b' is not a dotted key such as train.lr; write params: "
                "[train.lr, params.yaml:seed, {params.yaml: [a, b]}]"},
        BadCase{"ParamFileNoKeys", kHead + "    params:\n      - params.yaml:\n",
                "forja.yaml:5: stages.train.params.params.yaml: expected a list of keys; write params: [train.lr, "
                "params.yaml:seed, {params.yaml: [a, b]}]"},
        BadCase{"ParamFileKeysMap", kHead + "    params:\n      - params.yaml: {a: 1}\n",
                "forja.yaml:5: stages.train.params.params.yaml: expected a key, got a mapping; write params: "
                "[train.lr, params.yaml:seed, {params.yaml: [a, b]}]"},
        BadCase{"ParamFileOutside", kHead + "    params:\n      - ../p.yaml: [a]\n",
                "forja.yaml:5: stages.train.params: '../p.yaml' is outside the repository; write a path inside it"},
        BadCase{"EnvNotMap", kHead + "    env: [A=1]\n",
                "forja.yaml:4: stages.train.env: expected a mapping of variables to values, got a list; write env: "
                "{OMP_NUM_THREADS: \"1\"}"},
        BadCase{"EnvBadName", kHead + "    env: {1A: x}\n",
                "forja.yaml:4: stages.train.env: '1A' is not an environment variable name (letters, digits, '_'); "
                "write env: {OMP_NUM_THREADS: \"1\"}"},
        BadCase{"EnvNull", kHead + "    env:\n      A:\n",
                "forja.yaml:5: stages.train.env.A: expected a value, got nothing (null); write env: "
                "{OMP_NUM_THREADS: \"1\"}"},
        BadCase{"EnvList", kHead + "    env: {A: [1]}\n",
                "forja.yaml:4: stages.train.env.A: expected a value, got a list; write env: {OMP_NUM_THREADS: "
                "\"1\"}"},
        BadCase{"InterpolationNotFound", kHead + "    deps: [data]\n    outs: ['${train.lrr}']\n",
                "forja.yaml:5: stages.train.outs: ${train.lrr}: key 'train.lrr' not found in the configuration"},
        BadCase{"InterpolationInCmd",
                "stages:\n  train:\n    cmd: python train.py --lr ${train.lrr}\n",
                "forja.yaml:3: stages.train.cmd: ${train.lrr}: key 'train.lrr' not found in the configuration"},
        BadCase{"InterpolationMalformed", "stages:\n  train:\n    cmd: python ${train.lr\n",
                "forja.yaml:3: stages.train.cmd: malformed interpolation, column 18 of \"python ${train.lr\": "
                "missing '}' to close the '${' at column 8"},
        BadCase{"InterpolationGivesAMapping", "stages:\n  train:\n    cmd: ${data.splits}\n",
                "forja.yaml:3: stages.train.cmd: expected a command (a string) or a list of commands, got a "
                "mapping; write cmd: python train.py, or a list of commands"},
        BadCase{"ItemOutsideForeachNotInConfig", "stages:\n  a:\n    cmd: echo ${key}\n",
                "forja.yaml:3: stages.a.cmd: ${key}: key 'key' not found in the configuration"},
        BadCase{"ForeachWithoutDo", "stages:\n  t:\n    foreach: [a]\n",
                "forja.yaml:3: stages.t: foreach without do; write do: {cmd: ..., deps: [...]} with the stage's "
                "fields"},
        BadCase{"ForeachWithFieldsBesideDo", "stages:\n  t:\n    foreach: [a]\n    cmd: x\n    do: {cmd: y}\n",
                "forja.yaml:4: stages.t.cmd: a foreach stage keeps its fields under do:; move cmd into do (or use "
                "matrix:)"},
        BadCase{"DoWithoutForeach", "stages:\n  t:\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.do: do without foreach; add foreach: [...] or move the fields of do up"},
        BadCase{"DoNotMap", "stages:\n  t:\n    foreach: [a]\n    do: [x]\n",
                "forja.yaml:4: stages.t.do: expected the stage's fields (a mapping), got a list; write do: {cmd: "
                "..., outs: [...]}"},
        BadCase{"ForeachScalar", "stages:\n  t:\n    foreach: 3\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.foreach: expected a list or a mapping, got an int; write foreach: [a, b], "
                "foreach: {name: value}, or foreach: ${a.list.in.the.config}"},
        BadCase{"ForeachConfigScalar", "stages:\n  t:\n    foreach: ${train.lr}\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.foreach: expected a list or a mapping, got a float; write foreach: [a, b], "
                "foreach: {name: value}, or foreach: ${a.list.in.the.config}"},
        BadCase{"ForeachEmpty", "stages:\n  t:\n    foreach: []\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.foreach: is empty; write foreach: [a, b], foreach: {name: value}, or "
                "foreach: ${a.list.in.the.config}"},
        BadCase{"ForeachUnresolvable", "stages:\n  t:\n    foreach: ${nope}\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.foreach: ${nope}: key 'nope' not found in the configuration"},
        BadCase{"ForeachDuplicateItems", "stages:\n  t:\n    foreach: [a, b, a]\n    do: {cmd: y}\n",
                "forja.yaml:3: stages.t.foreach: two stages are named 't@a'; make the foreach or matrix values "
                "distinct"},
        BadCase{"ForeachErrorNamesTheItem", "stages:\n  t:\n    foreach: [a, b]\n    do:\n      cmd: y\n"
                                            "      retries: ${item}\n",
                "forja.yaml:6: stages.t@a.retries: expected a count or a mapping, got a string; write retries: 3 or "
                "retries: {count: 3, delay: 10s, backoff: 2}"},
        BadCase{"NestedForeach", "stages:\n  t:\n    foreach: [a]\n    do:\n      cmd: y\n      foreach: [b]\n",
                "forja.yaml:6: stages.t@a.foreach: unknown key; a stage has cmd, wdir, deps, params, outs, metrics, "
                "plots, env, retries, timeout, resources, always_changed, desc, meta (and foreach with do, or matrix)"},
        BadCase{"ForeachAndMatrix", "stages:\n  t:\n    foreach: [a]\n    matrix: {a: [1]}\n",
                "forja.yaml:4: stages.t.matrix: a stage has foreach or matrix, not both; split it in two stages"},
        BadCase{"MatrixNotMap", "stages:\n  m:\n    matrix: [1, 2]\n    cmd: x\n",
                "forja.yaml:3: stages.m.matrix: expected a mapping of lists, got a list; write matrix: {model: [a, "
                "b], lr: [0.1, 0.01]}"},
        BadCase{"MatrixEmpty", "stages:\n  m:\n    matrix: {}\n    cmd: x\n",
                "forja.yaml:3: stages.m.matrix: expected a mapping of lists, got an empty mapping; write matrix: "
                "{model: [a, b], lr: [0.1, 0.01]}"},
        BadCase{"MatrixValueNotList", "stages:\n  m:\n    matrix:\n      lr: 0.1\n    cmd: x\n",
                "forja.yaml:4: stages.m.matrix.lr: expected a non-empty list of values, got a float; write matrix: "
                "{model: [a, b], lr: [0.1, 0.01]}"},
        BadCase{"MatrixValueEmpty", "stages:\n  m:\n    matrix:\n      lr: []\n    cmd: x\n",
                "forja.yaml:4: stages.m.matrix.lr: expected a non-empty list of values, got an empty list; write "
                "matrix: {model: [a, b], lr: [0.1, 0.01]}"},
        BadCase{"MatrixTooBig",
                "stages:\n  m:\n    matrix:\n      a: [1,2,3,4,5,6,7,8,9,10]\n      b: [1,2,3,4,5,6,7,8,9,10]\n"
                "      c: [1,2,3,4,5,6,7,8,9,10]\n      d: [1,2,3,4,5,6,7,8,9,10]\n"
                "      e: [1,2,3,4,5,6,7,8,9,10]\n      f: [1,2,3,4,5,6,7,8,9,10]\n    cmd: x\n",
                "forja.yaml:4: stages.m.matrix: more than 100000 combinations; make the lists shorter"},
        BadCase{"MatrixErrorNamesTheCombination", "stages:\n  m:\n    matrix: {a: [x, y]}\n    cmd: x\n"
                                                  "    timeout: ${item.a}\n",
                "forja.yaml:5: stages.m@x.timeout: 'x' is not a duration; write seconds (30) or 500ms, 30s, 10m, "
                "2h"},
        BadCase{"MatrixDuplicateCombinations", "stages:\n  m:\n    matrix: {a: [x, x]}\n    cmd: x\n",
                "forja.yaml:3: stages.m.matrix: two stages are named 'm@x'; make the foreach or matrix values "
                "distinct"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.label; });

TEST(PipelineStage, ParamKeysNeedAConfig) {
  auto r = Parse("stages:\n  a:\n    cmd: x\n    params: [lr]\n", Node::Map());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "forja.yaml:4: stages.a.params: 'lr' is not a key of the composed configuration (the project has none); "
            "check the name (forja config show lists the keys), or write file.yaml:lr for a key of a file");
}

TEST(PipelineStage, InterpolationWithoutConfig) {
  auto r = Parse("stages:\n  a:\n    cmd: x ${lr}\n", Node());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "forja.yaml:3: stages.a.cmd: ${lr}: key 'lr' not found in the configuration");
  auto s = Ok("stages:\n  a:\n    foreach: [1]\n    do: {cmd: 'x ${item}'}\n", Node());
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].cmd, Strings{"x 1"});
}

// ---------------------------------------------------------------------------
// Speed: a thousand stages with interpolations parse in milliseconds.

TEST(PipelineStage, ThousandStagesParseFast) {
  std::string yaml = "stages:\n";
  for (int i = 0; i < 1000; i++) {
    std::string n = std::to_string(i);
    yaml += "  s" + n + ":\n    cmd: python step.py --lr ${train.lr} --i " + n + "\n";
    yaml += "    deps: [data/s" + std::to_string(i - 1) + ".csv, step.py]\n";
    yaml += "    outs: [data/s" + n + ".csv]\n    params: [train.lr]\n";
  }
  Node cfg = Config();
  auto t0 = std::chrono::steady_clock::now();
  auto s = Parse(yaml, cfg);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->size(), 1000u);
  EXPECT_LT(ms, 250) << "parsing 1000 stages took " << ms << " ms";
  RecordProperty("parse_ms", std::to_string(ms));
}

}  // namespace
}  // namespace forja::pipeline
