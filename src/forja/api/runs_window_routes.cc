// The web UI's runs table at any size (docs/ui.md "Runs"): three read-only routes over one
// experiment, with runs/search's filter grammar and order_by (the same parser and SQL):
//   GET forja/runs/window  one window (offset, limit) of the matching runs and how many match,
//                          each row only run_id, run_name, status, start/end time and the
//                          params, metrics and tags asked for in `columns`; with count=false
//                          no count, only whether more runs follow (`more`)
//   GET forja/runs/count   how many runs match
//   GET forja/runs/keys    the param, metric and tag keys the experiment's runs have
//   GET forja/runs/groups  the matching runs grouped by a param's value: the count and each
//                          asked-for metric's min, mean and max, over every matching run
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/core/limits.h"
#include "forja/meta/sql_store.h"

namespace forja::api {

namespace {

using Impl = TrackingServer::Impl;

// Without `columns`, the window shows the params and metrics up to these counts.
constexpr size_t kDefaultParams = 30;
constexpr size_t kDefaultMetrics = 30;

Json Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

// "params.lr", "metrics.rmse", "tags.team" onto the query's lists; one entry may hold
// several, comma-separated (MLflow's keys have no commas).
Status AddColumns(const std::vector<std::string>& raw, meta::RunWindowQuery* q) {
  for (const std::string& entry : raw) {
    size_t at = 0;
    while (at <= entry.size()) {
      size_t comma = entry.find(',', at);
      if (comma == std::string::npos) comma = entry.size();
      std::string col = entry.substr(at, comma - at);
      at = comma + 1;
      if (col.empty()) continue;
      size_t dot = col.find('.');
      std::string entity = col.substr(0, dot == std::string::npos ? 0 : dot);
      std::string key = dot == std::string::npos ? "" : col.substr(dot + 1);
      if (key.empty() || (entity != "params" && entity != "metrics" && entity != "tags"))
        return Status::User("invalid column '" + col.substr(0, 80) +
                            "' for parameter 'columns': write params.KEY, metrics.KEY or tags.KEY");
      (entity == "params" ? q->params : entity == "metrics" ? q->metrics : q->tags).push_back(key);
      if (q->params.size() + q->metrics.size() + q->tags.size() > meta::kMaxRunWindowColumns)
        return limits::TooMany("columns", q->params.size() + q->metrics.size() + q->tags.size(), "keys",
                               meta::kMaxRunWindowColumns);
    }
  }
  return Status::Ok();
}

Json KeysJson(const meta::RunKeys& k) { return Json{{"params", k.params}, {"metrics", k.metrics}, {"tags", k.tags}}; }

Json ColumnList(const meta::RunWindowQuery& q) {
  Json out = Json::array();
  for (const auto& k : q.params) out.push_back("params." + k);
  for (const auto& k : q.metrics) out.push_back("metrics." + k);
  for (const auto& k : q.tags) out.push_back("tags." + k);
  return out;
}

// Keeps only the params, metrics and tags the window's columns name.
void Trim(const meta::RunWindowQuery& q, meta::Run* r) {
  auto keep = [](const std::vector<std::string>& keys, auto* items) {
    std::erase_if(*items, [&](const auto& x) { return std::find(keys.begin(), keys.end(), x.key) == keys.end(); });
  };
  keep(q.params, &r->params);
  keep(q.metrics, &r->metrics);
  keep(q.tags, &r->tags);
}

Json RowJson(const meta::Run& r) {
  Json row{{"run_id", r.info.run_id}, {"run_name", r.info.run_name}, {"status", r.info.status},
           {"start_time", r.info.start_time}};
  if (r.info.end_time) row["end_time"] = *r.info.end_time;
  Json params = Json::object(), metrics = Json::object(), tags = Json::object();
  for (const auto& p : r.params) params[p.key] = p.value;
  for (const auto& m : r.metrics) metrics[m.key] = Number(m.value);
  for (const auto& t : r.tags) tags[t.key] = t.value;
  row["params"] = std::move(params), row["metrics"] = std::move(metrics), row["tags"] = std::move(tags);
  return row;
}

}  // namespace

// experiment_id, filter, order_by, offset, limit and columns, checked; without `columns`,
// the experiment's params and metrics (the first kDefault* of each, by name), and the keys
// read for them onto `keys_read` (when not null).
Result<meta::RunWindowQuery> Impl::WindowQuery(const Params& p, Json* keys_read) {
  meta::RunWindowQuery q;
  ASSIGN_OR_RETURN(std::string exp, p.Str("experiment_id", true));
  q.search.experiment_ids = {exp};
  ASSIGN_OR_RETURN(q.search.filter, p.Str("filter"));
  ASSIGN_OR_RETURN(q.search.order_by, p.List("order_by"));
  ASSIGN_OR_RETURN(q.offset, p.Int("offset", 0));
  ASSIGN_OR_RETURN(q.limit, p.Int("limit", 100));
  if (q.limit < 1 || q.limit > meta::kMaxRunWindow)
    return Status::User("invalid value for parameter 'limit': 1 to " + std::to_string(meta::kMaxRunWindow));
  if (q.offset < 0 || q.offset > meta::kMaxRunWindowOffset)
    return Status::User("invalid value for parameter 'offset': 0 to " + std::to_string(meta::kMaxRunWindowOffset));
  ASSIGN_OR_RETURN(auto cols, p.List("columns"));
  if (!cols.empty()) {
    RETURN_IF_ERROR(AddColumns(cols, &q));
    return q;
  }
  ASSIGN_OR_RETURN(meta::RunKeys keys, store->ListRunKeys(exp));
  if (keys_read) *keys_read = KeysJson(keys);
  for (size_t i = 0; i < keys.params.size() && i < kDefaultParams; i++) q.params.push_back(keys.params[i]);
  for (size_t i = 0; i < keys.metrics.size() && i < kDefaultMetrics; i++) q.metrics.push_back(keys.metrics[i]);
  return q;
}

// Without `columns` the answer also carries the keys the columns were chosen from: the web
// UI's first window then needs no second call to offer the other columns.
// count=false skips the count, which reads every matching run (about 0.5 s for 50,000 matches
// on SQLite) where a window reads only its rows: the web UI shows the rows first and asks
// forja/runs/count after. The rows then come from runs/search's page (the same filter, order
// and SQL), trimmed to the columns asked for.
Result<Json> Impl::RunsWindow(const Params& p, const Caller&) {
  Json keys;
  ASSIGN_OR_RETURN(meta::RunWindowQuery q, WindowQuery(p, &keys));
  ASSIGN_OR_RETURN(bool count, p.Bool("count", true));
  std::vector<meta::Run> rows;
  Json out{{"offset", q.offset}, {"columns", ColumnList(q)}};
  if (count) {
    ASSIGN_OR_RETURN(meta::RunWindow w, store->SearchRunWindow(q));
    out["total"] = w.total;
    rows = std::move(w.runs);
  } else {
    meta::RunQuery s = q.search;
    s.page.max_results = q.limit;
    s.page.token = q.offset ? meta::OffsetToken(q.offset) : "";
    ASSIGN_OR_RETURN(meta::Paged<meta::Run> page, store->SearchRuns(s));
    out["more"] = !page.next_page_token.empty();
    rows = std::move(page.items);
    for (meta::Run& r : rows) Trim(q, &r);
  }
  Json runs = Json::array();
  for (const meta::Run& r : rows) runs.push_back(RowJson(r));
  out["runs"] = std::move(runs);
  if (!keys.is_null()) out["keys"] = std::move(keys);
  return out;
}

Result<Json> Impl::RunsCount(const Params& p, const Caller&) {
  meta::RunWindowQuery q;
  ASSIGN_OR_RETURN(std::string exp, p.Str("experiment_id", true));
  q.search.experiment_ids = {exp};
  ASSIGN_OR_RETURN(q.search.filter, p.Str("filter"));
  q.limit = 1;  // the count, and one row (no columns) read along
  ASSIGN_OR_RETURN(meta::RunWindow w, store->SearchRunWindow(q));
  return Json{{"total", w.total}};
}

Result<Json> Impl::RunsKeys(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string exp, p.Str("experiment_id", true));
  ASSIGN_OR_RETURN(meta::RunKeys keys, store->ListRunKeys(exp));
  return KeysJson(keys);
}

Result<Json> Impl::RunsGroups(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string param, p.Str("group_by", true));
  ASSIGN_OR_RETURN(meta::RunWindowQuery q, WindowQuery(p, nullptr));
  ASSIGN_OR_RETURN(std::vector<meta::RunGroup> groups, store->GroupRuns(q, param));
  Json out = Json::array();
  for (const meta::RunGroup& g : groups) {
    Json j{{"count", g.count}};
    if (g.value) j["value"] = *g.value;
    else j["missing"] = true;  // the runs without the param
    Json ms = Json::object();
    for (const meta::MetricStats& m : g.metrics)
      ms[m.key] = {{"count", m.count}, {"min", Number(m.min)}, {"mean", Number(m.mean)}, {"max", Number(m.max)}};
    j["metrics"] = std::move(ms);
    out.push_back(std::move(j));
  }
  return Json{{"group_by", param}, {"columns", ColumnList(q)}, {"groups", std::move(out)},
              {"truncated", static_cast<int64_t>(groups.size()) >= meta::kMaxRunGroups}};
}

}  // namespace forja::api
