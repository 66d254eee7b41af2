// Datasets a run used (runs/log-inputs) in the metadata store, on SQLite and PostgreSQL:
// stored and read back with the run, deduplicated as MLflow does, refused past MLflow's
// limits, and kept through a reopen (the migration).
#include <gtest/gtest.h>

#include <set>

#include "forja/meta/sql.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

std::string FreshUri(const std::string& kind) { return test_support::FreshUri(kind, "ds"); }

// What migration 4 (LoggedModels) added, undone: a store of version 3.
const char* const kUndoMigration4 =
    "DROP TABLE logged_models; DROP TABLE logged_model_tags; DROP TABLE logged_model_params; "
    "DROP TABLE logged_model_metrics; DROP TABLE run_model_io; ALTER TABLE metrics DROP COLUMN model_id; "
    "ALTER TABLE metrics DROP COLUMN dataset_name; ALTER TABLE metrics DROP COLUMN dataset_digest; "
    "ALTER TABLE model_versions DROP COLUMN model_id; ALTER TABLE model_versions DROP COLUMN storage_location; "
    "UPDATE forja_schema SET version = 3";

DatasetInput Input(const std::string& name, const std::string& digest, const std::string& context) {
  DatasetInput in;
  in.dataset = {name, digest, "local", R"({"uri": "/data/)" + name + R"(.csv"})", std::string(R"({"mlflow_colspec": []})"),
                std::nullopt};
  in.tags = {{"mlflow.data.context", context}};
  return in;
}

class DatasetStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = FreshUri(GetParam());
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto exp = store_->CreateExperiment("ds", "", {});
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    exp_ = *exp;
  }
  std::string NewRun() {
    auto r = store_->CreateRun(exp_, "tester", "", 0, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->info.run_id : "";
  }
  std::vector<DatasetInput> InputsOf(const std::string& run) {
    auto r = store_->GetRun(run);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->inputs : std::vector<DatasetInput>{};
  }
  std::string uri_, exp_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(DatasetStoreTest, InputsAreStoredAndReadBackWithTheRun) {
  std::string run = NewRun();
  DatasetInput train = Input("train", "abc123", "training");
  train.dataset.profile = R"({"num_rows": 3})";
  train.tags.push_back({"split", "a"});
  ASSERT_TRUE(store_->LogInputs(run, {train, Input("eval", "def456", "eval")}).ok());
  auto got = InputsOf(run);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].dataset.name, "train");
  EXPECT_EQ(got[0].dataset.digest, "abc123");
  EXPECT_EQ(got[0].dataset.source_type, "local");
  EXPECT_EQ(got[0].dataset.source, R"({"uri": "/data/train.csv"})");
  EXPECT_EQ(got[0].dataset.schema, std::optional<std::string>(R"({"mlflow_colspec": []})"));
  EXPECT_EQ(got[0].dataset.profile, std::optional<std::string>(R"({"num_rows": 3})"));
  ASSERT_EQ(got[0].tags.size(), 2u);
  EXPECT_EQ(got[0].tags[0].key, "mlflow.data.context");
  EXPECT_EQ(got[0].tags[0].value, "training");
  EXPECT_EQ(got[0].tags[1].key, "split");
  EXPECT_EQ(got[1].dataset.name, "eval");
  EXPECT_FALSE(got[1].dataset.profile.has_value());

  // The search returns them too, and a run without inputs has none.
  std::string other = NewRun();
  RunQuery q;
  q.experiment_ids = {exp_};
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->items.size(), 2u);
  for (const meta::Run& r : page->items) EXPECT_EQ(r.inputs.size(), r.info.run_id == run ? 2u : 0u) << r.info.run_id;
}

TEST_P(DatasetStoreTest, TheSameDatasetIsOneDatasetAndOneInputPerRun) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->LogInputs(run, {Input("train", "abc", "training"), Input("train", "abc", "other")}).ok());
  // Logged again with other tags and another source: the input keeps what it was first stored with.
  DatasetInput again = Input("train", "abc", "eval");
  again.dataset.source = R"({"uri": "/elsewhere.csv"})";
  ASSERT_TRUE(store_->LogInputs(run, {again}).ok());
  auto got = InputsOf(run);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tags.size(), 1u);
  EXPECT_EQ(got[0].tags[0].value, "training");
  EXPECT_EQ(got[0].dataset.source, R"({"uri": "/data/train.csv"})");
  // Another run of the experiment reuses the dataset as stored, with its own input tags.
  std::string second = NewRun();
  ASSERT_TRUE(store_->LogInputs(second, {again}).ok());
  auto other = InputsOf(second);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].dataset.source, R"({"uri": "/data/train.csv"})");
  EXPECT_EQ(other[0].tags[0].value, "eval");
  // Another digest is another dataset.
  ASSERT_TRUE(store_->LogInputs(run, {Input("train", "abd", "training")}).ok());
  EXPECT_EQ(InputsOf(run).size(), 2u);
}

TEST_P(DatasetStoreTest, AnUnknownOrDeletedRunIsRefused) {
  Status st = store_->LogInputs(std::string(32, 'f'), {Input("train", "abc", "training")});
  EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
  st = store_->LogInputs(std::string(32, 'f'), {});
  EXPECT_EQ(st.code(), Code::kNotFound) << "an empty list still needs the run";
  std::string run = NewRun();
  ASSERT_TRUE(store_->SetRunLifecycle(run, true).ok());
  st = store_->LogInputs(run, {Input("train", "abc", "training")});
  EXPECT_EQ(st.code(), Code::kUser) << st.message();
  EXPECT_NE(st.message().find("active"), std::string::npos) << st.message();
}

