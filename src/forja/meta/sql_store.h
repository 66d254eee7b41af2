// The SQL implementation of MetaStore, shared by SQLite and PostgreSQL.
// Internal to meta/: the rest of forja sees store.h only.
#pragma once

#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <mutex>

#include "forja/meta/filter.h"
#include "forja/meta/sql.h"
#include "forja/meta/store.h"

namespace forja::meta {

// Connections, made on demand up to a limit; each thread borrows one per call.
class ConnPool {
 public:
  ConnPool(std::function<Result<std::unique_ptr<SqlConn>>()> open, size_t max) : open_(std::move(open)), max_(max) {}

  class Lease {
   public:
    Lease(ConnPool* p, std::unique_ptr<SqlConn> c) : pool_(p), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    SqlConn& operator*() { return *conn_; }
    SqlConn* operator->() { return conn_.get(); }

   private:
    ConnPool* pool_;
    std::unique_ptr<SqlConn> conn_;
  };

  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<SqlConn> c);

  std::function<Result<std::unique_ptr<SqlConn>>()> open_;
  size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConn>> idle_;
  size_t open_count_ = 0;
};

struct RunSearchSql;  // below

class SqlStore : public MetaStore {
 public:
  SqlStore(std::string uri, Dialect dialect, std::unique_ptr<ConnPool> pool)
      : uri_(std::move(uri)), dialect_(dialect), pool_(std::move(pool)) {}

  Status Migrate();
  Status RefreshPlannerStats() override;

  std::string uri() const override { return uri_; }

  Result<std::string> CreateExperiment(const std::string& name, const std::string& artifact_location,
                                       const std::vector<Tag>& tags) override;
  Result<Experiment> GetExperiment(const std::string& id) override;
  Result<Experiment> GetExperimentByName(const std::string& name) override;
  Result<Paged<Experiment>> SearchExperiments(const Query& q) override;
  Status RenameExperiment(const std::string& id, const std::string& new_name) override;
  Status SetExperimentLifecycle(const std::string& id, bool deleted) override;
  Status SetExperimentTag(const std::string& id, const Tag& tag) override;
  Status DeleteExperimentTag(const std::string& id, const std::string& key) override;

