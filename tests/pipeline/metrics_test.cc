// Metrics and params diffs: flattening metrics files, diffing two sides,
// the exact tables the CLI prints (cli/table.h: text and Markdown), and reading files at a git revision
// and from the cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "forja/cas/cache.h"
#include "forja/cli/table.h"
#include "forja/config/node.h"
#include "forja/core/fs.h"
#include "forja/core/subprocess.h"
#include "forja/pipeline/metric_files.h"

namespace forja::pipeline {
namespace {

using config::Node;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/forja-metrics-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::string cmd = "chmod -R u+w " + path_ + " && rm -rf " + path_;
    if (std::system(cmd.c_str()) != 0) {
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<Metric> Parse(const std::string& text, const std::string& name = "m.json") {
  auto r = ParseMetrics(text, name);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<Metric>{};
}

// "key=value" per metric, values as FormatValue prints them at full precision.
std::string Dump(const std::vector<Metric>& ms) {
  std::string out;
  for (const auto& m : ms) out += m.key + "=" + FormatValue(m.value, -1) + "(" + m.value.KindName() + ") ";
  return out;
}

MetricsFile File(const std::string& path, const std::string& text) { return {path, Parse(text, path), false}; }

TEST(PipelineMetrics, FlattensNestedMappingsAndLists) {
  auto ms = Parse(
      R"({"train": {"loss": 0.25, "acc": [0.9, 0.8]}, "epochs": 10, "ok": true, "name": "run", "none": null})");
  EXPECT_EQ(Dump(ms),
            "train.loss=0.25(float) train.acc.0=0.9(float) train.acc.1=0.8(float) epochs=10(int) ok=true(bool) "
            "name=run(str) none=null(null) ");
  // A list at the top, lists of mappings, empty containers (no metrics).
  EXPECT_EQ(Dump(Parse(R"([{"a": 1}, {"a": 2, "e": {}, "l": []}])")), "0.a=1(int) 1.a=2(int) ");
}

TEST(PipelineMetrics, ParsesJsonAsJsonAndYamlAsYaml) {
  // Compact JSON, tabs, exponents, escapes, numbers in strings stay strings.
  EXPECT_EQ(Dump(Parse("{\"a\":1,\"b\":{\"c\":[1.5e-3,-2]},\"s\":\"0.5\",\"u\":\"x\\ny\"}")),
            "a=1(int) b.c.0=0.0015(float) b.c.1=-2(int) s=0.5(str) u=x\ny(str) ");
  EXPECT_EQ(Dump(Parse("{\n\t\"loss\": 0.5,\n\t\"acc\": 1e2\n}\n")), "loss=0.5(float) acc=100.0(float) ");
  // Python's json writes NaN and Infinity.
  EXPECT_EQ(Dump(Parse(R"({"a": NaN, "b": Infinity, "c": -Infinity})")), "a=nan(float) b=inf(float) c=-inf(float) ");
  // YAML, with OmegaConf's typing.
  EXPECT_EQ(Dump(Parse("train:\n  loss: 0.5\n  steps: 100\nbest: yes\n", "m.yaml")),
            "train.loss=0.5(float) train.steps=100(int) best=true(bool) ");
  EXPECT_EQ(Dump(Parse("", "m.yaml")), "");
}

TEST(PipelineMetrics, MalformedFilesNameFileAndLine) {
  auto r = ParseMetrics("{\n  \"a\": 1,\n  \"b\": [1, 2\n}\n", "eval/m.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUser);
  EXPECT_EQ(r.status().message().rfind("eval/m.json:", 0), 0u) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  auto s = ParseMetrics("0.5\n", "m.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "m.json: expected a mapping of metrics (JSON or YAML), got a float; write e.g. {\"loss\": 0.25}");
}

TEST(PipelineMetrics, FormatsValues) {
  EXPECT_EQ(FormatValue(Node::Float(0.123456789), 5), "0.12346");
  EXPECT_EQ(FormatValue(Node::Float(0.5), 5), "0.5");
  EXPECT_EQ(FormatValue(Node::Float(1.0), 5), "1.0");
  EXPECT_EQ(FormatValue(Node::Float(2.5), 0), "2.0");  // printf rounds half to even
  EXPECT_EQ(FormatValue(Node::Float(-0.25), 1), "-0.2");
  EXPECT_EQ(FormatValue(Node::Float(1.23456e-7), 5), "1.2346e-07");  // would round to 0
  EXPECT_EQ(FormatValue(Node::Float(0.0), 5), "0.0");
  EXPECT_EQ(FormatValue(Node::Float(1e20), 5), "1e+20");
  EXPECT_EQ(FormatValue(Node::Float(std::nan("")), 5), "nan");
  EXPECT_EQ(FormatValue(Node::Float(-HUGE_VAL), 5), "-inf");
  EXPECT_EQ(FormatValue(Node::Float(0.123456789), -1), "0.123456789");
  EXPECT_EQ(FormatValue(Node::Int(-42), 5), "-42");
  EXPECT_EQ(FormatValue(Node::Bool(false), 5), "false");
  EXPECT_EQ(FormatValue(Node::Null(), 5), "null");
  EXPECT_EQ(FormatValue(Node::String("adam"), 5), "adam");

  EXPECT_EQ(FormatChange(Node::Float(0.25), 5), "+0.25");
  EXPECT_EQ(FormatChange(Node::Float(-0.000001), 5), "-1e-06");
  EXPECT_EQ(FormatChange(Node::Int(3), 5), "+3");
  EXPECT_EQ(FormatChange(Node::Int(0), 5), "0");
  EXPECT_EQ(FormatChange(Node::Float(0.0), 5), "0");

  EXPECT_EQ(FormatParam("\"adam\""), "adam");
  EXPECT_EQ(FormatParam("0.1"), "0.1");
  EXPECT_EQ(FormatParam("[1, 2]"), "[1, 2]");
  EXPECT_EQ(FormatParam("{\"a\": \"b\"}"), "{\"a\": \"b\"}");
}

TEST(PipelineMetrics, DiffPairsByPathAndKey) {
  std::vector<MetricsFile> old_files = {
      File("eval/m.json", R"({"loss": 0.5, "acc": 0.8, "steps": 100, "gone": 1, "name": "a"})"),
      File("old.json", R"({"x": 1})"),
  };
  std::vector<MetricsFile> new_files = {
      File("eval/m.json", R"({"loss": 0.25, "acc": 0.8, "steps": 100.0, "new": 7, "name": "b"})"),
      File("train.yaml", "loss: 1\n"),
  };
  auto diffs = DiffMetrics(old_files, new_files, false);
  EXPECT_EQ(RenderText(MetricsDiffTable(diffs, "HEAD", 5)),
            "Path         Metric  HEAD  workspace  Change\n"
            "eval/m.json  loss    0.5   0.25       -0.25\n"
            "eval/m.json  new     -     7          -\n"
            "eval/m.json  name    a     b          -\n"
            "train.yaml   loss    -     1          -\n"
            "eval/m.json  gone    1     -          -\n"
            "old.json     x       1     -          -\n");

  auto all = DiffMetrics(old_files, new_files, true);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[1].key, "acc");
  EXPECT_FALSE(all[1].changed);
  EXPECT_EQ(all[2].key, "steps");  // 100 and 100.0 are the same number
  EXPECT_FALSE(all[2].changed);

  // A whole group read by a stage is compared leaf by leaf.
  std::vector<LockParams> group_old = {{"config", {{"model", R"({"depth":3,"lr":0.1,"opt":{"name":"adam"}})"}}}};
  std::vector<LockParams> group_new = {{"config", {{"model", R"({"depth":5,"lr":0.1,"opt":{"name":"sgd"},"seed":1})"}}}};
  EXPECT_EQ(RenderText(ParamsDiffTable(DiffParams(group_old, group_new, false), "HEAD")),
            "Path    Param           HEAD  workspace\n"
            "config  model.depth     3     5\n"
            "config  model.opt.name  adam  sgd\n"
            "config  model.seed      -     1\n");
  EXPECT_EQ(FormatChange(*all[2].change, 5), "0");
  EXPECT_EQ(RenderMarkdown(MetricsDiffTable({all[0], all[1]}, "v1", 5)),
            "| Path        | Metric | v1  | workspace | Change |\n"
            "|-------------|--------|-----|-----------|--------|\n"
            "| eval/m.json | loss   | 0.5 | 0.25      | -0.25  |\n"
            "| eval/m.json | acc    | 0.8 | 0.8       | 0      |\n");
}

TEST(PipelineMetrics, ChangesAreExactForIntsAndFreeOfFloatNoise) {
  auto d = DiffMetrics({File("m.json", R"({"a": 0.9, "n": 5, "s": "x"})")},
                       {File("m.json", R"({"a": 0.8, "n": 12, "s": 3})")}, false);
  ASSERT_EQ(d.size(), 3u);
  ASSERT_TRUE(d[0].change);
  EXPECT_EQ(d[0].change->as_float(), -0.1);  // not -0.09999999999999998
  ASSERT_TRUE(d[1].change);
  EXPECT_EQ(d[1].change->kind(), Node::Kind::kInt);
  EXPECT_EQ(d[1].change->as_int(), 7);
  EXPECT_FALSE(d[2].change);  // a string became a number: no delta
  EXPECT_TRUE(d[2].changed);
}

TEST(PipelineMetrics, ShowTableAndEscaping) {
  std::vector<MetricsFile> files = {File("m.json", R"({"loss": 0.123456789, "note": "a|b\nc", "ünï": 1})")};
  EXPECT_EQ(RenderText(MetricsShowTable(files, 3)),
            "Path    Metric  Value\n"
            "m.json  loss    0.123\n"
            "m.json  note    a|b\\nc\n"
            "m.json  ünï     1\n");
  EXPECT_EQ(RenderMarkdown(MetricsShowTable(files, 3)),
            "| Path   | Metric | Value   |\n"
            "|--------|--------|---------|\n"
            "| m.json | loss   | 0.123   |\n"
            "| m.json | note   | a\\|b\\nc |\n"
            "| m.json | ünï    | 1       |\n");
  EXPECT_EQ(RenderText(Table{{"A", "B"}, {}}), "A  B\n");
}

TEST(PipelineMetrics, ParamsMergeAndDiff) {
  // Two stages read train.lr; the first stage's value wins.
  std::vector<std::vector<LockParams>> per_stage = {
      {{"config", {{"train.lr", "0.1"}, {"model", "\"small\""}}}},
      {{"config", {{"train.lr", "0.5"}, {"seed", "1"}}}, {"params.yaml", {{"batch", "32"}}}},
  };
  auto old_p = MergeParams(per_stage);
  ASSERT_EQ(old_p.size(), 2u);
  ASSERT_EQ(old_p[0].values.size(), 3u);
  EXPECT_EQ(old_p[0].values[0].value_json, "0.1");
  EXPECT_EQ(old_p[0].values[2].key, "seed");

  std::vector<LockParams> new_p = {
      {"config", {{"train.lr", "0.2"}, {"model", "\"large\""}, {"seed", "1"}, {"layers", "[1, 2]"}}},
  };
  EXPECT_EQ(RenderText(ParamsDiffTable(DiffParams(old_p, new_p, false), "HEAD")),
            "Path         Param     HEAD   workspace\n"
            "config       train.lr  0.1    0.2\n"
            "config       model     small  large\n"
            "config       layers    -      [1, 2]\n"
            "params.yaml  batch     32     -\n");
  auto all = DiffParams(old_p, new_p, true);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[2].key, "seed");
  EXPECT_FALSE(all[2].changed);

  // A whole group read by a stage is compared leaf by leaf.
  std::vector<LockParams> group_old = {{"config", {{"model", R"({"depth":3,"lr":0.1,"opt":{"name":"adam"}})"}}}};
  std::vector<LockParams> group_new = {{"config", {{"model", R"({"depth":5,"lr":0.1,"opt":{"name":"sgd"},"seed":1})"}}}};
  EXPECT_EQ(RenderText(ParamsDiffTable(DiffParams(group_old, group_new, false), "HEAD")),
            "Path    Param           HEAD  workspace\n"
            "config  model.depth     3     5\n"
            "config  model.opt.name  adam  sgd\n"
            "config  model.seed      -     1\n");

  Lock lock;
  lock.stages.push_back(LockStage{"a", {}, {}, per_stage[0], {}});
  lock.stages.push_back(LockStage{"b", {}, {}, per_stage[1], {}});
  EXPECT_EQ(LockParamsOf(lock).size(), 2u);
}

// --- reading at a revision ------------------------------------------------------

void Sh(const std::string& dir, const std::string& script) {
  auto r = RunProcess({"sh", "-c", script}, dir);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->exit_code, 0) << script << "\n" << r->err;
}

const char kGitEnv[] =
    "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@localhost GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@localhost; ";

TEST(PipelineMetrics, GitRevisionReadsFilesOfACommit) {
  TempDir d;
  // The workspace is a subfolder of the repository.
  Sh(d.path(), std::string(kGitEnv) +
                   "git init -q . && mkdir -p ws/eval && printf '{\"loss\": 0.5}' > ws/eval/m.json && "
                   "printf 'a: 1\\n' > ws/eval/n.yaml && printf x > ws/other.txt && git add . && git commit -qm v1 && "
                   "git tag v1 && printf '{\"loss\": 0.4}' > ws/eval/m.json && git commit -qam v2");
  std::string ws = d.path() + "/ws";
  auto rev = GitRevision::Open(ws, "v1");
  ASSERT_TRUE(rev.ok()) << rev.status().message();
  EXPECT_EQ(rev->name(), "v1");
  EXPECT_EQ(rev->commit().size(), 40u);
  auto files = rev->ReadFiles({"eval/m.json", "missing.json", "eval", "other.txt"});
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[0].value_or("?"), "{\"loss\": 0.5}");
  EXPECT_FALSE((*files)[1]);
  EXPECT_FALSE((*files)[2]);  // a folder
  EXPECT_EQ((*files)[3].value_or("?"), "x");
  auto listed = rev->ListFiles("eval");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_EQ(*listed, (std::vector<std::string>{"eval/m.json", "eval/n.yaml"}));
  auto lock = rev->ReadLock();
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE(lock->stages.empty());

