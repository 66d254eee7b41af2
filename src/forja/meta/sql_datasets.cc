// Datasets on SQL (MLflow's runs/log-inputs): the datasets a run used and the tags of each
// input, checked against MLflow's limits (mlflow/utils/validation.py) and deduplicated as
// MLflow's SQL store does: one dataset per experiment, name and digest, one input per run
// and dataset; what is logged again is kept as first stored.
#include <map>
#include <set>
#include <utility>

#include "forja/meta/sql_store.h"

namespace forja::meta {

namespace {

// MLflow's limits, in characters (its columns are VARCHAR / TEXT / MEDIUMTEXT).
constexpr size_t kMaxInputs = 1000;  // MLFLOW's MAX_DATASETS_PER_BATCH: what its clients send at once
constexpr size_t kMaxName = 500;
constexpr size_t kMaxDigest = 36;
constexpr size_t kMaxSource = 65535;
constexpr size_t kMaxSchema = 1048575;
constexpr size_t kMaxProfile = 16777215;
constexpr size_t kMaxInputTagKey = 255;
constexpr size_t kMaxInputTagValue = 500;

// Characters of UTF-8 text (the server has checked it is UTF-8), as Python's len() counts them.
size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Status CheckField(const std::string& what, const std::string& value, size_t max, bool required) {
  if (required && value.empty()) return Status::User("dataset field '" + what + "' is required");
  if (Chars(value) > max)
    return Status::User("dataset field '" + what + "' is " + std::to_string(Chars(value)) +
                        " characters; the limit is " + std::to_string(max));
  return Status::Ok();
}

Status CheckInput(const DatasetInput& in) {
  const Dataset& d = in.dataset;
  RETURN_IF_ERROR(CheckField("name", d.name, kMaxName, true));
  RETURN_IF_ERROR(CheckField("digest", d.digest, kMaxDigest, true));
  RETURN_IF_ERROR(CheckField("source_type", d.source_type, kMaxName, true));
  RETURN_IF_ERROR(CheckField("source", d.source, kMaxSource, true));
  if (d.schema) RETURN_IF_ERROR(CheckField("schema", *d.schema, kMaxSchema, false));
  if (d.profile) RETURN_IF_ERROR(CheckField("profile", *d.profile, kMaxProfile, false));
  for (const Tag& t : in.tags) {
    if (t.key.empty()) return Status::User("an input tag of dataset '" + d.name + "' has an empty key");
    if (Chars(t.key) > kMaxInputTagKey)
      return Status::User("input tag key '" + t.key.substr(0, 40) + "...' is longer than " +
                          std::to_string(kMaxInputTagKey) + " characters");
    if (Chars(t.value) > kMaxInputTagValue)
      return Status::User("input tag '" + t.key + "' has a value longer than " + std::to_string(kMaxInputTagValue) +
                          " characters");
  }
  return Status::Ok();
}

SqlValue Optional(const std::optional<std::string>& s) { return s ? SqlValue(*s) : SqlValue(); }

// The dataset's row in the experiment: the stored one if there is one, else a new one.
Result<int64_t> DatasetId(SqlConn& c, int64_t experiment, const Dataset& d) {
  RETURN_IF_ERROR(c.Run("INSERT INTO datasets(experiment_id, name, digest, source_type, source, dataset_schema, "
                        "dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(experiment_id, name, digest) DO NOTHING",
                        {experiment, d.name, d.digest, d.source_type, d.source, Optional(d.schema),
                         Optional(d.profile)}));
  ASSIGN_OR_RETURN(SqlRows rows, c.Query("SELECT id FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
                                         {experiment, d.name, d.digest}));
  if (rows.empty()) return Status::Internal("the dataset '" + d.name + "' was stored but cannot be read back");
  return rows[0][0].Int();
}

}  // namespace

Status SqlStore::LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) {
  RETURN_IF_ERROR(CheckRunId(run_id));
  if (inputs.size() > kMaxInputs)
    return Status::User("runs/log-inputs takes at most " + std::to_string(kMaxInputs) + " datasets at once; got " +
                        std::to_string(inputs.size()));
  // The first of each name and digest, as MLflow keeps them.
  std::vector<const DatasetInput*> unique;
  std::set<std::pair<std::string, std::string>> seen;
  for (const DatasetInput& in : inputs) {
    RETURN_IF_ERROR(CheckInput(in));
    if (seen.insert({in.dataset.name, in.dataset.digest}).second) unique.push_back(&in);
  }
  return Txn(true, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows run, c.Query("SELECT experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?", {run_id}));
    if (run.empty()) return Status::NotFound("Run with id=" + run_id + " not found");
    if (run[0][1].Text() != "active")
      return Status::User("The run " + run_id + " must be in the 'active' state. Current state is " +
                          run[0][1].Text() + ".");
    int64_t experiment = run[0][0].Int();
    for (const DatasetInput* in : unique) {
      ASSIGN_OR_RETURN(int64_t dataset, DatasetId(c, experiment, in->dataset));
      ASSIGN_OR_RETURN(SqlRows added, c.Query("INSERT INTO run_inputs(run_uuid, dataset_id) VALUES (?, ?) "
                                              "ON CONFLICT(run_uuid, dataset_id) DO NOTHING RETURNING id",
                                              {run_id, dataset}));
      if (added.empty()) continue;  // the run has this input already: its tags stay
      std::map<std::string, std::string> tags;  // a key twice: the last value wins
      for (const Tag& t : in->tags) tags[t.key] = t.value;
      for (const auto& [k, v] : tags)
        RETURN_IF_ERROR(c.Run("INSERT INTO input_tags(input_id, key, value) VALUES (?, ?, ?)", {added[0][0].Int(), k, v}));
    }
    return Status::Ok();
  });
}

