// The executors' pure parts: forja.yaml's executor: and a stage's resources:
// (one-line errors with file:line and field), Slurm's states as forja reads
// them, what sbatch and squeue print (also when it is garbage), and the sbatch
// command line and script a stage becomes. The real cluster is tests/cli/slurm_test.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/pipeline/executor.h"
#include "forja/pipeline/slurm_executor.h"
#include "forja/pipeline/stage.h"

namespace forja::pipeline {
namespace {

Result<ExecutorConfig> ParseExec(const std::string& yaml) {
  auto doc = config::ParseConfigYaml(yaml, "forja.yaml");
  if (!doc.ok()) return doc.status();
  return ParseExecutorConfig(doc->Find("executor"));
}

std::string ExecError(const std::string& yaml) {
  auto r = ParseExec(yaml);
  return r.ok() ? "(parsed)" : r.status().message();
}

TEST(ExecutorConfig, AbsentIsLocal) {
  auto c = ParseExec("stages: {}\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, "local");
}

TEST(ExecutorConfig, SlurmWithEveryField) {
  auto c = ParseExec(
      "executor:\n"
      "  kind: slurm\n"
      "  partition: gpu\n"
      "  account: ml\n"
      "  qos: normal\n"
      "  extra_args: [--exclusive, --nice=10]\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kind, "slurm");
  EXPECT_EQ(c->partition, "gpu");
  EXPECT_EQ(c->account, "ml");
  EXPECT_EQ(c->qos, "normal");
  EXPECT_EQ(c->extra_args, (std::vector<std::string>{"--exclusive", "--nice=10"}));
}

TEST(ExecutorConfig, ErrorsNameTheLineAndField) {
  EXPECT_EQ(ExecError("executor:\n  kind: pbs\n"),
            "forja.yaml:2: executor.kind: 'pbs' is not an executor; write kind: local or kind: slurm");
  EXPECT_EQ(ExecError("executor:\n  kind: slurm\n  partiton: gpu\n"),
            "forja.yaml:3: executor.partiton: unknown key; executor has kind, partition, account, qos and extra_args");
  EXPECT_EQ(ExecError("executor:\n  partition: gpu\n"),
            "forja.yaml:2: executor.kind: missing; write executor: {kind: slurm, partition: NAME}");
  EXPECT_EQ(ExecError("executor:\n  kind: slurm\n  extra_args: [exclusive]\n"),
            "forja.yaml:3: executor.extra_args: 'exclusive' is not an option (options start with '-'; the script is "
            "forja's)");
  EXPECT_EQ(ExecError("executor:\n  kind: slurm\n  partition: 'a b'\n"),
            "forja.yaml:3: executor.partition: 'a b' is not a Slurm name (no spaces or control characters, no "
            "leading '-')");
}

std::string StageError(const std::string& yaml) {
  auto doc = config::ParseConfigYaml(yaml, "forja.yaml");
  if (!doc.ok()) return doc.status().message();
  auto r = ParseStages(*doc, config::Node::Map());
  return r.ok() ? "(parsed)" : r.status().message();
}

TEST(StageResources, EveryField) {
  auto doc = config::ParseConfigYaml(
      "stages:\n  t:\n    cmd: train\n    resources: {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}\n",
      "forja.yaml");
  ASSERT_TRUE(doc.ok());
  auto st = ParseStages(*doc, config::Node::Map());
  ASSERT_TRUE(st.ok()) << st.status().message();
  const Resources& r = (*st)[0].resources;
  EXPECT_EQ(r.cpus, 4);
  EXPECT_EQ(r.mem, "16G");
  EXPECT_EQ(r.gpus, 1);
  EXPECT_EQ(r.time_s, 7200);
  EXPECT_EQ(r.constraint, "a100");
}

TEST(StageResources, Errors) {
  EXPECT_EQ(StageError("stages:\n  t:\n    cmd: x\n    resources: {cpus: 0}\n"),
            "forja.yaml:4: stages.t.resources.cpus: expected a whole number of at least 1; write resources: {cpus: 4, "
            "mem: 16G, gpus: 1, time: 2h, constraint: a100}");
  EXPECT_EQ(StageError("stages:\n  t:\n    cmd: x\n    resources:\n      mem: lots\n"),
            "forja.yaml:5: stages.t.resources.mem: expected an amount such as 512M or 16G (K, M, G, T), or "
            "megabytes; write resources: {cpus: 4, mem: 16G, gpus: 1, time: 2h, constraint: a100}");
  EXPECT_EQ(StageError("stages:\n  t:\n    cmd: x\n    resources:\n      disk: 1G\n"),
            "forja.yaml:5: stages.t.resources.disk: unknown key; resources has cpus, mem, gpus, time and constraint");
}

TEST(SlurmState, Mapping) {
  EXPECT_EQ(MapSlurmState("COMPLETED"), SlurmFate::kSucceeded);
  EXPECT_EQ(MapSlurmState("FAILED"), SlurmFate::kFailed);
  EXPECT_EQ(MapSlurmState("OUT_OF_MEMORY"), SlurmFate::kFailed);
  EXPECT_EQ(MapSlurmState("CANCELLED"), SlurmFate::kCancelled);
  EXPECT_EQ(MapSlurmState("CANCELLED by 1000"), SlurmFate::kCancelled);
  EXPECT_EQ(MapSlurmState("TIMEOUT"), SlurmFate::kTimedOut);
  EXPECT_EQ(MapSlurmState("NODE_FAIL"), SlurmFate::kLost);
  EXPECT_EQ(MapSlurmState("PREEMPTED"), SlurmFate::kLost);
  for (const char* s : {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED"})
    EXPECT_EQ(MapSlurmState(s), SlurmFate::kInFlight) << s;
  EXPECT_EQ(MapSlurmState("SOMETHING_NEW"), SlurmFate::kUnknown);
  EXPECT_EQ(MapSlurmState(""), SlurmFate::kUnknown);
}

TEST(SlurmParse, SbatchJobId) {
  EXPECT_EQ(ParseSbatchJobId("42\n"), 42);
  EXPECT_EQ(ParseSbatchJobId("42;cluster1\n"), 42);
  EXPECT_EQ(ParseSbatchJobId("sbatch: warning: something\n77\n"), 77);
  EXPECT_EQ(ParseSbatchJobId(""), std::nullopt);
  EXPECT_EQ(ParseSbatchJobId("Submitted batch job 42"), std::nullopt);
  EXPECT_EQ(ParseSbatchJobId("-3"), std::nullopt);
  EXPECT_EQ(ParseSbatchJobId("0"), std::nullopt);
  EXPECT_EQ(ParseSbatchJobId("99999999999999999999999999"), std::nullopt);
  EXPECT_EQ(ParseSbatchJobId(std::string("4\0002", 3)), std::nullopt);
}

TEST(SlurmParse, Squeue) {
  int skipped = -1;
  auto jobs = ParseSqueue(
      "1|1|N/A|FAILED|NonZeroExitCode|768|\n"
      "2|2|N/A|COMPLETED|None|0|\n"
      "3|3|N/A|RUNNING|None|0|\n"
      "4|4|N/A|CANCELLED|None|15|\n"
      "9|7|2|RUNNING|None|0|\n"   // task 2 of array 7 (its own job id is 9)
      "7|7|3|PENDING|Resources|0|\n"
      "7|7|[4-9]|PENDING|Resources|0|\n"  // tasks not listed one by one: unreadable
      "garbage line\n"
      "|1|N/A|RUNNING|\n"
      "5|5|N/A|\n",
      &skipped);
  EXPECT_EQ(skipped, 4);
  ASSERT_EQ(jobs.size(), 6u);
  EXPECT_EQ(jobs["1"].state, "FAILED");
  EXPECT_EQ(jobs["1"].exit_code, 3);
  EXPECT_EQ(jobs["1"].reason, "NonZeroExitCode");
  EXPECT_EQ(jobs["2"].exit_code, 0);
  EXPECT_EQ(jobs["3"].state, "RUNNING");
  EXPECT_EQ(jobs["4"].exit_code, -15);  // killed by SIGTERM
  EXPECT_EQ(jobs["7_2"].state, "RUNNING");
  EXPECT_EQ(jobs["7_3"].state, "PENDING");
}

TEST(SlurmParse, Sacct) {
  int skipped = -1;
  auto jobs = ParseSacct(
      "12|COMPLETED|0:0\n"
      "13_2|CANCELLED by 0|0:15\n"
      "13_[3-5]|PENDING|0:0\n"  // tasks not yet started, as one line: unreadable
      "14|FAILED|3:0\n"
      "15|TIMEOUT|0:0\n"
      "16|OUT_OF_MEMORY|0:300\n"
      "17|NODE_FAIL|x:y\n"
      "garbage\n"
      "|COMPLETED|0:0\n",
      &skipped);
  EXPECT_EQ(skipped, 3);
  ASSERT_EQ(jobs.size(), 6u);
  EXPECT_EQ(jobs["12"].exit_code, 0);
  EXPECT_EQ(MapSlurmState(jobs["13_2"].state), SlurmFate::kCancelled);
  EXPECT_EQ(jobs["13_2"].exit_code, -15);
  EXPECT_EQ(jobs["14"].exit_code, 3);
  EXPECT_EQ(MapSlurmState(jobs["15"].state), SlurmFate::kTimedOut);
  EXPECT_EQ(jobs["16"].exit_code, -1);  // a "signal" over 127 is none: unknown
  EXPECT_EQ(jobs["17"].exit_code, -1);
  EXPECT_EQ(MapSlurmState(jobs["17"].state), SlurmFate::kLost);
  std::string junk;
  for (int i = 0; i < 2000; i++) junk += static_cast<char>((i * 37) % 256);
  (void)ParseSacct(junk);
  (void)ParseSacct(std::string(100000, '|'));
  EXPECT_TRUE(ParseSacct("99999999999999999999999|COMPLETED|0:0\n").empty());
}

TEST(SlurmParse, QueryId) {
  EXPECT_EQ(SlurmQueryId("12", "N/A"), "12");
  EXPECT_EQ(SlurmQueryId("12", "3"), "12_3");
  EXPECT_EQ(SlurmQueryId("12", "[3-5]"), std::nullopt);
  EXPECT_EQ(SlurmQueryId("x", "N/A"), std::nullopt);
  EXPECT_EQ(SlurmQueryId("0", "N/A"), std::nullopt);
}

TEST(SlurmParse, SqueueHostileTextNeverCrashes) {
  std::string junk;
  for (int i = 0; i < 2000; i++) junk += static_cast<char>((i * 131) % 256);
  (void)ParseSqueue(junk);
  (void)ParseSqueue(std::string(100000, '|'));
  (void)ParseSqueue("999999999999999999999999|1|N/A|RUNNING|x|99999999999|\n");
  auto jobs = ParseSqueue("7|7|N/A|RUNNING|x|99999999999|\n");
  EXPECT_EQ(jobs["7"].exit_code, -1);  // an exit status that cannot be one: unknown
}

StageJob Job() {
  StageJob j;
  j.stage = "train@small";
  j.spec.argv = {"/bin/sh", "-c", "python train.py --name 'it''s'"};
  j.spec.cwd = "/shared/repo";
  j.spec.env = {{"FORJA_STAGE", "train@small"}, {"WEIRD", "a'b $HOME\nc"}};
  j.spec.log_path = "/shared/repo/.forja/runs/r1/train@small.log";
  return j;
}

TEST(SlurmSubmit, SbatchArgs) {
  ExecutorConfig c;
  c.kind = "slurm";
  c.partition = "gpu";
  c.account = "ml";
  c.qos = "high";
  c.extra_args = {"--exclusive"};
  StageJob j = Job();
  j.spec.timeout_s = 30;  // forja's timeout first; Slurm's a minute later, in whole minutes
  j.resources.cpus = 4;
  j.resources.mem = "16G";
  j.resources.gpus = 2;
  j.resources.constraint = "a100";
  EXPECT_EQ(SbatchArgs(c, j),
            (std::vector<std::string>{"sbatch", "--parsable", "--job-name=forja:train@small",
                                      "--output=/shared/repo/.forja/runs/r1/train@small.log", "--open-mode=truncate",
                                      "--chdir=/shared/repo", "--partition=gpu", "--account=ml", "--qos=high",
                                      "--time=2", "--cpus-per-task=4", "--mem=16G", "--gpus=2",
                                      "--constraint=a100", "--exclusive"}));
  j.resources.time_s = 7200;  // resources.time wins
  auto args = SbatchArgs(c, j);
  EXPECT_NE(std::find(args.begin(), args.end(), "--time=120"), args.end());
}

TEST(SlurmSubmit, ScriptQuotesEverything) {
  std::string s = SbatchScript(Job(), "/shared/repo/.forja/runs/r1/train@small.exit");
  EXPECT_NE(s.find("cd '/shared/repo' || exit 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("WEIRD='a'\\''b $HOME\nc'; export WEIRD\n"), std::string::npos) << s;
  EXPECT_NE(s.find("'/bin/sh' '-c' 'python train.py --name '\\''it'\\'''\\''s'\\''' </dev/null\n"), std::string::npos)
      << s;
  EXPECT_NE(s.find("mv -f '/shared/repo/.forja/runs/r1/train@small.exit.tmp' '/shared/repo/.forja/runs/r1/train@small.exit'"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace forja::pipeline
