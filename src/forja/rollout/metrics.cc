#include "forja/rollout/metrics.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace forja::rollout {

namespace {

constexpr size_t kMaxText = 64u << 20;
constexpr size_t kMaxSamples = 1000000;
constexpr size_t kMaxLabels = 64;

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

std::optional<double> ParseValue(std::string_view v) {
  if (v == "+Inf" || v == "Inf") return HUGE_VAL;
  if (v == "-Inf") return -HUGE_VAL;
  if (v == "NaN") return std::nan("");
  if (v.empty() || v.size() > 64) return std::nullopt;
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isnan(d)) return std::nullopt;
  return d;
}

// One sample line: name, optional {labels}, value, optional timestamp. `why` says what is wrong.
bool ParseLine(std::string_view line, Sample* out, std::string* why) {
  size_t i = 0;
  if (line.empty() || !NameStart(line[0])) return *why = "a metric name must start the line", false;
  while (i < line.size() && NameChar(line[i])) i++;
  out->name.assign(line.substr(0, i));
  out->labels.clear();
  if (i < line.size() && line[i] == '{') {
    i++;
    for (;;) {
      while (i < line.size() && line[i] == ' ') i++;
      if (i < line.size() && line[i] == '}') {
        i++;
        break;
      }
      size_t k = i;
      if (i >= line.size() || !NameStart(line[i])) return *why = "a label name expected", false;
      while (i < line.size() && NameChar(line[i])) i++;
      std::string key(line.substr(k, i - k));
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return *why = "label " + key + ": =\"...\" expected", false;
      i += 2;
      std::string value;
      for (;;) {
        if (i >= line.size()) return *why = "label " + key + ": unterminated value", false;
        char c = line[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= line.size()) return *why = "label " + key + ": unterminated value", false;
          char e = line[i++];
          value += e == 'n' ? '\n' : e;  // \\ \" \n
        } else {
          value += c;
        }
      }
      if (out->labels.size() >= kMaxLabels) return *why = "more than 64 labels", false;
      out->labels.emplace_back(std::move(key), std::move(value));
      while (i < line.size() && line[i] == ' ') i++;
      if (i < line.size() && line[i] == ',') {
        i++;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        i++;
        break;
      }
      return *why = "',' or '}' expected after a label", false;
    }
  }
  if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) return *why = "a value expected after the name", false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
  size_t v = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
  std::optional<double> value = ParseValue(line.substr(v, i - v));
  if (!value) {
    std::string shown(line.substr(v, std::min<size_t>(i - v, 40)));
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // the error stays one line
    return *why = "'" + shown + "' is not a number", false;
  }
  out->value = *value;
  return true;  // a timestamp may follow; it is not needed
}

bool Has(const Sample& s, std::string_view key, const std::string& value) {
  const std::string* v = s.Label(key);
  return v && *v == value;
}

}  // namespace

const std::string* Sample::Label(std::string_view key) const {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

Result<std::vector<Sample>> ParsePromText(std::string_view text, bool (*keep)(std::string_view name)) {
  if (text.size() > kMaxText) return Status::User("metrics text: larger than 64 MiB");
  std::vector<Sample> out;
  size_t line_no = 0, pos = 0;
  Sample s;
  std::string why;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos || line[b] == '#') continue;
    line.remove_prefix(b);
    if (keep) {  // the name ends at '{' or a blank: skip unwanted families before parsing labels
      size_t e = 0;
      while (e < line.size() && NameChar(line[e])) e++;
      if (!keep(line.substr(0, e))) continue;
    }
    if (!ParseLine(line, &s, &why)) return Status::User("metrics text line " + std::to_string(line_no) + ": " + why);
    if (out.size() >= kMaxSamples) return Status::User("metrics text: more than 1,000,000 samples");
    out.push_back(s);
  }
  return out;
}

bool RolloutMetric(std::string_view n) {
  return n == "forja_serve_requests_total" || n == "forja_serve_request_duration_seconds_bucket" ||
         n == "forja_model_quality" || n == "forja_model_dataset_drift_share" || n == "forja_serve_rollout_weight" ||
         n == "forja_serve_rollout_refused";
}