Result<std::vector<DatasetSummary>> SqlStore::SearchDatasets(const std::vector<std::string>& experiment_ids) {
  constexpr size_t kMaxExperiments = 20, kMaxSummaries = 1000;  // MLflow's handler and SQL store
  if (experiment_ids.empty()) return Status::User("experiments/search-datasets needs at least one experiment_id");
  if (experiment_ids.size() > kMaxExperiments)
    return Status::User("experiments/search-datasets takes at most " + std::to_string(kMaxExperiments) +
                        " experiment_ids; got " + std::to_string(experiment_ids.size()));
  std::string in = "(";
  std::vector<SqlValue> args;
  for (const std::string& id : experiment_ids) {
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
      return Status::User("invalid experiment_id '" + id.substr(0, 64) + "': expected a number");
    in += args.empty() ? "?" : ", ?";
    args.push_back(static_cast<int64_t>(std::stoll(id)));
  }
  in += ")";
  // Context is the input's tag, absent for inputs logged without one (a left join, as MLflow's).
  std::vector<DatasetSummary> out;
  RETURN_IF_ERROR(Txn(false, [&](SqlConn& c) -> Status {
    ASSIGN_OR_RETURN(SqlRows rows,
                     c.Query("SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
                             "JOIN run_inputs i ON i.dataset_id = d.id "
                             "LEFT JOIN input_tags t ON t.input_id = i.id AND t.key = 'mlflow.data.context' "
                             "WHERE d.experiment_id IN " + in + " ORDER BY 1, 2, 3, 4 LIMIT " +
                             std::to_string(kMaxSummaries), args));
    for (const SqlRow& r : rows)
      out.push_back({std::to_string(r[0].Int()), r[1].Text(), r[2].Text(), r[3].null() ? "" : r[3].Text()});
    return Status::Ok();
  }));
  return out;
}

Status LoadRunInputs(SqlConn& c, const std::string& in, const std::vector<SqlValue>& ids,
                     std::map<std::string, Run*>& by_id) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.Query("SELECT i.run_uuid, i.id, d.name, d.digest, d.source_type, d.source, d.dataset_schema, "
                           "d.dataset_profile FROM run_inputs i JOIN datasets d ON d.id = i.dataset_id "
                           "WHERE i.run_uuid IN " + in + " ORDER BY i.run_uuid, i.id",
                           ids));
  if (rows.empty()) return Status::Ok();
  std::map<int64_t, std::pair<Run*, size_t>> by_input;  // indexes, not pointers: the vectors grow
  for (const SqlRow& r : rows) {
    Run* run = by_id[r[0].Text()];
    DatasetInput di;
    Dataset& d = di.dataset;
    d.name = r[2].Text(), d.digest = r[3].Text(), d.source_type = r[4].Text(), d.source = r[5].Text();
    if (!r[6].null()) d.schema = r[6].Text();
    if (!r[7].null()) d.profile = r[7].Text();
    by_input[r[1].Int()] = {run, run->inputs.size()};
    run->inputs.push_back(std::move(di));
  }
  ASSIGN_OR_RETURN(SqlRows tags, c.Query("SELECT t.input_id, t.key, t.value FROM input_tags t "
                                         "JOIN run_inputs i ON i.id = t.input_id WHERE i.run_uuid IN " + in +
                                         " ORDER BY t.input_id, t.key",
                                         ids));
  for (const SqlRow& r : tags) {
    auto it = by_input.find(r[0].Int());
    if (it == by_input.end()) continue;
    auto [run, at] = it->second;
    run->inputs[at].tags.push_back({r[1].Text(), r[2].Text()});
  }
  return Status::Ok();
}

}  // namespace forja::meta