TEST_P(DatasetStoreTest, MlflowsLimitsAreEnforcedAndNameTheField) {
  std::string run = NewRun();
  auto refused = [&](DatasetInput in, const std::string& field) {
    Status st = store_->LogInputs(run, {Input("ok", "1", "training"), std::move(in)});
    EXPECT_EQ(st.code(), Code::kUser) << field;
    EXPECT_NE(st.message().find(field), std::string::npos) << st.message();
  };
  DatasetInput in = Input("train", "abc", "training");
  in.dataset.digest = std::string(37, 'a');
  refused(in, "'digest'");
  in = Input(std::string(501, 'n'), "abc", "training");
  refused(in, "'name'");
  in = Input("train", "", "training");
  refused(in, "'digest'");
  in = Input("train", "abc", "training");
  in.dataset.source = std::string(65536, 's');
  refused(in, "'source'");
  in = Input("train", "abc", std::string(501, 'v'));
  refused(in, "mlflow.data.context");
  in = Input("train", "abc", "training");
  in.tags.push_back({std::string(256, 'k'), "v"});
  refused(in, "input tag key");
  // Characters, not bytes, as MLflow counts: 500 two-byte characters are a valid name.
  std::string name;
  for (int i = 0; i < 500; i++) name += "\xc3\xa9";
  EXPECT_TRUE(store_->LogInputs(run, {Input(name, "abc", "training")}).ok());
  // Nothing of a refused request was stored.
  auto got = InputsOf(run);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].dataset.name, name);
  std::vector<DatasetInput> many(1001, Input("x", "1", "training"));
  EXPECT_EQ(store_->LogInputs(run, many).code(), Code::kUser);
}

TEST_P(DatasetStoreTest, RunsAreSearchedByTheirDatasets) {
  std::string a = NewRun(), b = NewRun(), none = NewRun();
  ASSERT_TRUE(store_->LogInputs(a, {Input("train", "abc", "training"), Input("eval", "e1", "eval")}).ok());
  ASSERT_TRUE(store_->LogInputs(b, {Input("train", "abd", "retraining")}).ok());
  auto found = [&](const std::string& filter) {
    RunQuery q;
    q.experiment_ids = {exp_};
    q.filter = filter;
    auto page = store_->SearchRuns(q);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().message();
    std::set<std::string> ids;
    if (page.ok())
      for (const auto& r : page->items) ids.insert(r.info.run_id);
    return ids;
  };
  using Ids = std::set<std::string>;
  EXPECT_EQ(found("datasets.name = 'train'"), (Ids{a, b}));
  EXPECT_EQ(found("datasets.name = 'eval'"), (Ids{a}));
  EXPECT_EQ(found("dataset.digest IN ('abd', 'zzz')"), (Ids{b}));
  EXPECT_EQ(found("datasets.context = 'retraining'"), (Ids{b}));
  EXPECT_EQ(found("datasets.context LIKE '%train%'"), (Ids{a, b}));
  EXPECT_EQ(found("datasets.name ILIKE 'TRA%' and datasets.context = 'training'"), (Ids{a}));
  EXPECT_EQ(found("datasets.name != 'train'"), (Ids{a})) << "a run matches when one of its datasets does";
  EXPECT_EQ(found("datasets.name = 'nothing'"), Ids{});
  RunQuery q;
  q.experiment_ids = {exp_};
  q.filter = "datasets.size = 'x'";
  auto bad = store_->SearchRuns(q);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("datasets.name"), std::string::npos) << bad.status().message();
  q.filter = "datasets.name > 'a'";
  EXPECT_EQ(store_->SearchRuns(q).status().code(), Code::kUser);
  q.filter = "";
  q.order_by = {"datasets.name"};
  EXPECT_EQ(store_->SearchRuns(q).status().code(), Code::kUser);
  (void)none;
}

TEST_P(DatasetStoreTest, InputsSurviveAReopen) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->LogInputs(run, {Input("train", "abc", "training")}).ok());
  store_.reset();
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(*s);
  auto got = InputsOf(run);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].dataset.name, "train");
}

// A store made before datasets (schema version 2, as forja wrote it then) gets migration 3
// on open: its runs stay, and they take inputs.
TEST_P(DatasetStoreTest, AStoreOfVersionTwoIsMigrated) {
  std::string run = NewRun();
  store_.reset();
  {
    auto c = GetParam() == "sqlite" ? OpenSqlite(uri_.substr(std::string("sqlite:///").size()), {}) : OpenPostgres(uri_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("DROP TABLE rollouts").ok());  // migration 5 (rollout_store_test.cc)
    ASSERT_TRUE((*c)->Exec("DROP TABLE serving_reports").ok());  // migration 6 (serving_store_test.cc)
    ASSERT_TRUE((*c)->Exec(kUndoMigration4).ok());  // logged_model_store_test.cc
    ASSERT_TRUE((*c)->Exec("DROP TABLE input_tags; DROP TABLE run_inputs; DROP TABLE datasets; "
                           "UPDATE forja_schema SET version = 2").ok());
  }
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(*s);
  EXPECT_TRUE(InputsOf(run).empty());
  ASSERT_TRUE(store_->LogInputs(run, {Input("train", "abc", "training")}).ok());
  EXPECT_EQ(InputsOf(run).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, DatasetStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