void VersionCounters::Add(const VersionCounters& o) {
  requests += o.requests;
  errors += o.errors;
  for (const auto& [le, n] : o.buckets) buckets[le] += n;
  for (const auto& [m, x] : o.quality) {
    auto [it, fresh] = quality.emplace(m, x);
    if (!fresh && x < it->second) it->second = x;
  }
  if (o.drift && (!drift || *o.drift > *drift)) drift = o.drift;
}

VersionCounters ExtractVersion(const std::vector<Sample>& samples, const std::string& model, const std::string& version) {
  VersionCounters c;
  for (const Sample& s : samples) {
    if (!Has(s, "model", model) || !Has(s, "version", version) || !std::isfinite(s.value)) continue;
    if (s.name == "forja_serve_requests_total") {
      const std::string* code = s.Label("code");
      c.requests += s.value;
      if (code && code->size() == 3 && (*code)[0] == '5') c.errors += s.value;
    } else if (s.name == "forja_serve_request_duration_seconds_bucket") {
      const std::string* le = s.Label("le");
      std::optional<double> bound = le ? ParseValue(*le) : std::nullopt;
      if (bound) c.buckets[*bound] += s.value;
    } else if (s.name == "forja_model_quality") {
      if (const std::string* m = s.Label("metric")) c.quality[*m] = s.value;
    } else if (s.name == "forja_model_dataset_drift_share") {
      c.drift = s.value;
    }
  }
  return c;
}

RolloutGauge ExtractRollout(const std::vector<Sample>& samples, const std::string& model, const std::string& version,
                            const std::string& rollout_id) {
  RolloutGauge g;
  for (const Sample& s : samples) {
    if (!Has(s, "model", model) || !Has(s, "version", version) || !Has(s, "rollout", rollout_id)) continue;
    if (s.name == "forja_serve_rollout_weight" && std::isfinite(s.value) && s.value >= 0 && s.value <= 100)
      g.weight = static_cast<int>(std::lround(s.value));
    else if (s.name == "forja_serve_rollout_refused" && s.value > 0)
      g.refused = true;
  }
  return g;
}

VersionCounters CounterDelta(const VersionCounters& start, const VersionCounters& end) {
  bool reset = end.requests < start.requests;
  for (const auto& [le, n] : end.buckets) {
    auto it = start.buckets.find(le);
    if (it != start.buckets.end() && n < it->second) reset = true;
  }
  if (reset) return end;  // the server restarted during the step: everything it counted is this step's
  VersionCounters d = end;
  d.requests = end.requests - start.requests;
  d.errors = std::max(0.0, end.errors - start.errors);
  for (auto& [le, n] : d.buckets) {
    auto it = start.buckets.find(le);
    if (it != start.buckets.end()) n -= it->second;
  }
  return d;
}

std::optional<double> Quantile(double q, const std::map<double, double>& cumulative) {
  if (cumulative.empty()) return std::nullopt;
  double total = cumulative.rbegin()->second;
  if (!(total > 0)) return std::nullopt;
  double rank = q * total, lower = 0, below = 0;
  for (const auto& [le, n] : cumulative) {
    if (n >= rank) {
      if (std::isinf(le)) return lower;  // the highest finite bound
      if (n == below) return le;
      return lower + (le - lower) * (rank - below) / (n - below);
    }
    lower = le, below = n;
  }
  return lower;
}

StepMetrics Summarize(const VersionCounters& step) {
  StepMetrics m;
  m.requests = step.requests;
  m.errors = step.errors;
  m.error_rate = step.requests > 0 ? step.errors / step.requests : 0;
  if (std::optional<double> p99 = step.requests > 0 ? Quantile(0.99, step.buckets) : std::nullopt) m.p99_ms = *p99 * 1000;
  m.quality = step.quality;
  m.drift = step.drift;
  return m;
}

std::string Describe(const StepMetrics& m) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.0f requests, %.0f errors (%.2f%%)", m.requests, m.errors, m.error_rate * 100);
  std::string out = buf;
  if (m.p99_ms) std::snprintf(buf, sizeof buf, ", p99 %.1f ms", *m.p99_ms), out += buf;
  for (const auto& [k, v] : m.quality) std::snprintf(buf, sizeof buf, ", %.40s %.4g", k.c_str(), v), out += buf;
  if (m.drift) std::snprintf(buf, sizeof buf, ", drift %.3g", *m.drift), out += buf;
  return out;
}

}  // namespace forja::rollout
