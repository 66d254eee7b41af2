#include "forja/rollout/options.h"

#include "forja/core/redact.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace forja::rollout {

namespace {

// A finite decimal number spelled entirely by `text` (strtod with nothing left over).
std::optional<double> Number(const std::string& text) {
  if (text.empty() || text.size() > 64 || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  for (char c : text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return std::nullopt;  // no "inf", "nan", hex
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (errno || end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}


std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Q(const std::string& s) { return ShownInput(s); }

}  // namespace

std::string ShownInput(const std::string& s) {
  std::string out = s.substr(0, 80);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out + (s.size() > 80 ? "..." : "");
}

Result<std::vector<int>> ParseSteps(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::Usage("--steps '" + Q(text) + "': " + why + "; write increasing percents, e.g. --steps 5,25,50,100");
  };
  if (Trim(text).empty()) return bad("no steps");
  std::vector<int> steps;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = Trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty() || item.size() > 3 || item.find_first_not_of("0123456789") != std::string::npos)
      return bad("'" + Q(item) + "' is not a whole percent");
    int w = std::stoi(item);
    if (w < 1 || w > 100) return bad(item + " is not within 1..100");
    if (!steps.empty() && w <= steps.back())
      return bad(item + " does not increase on " + std::to_string(steps.back()));
    steps.push_back(w);
    if (steps.size() > 100) return bad("more than 100 steps");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return steps;
}

Result<int64_t> ParseDurationMs(const std::string& text, const std::string& option) {
  std::string t = Trim(text);
  size_t digits = 0;
  while (digits < t.size() && (std::isdigit(static_cast<unsigned char>(t[digits])) || t[digits] == '.')) digits++;
  std::string unit = t.substr(digits);
  std::optional<double> n = Number(t.substr(0, digits));
  double scale = unit == "ms" ? 1 : unit == "s" || unit.empty() ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
  if (!n || scale == 0)
    return Status::Usage(option + " '" + Q(text) + "': not a duration; write e.g. 500ms, 60s, 2m or 1h");
  double ms = *n * scale;
  if (ms < 1 || ms > 7 * 24 * 3600000.0)
    return Status::Usage(option + " '" + Q(text) + "': must be between 1ms and 7 days");
  return static_cast<int64_t>(std::llround(ms));
}

Result<double> ParseShare(const std::string& text, const std::string& option) {
  std::string t = Trim(text);
  bool percent = !t.empty() && t.back() == '%';
  std::optional<double> n = Number(percent ? Trim(t.substr(0, t.size() - 1)) : t);
  if (!n) return Status::Usage(option + " '" + Q(text) + "': not a number; write a percent (1%) or a share (0.01)");
  double share = percent ? *n / 100 : *n;
  if (share < 0 || share > 1) return Status::Usage(option + " '" + Q(text) + "': must be between 0% and 100%");
  return share;
}

Result<QualityMin> ParseQualityMin(const std::string& text) {
  size_t op = text.find(">=");
  auto bad = [&](const std::string& why) {
    return Status::Usage("--min-quality '" + Q(text) + "': " + why + "; write METRIC>=X, e.g. --min-quality accuracy>=0.9");
  };
  if (op == std::string::npos) return bad("no >=");
  QualityMin q;
  q.metric = Trim(text.substr(0, op));
  if (q.metric.empty() || q.metric.size() > 64) return bad("no metric name");
  for (char c : q.metric)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return bad("'" + Q(q.metric) + "' is not a metric name");
  std::optional<double> n = Number(Trim(text.substr(op + 2)));
  if (!n) return bad("'" + Q(Trim(text.substr(op + 2))) + "' is not a number");
  q.min = *n;
  return q;
}

Result<std::string> ParseBaseUrl(const std::string& text, const std::string& option) {
  std::string u = Trim(text);
  bool scheme = u.starts_with("http://") || u.starts_with("https://");
  size_t host = u.find("://") + 3;
  if (!scheme || u.size() <= host || u.size() > 2048 || u.find_first_of("?# \t\r\n") != std::string::npos)
    return Status::Usage(option + " '" + Q(RedactUri(text)) + "': not an http(s) base URL; write e.g. http://10.0.0.5:8080");
  // A URL's credentials would be printed in every message that names the server, and forja
  // sends none: refused rather than silently dropped.
  if (u.find('@', host) != std::string::npos)
    return Status::Usage(option + " '" + Q(RedactUri(text)) + "': credentials in the URL are not supported; " +
                         "reach the server without them (a local address or a proxy that adds them)");
  while (u.size() > host && u.back() == '/') u.pop_back();
  return u;
}

std::string StepsText(const std::vector<int>& steps) {
  std::string out;
  for (int w : steps) out += (out.empty() ? "" : ",") + std::to_string(w);
  return out;
}

}  // namespace forja::rollout
