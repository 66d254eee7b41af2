// What forja serve instances report (docs/monitoring.md "Serving reports"): POST
// forja/serving/report takes one instance's report and keeps it in the store (one row per
// instance, meta::ServingReport), so every replica of forja server lists every instance;
// GET forja/serving/instances lists them for the web UI's serving page.
//
// A report comes from the network: it is rebuilt field by field into a normalized copy (only
// the fields below, of their types, strings and lists bounded), and anything else is a 400
// naming the field. Listing passes each stored report through the same check, so a report a
// forja serve wrote straight into a SQLite or PostgreSQL store is shown the same way.
#include <cmath>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/meta/store.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

namespace {

// Bounds on one report (a fleet of many models is many instances, not one huge report).
constexpr size_t kMaxModels = 64;
constexpr size_t kMaxRoutes = 16;
constexpr size_t kMaxVersions = 32;
constexpr size_t kMaxColumns = 200;
constexpr size_t kMaxQualityMetrics = 32;
constexpr size_t kMaxReasons = 8;
constexpr size_t kMaxTrafficPoints = 120;
constexpr size_t kMaxText = 256;
// An instance reports every interval_s (forja serve --report-interval, default 15 s); the UI
// greys one that missed three reports, and at least a minute.
constexpr double kStaleReports = 3;
constexpr double kMinStaleSeconds = 60;

// Reads one object of the report into a normalized copy; the first problem is the error.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) Fail("must be an object");
  }
  const Status& status() const { return st_; }
  Json out = Json::object();

  void Text(const char* key, bool required = false) {
    const Json* v = Get(key, required);
    if (!v) return;
    if (!v->is_string()) return Fail(key, "must be a string");
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > kMaxText) return Fail(key, "is longer than " + std::to_string(kMaxText) + " bytes");
    out[key] = s;
  }
  void Number(const char* key, double min = 0, double max = 1e300) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (v->is_null()) {
      out[key] = nullptr;
      return;
    }
    if (!v->is_number()) return Fail(key, "must be a number");
    double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) return Fail(key, "is out of range");
    out[key] = *v;
  }
  void Bool(const char* key) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (!v->is_boolean()) return Fail(key, "must be true or false");
    out[key] = *v;
  }
  // A nested object read by `fn` (null allowed).
  template <typename Fn>
  void Object(const char* key, Fn fn) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (v->is_null()) {
      out[key] = nullptr;
      return;
    }
    Fields f(*v, path_ + "." + key);
    if (f.status().ok()) fn(f);
    if (!f.status().ok()) return Take(f.status());
    out[key] = std::move(f.out);
  }
  // A list of objects each read by `fn`, at most `max`.
  template <typename Fn>
  void List(const char* key, size_t max, Fn fn) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (!v->is_array()) return Fail(key, "must be a list");
    if (v->size() > max)
      return Fail(key, "has " + std::to_string(v->size()) + " entries; at most " + std::to_string(max) + " are taken");
    Json list = Json::array();
    for (size_t i = 0; i < v->size() && st_.ok(); i++) {
      Fields f((*v)[i], path_ + "." + key + "[" + std::to_string(i) + "]");
      if (f.status().ok()) fn(f);
      if (!f.status().ok()) return Take(f.status());
      list.push_back(std::move(f.out));
    }
    out[key] = std::move(list);
  }
  // An object of name -> number (quality metrics), at most `max`.
  void NumberMap(const char* key, size_t max) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (!v->is_object()) return Fail(key, "must be an object of numbers");
    if (v->size() > max) return Fail(key, "has more than " + std::to_string(max) + " entries");
    Json m = Json::object();
    for (const auto& [k, x] : v->items()) {
      if (k.size() > kMaxText) return Fail(key, "has a name longer than " + std::to_string(kMaxText) + " bytes");
      if (!x.is_number() && !x.is_null()) return Fail(key, "." + k + " must be a number");
      if (x.is_number() && !std::isfinite(x.get<double>())) return Fail(key, "." + k + " must be finite");
      m[k] = x;
    }
    out[key] = std::move(m);
  }
  // A list of [number, number] pairs (a time series), at most `max`.
  void Pairs(const char* key, size_t max) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (!v->is_array() || v->size() > max) return Fail(key, "must be a list of at most " + std::to_string(max) + " [t, value] pairs");
    for (const Json& x : *v)
      if (!x.is_array() || x.size() != 2 || !x[0].is_number() || !x[1].is_number() ||
          !std::isfinite(x[0].get<double>()) || !std::isfinite(x[1].get<double>()))
        return Fail(key, "must hold [t, value] pairs of finite numbers");
    out[key] = *v;
  }
  void TextList(const char* key, size_t max) {
    const Json* v = Get(key, false);
    if (!v) return;
    if (!v->is_array() || v->size() > max) return Fail(key, "must be a list of at most " + std::to_string(max) + " strings");
    for (const Json& x : *v)
      if (!x.is_string() || x.get_ref<const std::string&>().size() > kMaxText) return Fail(key, "must hold short strings");
    out[key] = *v;
  }

 private:
  const Json* Get(const char* key, bool required) {
    if (!st_.ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) Fail(key, "is required");
      return nullptr;
    }
    return &*it;
  }
  void Fail(const std::string& what) {
    if (st_.ok()) st_ = Status::User("serving report: " + path_ + " " + what);
  }
  void Fail(const char* key, const std::string& what) {
    if (st_.ok()) st_ = Status::User("serving report: " + path_ + "." + key + " " + what);
  }
  void Take(const Status& st) {
    if (st_.ok()) st_ = st;
  }
  const Json& j_;
  std::string path_;
  Status st_ = Status::Ok();
};