  // cache: false metric outs come from git: a file and a folder.
  std::vector<MetricOut> outs = {{"eval/m.json", false, false, {}}, {"eval", true, false, {}}};
  auto ms = ReadRevisionMetrics(*rev, outs, nullptr);
  ASSERT_TRUE(ms.ok()) << ms.status().message();
  ASSERT_EQ(ms->size(), 3u);
  EXPECT_EQ((*ms)[0].path, "eval/m.json");
  EXPECT_EQ(Dump((*ms)[0].metrics), "loss=0.5(float) ");
  EXPECT_EQ((*ms)[2].path, "eval/n.yaml");

  auto head = GitRevision::Open(ws, "HEAD");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ((*head->ReadFiles({"eval/m.json"}))[0].value_or("?"), "{\"loss\": 0.4}");

  auto bad = GitRevision::Open(ws, "nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown revision 'nope'; use a commit, branch or tag");
  EXPECT_FALSE(GitRevision::Open(ws, "--all").ok());
}

TEST(PipelineMetrics, GitRevisionErrors) {
  TempDir d;
  auto none = GitRevision::Open(d.path(), "HEAD");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "'" + d.path() +
                                         "' is not in a git repository; comparing with a revision needs git history "
                                         "(git init, then commit)");
  Sh(d.path(), "git init -q .");
  auto empty = GitRevision::Open(d.path(), "HEAD");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "the git repository has no commits yet, so there is nothing to compare with; commit first "
            "(git add ... && git commit)");
}

