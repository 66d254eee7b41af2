// The metadata store: experiments, runs (params, metric series, tags, lineage,
// artifacts), the model registry (models, versions, stages, aliases, an
// append-only history) and API tokens, behind one interface. Implementations:
// SQL over SQLite or PostgreSQL (sql_store.cc), and a forja server over HTTP
// (api/rest_store.h). The shapes follow MLflow's REST API, whose clients read
// them: ids are strings, times are milliseconds since the epoch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja::meta {

struct Tag {
  std::string key, value;
};

struct Experiment {
  std::string id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage = "active";
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
  // MLflow 3: the LoggedModel and the dataset the value is about (all optional); run_id
  // is filled where a metric is read without its run (a LoggedModel's metrics).
  std::string model_id;
  std::string dataset_name;
  std::string dataset_digest;
  std::string run_id;
};

struct Param {
  std::string key, value;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string status = "RUNNING";  // RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage = "active";
};

// What a run consumed or produced, named by content hash (sha256:<hex>).
struct LineageItem {
  std::string direction;  // "input" or "output"
  std::string path;
  std::string hash;
  std::string kind;  // "file", "dir", "model", ...
  int64_t size = 0;
};

// A dataset a run used (MLflow's log_input): one per experiment, name and digest; logging
// the same again reuses it. schema and profile are JSON text, absent when not given.
struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;  // "local", "http", "s3", "code", ...
  std::string source;       // JSON text naming where the data came from
  std::optional<std::string> schema;
  std::optional<std::string> profile;
};

// One line of experiments/search-datasets; context is the input's mlflow.data.context tag.
struct DatasetSummary {
  std::string experiment_id, name, digest, context;
};

// A dataset as input of a run, with the input's tags (mlflow.data.context: "training", ...).
struct DatasetInput {
  Dataset dataset;
  std::vector<Tag> tags;
};

// A LoggedModel a run used (runs/log-inputs' models) or produced (runs/outputs, at a step).
struct ModelIo {
  std::string model_id;
  int64_t step = 0;  // outputs only
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // the latest value of each key
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> inputs;  // in the order first logged
  std::vector<ModelIo> model_inputs, model_outputs;
};

// MLflow 3's LoggedModel: a model of an experiment with its own artifact folder
// (<experiment artifact location>/models/<model_id>/artifacts), tags, params and metrics.
// ids are "m-" and 32 hex digits. status: PENDING until finalized READY or FAILED.
struct LoggedModel {
  std::string model_id;
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string status = "PENDING";  // PENDING, READY, FAILED
  std::string status_message;
  std::string model_type;
  std::string source_run_id;
  std::string lifecycle_stage = "active";
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;  // every point logged with this model_id, with its run_id
};


struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage = "None";  // None, Staging, Production, Archived
  std::string description;
  std::string source;
  std::string run_id;
  std::string run_link;
  std::string status = "READY";
  std::string package_hash;  // sha256:<hex> of the model package's manifest, if forja stored it
  std::string model_id;          // the MLflow 3 LoggedModel registered, if any
  std::string storage_location;  // where the files are when source is not (models:/m-...): get-download-uri
  std::vector<Tag> tags;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<Tag> tags;
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> version
  std::vector<ModelVersion> latest_versions;             // the newest per stage
};

// One entry of a model's history; entries are only ever appended.
struct Transition {
  int64_t id = 0;
  std::string name;
  int64_t version = 0;
  std::string kind;  // "registered", "stage", "alias", "alias_removed", "deleted"
  std::string from, to;
  std::string user;
  int64_t time = 0;
  std::string comment;
  bool forced = false;  // a failing gate was overridden
  std::string gates;    // what the gates said, one line each
};