void Drift(Fields& d) {
  d.Number("rows");
  d.Bool("drift");
  d.Number("share", 0, 1);
  d.Number("tested");
  d.Number("drifted");
  d.Number("omitted");
  d.List("columns", kMaxColumns, [](Fields& c) {
    c.Text("name", true);
    c.Text("kind");
    c.Text("method");
    c.Number("score", -1e300);
    c.Number("threshold", -1e300);
    c.Text("verdict");
    c.Bool("drifted");
    c.Number("current_n");
  });
}

void Quality(Fields& q) {
  q.Text("task");
  q.Number("labels");
  q.NumberMap("metrics", kMaxQualityMetrics);
  q.Number("estimate_rows");
  q.NumberMap("estimate", kMaxQualityMetrics);
}

void Staleness(Fields& s) {
  s.Bool("stale");
  s.TextList("reasons", kMaxReasons);
  for (const char* k : {"model_age_s", "data_age_s", "since_promotion_s", "drifted_for_s"}) s.Number(k);
}

void Version(Fields& v) {
  v.Text("version", true);
  v.Text("ref");
  v.Text("role");
  v.Text("platform");
  v.Number("requests");
  v.Number("errors");
  v.Number("client_errors");
  v.Number("req_per_s");
  v.Pairs("traffic", kMaxTrafficPoints);
  v.Number("error_rate", 0, 1);
  v.Object("latency_s", [](Fields& l) {
    for (const char* k : {"p50", "p95", "p99"}) l.Number(k);
  });
  v.Object("drift", Drift);
  v.Object("quality", Quality);
  v.Object("staleness", Staleness);
}

void Model(Fields& m) {
  m.Text("name", true);
  m.List("routes", kMaxRoutes, [](Fields& r) {
    r.Text("ref", true);
    r.Number("weight", 0, 1e6);
    r.Text("version");
    r.Object("canary", [](Fields& c) {
      c.Text("version");
      c.Number("weight", 0, 100);
      c.Number("rollout");
    });
  });
  m.Object("shadow", [](Fields& s) {
    s.Text("ref", true);
    s.Text("version");
  });
  m.List("versions", kMaxVersions, Version);
}

// The normalized report, or a 400's status naming the first bad field.
Result<Json> NormalizeReport(const Json& report) {
  Fields r(report, "report");
  if (!r.status().ok()) return r.status();
  r.Text("address");
  r.Text("hostname");
  r.Text("forja_version");
  r.Number("pid");
  r.Number("started");
  r.Number("interval_s", 0.1, 86400);
  r.List("models", kMaxModels, Model);
  if (!r.status().ok()) return r.status();
  return std::move(r.out);
}

}  // namespace

Result<Json> Impl::RecordServingReport(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string instance, p.Str("instance", true));
  auto it = p.body().find("report");
  if (it == p.body().end()) return Status::User("serving report: report is required");
  ASSIGN_OR_RETURN(Json report, NormalizeReport(*it));
  std::string text = report.dump(-1, ' ', false, Json::error_handler_t::replace);
  RETURN_IF_ERROR(store->PutServingReport({instance, 0, text}));
  return Json::object();
}

Result<Json> Impl::ListServingInstances(const Params&, const Caller&) {
  ASSIGN_OR_RETURN(auto reports, store->ListServingReports());
  const int64_t now = meta::NowMs();
  Json list = Json::array();
  for (const auto& r : reports) {
    Json entry = {{"instance", r.instance}, {"received", r.received},
                  {"age_s", static_cast<double>(std::max<int64_t>(0, now - r.received)) / 1000}};
    Result<Json> parsed = ParseJsonText(r.report, "the stored report");
    Result<Json> report = parsed.ok() ? NormalizeReport(*parsed) : Result<Json>(parsed.status());
    if (report.ok()) {
      auto iv = report->find("interval_s");  // may be null: a number or the default
      double interval = iv != report->end() && iv->is_number() ? iv->get<double>() : 15.0;
      entry["stale_after_s"] = std::max(kMinStaleSeconds, kStaleReports * interval);
      entry["report"] = std::move(*report);
    } else {
      entry["stale_after_s"] = kMinStaleSeconds;
      entry["error"] = report.status().message();
    }
    entry["stale"] = entry["age_s"].get<double>() > entry["stale_after_s"].get<double>();
    list.push_back(std::move(entry));
  }
  return Json{{"instances", list}, {"expire_after_s", meta::kServingReportExpireMs / 1000}};
}

}  // namespace forja::api
