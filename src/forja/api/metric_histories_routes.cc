// GET forja/metrics/histories: many metric histories in one call, for the web UI's charts
// (a run's page, the comparison). metrics/get-history answers one (run, key) per call with
// an object per point; comparing 10 runs over 10 metrics of 1,000 steps was 100 calls and
// 7.8 MB of JSON, mostly the browser's parsing. This answers every asked (run, key) at once,
// each as three parallel arrays (docs/ui.md "Compare"):
//   {"histories": [{"run_id", "key", "steps": [..], "values": [..], "timestamps": [..]}],
//    "truncated": false}
// values as metrics/get-history writes them ("NaN", "Infinity", "-Infinity" as strings).
// At most kMaxHistoryPoints points in all: past it, the series are cut and `truncated` says so.
#include <cmath>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/core/limits.h"

namespace forja::api {

namespace {

using Impl = TrackingServer::Impl;

constexpr size_t kMaxHistoryRuns = 100;
constexpr size_t kMaxHistoryKeys = 100;
constexpr int64_t kMaxHistoryPoints = 1'000'000;

Json Value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

// A list parameter, given repeated or comma-separated (run ids and MLflow's metric keys
// have no commas), 1 to `max` entries.
Result<std::vector<std::string>> Names(const Params& p, const char* name, size_t max) {
  ASSIGN_OR_RETURN(std::vector<std::string> raw, p.List(name));
  std::vector<std::string> out;
  for (const std::string& entry : raw) {
    size_t at = 0;
    while (at <= entry.size()) {
      size_t comma = entry.find(',', at);
      if (comma == std::string::npos) comma = entry.size();
      if (comma > at) out.push_back(entry.substr(at, comma - at));
      at = comma + 1;
      if (out.size() > max) return limits::TooMany(name, out.size(), "entries", max);
    }
  }
  if (out.empty()) return Status::User(std::string("missing parameter '") + name + "': name 1 to " +
                                       std::to_string(max) + ", comma-separated or repeated");
  for (const std::string& s : out)
    if (s.size() > limits::kMaxKeyBytes)
      return Status::User(std::string("an entry of '") + name + "' is longer than " +
                          std::to_string(limits::kMaxKeyBytes) + " bytes");
  return out;
}

}  // namespace

Result<Json> Impl::MetricHistories(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::vector<std::string> runs, Names(p, "run_ids", kMaxHistoryRuns));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, Names(p, "metric_keys", kMaxHistoryKeys));
  int64_t budget = kMaxHistoryPoints;
  bool truncated = false;
  Json out = Json::array();
  for (const std::string& run : runs) {
    for (const std::string& key : keys) {
      Json steps = Json::array(), values = Json::array(), times = Json::array();
      if (budget > 0) {
        meta::Page page;
        page.max_results = budget;
        ASSIGN_OR_RETURN(auto h, store->GetMetricHistory(run, key, page));
        if (!h.next_page_token.empty()) truncated = true;
        budget -= static_cast<int64_t>(h.items.size());
        for (const meta::Metric& m : h.items) {
          steps.push_back(m.step);
          values.push_back(Value(m.value));
          times.push_back(m.timestamp);
        }
      } else {
        truncated = true;
      }
      out.push_back({{"run_id", run}, {"key", key}, {"steps", std::move(steps)}, {"values", std::move(values)},
                     {"timestamps", std::move(times)}});
    }
  }
  return Json{{"histories", std::move(out)}, {"truncated", truncated}};
}

}  // namespace forja::api