// A progressive rollout (forja rollout): a candidate version takes a growing share of
// the traffic of every forja serve that follows the model's stage or alias, step by
// step, until it takes the stage/alias (completed) or the share goes back to 0
// (rolled_back, aborted). At most one rollout of a model is running at a time; every
// change appends a history entry of kind "rollout".
struct Rollout {
  int64_t id = 0;             // store-assigned, increasing
  std::string name;           // the registered model
  std::string target;         // what the candidate takes at the end: a stage ("Production") or "@" + alias
  int64_t from_version = 0;   // the version holding target when the rollout began (0: none)
  int64_t to_version = 0;     // the candidate
  int weight = 0;             // percent of the traffic the candidate gets now, 0..100
  std::string state;          // running | completed | rolled_back | aborted
  std::string steps;          // the planned weights, "5,25,50,100"
  std::string user;
  int64_t started = 0;        // ms since the epoch
  int64_t updated = 0;        // ms; a running rollout's controller touches it at least every kRolloutTouchMs
  std::string message;        // why it ended (rolled_back, aborted), or the last step's checks
};

// A running rollout's controller writes its record at every step and at least this often.
constexpr int64_t kRolloutTouchMs = 60000;
// A running rollout not written for this long lost its controller (killed with SIGKILL, its
// machine gone): servers stop sending it traffic, and forja rollout status says so.
constexpr int64_t kRolloutStaleMs = 5 * kRolloutTouchMs;
inline bool RolloutStale(const Rollout& r, int64_t now_ms) {
  return r.state == "running" && now_ms - r.updated > kRolloutStaleMs;
}

// What one forja serve instance reported last (serve/report.h builds it; the web UI's
// serving page shows it): its models' versions, routes, traffic, latency, errors, drift,
// quality and staleness, as JSON text the store keeps whole, one row per instance, replaced
// by each report. In the store rather than a server's memory: every replica of forja server
// sees every instance.
struct ServingReport {
  std::string instance;  // the instance's id ("host:port" unless forja serve --instance-id)
  int64_t received = 0;  // ms since the epoch, by the store's writer's clock (not the reporter's)
  std::string report;    // the report's JSON text
};
constexpr size_t kMaxServingReportBytes = 256u << 10;
constexpr size_t kMaxServingInstanceIdBytes = 200;
// An instance that has not reported for this long leaves the list (and the store, at the next report).
constexpr int64_t kServingReportExpireMs = 3600 * 1000;
// At most this many instances are listed (the newest reports).
constexpr size_t kMaxServingInstances = 1000;

struct Token {
  int64_t id = 0;
  std::string name;
  std::string role;  // read, write, admin
  int64_t created = 0;
  bool revoked = false;
  int64_t last_used = 0;
};

// An alert Alertmanager sent to forja server (POST /api/2.0/forja/alerts), kept against the
// model version its labels name. One row per alert (fingerprint) and start: a later
// notification of the same alert (still firing, or resolved) updates the row.
struct ModelAlert {
  std::string fingerprint;  // Alertmanager's identity of the alert (a hash of its labels)
  int64_t starts_at = 0;    // ms since the epoch
  std::string name;         // labels.alertname
  std::string status;       // firing | resolved
  std::string model;        // labels.model; empty for an alert about a server, not a model
  std::string version;      // labels.version, as text; empty likewise
  std::string severity;     // labels.severity
  int64_t ends_at = 0;      // ms; 0 while firing
  std::string labels;       // every label, a JSON object
  std::string annotations;  // summary, description, runbook...: a JSON object
  int64_t received = 0;     // ms: when forja server last heard of it
};

struct ArtifactEntry {
  std::string path;  // relative to the listed folder
  bool is_dir = false;
  int64_t size = 0;
  std::string hash;  // files only
};

enum class ViewType { kActive = 1, kDeleted = 2, kAll = 3 };

struct Page {
  int64_t max_results = 1000;
  std::string token;  // from a previous page's next_page_token
};

template <typename T>
struct Paged {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  std::string filter;                 // MLflow's grammar: metrics.x > 1 and params.y = 'a'
  std::vector<std::string> order_by;  // "metrics.auc DESC", "attributes.start_time"
  ViewType view = ViewType::kActive;
  Page page;
};