  Result<Run> CreateRun(const std::string& experiment_id, const std::string& user_id, const std::string& run_name,
                        int64_t start_time, const std::vector<Tag>& tags) override;
  Result<RunInfo> UpdateRun(const std::string& run_id, const std::string& status, std::optional<int64_t> end_time,
                            const std::string& run_name) override;
  Status SetRunLifecycle(const std::string& run_id, bool deleted) override;
  Result<Run> GetRun(const std::string& run_id) override;
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics, const std::vector<Param>& params,
                  const std::vector<Tag>& tags) override;
  Status DeleteRunTag(const std::string& run_id, const std::string& key) override;
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) override;
  Result<std::vector<DatasetSummary>> SearchDatasets(const std::vector<std::string>& experiment_ids) override;
  Result<Paged<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                         const Page& page) override;
  Result<Paged<Run>> SearchRuns(const RunQuery& q) override;
  // The web UI's runs table (sql_run_window.cc).
  Result<RunWindow> SearchRunWindow(const RunWindowQuery& q) override;
  Result<RunKeys> ListRunKeys(const std::string& experiment_id) override;
  Result<std::vector<RunGroup>> GroupRuns(const RunWindowQuery& q, const std::string& param) override;
  Result<MetricHistories> GetMetricHistories(const HistoriesQuery& q) override;  // sql_metric_histories.cc

  Result<LoggedModel> CreateLoggedModel(const LoggedModel& m) override;
  Result<LoggedModel> GetLoggedModel(const std::string& id, bool allow_deleted) override;
  Result<LoggedModel> FinalizeLoggedModel(const std::string& id, const std::string& status) override;
  Status DeleteLoggedModel(const std::string& id) override;
  Status SetLoggedModelTags(const std::string& id, const std::vector<Tag>& tags) override;
  Status DeleteLoggedModelTag(const std::string& id, const std::string& key) override;
  Status LogLoggedModelParams(const std::string& id, const std::vector<Param>& params) override;
  Result<Paged<LoggedModel>> SearchLoggedModels(const LoggedModelQuery& q) override;
  Status LogModelIo(const std::string& run_id, bool output, const std::vector<ModelIo>& models) override;

  Status LogLineage(const std::string& run_id, const std::vector<LineageItem>& items) override;
  Result<std::vector<LineageItem>> GetLineage(const std::string& run_id) override;
  Result<std::vector<std::pair<std::string, LineageItem>>> FindLineage(const std::string& hash) override;

  Status PutArtifact(const std::string& path, const std::string& hash, int64_t size) override;
  Result<ArtifactEntry> GetArtifact(const std::string& path) override;
  Result<std::vector<ArtifactEntry>> ListArtifacts(const std::string& folder) override;
  Status DeleteArtifacts(const std::string& path) override;
  Result<std::vector<std::string>> ReferencedObjects() override;

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& description,
                                                const std::vector<Tag>& tags) override;
  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override;
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name, const std::string& description) override;
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name, const std::string& new_name) override;
  Status DeleteRegisteredModel(const std::string& name, const std::string& user) override;
  Result<Paged<RegisteredModel>> SearchRegisteredModels(const Query& q) override;
  Status SetRegisteredModelTag(const std::string& name, const Tag& tag) override;
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override;

  Result<ModelVersion> CreateModelVersion(const ModelVersion& v) override;
  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override;
  Result<ModelVersion> UpdateModelVersion(const std::string& name, int64_t version,
                                          const std::string& description) override;
  Status DeleteModelVersion(const std::string& name, int64_t version, const std::string& user) override;
  Result<Paged<ModelVersion>> SearchModelVersions(const Query& q) override;
  Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                      const std::vector<std::string>& stages) override;
  Status SetModelVersionTag(const std::string& name, int64_t version, const Tag& tag) override;
  Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) override;

  Result<ModelVersion> Promote(const Promotion& p, const GateCheck& check) override;
  Status DeleteAlias(const std::string& name, const std::string& alias, const std::string& user) override;
  Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) override;
  Result<RegisteredModel> RenameRegisteredModelIf(const std::string& name, const std::string& new_name,
                                                  const HoldingsCheck& check) override;
  Status DeleteRegisteredModelIf(const std::string& name, const std::string& user, const HoldingsCheck& check) override;
  Status DeleteModelVersionIf(const std::string& name, int64_t version, const std::string& user,
                              const HoldingsCheck& check) override;
  Result<std::vector<Transition>> History(const std::string& name, int64_t version) override;

  Result<Rollout> BeginRollout(const Rollout& r) override;
  Result<Rollout> UpdateRollout(const Rollout& r) override;
  Result<Rollout> GetRollout(const std::string& name) override;
  Status PutServingReport(const ServingReport& r) override;
  Result<std::vector<ServingReport>> ListServingReports() override;

  Status RecordAlert(const ModelAlert& alert) override;
  Result<std::vector<ModelAlert>> ListAlerts(const std::string& model, const std::string& version, int limit) override;
  Status CreateToken(const std::string& name, const std::string& role, const std::string& hash) override;
  Status RevokeToken(const std::string& name) override;
  Result<std::vector<Token>> ListTokens() override;
  Result<Token> FindToken(const std::string& hash) override;

 private:
  // Runs fn in a transaction, again (a few times) when the database asks for it:
  // SQLite busy past its timeout, a PostgreSQL deadlock or a lost connection.
  Status Txn(bool write, const std::function<Status(SqlConn&)>& fn);
  // fn on a borrowed connection, outside a transaction (single statements).
  Status Plain(const std::function<Status(SqlConn&)>& fn);

  std::string Like(const std::string& column, bool insensitive) const;
  // runs/search's filter and order_by compiled to SQL, shared by SearchRuns and the runs table.
  Result<RunSearchSql> CompileRunSearch(const RunQuery& q) const;

  std::string uri_;
  Dialect dialect_;
  std::unique_ptr<ConnPool> pool_;
};

// ---- helpers shared by the sql_*.cc files ----------------------------------

// A run search as SQL: `from` (" FROM runs r <joins> WHERE ...") follows a SELECT of r's
// columns, `order` is the ORDER BY list, `args` are from's parameters in order.
struct RunSearchSql {
  std::string from, order;
  std::vector<SqlValue> args;
  // SQLite only, for the default order (newest first): `from` with each metric comparison
  // marked likely(). SQLite's statistics have no histograms, so for `metrics.x > 0.5` it reads
  // the metric's value index even when half the runs match, then sorts every match (0.25 s at
  // 100,000 runs for a page of 100); marked, it walks the runs newest first and stops at the
  // page (2 ms). Which is faster depends on how many match: RunSearchFrom counts each
  // comparison's matches up to a bound (`probes`, each a query and its args) to choose.
  std::string from_runs_first;
  std::vector<std::pair<std::string, std::vector<SqlValue>>> probes;
};

