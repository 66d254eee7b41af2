#include "forja/monitor/staleness.h"

#include <cmath>
#include <cstdio>

namespace forja::monitor {

const char* StaleReasonName(StaleReason r) {
  switch (r) {
    case StaleReason::kModelAge: return "model_age";
    case StaleReason::kDataAge: return "data_age";
    case StaleReason::kSincePromotion: return "since_promotion";
    case StaleReason::kDrift: return "drift";
    case StaleReason::kQuality: return "quality";
  }
  return "unknown";
}

namespace {

// Beyond a threshold: known, the check on (> 0), and strictly above it. NaN is not beyond.
bool Beyond(const std::optional<double>& value, double max) { return value && max > 0 && *value > max; }

}  // namespace

StalenessVerdict JudgeStaleness(const StalenessInput& in, const StalenessThresholds& t) {
  StalenessVerdict v;
  auto set = [&](StaleReason r, bool on) {
    v.reasons[static_cast<size_t>(r)] = on;
    v.stale |= on;
  };
  set(StaleReason::kModelAge, Beyond(in.model_age_s, t.max_model_age_s));
  set(StaleReason::kDataAge, Beyond(in.data_age_s, t.max_data_age_s));
  set(StaleReason::kSincePromotion, Beyond(in.since_promotion_s, t.max_since_promotion_s));
  set(StaleReason::kDrift, Beyond(in.drifted_for_s, t.drifted_for_s));
  set(StaleReason::kQuality, in.quality_below.value_or(false));
  return v;
}

std::optional<double> AgeSeconds(std::optional<int64_t> then_ms, int64_t now_ms) {
  if (!then_ms) return std::nullopt;
  if (*then_ms >= now_ms) return 0.0;
  return static_cast<double>(now_ms - *then_ms) / 1000.0;
}

std::string HumanDuration(double seconds) {
  if (!(seconds >= 0)) return "-";
  if (seconds >= 1e15) return ">30M years";
  auto s = static_cast<long long>(std::floor(seconds));
  // The two largest units, the second left out when 0: "3h 20m", "1h", "97d 4h".
  auto two = [](long long big, const char* bu, long long small, const char* su) {
    return std::to_string(big) + bu + (small ? " " + std::to_string(small) + su : std::string());
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string StaleReasonList(const StalenessVerdict& v) {
  std::string out;
  for (size_t i = 0; i < kStaleReasons; ++i)
    if (v.reasons[i]) out += (out.empty() ? "" : ", ") + std::string(StaleReasonName(static_cast<StaleReason>(i)));
  return out;
}

std::vector<std::string> StalenessLines(const StalenessInput& in, const StalenessThresholds& t,
                                        const StalenessVerdict& v, const std::array<std::string, 3>& why) {
  auto limit = [](double max) { return max > 0 ? "max " + HumanDuration(max) : std::string("off"); };
  auto line = [&](const char* what, const std::optional<double>& age, double max, const std::string& from) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-17s%-10s%-12s", what, age ? HumanDuration(*age).c_str() : "unknown",
                  limit(max).c_str());
    std::string s = buf;
    if (!from.empty()) s += "(" + from + ")";
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  };
  std::vector<std::string> out{
      line("model age", in.model_age_s, t.max_model_age_s, why[0]),
      line("training data", in.data_age_s, t.max_data_age_s, why[1]),
      line("since promotion", in.since_promotion_s, t.max_since_promotion_s, why[2]),
  };
  if (in.drifted_for_s) out.push_back(line("drifting for", in.drifted_for_s, t.drifted_for_s, ""));
  if (in.quality_below) out.push_back(std::string("quality          ") + (*in.quality_below ? "below its threshold" : "ok"));
  out.push_back(v.stale ? "Stale: " + StaleReasonList(v) : "Not stale");
  return out;
}

}  // namespace forja::monitor