// The web UI's runs table: one window (offset, limit) of a run search in one experiment,
// its rows carrying only the params, metrics and tags named (api/runs_window_routes.cc).
constexpr int64_t kMaxRunWindow = 1000;              // rows in one window
constexpr int64_t kMaxRunWindowOffset = 100000000;   // a window starts at most this far in
constexpr size_t kMaxRunWindowColumns = 500;         // params + metrics + tags asked for
constexpr int64_t kMaxRunGroups = 1000;              // groups of GroupRuns, the largest first
struct RunWindowQuery {
  RunQuery search;  // one experiment; its page is unused
  int64_t offset = 0, limit = 100;
  std::vector<std::string> params, metrics, tags;
};

struct RunWindow {
  int64_t total = 0;  // every run the search matches
  std::vector<Run> runs;
};

// The keys the runs of an experiment have, sorted.
struct RunKeys {
  std::vector<std::string> params, metrics, tags;
};

// Many metric histories at once, for the web UI's charts (sql_metric_histories.cc): a
// series per asked run and key, in that order (empty where the run never logged the key).
// No keys: every key these runs logged, sorted (more than max_keys is refused). At most
// max_points points in all; past them, series are cut and `truncated` says so.
struct HistoriesQuery {
  std::vector<std::string> run_ids, keys;
  size_t max_keys = 100;
  int64_t max_points = 1'000'000;
};
// A series' points ordered by step, time and value; a point logged twice (same step, time
// and value) is one point.
struct MetricSeries {
  std::string run_id, key;
  std::vector<int64_t> steps, timestamps;
  std::vector<double> values;  // NaN and infinities as they are
};
struct MetricHistories {
  std::vector<MetricSeries> series;
  bool truncated = false;
};

// The runs of a search that share one value of a param (none: they lack the param), with
// the min, mean and max of each metric over the runs that have it.
struct MetricStats {
  std::string key;
  int64_t count = 0;
  double min = 0, mean = 0, max = 0;
};
struct RunGroup {
  std::optional<std::string> value;
  int64_t count = 0;
  std::vector<MetricStats> metrics;
};

struct Query {
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view = ViewType::kActive;
  Page page;
};

// logged-models/search: MLflow's SearchLoggedModels.
struct LoggedModelQuery {
  struct Dataset {
    std::string name, digest;  // digest optional
  };
  struct Order {
    std::string field;  // an attribute ("creation_timestamp") or "metrics.<key>"
    bool ascending = true;
    std::string dataset_name, dataset_digest;  // metrics only
  };
  std::vector<std::string> experiment_ids;
  std::string filter;              // attributes, metrics., params., tags. joined by AND
  std::vector<Dataset> datasets;   // metric clauses (or, alone, any metric) on these datasets
  std::vector<Order> order_by;
  Page page;
};

// What promotion gates read: a version and its source run's latest metrics,
// params and tags.
struct VersionFacts {
  ModelVersion version;
  std::map<std::string, double> metrics;
  std::map<std::string, std::string> params, tags;
};

// A move of a version to a stage ("Production", ...) or onto an alias ("@champion").
struct Promotion {
  std::string name;
  int64_t version = 0;
  std::string target;  // a stage name, or "@" + alias
  bool archive_existing = false;
  std::string user;
  std::string comment;
  bool force = false;
};

// The candidate and the versions currently holding each stage and alias of the
// model ("production", "staging", "@champion"), read inside the transaction that
// moves the version, so a gate compares against the state it replaces.
struct PromotionFacts {
  VersionFacts candidate;
  std::map<std::string, VersionFacts> holders;
};

// Called inside the promotion's transaction: fails to refuse it; `report` gets
// what the gates said, `forced` whether a failing gate was overridden.
using GateCheck = std::function<Status(const PromotionFacts&, std::string* report, bool* forced)>;

// What a model holds now, read under the model's lock by a rename or a deletion
// so that the roles' check (registry/roles.h) cannot race a promotion.
struct ModelHoldings {
  std::map<int64_t, std::string> stages;                 // version -> its stage, for versions not in None
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> version
};

// Called inside a rename's or deletion's transaction: fails to refuse it.
using HoldingsCheck = std::function<Status(const ModelHoldings&)>;

class MetaStore {
 public:
  virtual ~MetaStore() = default;

