// The times staleness is judged on (registry/staleness_facts.h), found in a real SQLite store:
// training from the run's end, else its start, else the registration; the training data's age
// from lineage (inputs an earlier run produced date from that run, others from the training
// run's start); the promotion that put the version where its reference serves it. Bad input:
// a run the store does not have, a run without lineage, a version without a run, producers
// logged after training, times in the future.
#include <gtest/gtest.h>

#include <cstdlib>

#include "forja/core/fs.h"
#include "forja/meta/store.h"
#include "forja/registry/registry.h"
#include "forja/registry/staleness_facts.h"

namespace forja::registry {
namespace {

constexpr int64_t kH = 3600 * 1000;  // an hour in ms
const std::string kTrain = "sha256:" + std::string(64, 'a');
const std::string kCode = "sha256:" + std::string(64, 'b');
const std::string kLabels = "sha256:" + std::string(64, 'c');

class StalenessFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/forja-staleness-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = meta::OpenSqlStore("sqlite:///" + dir_ + "/forja.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto exp = store_->CreateExperiment("churn", "", {});
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    exp_ = *exp;
    ASSERT_TRUE(store_->CreateRegisteredModel("churn", "", {}).ok());
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  // A run started at `start` (ms), ended at `end` when set, with these lineage items.
  std::string Run(int64_t start, std::optional<int64_t> end, const std::vector<meta::LineageItem>& lineage) {
    auto r = store_->CreateRun(exp_, "u", "", start, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (end) {
      EXPECT_TRUE(store_->UpdateRun(r->info.run_id, "FINISHED", end, "").ok());
    }
    if (!lineage.empty()) {
      EXPECT_TRUE(store_->LogLineage(r->info.run_id, lineage).ok());
    }
    return r->info.run_id;
  }

  meta::ModelVersion Version(const std::string& run_id) {
    meta::ModelVersion v;
    v.name = "churn";
    v.source = "s3://bucket/churn";
    v.run_id = run_id;
    auto created = store_->CreateModelVersion(v);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return *created;
  }

  StalenessFacts Facts(const meta::ModelVersion& v, const std::string& ref) {
    auto parsed = ParseModelRef(ref);
    EXPECT_TRUE(parsed.ok());
    auto f = GatherStalenessFacts(*store_, v, *parsed);
    EXPECT_TRUE(f.ok()) << f.status().message();
    return f.ok() ? *f : StalenessFacts{};
  }

  void Promote(int64_t version, const std::string& target) {
    meta::Promotion p;
    p.name = "churn";
    p.version = version;
    p.target = target;
    p.user = "u";
    auto r = store_->Promote(p, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  std::string dir_, exp_;
  std::unique_ptr<meta::MetaStore> store_;
};

meta::LineageItem In(const std::string& path, const std::string& hash) { return {"input", path, hash, "file", 1}; }
meta::LineageItem Out(const std::string& path, const std::string& hash) { return {"output", path, hash, "file", 1}; }

TEST_F(StalenessFactsTest, TrainedAtTheRunsEndAndDataFromTheRunThatMadeIt) {
  const int64_t t0 = 1'700'000'000'000;
  std::string prep = Run(t0, t0 + 1 * kH, {Out("data/train.csv", kTrain)});
  std::string train = Run(t0 + 5 * kH, t0 + 7 * kH, {In("data/train.csv", kTrain), In("train.py", kCode)});
  meta::ModelVersion v = Version(train);
  StalenessFacts f = Facts(v, "churn/1");
  EXPECT_EQ(f.model, "churn");
  EXPECT_EQ(f.version, 1);
  EXPECT_EQ(f.trained_ms, t0 + 7 * kH);
  EXPECT_EQ(f.trained_from, "run " + train.substr(0, 8) + "'s end");
  // The oldest input: train.csv, made when prep ended (train.py dates from the run's start).
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, t0 + 1 * kH);
  EXPECT_EQ(f.data_from, "data/train.csv, made by run " + prep.substr(0, 8));
  EXPECT_TRUE(f.notes.empty());
  // Never promoted: its registration.
  EXPECT_EQ(f.promoted_from, "registration");
  EXPECT_GE(f.promoted_ms, v.creation_timestamp);
}

TEST_F(StalenessFactsTest, TheFirstEarlierProducerCountsAndLaterOnesDoNot) {
  const int64_t t0 = 1'700'000'000'000;
  std::string first = Run(t0, t0 + 2 * kH, {Out("train.csv", kTrain)});
  Run(t0 + 3 * kH, t0 + 4 * kH, {Out("train.csv", kTrain)});       // the same bytes again
  std::string train = Run(t0 + 10 * kH, std::nullopt, {In("train.csv", kTrain)});
  Run(t0 + 20 * kH, t0 + 21 * kH, {Out("train.csv", kTrain)});       // after training: not its data
  Run(t0 + 9 * kH, t0 + 11 * kH, {Out("train.csv", kTrain)});        // ended after training started
  StalenessFacts f = Facts(Version(train), "churn/1");
  // No end: trained at its start.
  EXPECT_EQ(f.trained_ms, t0 + 10 * kH);
  EXPECT_EQ(f.trained_from, "run " + train.substr(0, 8) + "'s start");
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, t0 + 2 * kH);
  EXPECT_EQ(f.data_from, "train.csv, made by run " + first.substr(0, 8));
}

TEST_F(StalenessFactsTest, DataNoRunMadeIsAsOldAsTheTrainingRun) {
  const int64_t t0 = 1'700'000'000'000;
  std::string train = Run(t0, t0 + kH, {In("raw.csv", kLabels)});
  StalenessFacts f = Facts(Version(train), "churn/1");
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, t0);
  EXPECT_EQ(f.data_from, "raw.csv, as old as the training run");
}

TEST_F(StalenessFactsTest, OfEquallyOldInputsTheDataIsNamedNotTheCode) {
  const int64_t t0 = 1'700'000'000'000;
  // A pipeline run's inputs: its stages' code (sorted first) and its raw data, all as old as it.
  std::string train = Run(t0, t0 + kH, {In("src/evaluate.py", kCode), In("src/train.py", kCode), In("z/raw.csv", kLabels)});
  StalenessFacts f = Facts(Version(train), "churn/1");
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, t0);
  EXPECT_EQ(f.data_from, "z/raw.csv, as old as the training run");
}

TEST_F(StalenessFactsTest, OnlyCodeInputsSayTheDataIsTheRunsOwn) {
  const int64_t t0 = 1'700'000'000'000;
  // A pipeline whose first stage makes its data: only the stages' code comes in.
  std::string train = Run(t0, t0 + kH, {In("src/prepare.py", kCode), In("src/train.py", kCode)});
  StalenessFacts f = Facts(Version(train), "churn/1");
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, t0);
  EXPECT_EQ(f.data_from, "as old as the training run, whose lineage inputs are all code (src/prepare.py, ...)");
}