TEST(PipelineMetrics, CachedMetricsComeFromTheCache) {
  TempDir d;
  Sh(d.path(), std::string(kGitEnv) + "git init -q . && printf x > f && git add f && git commit -qm v1");
  auto rev = GitRevision::Open(d.path(), "HEAD");
  ASSERT_TRUE(rev.ok()) << rev.status().message();
  Cache cache(d.path() + "/.forja/cache", {LinkType::kCopy});
  ASSERT_TRUE(cache.Prepare().ok());
  auto oid = cache.StoreBytes("{\"auc\": 0.75}");
  ASSERT_TRUE(oid.ok());
  ASSERT_TRUE(cache.Sync().ok());

  std::vector<MetricOut> outs = {{"eval/m.json", false, true, *oid}};
  auto ms = ReadRevisionMetrics(*rev, outs, &cache);
  ASSERT_TRUE(ms.ok()) << ms.status().message();
  ASSERT_EQ(ms->size(), 1u);
  EXPECT_EQ(Dump((*ms)[0].metrics), "auc=0.75(float) ");

  // cache: false, but not committed: the cache still has it.
  outs[0].cache = false;
  ASSERT_TRUE(ReadRevisionMetrics(*rev, outs, &cache).ok());

  Oid other = Sha256::Of("something else");
  std::vector<MetricOut> gone = {{"eval/m.json", false, true, other}};
  auto r = ReadRevisionMetrics(*rev, gone, &cache);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "metrics file 'eval/m.json' of HEAD (sha256:" + other.Hex().substr(0, 12) +
                                      ") is not in the cache; run forja pull");
  EXPECT_FALSE(ReadRevisionMetrics(*rev, gone, nullptr).ok());
}

TEST(PipelineMetrics, ReadsWorkspaceFilesAndFolders) {
  TempDir d;
  Sh(d.path(), "mkdir -p eval/sub && printf '{\"a\": 1}' > eval/x.json && printf 'b: 2\\n' > eval/sub/y.yml && "
               "printf 'not metrics' > eval/notes.txt && printf '{\"c\": 3}' > top.json && printf '{' > bad.json");
  auto r = ReadWorkspaceMetrics(d.path(), {"top.json", "eval", "missing.json"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].path, "top.json");
  EXPECT_EQ((*r)[1].path, "eval/sub/y.yml");
  EXPECT_EQ((*r)[2].path, "eval/x.json");
  EXPECT_EQ((*r)[3].path, "missing.json");
  EXPECT_TRUE((*r)[3].missing);
  auto bad = ReadWorkspaceMetrics(d.path(), {"bad.json"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("bad.json:1:", 0), 0u) << bad.status().message();
}

}  // namespace
}  // namespace forja::pipeline