 protected:
  Result<LoggedModel> NoLoggedModels(const std::string& what) const {
    return Status::User("this store (" + uri() + ") does not keep MLflow 3 LoggedModels: '" + what +
                        "' was not read or stored; use a SQL store or forja server");
  }

 public:

  // "sqlite:///path", "postgresql://...", "http://host:port".
  virtual std::string uri() const = 0;
  // A remote store checks gates and permissions itself (on the server).
  virtual bool remote() const { return false; }

  // ---- tracking ------------------------------------------------------------
  virtual Result<std::string> CreateExperiment(const std::string& name, const std::string& artifact_location,
                                               const std::vector<Tag>& tags) = 0;
  virtual Result<Experiment> GetExperiment(const std::string& id) = 0;
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual Result<Paged<Experiment>> SearchExperiments(const Query& q) = 0;
  virtual Status RenameExperiment(const std::string& id, const std::string& new_name) = 0;
  virtual Status SetExperimentLifecycle(const std::string& id, bool deleted) = 0;
  virtual Status SetExperimentTag(const std::string& id, const Tag& tag) = 0;
  // NotFound when the experiment or the tag does not exist (as MLflow's SQL store).
  virtual Status DeleteExperimentTag(const std::string& id, const std::string& key) = 0;

  virtual Result<Run> CreateRun(const std::string& experiment_id, const std::string& user_id,
                                const std::string& run_name, int64_t start_time, const std::vector<Tag>& tags) = 0;
  // Fields left empty are kept.
  virtual Result<RunInfo> UpdateRun(const std::string& run_id, const std::string& status,
                                    std::optional<int64_t> end_time, const std::string& run_name) = 0;
  virtual Status SetRunLifecycle(const std::string& run_id, bool deleted) = 0;
  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  // log-batch, log-metric, log-parameter and set-tag, all-or-nothing.
  virtual Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  virtual Status DeleteRunTag(const std::string& run_id, const std::string& key) = 0;
  // runs/log-inputs, all-or-nothing: a dataset already in the run's experiment (same name and
  // digest) is reused as it was stored, and an input the run already has keeps its tags.
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) = 0;
  // experiments/search-datasets: the distinct (experiment, name, digest, context) of the datasets
  // runs of these experiments used, at most 1000, as MLflow's SQL store answers it.
  virtual Result<std::vector<DatasetSummary>> SearchDatasets(const std::vector<std::string>& experiment_ids) = 0;
  virtual Result<Paged<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                                 const Page& page) = 0;
  virtual Result<Paged<Run>> SearchRuns(const RunQuery& q) = 0;
  // The web UI's runs table (sql_run_window.cc); a forja server store does not answer them.
  virtual Result<RunWindow> SearchRunWindow(const RunWindowQuery& q) {
    (void)q;
    return Status::User("this store (" + uri() + ") does not answer the runs table's window queries");
  }
  virtual Result<RunKeys> ListRunKeys(const std::string& experiment_id) {
    return Status::User("this store (" + uri() + ") does not list the keys of experiment " + experiment_id);
  }
  // A forja server store asks metrics/get-history per series (GetMetricHistory).
  virtual Result<MetricHistories> GetMetricHistories(const HistoriesQuery& q);
  // At most kMaxRunGroups groups, the largest first.
  virtual Result<std::vector<RunGroup>> GroupRuns(const RunWindowQuery& q, const std::string& param) {
    (void)q;
    return Status::User("this store (" + uri() + ") does not group runs by " + param);
  }

  // ---- MLflow 3's LoggedModels (sql_logged_models.cc) ------------------------
  // A forja server store (RestStore) does not carry them: the defaults say so.
  virtual Result<LoggedModel> CreateLoggedModel(const LoggedModel& m) { return NoLoggedModels(m.name); }
  // A deleted model is NotFound unless allow_deleted.
  virtual Result<LoggedModel> GetLoggedModel(const std::string& id, bool allow_deleted = false) {
    (void)allow_deleted;
    return NoLoggedModels(id);
  }
  // status: READY or FAILED.
  virtual Result<LoggedModel> FinalizeLoggedModel(const std::string& id, const std::string& status) {
    (void)status;
    return NoLoggedModels(id);
  }
  virtual Status DeleteLoggedModel(const std::string& id) { return NoLoggedModels(id).status(); }
  virtual Status SetLoggedModelTags(const std::string& id, const std::vector<Tag>& tags) {
    (void)tags;
    return NoLoggedModels(id).status();
  }
  virtual Status DeleteLoggedModelTag(const std::string& id, const std::string& key) {
    (void)key;
    return NoLoggedModels(id).status();
  }
  // A param logged again with another value is refused, as for runs.
  virtual Status LogLoggedModelParams(const std::string& id, const std::vector<Param>& params) {
    (void)params;
    return NoLoggedModels(id).status();
  }
  virtual Result<Paged<LoggedModel>> SearchLoggedModels(const LoggedModelQuery& q) {
    (void)q;
    return NoLoggedModels("").status();
  }
  // runs/log-inputs' models and runs/outputs: each model must exist; logging one again is a no-op.
  virtual Status LogModelIo(const std::string& run_id, bool output, const std::vector<ModelIo>& models) {
    (void)output, (void)models;
    return NoLoggedModels(run_id).status();
  }

  virtual Status LogLineage(const std::string& run_id, const std::vector<LineageItem>& items) = 0;
  virtual Result<std::vector<LineageItem>> GetLineage(const std::string& run_id) = 0;
  // Runs whose lineage names `hash` (as input or output).
  virtual Result<std::vector<std::pair<std::string, LineageItem>>> FindLineage(const std::string& hash) = 0;

  // Artifacts: a path under the artifact root ("<exp>/<run>/artifacts/model/x")
  // names an object by hash; listing a folder gives its direct children.
  virtual Status PutArtifact(const std::string& path, const std::string& hash, int64_t size) = 0;
  virtual Result<ArtifactEntry> GetArtifact(const std::string& path) = 0;
  virtual Result<std::vector<ArtifactEntry>> ListArtifacts(const std::string& folder) = 0;
  virtual Status DeleteArtifacts(const std::string& path) = 0;
  // Every object the store names (artifacts and model packages, "sha256:<hex>"),
  // so a gc of the cache they live in keeps them.
  virtual Result<std::vector<std::string>> ReferencedObjects() = 0;

  // ---- registry ------------------------------------------------------------
  virtual Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& description,
                                                        const std::vector<Tag>& tags) = 0;
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  virtual Result<RegisteredModel> UpdateRegisteredModel(const std::string& name, const std::string& description) = 0;
  virtual Result<RegisteredModel> RenameRegisteredModel(const std::string& name, const std::string& new_name) = 0;
  virtual Status DeleteRegisteredModel(const std::string& name, const std::string& user) = 0;
  virtual Result<Paged<RegisteredModel>> SearchRegisteredModels(const Query& q) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, const Tag& tag) = 0;
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;

  // Numbers versions 1, 2, ... per model, without gaps, under any concurrency.
  virtual Result<ModelVersion> CreateModelVersion(const ModelVersion& v) = 0;
  virtual Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) = 0;
  virtual Result<ModelVersion> UpdateModelVersion(const std::string& name, int64_t version,
                                                  const std::string& description) = 0;
  virtual Status DeleteModelVersion(const std::string& name, int64_t version, const std::string& user) = 0;
  virtual Result<Paged<ModelVersion>> SearchModelVersions(const Query& q) = 0;
  virtual Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                              const std::vector<std::string>& stages) = 0;
  virtual Status SetModelVersionTag(const std::string& name, int64_t version, const Tag& tag) = 0;
  virtual Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) = 0;

  // Moves a version to a stage or an alias atomically with `check` and the
  // history entry. An empty check passes.
  virtual Result<ModelVersion> Promote(const Promotion& p, const GateCheck& check) = 0;
  virtual Status DeleteAlias(const std::string& name, const std::string& alias, const std::string& user) = 0;
  virtual Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) = 0;

  // Renames and deletions refused by `check` (the roles' escalations), which runs
  // inside the change's transaction after the model's lock. A forja server store
  // has no such transaction: the server runs the check itself, so the default
  // (used by RestStore) just makes the change.
  virtual Result<RegisteredModel> RenameRegisteredModelIf(const std::string& name, const std::string& new_name,
                                                          const HoldingsCheck& check) {
    (void)check;
    return RenameRegisteredModel(name, new_name);
  }
  virtual Status DeleteRegisteredModelIf(const std::string& name, const std::string& user, const HoldingsCheck& check) {
    (void)check;
    return DeleteRegisteredModel(name, user);
  }
  virtual Status DeleteModelVersionIf(const std::string& name, int64_t version, const std::string& user,
                                      const HoldingsCheck& check) {
    (void)check;
    return DeleteModelVersion(name, version, user);
  }
  // The model's history (of one version when version > 0), oldest first.
  virtual Result<std::vector<Transition>> History(const std::string& name, int64_t version) = 0;

  // ---- rollouts (registry/rollout.h) -------------------------------------------
  // Starts a rollout (state running): Conflict when one of the model is running.
  // The check and the insert are one transaction, so two starters cannot both win.
  virtual Result<Rollout> BeginRollout(const Rollout& r) {
    (void)r;
    return Status::Internal("this store does not keep rollouts");
  }
  // Moves the running rollout `r.id` to r.weight / r.state / r.message (and touches
  // `updated`), appending a history entry (none when only `updated` moves: a controller's
  // heartbeat); Conflict when it is no longer running.
  virtual Result<Rollout> UpdateRollout(const Rollout& r) {
    (void)r;
    return Status::Internal("this store does not keep rollouts");
  }
  // ---- serving reports (ServingReport) ------------------------------------------
  // Replaces the instance's report (received = now) and deletes those expired.
  virtual Status PutServingReport(const ServingReport& r) {
    (void)r;
    return Status::Internal("this store does not keep serving reports");
  }
  // The reports received within kServingReportExpireMs, newest first, at most kMaxServingInstances.
  virtual Result<std::vector<ServingReport>> ListServingReports() {
    return Status::Internal("this store does not keep serving reports");
  }

  // The model's newest rollout (running or ended); NotFound when it never had one.
  virtual Result<Rollout> GetRollout(const std::string& name) {
    (void)name;
    return Status::NotFound("no rollout");
  }

  // ---- alerts (Alertmanager's, through forja server's webhook) ------------------
  virtual Status RecordAlert(const ModelAlert& alert) = 0;
  // A model's alerts (every model's when empty; one version's when version is set), the
  // latest heard of first, at most `limit`.
  virtual Result<std::vector<ModelAlert>> ListAlerts(const std::string& model, const std::string& version,
                                                     int limit) = 0;

  // ---- tokens (the server's; never over HTTP) ----------------------------------
  // Token rows are never deleted (a revoked token stays, marked revoked): a store
  // that has had a token keeps requiring one under `forja server --auth auto`, even
  // after the last is revoked; only `--auth off` opens it again.
  virtual Status CreateToken(const std::string& name, const std::string& role, const std::string& hash) = 0;
  virtual Status RevokeToken(const std::string& name) = 0;
  virtual Result<std::vector<Token>> ListTokens() = 0;
  // The active token with this hash, or NotFound.
  virtual Result<Token> FindToken(const std::string& hash) = 0;

  // Refreshes what the query planner knows of the tables' sizes (SQLite's ANALYZE; a
  // no-op where the database does it itself). forja server calls it at start and hourly.
  virtual Status RefreshPlannerStats() { return Status::Ok(); }
};

// Opens a SQL store: "sqlite:///abs/path" (or "sqlite:relative", or a plain path
// ending in .db) and "postgresql://" / "postgres://" URIs. Applies migrations.
Result<std::unique_ptr<MetaStore>> OpenSqlStore(const std::string& uri);

// The canonical stage name ("production" -> "Production"), or empty if unknown.
std::string CanonicalStage(const std::string& stage);

// Whether `alias` may name an alias: alphanumerics, _ and -; not latest, v<N>,
// version<N> (MLflow's), nor a stage name in any case (NAME@production means the
// stage to forja and to MLflow clients alike).
Status CheckAliasName(const std::string& alias);

// Milliseconds since the epoch.
int64_t NowMs();

}  // namespace forja::meta