// The FROM for the first `rows` rows of `s`: from_runs_first when every metric comparison
// matches many runs and few rows are wanted, else `from`.
Result<std::string> RunSearchFrom(SqlConn& c, const RunSearchSql& s, int64_t rows);

// Page tokens are base64 of {"offset": N}, as MLflow's SQL store makes them.
std::string OffsetToken(int64_t offset);
Result<int64_t> OffsetFromToken(const std::string& token);
Status CheckMaxResults(int64_t max_results, int64_t limit);

// "?, ?, ?" for n parameters.
std::string Marks(size_t n);

// The SQL a search builds from its filter: joins on key/value tables (tags, params,
// metrics) and WHERE conditions, each list with its parameters in the order they appear.
struct SearchSql {
  std::string joins;
  std::string where;
  std::vector<SqlValue> join_args;
  std::vector<SqlValue> where_args;

  // Joins `table` under a new alias on its columns `match` equal to the searched row's
  // ({"name", "m.name"}) and its key column equal to `key`; returns the alias. A LEFT
  // join keeps the rows that lack the key.
  std::string JoinKey(const std::string& table, std::initializer_list<std::pair<const char*, const char*>> match,
                      const std::string& key, bool inner = true);
  // join_args, then where_args: the statement's parameters before LIMIT and OFFSET.
  std::vector<SqlValue> Args() const;

 private:
  int aliases_ = 0;
};

// MLflow order_by clauses ("name DESC") as SQL, "col DIR, " each; `columns` maps the
// attributes that may be sorted on, `known` says which they are in the error.
Result<std::string> OrderClause(const std::vector<std::string>& order_by,
                                const std::map<std::string, std::string>& columns, const std::string& known);

// The rows [offset, offset + limit) of `sql`, which ends in "LIMIT ? OFFSET ?" (filled in
// here after `args`, asking one row more than a page to learn whether another follows).
// *next_token becomes the next page's token, or "" on the last page.
Result<SqlRows> QueryPage(SqlConn& c, const std::string& sql, std::vector<SqlValue> args, int64_t limit,
                          int64_t offset, std::string* next_token);

Result<RunInfo> LoadRunInfo(SqlConn& c, const std::string& run_id);
// Latest metrics, params and tags of runs (in bulk).
Status LoadRunData(SqlConn& c, std::vector<Run>* runs);
// The runs' dataset inputs (sql_datasets.cc), `in` an IN list of `ids` (padded).
Status LoadRunInputs(SqlConn& c, const std::string& in, const std::vector<SqlValue>& ids,
                     std::map<std::string, Run*>& by_id);
// The runs' LoggedModel inputs and outputs (sql_logged_models.cc), as LoadRunInputs.
Status LoadRunModelIo(SqlConn& c, const std::string& in, const std::vector<SqlValue>& ids,
                      std::map<std::string, Run*>& by_id);
// The points of `metrics` that name a LoggedModel, onto its metrics, in the caller's
// transaction (LogBatch); a model_id that names no model is NotFound.
Status LogModelMetrics(SqlConn& c, const std::string& run_id, const std::vector<Metric>& metrics);
// A new version's LoggedModel (v->model_id, or a source models:/m-<id>): checks it exists,
// sets model_id, storage_location (its artifact location) and, when empty, run_id.
Status LinkLoggedModel(SqlConn& c, ModelVersion* v);
Result<ModelVersion> LoadVersion(SqlConn& c, const std::string& name, int64_t version);
Status LoadVersionExtras(SqlConn& c, std::vector<ModelVersion>* versions);

// A run's id validated (32 hex digits as MLflow makes them; anything printable is
// accepted as long as it is short, for runs imported from elsewhere).
Status CheckRunId(const std::string& run_id);
// A name of a model, experiment, key or alias: non-empty, bounded, printable.
Status CheckName(const std::string& what, const std::string& name, size_t max = 256);

// "sha256:<hex>" or empty.
bool IsHashRef(const std::string& s);

// Random ids: 32 hex digits.
std::string NewRunId();
std::string RandomRunName();

}  // namespace forja::meta
