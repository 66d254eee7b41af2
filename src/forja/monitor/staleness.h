// Staleness of a served model version (docs/monitoring.md, "Staleness"): its ages and trends
// against forja.yaml's monitoring.staleness thresholds, one `stale` verdict with its reasons.
//
// Pure logic over numbers: the timestamps come from the registry (registry/staleness_facts.h
// gathers them from the metadata store), the drift trend from forja serve's monitor
// (serve/monitoring.h), the quality from feedback (serve/quality.h, when there). What is not
// known (no run, no lineage, no monitor) is left out: an unknown age is no reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forja::monitor {

// The fixed set of reasons, in the order /metrics and reports list them.
enum class StaleReason { kModelAge, kDataAge, kSincePromotion, kDrift, kQuality };
inline constexpr size_t kStaleReasons = 5;
// "model_age", "data_age", "since_promotion", "drift", "quality" (the reason label on /metrics).
const char* StaleReasonName(StaleReason r);

// forja.yaml's monitoring.staleness (global, and per model under monitoring.models.NAME.staleness).
// Seconds; 0 turns a check off.
struct StalenessThresholds {
  double max_model_age_s = 90 * 86400.0;     // since training
  double max_data_age_s = 180 * 86400.0;     // of the training data (lineage)
  double max_since_promotion_s = 0;          // since the promotion that put the version where it is served
  double drifted_for_s = 3600;               // the dataset drifting without a break
};

// What is known of one version now. Empty: not known (the check is not made).
struct StalenessInput {
  std::optional<double> model_age_s, data_age_s, since_promotion_s;
  std::optional<double> drifted_for_s;  // 0 when the dataset does not drift now
  std::optional<bool> quality_below;    // the quality from feedback is below its threshold
};

struct StalenessVerdict {
  bool stale = false;
  std::array<bool, kStaleReasons> reasons{};  // by StaleReason
  bool has(StaleReason r) const { return reasons[static_cast<size_t>(r)]; }
};

// Stale when any known value is beyond its (non-zero) threshold: an age or the drift's length
// strictly above it, or the quality below its own threshold.
StalenessVerdict JudgeStaleness(const StalenessInput& in, const StalenessThresholds& t);

// Seconds from `then_ms` to `now_ms` (ms since the epoch), never negative: a time in the future
// (a clock ahead on the machine that logged it) is age 0. Empty when `then_ms` is empty.
std::optional<double> AgeSeconds(std::optional<int64_t> then_ms, int64_t now_ms);

// A duration for people: "45s", "12m", "3h 20m", "97d 4h".
std::string HumanDuration(double seconds);

// One line per check for a report: "model age        3d 4h   max 90d   (trained: run 1a2b's end)",
// with `why` (one per age: model, data, promotion; may be empty) saying where each time came from,
// then the verdict line "Stale: model_age, data_age" or "Not stale".
std::vector<std::string> StalenessLines(const StalenessInput& in, const StalenessThresholds& t,
                                        const StalenessVerdict& v, const std::array<std::string, 3>& why);
// "model_age, data_age" (empty when not stale).
std::string StaleReasonList(const StalenessVerdict& v);

}  // namespace forja::monitor
