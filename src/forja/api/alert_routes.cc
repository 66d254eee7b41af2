// Alertmanager's webhook: POST forja/alerts takes its payload (version 4) and records each alert
// against the model version its labels name (model, version), so that a firing drift alert is
// known where the version is; GET forja/alerts lists them. The rules that raise these alerts are
// `forja monitor alerts`' (monitor/alert_rules.h).
#include <time.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

using Impl = TrackingServer::Impl;

namespace {

// RFC 3339 as Alertmanager writes it ("2026-12-06T18:22:40.123456789Z", or with +hh:mm) to
// ms since the epoch. Alertmanager's zero time ("0001-01-01T00:00:00Z", an alert still
// firing) is 0.
Result<int64_t> ParseTime(const std::string& field, const std::string& text) {
  int y, mo, d, h, mi, s, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
    return Status::User(field + ": '" + text + "' is not an RFC 3339 time");
  if (y <= 1) return int64_t{0};
  size_t i = 19;
  double frac = 0;
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') i++;
    if (i == start) return Status::User(field + ": '" + text + "' is not an RFC 3339 time");
    frac = std::stod("0." + text.substr(start, i - start));
  }
  int64_t offset = 0;
  std::string zone = text.substr(i);
  int oh = 0, om = 0;
  if (zone != "Z" && zone != "z") {
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) != 2)
      return Status::User(field + ": '" + text + "' is not an RFC 3339 time");
    offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  return secs * 1000 + static_cast<int64_t>(frac * 1000);
}

// A JSON object whose values are all strings (Alertmanager's labels and annotations).
Status CheckStrings(const Json& j, const std::string& field) {
  if (!j.is_object()) return Status::User(field + ": must be an object of strings");
  for (const auto& [k, v] : j.items())
    if (!v.is_string()) return Status::User(field + "." + k + ": must be a string");
  return Status::Ok();
}

Result<meta::ModelAlert> AlertFromJson(const Json& a, const std::string& field, int64_t now) {
  if (!a.is_object()) return Status::User(field + ": must be an object");
  meta::ModelAlert out;
  auto str = [&](const char* key, bool required) -> Result<std::string> {
    auto it = a.find(key);
    if (it == a.end()) {
      if (required) return Status::User(field + "." + key + ": missing");
      return std::string();
    }
    if (!it->is_string()) return Status::User(field + "." + key + ": must be a string");
    return it->get<std::string>();
  };
  ASSIGN_OR_RETURN(out.status, str("status", true));
  if (out.status != "firing" && out.status != "resolved")
    return Status::User(field + ".status: must be firing or resolved, not '" + out.status + "'");
  ASSIGN_OR_RETURN(out.fingerprint, str("fingerprint", true));
  if (out.fingerprint.empty() || out.fingerprint.size() > 200)
    return Status::User(field + ".fingerprint: must be 1 to 200 characters");
  ASSIGN_OR_RETURN(std::string starts, str("startsAt", true));
  ASSIGN_OR_RETURN(out.starts_at, ParseTime(field + ".startsAt", starts));
  ASSIGN_OR_RETURN(std::string ends, str("endsAt", false));
  if (!ends.empty()) {
    ASSIGN_OR_RETURN(out.ends_at, ParseTime(field + ".endsAt", ends));
  }
  if (out.status == "firing") out.ends_at = 0;  // a firing alert's endsAt is when it would lapse

  if (!a.contains("labels")) return Status::User(field + ".labels: missing");
  const Json& labels = a["labels"];
  RETURN_IF_ERROR(CheckStrings(labels, field + ".labels"));
  if (!labels.contains("alertname")) return Status::User(field + ".labels.alertname: missing");
  out.name = labels["alertname"].get<std::string>();
  out.model = labels.value("model", "");
  out.version = labels.value("version", "");
  out.severity = labels.value("severity", "");
  out.labels = labels.dump();
  Json annotations = a.value("annotations", Json::object());
  RETURN_IF_ERROR(CheckStrings(annotations, field + ".annotations"));
  out.annotations = annotations.dump();
  if (out.labels.size() + out.annotations.size() > (64 << 10))
    return Status::User(field + ": labels and annotations over 64 KiB");
  out.received = now;
  return out;
}


}  // namespace

Result<Json> Impl::RecordAlerts(const Params& p, const Caller&) {
  const Json& body = p.body();
  if (!body.is_object() || body.value("version", Json()) != "4" || !body.contains("alerts"))
    return Status::User("not an Alertmanager webhook payload (version \"4\" with alerts)");
  const Json& alerts = body["alerts"];
  if (!alerts.is_array()) return Status::User("alerts: must be a list");
  if (alerts.size() > 10000) return Status::User("alerts: more than 10000 in one payload");
  // Every alert is checked before any is recorded: a bad payload records nothing.
  std::vector<meta::ModelAlert> parsed;
  int64_t now = meta::NowMs();
  for (size_t i = 0; i < alerts.size(); i++) {
    ASSIGN_OR_RETURN(meta::ModelAlert a, AlertFromJson(alerts[i], "alerts[" + std::to_string(i) + "]", now));
    parsed.push_back(std::move(a));
  }
  for (const auto& a : parsed) RETURN_IF_ERROR(store->RecordAlert(a));
  return Json{{"recorded", parsed.size()}};
}

Result<Json> Impl::ListAlerts(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::string model, p.Str("model"));
  ASSIGN_OR_RETURN(std::string version, p.Str("version"));
  ASSIGN_OR_RETURN(int64_t limit, p.Int("max_results", 100));
  if (limit < 1 || limit > 10000) return Status::User("max_results: must be between 1 and 10000");
  if (model.empty() && !version.empty()) return Status::User("version: needs model");
  ASSIGN_OR_RETURN(auto alerts, store->ListAlerts(model, version, static_cast<int>(limit)));
  Json list = Json::array();
  for (const auto& a : alerts) list.push_back(ToJson(a));
  return Json{{"alerts", list}};
}

}  // namespace forja::api
