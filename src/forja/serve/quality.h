// Quality from feedback per served version (docs/monitoring.md, "Quality from feedback").
//
// The request path: every answered request's predictions are kept under its request id (the
// X-Request-Id forja serve answers with) in a bounded map: Record, on the thread that finished
// the request, takes one of kShards mutexes (chosen by the id's seeded 64-bit hash, which is also its key), so requests on other
// shards do not wait. The map is bounded in predicted values (max_predictions: rows times the
// values kept per row, 1 or the k class probabilities) and in age (the window): older
// predictions are evicted, and the evictions counted. Rows with class probabilities also
// feed the shard's CBPE estimate counts (monitor/quality.h).
//
// Feedback (POST /v2/models/{name}/feedback) joins labels to the kept predictions by request
// id: AddLabels checks the label's type and shape against the prediction and adds the pairs
// to a pending set of counts. The collector (server.cc) calls Collect every `interval`: the
// pending counts and the shards' estimate counts go into the head of a ring of time buckets
// that spans `window` (as VersionMonitor's), and the sums of the rings are published as a
// QualitySnapshot for /metrics.
//
// Classifier or regressor (decided once, from the signature, the profile and forja.yaml):
//   - monitoring.models.NAME.task (classification | regression) when set;
//   - the output read is the first whose name contains "prob", else the first output;
//   - a float output [n, k], k >= 2: a classifier with class probabilities (class = column);
//   - a float output of one value per row named *prob*: a binary classifier, the value being
//     the probability of class 1;
//   - an integer or BOOL output of one value per row: a classifier by class (0..63);
//   - another float output of one value per row: a classifier by class when the profile's
//     prediction column or target is categorical, else a regressor;
//   - anything else (BYTES, FP16, wider than kMaxClasses): not tracked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/tensor.h"
#include "forja/monitor/alert_rules.h"
#include "forja/monitor/quality.h"
#include "forja/serve/monitoring_config.h"

namespace forja::monitor {
struct Profile;
}

namespace forja::serve {

// One label value as the feedback's JSON gave it.
struct LabelValue {
  enum class Kind { kNumber, kBool, kOther } kind = Kind::kOther;
  double value = 0;
};

// What happened to one feedback item; the `result` label of forja_model_feedback_labels_total.
enum class FeedbackResult { kJoined, kUnknownRequestId, kWrongType, kWrongShape, kDuplicate };
inline constexpr int kFeedbackResults = 5;
const char* FeedbackResultName(FeedbackResult r);

// What /metrics shows for a version: the last Collect's numbers.
struct QualitySnapshot {
  monitor::Task task = monitor::Task::kRegression;
  uint64_t labels = 0;            // labeled rows in the window
  monitor::QualityValues quality;  // from the labels
  bool estimates = false;          // a classifier with probabilities
  uint64_t estimate_rows = 0;      // predicted rows in the window
  monitor::QualityValues estimate;
  uint64_t kept = 0;               // rows of predictions kept for joining now
};

class QualityTracker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kShards = 8;

  // Null (and *note says why) when the outputs are not something quality can be read from.
  static std::unique_ptr<QualityTracker> Create(const std::vector<TensorSpec>& outputs, const monitor::Profile* profile,
                                                const std::string& target, const MonitorOptions& options,
                                                Clock::time_point now, std::string* note);
  ~QualityTracker();

  // One answered request's outputs, kept under its id. Thread-safe.
  void Record(const std::string& request_id, const std::vector<Tensor>& outputs, Clock::time_point now);
  // One feedback item: `labels` are its values (a list when `list`). *why says what is wrong.
  FeedbackResult AddLabels(const std::string& request_id, const std::vector<LabelValue>& labels, bool list,
                           std::string* why);
  // Whether a prediction is kept under this id (not yet evicted).
  bool Knows(const std::string& request_id);
  void Count(FeedbackResult r) { results_[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed); }

  bool Due(Clock::time_point now) const { return now >= next_due_; }
  void Collect(Clock::time_point now);  // one caller at a time (the collector)
  std::shared_ptr<const QualitySnapshot> Snapshot() const;

  uint64_t results(FeedbackResult r) const { return results_[static_cast<int>(r)].load(std::memory_order_relaxed); }
  uint64_t evicted_age() const { return evicted_age_.load(std::memory_order_relaxed); }
  uint64_t evicted_capacity() const { return evicted_capacity_.load(std::memory_order_relaxed); }
  const char* kind() const;  // "classification" or "regression", for the log

  struct Shard;

 private:
  struct Shape {
    monitor::Task task = monitor::Task::kRegression;
    std::string output;  // the output read
    int classes = 0;     // classifier: k
    int width = 1;       // values kept per row
    bool probs = false;  // the values are class probabilities (width k), or class 1's (width 1)
  };
  QualityTracker(Shape shape, const MonitorOptions& options, Clock::time_point now);
  Shard& ShardOf(uint64_t key);  // key: IdKey (quality.cc) of the request id
  void Evict(Shard& s, Clock::time_point now, uint64_t room);
  // Row r's class probabilities (k of them) from kept values; false without probabilities.
  bool Probabilities(const double* values, double* probs) const;
  int PredictedClass(const double* values) const;

  Shape shape_;
  Clock::duration window_, interval_, bucket_len_;
  uint64_t shard_values_;  // max_predictions / kShards
  std::vector<std::unique_ptr<Shard>> shards_;

  std::mutex pending_mu_;  // feedback threads add, the collector takes
  monitor::QualityCounts pending_;

  std::atomic<uint64_t> results_[kFeedbackResults] = {};
  std::atomic<uint64_t> evicted_age_{0}, evicted_capacity_{0};

  // The collector's rings of buckets, bucket b covering [origin + b*len, ...).
  Clock::time_point origin_, next_due_;
  uint64_t head_ = 0;
  std::vector<monitor::QualityCounts> ring_;
  std::vector<monitor::EstimateCounts> estimate_ring_;

  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const QualitySnapshot> snapshot_;
};

// Whether the window's quality fails a production gate of `model` (its own gates and "*"'s on a
// quality metric: monitor::QualityGate), judged once the window holds `min_labels` labels, as
// ForjaModelQualityBelowGate judges it; empty when no gate names a metric the snapshot has, or
// too few labels came (the stale reason "quality", serve/staleness.h).
std::optional<bool> QualityBelowGates(const QualitySnapshot& s, const std::string& model,
                                      const std::vector<monitor::QualityGate>& gates, double min_labels);

// The quality series of these versions, as Prometheus text (docs/monitoring.md). `unknown`:
// per model, feedback items whose request id no version of it knows (version="").
struct QualityVersion {
  std::string model, version;
  const QualityTracker* tracker;
  std::shared_ptr<const QualitySnapshot> snapshot;
};
void RenderQualityMetrics(const std::vector<QualityVersion>& versions,
                          const std::vector<std::pair<std::string, uint64_t>>& unknown, std::string* out);

}  // namespace forja::serve
