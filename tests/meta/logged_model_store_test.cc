// MLflow 3's LoggedModels in the metadata store, on SQLite and PostgreSQL: created with ids,
// artifact folders and status as MLflow makes them, finalized, tagged, given params and the
// metric points runs log about them, searched with MLflow's grammar and ordered, deleted
// softly; runs' model inputs and outputs; a model version's link to the model; refusals.
#include <gtest/gtest.h>

#include <set>

#include "forja/meta/sql.h"
#include "forja/meta/store.h"
#include "fresh_store.h"

namespace forja::meta {
namespace {

std::string FreshUri(const std::string& kind) { return test_support::FreshUri(kind, "lm"); }

class LoggedModelStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = FreshUri(GetParam());
    if (uri_.empty()) GTEST_SKIP() << "no PostgreSQL (FORJA_TEST_PG_STATE unset)";
    auto s = OpenSqlStore(uri_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto exp = store_->CreateExperiment("lm", "mlflow-artifacts:/lm", {});
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    exp_ = *exp;
    auto r = store_->CreateRun(exp_, "tester", "", 0, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    run_ = r->info.run_id;
  }
  LoggedModel Make(const std::string& name, std::vector<Tag> tags = {}, std::vector<Param> params = {}) {
    LoggedModel m;
    m.experiment_id = exp_, m.name = name, m.source_run_id = run_, m.model_type = "sklearn";
    m.tags = std::move(tags), m.params = std::move(params);
    auto made = store_->CreateLoggedModel(m);
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? *made : LoggedModel{};
  }
  std::vector<std::string> Names(const std::string& filter, std::vector<LoggedModelQuery::Order> order = {},
                                 std::vector<LoggedModelQuery::Dataset> datasets = {}) {
    LoggedModelQuery q;
    q.experiment_ids = {exp_}, q.filter = filter, q.order_by = std::move(order), q.datasets = std::move(datasets);
    auto page = store_->SearchLoggedModels(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    std::vector<std::string> out;
    if (page.ok())
      for (const auto& m : page->items) out.push_back(m.name);
    return out;
  }
  Status Metric(const std::string& model, const std::string& key, double v, int64_t step = 0,
                const std::string& dataset = "") {
    meta::Metric m;
    m.key = key, m.value = v, m.timestamp = 1000 + step, m.step = step, m.model_id = model, m.dataset_name = dataset;
    return store_->LogBatch(run_, {m}, {}, {});
  }
  std::string uri_, exp_, run_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(LoggedModelStoreTest, CreatedAsMlflowMakesThem) {
  LoggedModel m = Make("model", {{"team", "a"}}, {{"lr", "0.1"}});
  EXPECT_TRUE(m.model_id.starts_with("m-")) << m.model_id;
  EXPECT_EQ(m.model_id.size(), 34u);
  EXPECT_EQ(m.artifact_location, "mlflow-artifacts:/lm/models/" + m.model_id + "/artifacts");
  EXPECT_EQ(m.status, "PENDING");
  auto got = store_->GetLoggedModel(m.model_id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->name, "model");
  EXPECT_EQ(got->experiment_id, exp_);
  EXPECT_EQ(got->source_run_id, run_);
  EXPECT_EQ(got->model_type, "sklearn");
  ASSERT_EQ(got->tags.size(), 1u);
  EXPECT_EQ(got->tags[0].value, "a");
  ASSERT_EQ(got->params.size(), 1u);
  EXPECT_EQ(got->params[0].key, "lr");
  LoggedModel unnamed;
  unnamed.experiment_id = exp_;
  auto made = store_->CreateLoggedModel(unnamed);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_FALSE(made->name.empty()) << "a model without a name gets one, as MLflow's";
}

TEST_P(LoggedModelStoreTest, FinalizeTagsParamsAndDelete) {
  LoggedModel m = Make("model");
  auto fin = store_->FinalizeLoggedModel(m.model_id, "READY");
  ASSERT_TRUE(fin.ok()) << fin.status().message();
  EXPECT_EQ(fin->status, "READY");
  EXPECT_EQ(store_->FinalizeLoggedModel(m.model_id, "DONE").status().code(), Code::kUser);
  ASSERT_TRUE(store_->SetLoggedModelTags(m.model_id, {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(store_->SetLoggedModelTags(m.model_id, {{"a", "3"}}).ok());
  ASSERT_TRUE(store_->DeleteLoggedModelTag(m.model_id, "b").ok());
  EXPECT_EQ(store_->DeleteLoggedModelTag(m.model_id, "b").code(), Code::kNotFound);
  auto got = store_->GetLoggedModel(m.model_id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->tags.size(), 1u);
  EXPECT_EQ(got->tags[0].key + "=" + got->tags[0].value, "a=3");
  ASSERT_TRUE(store_->LogLoggedModelParams(m.model_id, {{"p", "1"}}).ok());
  EXPECT_TRUE(store_->LogLoggedModelParams(m.model_id, {{"p", "1"}}).ok()) << "the same value again is fine";
  EXPECT_EQ(store_->LogLoggedModelParams(m.model_id, {{"p", "2"}}).code(), Code::kUser);
  ASSERT_TRUE(store_->DeleteLoggedModel(m.model_id).ok());
  EXPECT_EQ(store_->GetLoggedModel(m.model_id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetLoggedModel(m.model_id, true).ok()) << "allow_deleted reads it";
  EXPECT_TRUE(Names("").empty()) << "a deleted model is not found by a search";
  EXPECT_EQ(store_->SetLoggedModelTags(m.model_id, {{"a", "1"}}).code(), Code::kNotFound);
}

TEST_P(LoggedModelStoreTest, RefusesMalformedInput) {
  LoggedModel m;
  m.experiment_id = exp_;
  m.name = "a/b";
  EXPECT_EQ(store_->CreateLoggedModel(m).status().code(), Code::kUser);
  m.name = "ok";
  m.tags = {{"", "v"}};
  EXPECT_EQ(store_->CreateLoggedModel(m).status().code(), Code::kUser);
  m.tags.clear();
  m.experiment_id = "424242";
  EXPECT_EQ(store_->CreateLoggedModel(m).status().code(), Code::kNotFound);
  m.experiment_id = exp_;
  m.source_run_id = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(store_->CreateLoggedModel(m).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetLoggedModel("m-' OR 1=1 --").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetLoggedModel("m-00000000000000000000000000000000").status().code(), Code::kNotFound);
  EXPECT_EQ(Metric("m-00000000000000000000000000000000", "acc", 1).code(), Code::kNotFound);
  auto run = store_->GetRun(run_);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->metrics.empty()) << "a metric about an unknown model stored nothing";
}

TEST_P(LoggedModelStoreTest, MetricsAboutAModelAreOnItAndInTheRunsHistory) {
  LoggedModel m = Make("model");
  ASSERT_TRUE(Metric(m.model_id, "acc", 0.5, 0, "eval").ok());
  ASSERT_TRUE(Metric(m.model_id, "acc", 0.9, 1, "eval").ok());
  auto got = store_->GetLoggedModel(m.model_id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->metrics.size(), 2u);
  EXPECT_EQ(got->metrics[1].value, 0.9);
  EXPECT_EQ(got->metrics[1].run_id, run_);
  EXPECT_EQ(got->metrics[1].dataset_name, "eval");
  auto h = store_->GetMetricHistory(run_, "acc", {});
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->items.size(), 2u);
  EXPECT_EQ(h->items[0].model_id, m.model_id);
  EXPECT_EQ(h->items[0].dataset_name, "eval");
}

TEST_P(LoggedModelStoreTest, SearchFiltersAndOrders) {
  LoggedModel a = Make("alpha", {{"team", "x"}}, {{"depth", "3"}});
  LoggedModel b = Make("beta", {{"team", "y"}}, {{"depth", "5"}});
  LoggedModel c = Make("gamma");
  ASSERT_TRUE(Metric(a.model_id, "acc", 0.95, 0, "eval").ok());
  ASSERT_TRUE(Metric(b.model_id, "acc", 0.7, 0, "train").ok());
  ASSERT_TRUE(store_->FinalizeLoggedModel(b.model_id, "READY").ok());
  (void)c;
  // The default order is the newest first, then the id: models made in one millisecond are in id order.
  auto all = Names("");
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), (std::set<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(Names("metrics.acc > 0.9"), std::vector<std::string>{"alpha"});
  EXPECT_EQ(Names("params.depth = '5'"), std::vector<std::string>{"beta"});
  EXPECT_EQ(Names("tags.team IN ('x', 'y') AND name LIKE 'a%'"), std::vector<std::string>{"alpha"});
  EXPECT_EQ(Names("status = 'READY'"), std::vector<std::string>{"beta"});
  EXPECT_EQ(Names("status = 'LOGGED_MODEL_READY'"), std::vector<std::string>{"beta"});
  EXPECT_EQ(Names("", {}, {{"eval", ""}}), std::vector<std::string>{"alpha"}) << "any metric on the dataset";
  EXPECT_EQ(Names("metrics.acc > 0.5", {}, {{"train", ""}}), std::vector<std::string>{"beta"});
  EXPECT_EQ(Names("", {{"metrics.acc", true, "", ""}}), (std::vector<std::string>{"beta", "alpha", "gamma"}))
      << "ascending by the metric, models without it last";
  EXPECT_EQ(Names("", {{"metrics.acc", false, "", ""}}), (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(Names("", {{"name", false, "", ""}}), (std::vector<std::string>{"gamma", "beta", "alpha"}));
  // Pages.
  LoggedModelQuery q;
  q.experiment_ids = {exp_};
  q.order_by = {{"name", true, "", ""}};
  q.page.max_results = 2;
  auto p1 = store_->SearchLoggedModels(q);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->next_page_token.empty());
  q.page.token = p1->next_page_token;
  auto p2 = store_->SearchLoggedModels(q);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].name, "gamma");
  EXPECT_TRUE(p2->next_page_token.empty());
  // Refusals.
  for (const char* bad : {"metrics.acc > 'x'", "colour = 'red'", "datasets.name = 'x'", "params.depth > 3",
                          "creation_timestamp = 'x'"}) {
    LoggedModelQuery b;
    b.experiment_ids = {exp_};
    b.filter = bad;
    EXPECT_EQ(store_->SearchLoggedModels(b).status().code(), Code::kUser) << bad;
  }
  LoggedModelQuery bo;
  bo.experiment_ids = {exp_};
  bo.order_by = {{"params.depth", true, "", ""}};
  EXPECT_EQ(store_->SearchLoggedModels(bo).status().code(), Code::kUser);
}

TEST_P(LoggedModelStoreTest, RunsInputsAndOutputsAndVersionLinks) {
  LoggedModel m = Make("model");
  ASSERT_TRUE(store_->LogModelIo(run_, true, {{m.model_id, 3}}).ok());
  ASSERT_TRUE(store_->LogModelIo(run_, true, {{m.model_id, 3}}).ok()) << "again is a no-op";
  ASSERT_TRUE(store_->LogModelIo(run_, false, {{m.model_id, 0}}).ok());
  EXPECT_EQ(store_->LogModelIo(run_, false, {{"m-11111111111111111111111111111111", 0}}).code(), Code::kNotFound);
  auto run = store_->GetRun(run_);
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->model_outputs.size(), 1u);
  EXPECT_EQ(run->model_outputs[0].model_id, m.model_id);
  EXPECT_EQ(run->model_outputs[0].step, 3);
  ASSERT_EQ(run->model_inputs.size(), 1u);

  ASSERT_TRUE(store_->CreateRegisteredModel("reg", "", {}).ok());
  ModelVersion v;
  v.name = "reg";
  v.source = "models:/" + m.model_id;
  auto made = store_->CreateModelVersion(v);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_EQ(made->model_id, m.model_id);
  EXPECT_EQ(made->storage_location, m.artifact_location);
  EXPECT_EQ(made->run_id, run_) << "the version's run is the model's";
  auto got = store_->GetModelVersion("reg", made->version);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->model_id, m.model_id);
  EXPECT_EQ(got->storage_location, m.artifact_location);
  v.source = "runs:/" + run_ + "/model";
  v.model_id = m.model_id;
  auto second = store_->CreateModelVersion(v);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->model_id, m.model_id);
  EXPECT_EQ(second->storage_location, "") << "a source with files stays the download location";
  v.source = "models:/m-22222222222222222222222222222222";
  v.model_id.clear();
  EXPECT_EQ(store_->CreateModelVersion(v).status().code(), Code::kNotFound);
}

TEST_P(LoggedModelStoreTest, KeptThroughAReopen) {
  LoggedModel m = Make("model", {{"k", "v"}});
  store_.reset();
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto got = (*s)->GetLoggedModel(m.model_id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->tags.size(), 1u);
}

// A store of version 3 (before LoggedModels) is migrated: its metrics and versions keep
// their rows, and what it gains works.
TEST_P(LoggedModelStoreTest, AStoreOfVersionThreeIsMigrated) {
  ASSERT_TRUE(store_->LogBatch(run_, {{"loss", 0.5, 1, 0}}, {}, {}).ok());
  store_.reset();
  {
    auto c = GetParam() == "sqlite" ? OpenSqlite(uri_.substr(std::string("sqlite:///").size()), {}) : OpenPostgres(uri_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("DROP TABLE rollouts").ok());  // migration 5 (rollout_store_test.cc)
    ASSERT_TRUE((*c)->Exec("DROP TABLE serving_reports").ok());  // migration 6 (serving_store_test.cc)
    ASSERT_TRUE((*c)->Exec("DROP TABLE logged_models; DROP TABLE logged_model_tags; DROP TABLE logged_model_params; "
                           "DROP TABLE logged_model_metrics; DROP TABLE run_model_io; "
                           "ALTER TABLE metrics DROP COLUMN model_id; ALTER TABLE metrics DROP COLUMN dataset_name; "
                           "ALTER TABLE metrics DROP COLUMN dataset_digest; "
                           "ALTER TABLE model_versions DROP COLUMN model_id; "
                           "ALTER TABLE model_versions DROP COLUMN storage_location; "
                           "UPDATE forja_schema SET version = 3").ok());
  }
  auto s = OpenSqlStore(uri_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(*s);
  auto h = store_->GetMetricHistory(run_, "loss", {});
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->items.size(), 1u);
  EXPECT_EQ(h->items[0].model_id, "");
  LoggedModel m = Make("after");
  EXPECT_TRUE(Metric(m.model_id, "acc", 1).ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, LoggedModelStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forja::meta
