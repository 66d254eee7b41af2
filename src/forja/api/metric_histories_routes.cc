// GET forja/metrics/histories: many metric histories in one call, for the web UI's charts
// (a run's page, the comparison). metrics/get-history answers one (run, key) per call with
// an object per point; comparing 10 runs over 10 metrics of 1,000 steps was 100 calls and
// 7.8 MB of JSON, mostly the browser's parsing. This answers every asked (run, key) at once
// (docs/ui.md "Comparing runs"), read by the store in one pass (meta's GetMetricHistories),
// in one of two forms:
//   JSON (the default), each series as three parallel arrays, values as metrics/get-history
//   writes them ("NaN", "Infinity", "-Infinity" as strings):
//     {"histories": [{"run_id", "key", "steps": [..], "values": [..], "timestamps": [..]}],
//      "truncated": false}
//   format=binary, what the web UI asks: the numbers as little-endian float64 arrays the
//   browser views in place (no parsing), steps and timestamps that advance by a fixed amount
//   (most do) as [first, delta] instead of arrays (kBinaryType below has the layout).
// Without metric_keys: every key the runs logged. At most kMaxHistoryPoints points in all:
// past it, the series are cut and `truncated` says so. Both answers are written straight
// into the body, not through a JSON tree: 100,000 points made 300,000 tree nodes.
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>  // server_impl.h's Params holds a Json

#include "forja/api/server_impl.h"
#include "forja/core/json.h"
#include "forja/core/limits.h"

namespace forja::api {

namespace {

using Impl = TrackingServer::Impl;

constexpr size_t kMaxHistoryRuns = 100;
constexpr size_t kMaxHistoryKeys = 100;
constexpr int64_t kMaxHistoryPoints = 1'000'000;

// format=binary's answer:
//   n, a little-endian u32; n bytes of JSON: {"truncated": bool, "histories": [{"run_id",
//     "key", "count", "steps": [first, delta] or null, "timestamps": [first, delta] or null}]};
//   zero bytes up to a multiple of 8 (so the arrays are aligned for a Float64Array);
//   then per history, in order: `count` values, then `count` steps unless given as
//   [first, delta], then `count` timestamps likewise; each a little-endian float64
//   (NaN and infinities as themselves; integers exact up to 2^53, as JSON numbers are in
//   a browser).
constexpr const char* kBinaryType = "application/vnd.forja.metric-histories";

// A list parameter, given repeated or comma-separated (run ids and MLflow's metric keys
// have no commas), 1 to `max` entries, or none when not `required`.
Result<std::vector<std::string>> Names(const Params& p, const char* name, size_t max, bool required) {
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
  if (out.empty() && required)
    return Status::User(std::string("missing parameter '") + name + "': name 1 to " + std::to_string(max) +
                        ", comma-separated or repeated");
  for (const std::string& s : out)
    if (s.size() > limits::kMaxKeyBytes)
      return Status::User(std::string("an entry of '") + name + "' is longer than " +
                          std::to_string(limits::kMaxKeyBytes) + " bytes");
  return out;
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// metrics/get-history's way with the values JSON lacks.
void AppendValue(std::string* out, double v) {
  if (std::isnan(v)) out->append("\"NaN\"");
  else if (std::isinf(v)) out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  else AppendDouble(out, v);
}

template <typename T, typename F>
void AppendArray(std::string* out, const std::vector<T>& xs, F append) {
  out->push_back('[');
  for (size_t i = 0; i < xs.size(); i++) {
    if (i) out->push_back(',');
    append(out, xs[i]);
  }
  out->push_back(']');
}

std::string JsonAnswer(const meta::MetricHistories& h) {
  std::string out;
  out.reserve(64 + h.series.size() * 128);
  out.append("{\"histories\":[");
  for (size_t i = 0; i < h.series.size(); i++) {
    const meta::MetricSeries& s = h.series[i];
    out.append(i ? ",{\"run_id\":" : "{\"run_id\":");
    AppendJsonString(&out, s.run_id);
    out.append(",\"key\":");
    AppendJsonString(&out, s.key);
    out.append(",\"steps\":");
    AppendArray(&out, s.steps, AppendInt);
    out.append(",\"values\":");
    AppendArray(&out, s.values, AppendValue);
    out.append(",\"timestamps\":");
    AppendArray(&out, s.timestamps, AppendInt);
    out.push_back('}');
  }
  out.append(h.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}");
  return out;
}

// Whether xs[i] == xs[0] + i * delta for every i, every one exact as a double (the browser
// computes them so); sets *delta. One point or none is a range too.
bool IsRange(const std::vector<int64_t>& xs, int64_t* delta) {
  constexpr int64_t kExact = int64_t{1} << 53;
  *delta = xs.size() > 1 ? xs[1] - xs[0] : 0;
  for (size_t i = 0; i < xs.size(); i++) {
    if (xs[i] > kExact || xs[i] < -kExact) return false;
    if (i && xs[i] - xs[i - 1] != *delta) return false;
  }
  return true;
}

void AppendF64(std::string* out, double v) {
  static_assert(sizeof(double) == 8);
  char b[8];
  std::memcpy(b, &v, 8);  // x86-64 and arm64 are little-endian, as the format is
  out->append(b, 8);
}

std::string BinaryAnswer(const meta::MetricHistories& h) {
  std::string head = h.truncated ? "{\"truncated\":true,\"histories\":[" : "{\"truncated\":false,\"histories\":[";
  std::string data;
  for (size_t i = 0; i < h.series.size(); i++) {
    const meta::MetricSeries& s = h.series[i];
    head.append(i ? ",{\"run_id\":" : "{\"run_id\":");
    AppendJsonString(&head, s.run_id);
    head.append(",\"key\":");
    AppendJsonString(&head, s.key);
    head.append(",\"count\":");
    AppendInt(&head, static_cast<int64_t>(s.values.size()));
    for (double v : s.values) AppendF64(&data, v);
    for (auto [name, xs] : {std::pair{",\"steps\":", &s.steps}, std::pair{",\"timestamps\":", &s.timestamps}}) {
      head.append(name);
      int64_t delta = 0;
      if (IsRange(*xs, &delta)) {
        head.push_back('[');
        AppendInt(&head, xs->empty() ? 0 : (*xs)[0]);
        head.push_back(',');
        AppendInt(&head, delta);
        head.push_back(']');
      } else {
        head.append("null");
        for (int64_t x : *xs) AppendF64(&data, static_cast<double>(x));
      }
    }
    head.push_back('}');
  }
  head.append("]}");
  std::string out;
  size_t start = (4 + head.size() + 7) / 8 * 8;
  out.reserve(start + data.size());
  uint32_t n = static_cast<uint32_t>(head.size());
  char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff), static_cast<char>((n >> 16) & 0xff),
                 static_cast<char>(n >> 24)};
  out.append(len, 4);
  out.append(head);
  out.resize(start, '\0');
  out.append(data);
  return out;
}

}  // namespace