TEST_F(StalenessFactsTest, MissingLineageLeavesTheDataAgeUnknown) {
  const int64_t t0 = 1'700'000'000'000;
  // Outputs only (the package registered from it), no input.
  std::string train = Run(t0, t0 + kH, {Out("model", kCode)});
  StalenessFacts f = Facts(Version(train), "churn/1");
  EXPECT_EQ(f.trained_ms, t0 + kH);
  EXPECT_FALSE(f.data_ms);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("has no lineage input"), std::string::npos) << f.notes[0];
}

TEST_F(StalenessFactsTest, MissingRunFallsBackToTheRegistration) {
  // The store refuses to register a version of an unknown run; a run can still go missing
  // later (removed from the database by hand, a store restored from an older backup).
  meta::ModelVersion v = Version("");
  v.run_id = "0123456789abcdef0123456789abcdef";
  StalenessFacts f = Facts(v, "churn/1");
  EXPECT_EQ(f.trained_ms, v.creation_timestamp);
  EXPECT_EQ(f.trained_from, "registration");
  EXPECT_FALSE(f.data_ms);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("is not in the store"), std::string::npos) << f.notes[0];
  // A run id no store could hold is the same note, not an error.
  v.run_id = "../../etc/passwd";
  f = Facts(v, "churn/1");
  EXPECT_EQ(f.trained_from, "registration");
  EXPECT_FALSE(f.data_ms);
}

TEST_F(StalenessFactsTest, NoRunAtAll) {
  meta::ModelVersion v = Version("");
  StalenessFacts f = Facts(v, "churn/1");
  EXPECT_EQ(f.trained_ms, v.creation_timestamp);
  EXPECT_FALSE(f.data_ms);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("registered without a run"), std::string::npos);
}

TEST_F(StalenessFactsTest, TimesInTheFutureAreKeptAsLogged) {
  // A run logged by a machine whose clock is a day ahead: the facts keep its times; the ages
  // (monitor::AgeSeconds) are then 0, never negative.
  int64_t ahead = meta::NowMs() + 24 * kH;
  std::string train = Run(ahead, ahead + kH, {In("raw.csv", kLabels)});
  StalenessFacts f = Facts(Version(train), "churn/1");
  EXPECT_EQ(f.trained_ms, ahead + kH);
  ASSERT_TRUE(f.data_ms);
  EXPECT_EQ(*f.data_ms, ahead);
}

TEST_F(StalenessFactsTest, PromotionWhereTheReferenceServesIt) {
  const int64_t t0 = 1'700'000'000'000;
  std::string train = Run(t0, t0 + kH, {});
  meta::ModelVersion v1 = Version(train);
  Version(train);  // version 2
  int64_t before = meta::NowMs();
  Promote(1, "@champion");
  Promote(1, "Staging");
  Promote(2, "@challenger");
  int64_t after = meta::NowMs();

  StalenessFacts alias = Facts(v1, "churn@champion");
  EXPECT_EQ(alias.promoted_from, "moved to @champion");
  EXPECT_GE(alias.promoted_ms, before);
  EXPECT_LE(alias.promoted_ms, after);
  StalenessFacts stage = Facts(v1, "churn@staging");
  EXPECT_EQ(stage.promoted_from, "moved to Staging");
  // By number: its latest stage or alias move.
  StalenessFacts pinned = Facts(v1, "churn/1");
  EXPECT_EQ(pinned.promoted_from, "moved to Staging");
  EXPECT_GE(pinned.promoted_ms, alias.promoted_ms);
  // Served as @champion, the Production stage it never had: registration.
  StalenessFacts never = Facts(v1, "churn@production");
  EXPECT_EQ(never.promoted_from, "registration");

  // The alias moved away and back: the latest move counts.
  Promote(2, "@champion");
  Promote(1, "@champion");
  auto history = store_->History("churn", 1);
  ASSERT_TRUE(history.ok());
  StalenessFacts back = Facts(v1, "churn@champion");
  EXPECT_EQ(back.promoted_ms, history->back().time);

  // Archiving is no promotion.
  Promote(1, "Archived");
  EXPECT_EQ(Facts(v1, "churn/1").promoted_from, "moved to @champion");
}

}  // namespace
}  // namespace forja::registry