// GET forja/runs/get-many?run_ids=A,B: {"runs": [...]}, each as runs/get answers it, in the order
// asked (at most kMaxHistoryRuns, as the histories: the comparison asks for its runs beside
// them); an unknown run is runs/get's 404. Ten runs/get calls were more than the six
// connections a browser opens to one server, so some of them waited for the others.
Result<Json> Impl::GetRuns(const Params& p, const Caller&) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, Names(p, "run_ids", kMaxHistoryRuns, true));
  Json runs = Json::array();
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(meta::Run run, store->GetRun(id));
    runs.push_back(ToJson(run));
  }
  return Json{{"runs", std::move(runs)}};
}

Result<net::Response> Impl::MetricHistories(const Params& p, const Caller&) {
  meta::HistoriesQuery q;
  ASSIGN_OR_RETURN(q.run_ids, Names(p, "run_ids", kMaxHistoryRuns, true));
  ASSIGN_OR_RETURN(q.keys, Names(p, "metric_keys", kMaxHistoryKeys, false));
  Result<std::string> format = p.Str("format");
  if (!format.ok()) return format.status();
  bool binary = *format == "binary";
  if (!binary && !format->empty() && *format != "json")
    return Status::User("invalid format '" + *format + "': json (the default) or binary");
  q.max_keys = kMaxHistoryKeys;
  q.max_points = kMaxHistoryPoints;
  ASSIGN_OR_RETURN(meta::MetricHistories h, store->GetMetricHistories(q));
  net::Response r;
  if (binary) {
    r.content_type = kBinaryType;
    r.body = BinaryAnswer(h);
  } else {
    r.body = JsonAnswer(h);
  }
  return r;
}

}  // namespace forja::api
