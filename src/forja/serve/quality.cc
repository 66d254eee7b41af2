// Quality from feedback per served version (quality.h): the kept predictions, the join, the
// collector's rings, the Prometheus series.
#include "forja/serve/quality.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <random>
#include <utility>

#include "forja/core/prometheus.h"
#include "forja/monitor/profile.h"

namespace forja::serve {

using monitor::Task;

namespace {

constexpr uint64_t kMaxBuckets = 60;  // as VersionMonitor's ring

int64_t RowWidth(const std::vector<int64_t>& shape) {
  int64_t k = 1;
  for (size_t i = 1; i < shape.size(); ++i) k *= shape[i];
  return k;
}

bool IsFloat(const std::string& dt) { return dt == "FP32" || dt == "FP64"; }
bool IsInteger(const std::string& dt) {
  return dt == "BOOL" || dt == "INT8" || dt == "INT16" || dt == "INT32" || dt == "INT64" || dt == "UINT8" || dt == "UINT16" ||
         dt == "UINT32" || dt == "UINT64";
}

bool NamesProbability(const std::string& name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("prob") != std::string::npos;
}

// The first n elements of a fixed-size tensor as doubles (NaN past its data, or for BYTES).
void Elements(const Tensor& t, double* out, size_t n) {
  auto read = [&](auto zero) {
    using T = decltype(zero);
    size_t have = t.data.size() / sizeof(T);
    for (size_t i = 0; i < n; ++i) {
      T v = zero;
      if (i < have) std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
      out[i] = i < have ? static_cast<double>(v) : NAN;
    }
  };
  const std::string& dt = t.datatype;
  if (dt == "FP32") read(float{});
  else if (dt == "FP64") read(double{});
  else if (dt == "INT64") read(int64_t{});
  else if (dt == "INT32") read(int32_t{});
  else if (dt == "INT16") read(int16_t{});
  else if (dt == "INT8") read(int8_t{});
  else if (dt == "UINT64") read(uint64_t{});
  else if (dt == "UINT32") read(uint32_t{});
  else if (dt == "UINT16") read(uint16_t{});
  else if (dt == "UINT8" || dt == "BOOL") read(uint8_t{});
  else std::fill(out, out + n, NAN);
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

const char* FeedbackResultName(FeedbackResult r) {
  switch (r) {
    case FeedbackResult::kJoined: return "joined";
    case FeedbackResult::kUnknownRequestId: return "unknown_request_id";
    case FeedbackResult::kWrongType: return "wrong_type";
    case FeedbackResult::kWrongShape: return "wrong_shape";
    case FeedbackResult::kDuplicate: return "duplicate";
  }
  return "?";
}

namespace {

// A request id's key in the map: 64 bits of a hash seeded at random per process, so that ids a
// client chooses cannot be made to collide on purpose. Keys instead of the ids themselves keep
// the request path to one allocation (the map's node); two ids in one window sharing a key
// (odds about n^2 / 2^65 for n kept ids) would join a label to the other's prediction.
uint64_t IdKey(std::string_view id) {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  auto mix = [](uint64_t h) {  // splitmix64's finalizer
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
  };
  uint64_t h = mix(seed ^ id.size());
  size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    uint64_t chunk;
    std::memcpy(&chunk, id.data() + i, 8);
    h = mix(h ^ chunk);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, id.data() + i, id.size() - i);
  uint64_t key = mix(h ^ tail ^ 0x9e3779b97f4a7c15ull);
  return key != 0 ? key : 1;  // 0 marks an empty slot of a shard's index
}

}  // namespace

struct QualityTracker::Shard {
  // Predicted values, rows x width: a one-row prediction of one or two values (most requests)
  // is kept inline, without an allocation of its own.
  class Values {
   public:
    void Assign(const double* v, size_t n) {
      n_ = n;
      if (n <= kInline) std::copy(v, v + n, inline_);
      else heap_.assign(v, v + n);
    }
    void Release() {  // an evicted slot keeps no large prediction's memory
      if (n_ > kInline) std::vector<double>().swap(heap_);
      n_ = 0;
    }
    const double* data() const { return n_ <= kInline ? inline_ : heap_.data(); }
    size_t size() const { return n_; }

   private:
    static constexpr size_t kInline = 2;
    size_t n_ = 0;
    double inline_[kInline] = {};
    std::vector<double> heap_;
  };
  // One kept prediction. Entries sit in a ring in order of arrival, entry number `seq` at
  // ring[seq & mask], so the oldest is evicted first and slots are reused, not allocated.
  struct Entry {
    uint64_t key = 0;
    Clock::time_point time;
    uint32_t rows = 0;
    bool labeled = false;
    bool replaced = false;  // a newer prediction under the same id took its place
    Values values;
  };
  // The index from key to seq: open addressing with linear probing (keys are already random
  // hashes; 0 marks an empty slot, IdKey never returns it), so a request costs a probe or two
  // and no allocation, where a node map allocated and freed a node per prediction.
  struct Slot {
    uint64_t key = 0;
    uint64_t seq = 0;
  };

  Shard(int classes, bool estimates) : ring(64), table(128), estimate(classes), estimates(estimates) {}

  Slot* Find(uint64_t key) {
    size_t mask = table.size() - 1;
    for (size_t i = key & mask;; i = (i + 1) & mask) {
      if (table[i].key == key) return &table[i];
      if (table[i].key == 0) return nullptr;
    }
  }
  Entry& At(uint64_t seq) { return ring[seq & (ring.size() - 1)]; }

  // Points key at seq; the seq it pointed at before, or none when new.
  std::optional<uint64_t> Point(uint64_t key, uint64_t seq) {
    if (Slot* slot = Find(key)) return std::exchange(slot->seq, seq);
    if ((used + 1) * 2 > table.size()) Rehash(table.size() * 2);
    size_t mask = table.size() - 1;
    size_t i = key & mask;
    while (table[i].key != 0) i = (i + 1) & mask;
    table[i] = {key, seq};
    ++used;
    return std::nullopt;
  }
  // Removes a slot, moving later slots of its probe run back (no tombstones to skip later).
  void Erase(Slot* slot) {
    size_t mask = table.size() - 1;
    size_t hole = static_cast<size_t>(slot - table.data());
    for (size_t j = (hole + 1) & mask; table[j].key != 0; j = (j + 1) & mask) {
      size_t home = table[j].key & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {  // the hole is on its probe path
        table[hole] = table[j];
        hole = j;
      }
    }
    table[hole] = {};
    --used;
  }
  void Rehash(size_t size) {
    std::vector<Slot> old(size);
    old.swap(table);
    size_t mask = size - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      size_t i = s.key & mask;
      while (table[i].key != 0) i = (i + 1) & mask;
      table[i] = s;
    }
  }
  // A new entry at the ring's end, the ring doubled first when full.
  Entry& Push() {
    if (next - first == ring.size()) {
      std::vector<Entry> bigger(ring.size() * 2);
      for (uint64_t q = first; q < next; ++q) bigger[q & (bigger.size() - 1)] = std::move(At(q));
      ring.swap(bigger);
    }
    return At(next++);
  }

  std::mutex mu;
  std::vector<Entry> ring;  // a power of two; holds entries first .. next-1
  uint64_t first = 0, next = 0;
  std::vector<Slot> table;  // a power of two, at most half full
  size_t used = 0;
  uint64_t rows = 0, values = 0;  // kept, in rows and in predicted values (replaced entries not counted)
  monitor::EstimateCounts estimate;
  bool estimates;
};

QualityTracker::QualityTracker(Shape shape, const MonitorOptions& options, Clock::time_point now)
    : shape_(std::move(shape)), pending_(shape_.task, shape_.classes, shape_.probs), origin_(now) {
  auto secs = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  window_ = secs(options.window_s);
  interval_ = secs(options.interval_s);
  bucket_len_ = std::max(interval_, window_ / static_cast<int64_t>(kMaxBuckets));
  if (bucket_len_ <= Clock::duration::zero()) bucket_len_ = std::chrono::seconds(1);
  shard_values_ = std::max<uint64_t>(1, static_cast<uint64_t>(options.max_predictions) / kShards);
  bool estimates = shape_.task == Task::kClassification && shape_.probs;
  for (int i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>(shape_.classes, estimates));
  size_t n = static_cast<size_t>(std::max<int64_t>(1, (window_ + bucket_len_ - Clock::duration(1)) / bucket_len_));
  ring_.assign(n, monitor::QualityCounts(shape_.task, shape_.classes, shape_.probs));
  estimate_ring_.assign(estimates ? n : 0, monitor::EstimateCounts(shape_.classes));
  next_due_ = now + interval_;
  auto snap = std::make_shared<QualitySnapshot>();
  snap->task = shape_.task;
  snap->estimates = estimates;
  snapshot_ = std::move(snap);
}

QualityTracker::~QualityTracker() = default;

const char* QualityTracker::kind() const { return shape_.task == Task::kClassification ? "classification" : "regression"; }

std::unique_ptr<QualityTracker> QualityTracker::Create(const std::vector<TensorSpec>& outputs, const monitor::Profile* profile,
                                                       const std::string& target, const MonitorOptions& options,
                                                       Clock::time_point now, std::string* note) {
  if (options.max_predictions <= 0) {
    *note = "monitoring.max_predictions is 0";
    return nullptr;
  }
  if (outputs.empty()) {
    *note = "the model has no outputs";
    return nullptr;
  }
  const TensorSpec* out = &outputs[0];
  for (const TensorSpec& s : outputs)
    if (NamesProbability(s.name)) {
      out = &s;
      break;
    }
  Shape shape;
  shape.output = out->name;
  int64_t k = out->shape.size() <= 1 ? 1 : RowWidth(out->shape);
  bool fp = IsFloat(out->datatype);
  // The profile's word: a categorical prediction column (of this output) or target.
  auto categorical = [&] {
    if (!profile) return false;
    for (const std::string& name : {std::string(monitor::kPredictionColumn) + "." + out->name,
                                    std::string(monitor::kPredictionColumn), out->name, target}) {
      int c = name.empty() ? -1 : profile->Find(name);
      if (c >= 0) return profile->columns[static_cast<size_t>(c)].kind == monitor::ColumnKind::kCategorical;
    }
    return false;
  };
  const std::string& task = options.task;
  if (fp && k >= 2) {
    if (k > monitor::kMaxClasses) {
      *note = "output '" + out->name + "' has " + std::to_string(k) + " values per row (at most " +
              std::to_string(monitor::kMaxClasses) + " classes are tracked)";
      return nullptr;
    }
    if (task == "regression") {
      *note = "output '" + out->name + "' has several values per row: multi-output regression is not tracked";
      return nullptr;
    }
    shape = {Task::kClassification, out->name, static_cast<int>(k), static_cast<int>(k), true};
  } else if (k == 1 && (fp || IsInteger(out->datatype))) {
    if (task == "regression") shape = {Task::kRegression, out->name, 0, 1, false};
    else if (fp && NamesProbability(out->name)) shape = {Task::kClassification, out->name, 2, 1, true};
    else if (task == "classification" || !fp || categorical())
      shape = {Task::kClassification, out->name, monitor::kMaxClasses, 1, false};
    else shape = {Task::kRegression, out->name, 0, 1, false};
  } else {
    *note = "output '" + out->name + "' (" + out->datatype + ") is neither classes, class probabilities nor numbers";
    return nullptr;
  }
  return std::unique_ptr<QualityTracker>(new QualityTracker(std::move(shape), options, now));
}

QualityTracker::Shard& QualityTracker::ShardOf(uint64_t key) { return *shards_[(key >> 32) % kShards]; }

// Drops entries older than the window, then the oldest until `room` more values fit. s.mu held.
void QualityTracker::Evict(Shard& s, Clock::time_point now, uint64_t room) {
  for (; s.first != s.next; ++s.first) {
    Shard::Entry& e = s.At(s.first);
    bool old = now - e.time > window_;
    if (!old && s.values + room <= shard_values_) break;
    if (!e.replaced) {  // a replaced entry's counts left when it was replaced
      s.rows -= e.rows;
      s.values -= e.values.size();
      (old ? evicted_age_ : evicted_capacity_).fetch_add(1, std::memory_order_relaxed);
      s.Erase(s.Find(e.key));
    }
    e.values.Release();
  }
}

bool QualityTracker::Probabilities(const double* values, double* probs) const {
  if (!shape_.probs) return false;
  if (shape_.width == 1) {
    probs[0] = 1 - values[0];
    probs[1] = values[0];
  } else {
    std::copy(values, values + shape_.width, probs);
  }
  return true;
}

int QualityTracker::PredictedClass(const double* values) const {
  if (!shape_.probs) {
    double v = values[0];
    return v >= 0 && v < shape_.classes && v == std::floor(v) ? static_cast<int>(v) : -1;
  }
  if (shape_.width == 1) return values[0] >= 0.5 ? 1 : 0;
  if (shape_.classes == 2) return values[1] >= 0.5 ? 1 : 0;
  return static_cast<int>(std::max_element(values, values + shape_.width) - values);
}

void QualityTracker::Record(const std::string& request_id, const std::vector<Tensor>& outputs, Clock::time_point now) {
  const Tensor* t = nullptr;
  for (const Tensor& o : outputs)
    if (o.name == shape_.output) t = &o;
  if (!t || t->shape.empty() || request_id.empty()) return;
  int64_t n = t->shape[0];
  size_t width = static_cast<size_t>(shape_.width);
  if (n <= 0 || (t->shape.size() > 1 && RowWidth(t->shape) != shape_.width)) return;
  uint64_t rows = static_cast<uint64_t>(n);
  const uint64_t key = IdKey(request_id);
  Shard& s = ShardOf(key);
  if (rows * width > shard_values_) {  // never fits: not kept (its feedback will find no prediction)
    evicted_capacity_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Read outside the lock; small predictions (most) on the stack.
  double small[64];
  std::vector<double> large;
  double* values = small;
  if (rows * width > 64) {
    large.resize(rows * width);
    values = large.data();
  }
  Elements(*t, values, rows * width);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.estimates) {
    double probs[monitor::kMaxClasses];
    for (uint64_t r = 0; r < rows; ++r)
      if (Probabilities(&values[r * width], probs)) s.estimate.Add(probs);
  }
  Evict(s, now, rows * width);
  uint64_t seq = s.next;
  Shard::Entry& e = s.Push();
  e.key = key;
  e.time = now;
  e.rows = static_cast<uint32_t>(rows);
  e.labeled = false;
  e.replaced = false;
  e.values.Assign(values, rows * width);
  s.rows += rows;
  s.values += rows * width;
  if (std::optional<uint64_t> before = s.Point(key, seq)) {  // a client reused the id: the newer prediction wins
    Shard::Entry& old = s.At(*before);
    old.replaced = true;
    s.rows -= old.rows;
    s.values -= old.values.size();
  }
}

FeedbackResult QualityTracker::AddLabels(const std::string& request_id, const std::vector<LabelValue>& labels, bool list,
                                         std::string* why) {
  const uint64_t key = IdKey(request_id);
  Shard& s = ShardOf(key);
  std::vector<double> values;
  uint32_t rows = 0;
  FeedbackResult result = FeedbackResult::kJoined;
  auto fail = [&](FeedbackResult r, std::string what) {
    result = r;
    *why = std::move(what);
  };
  {
    std::lock_guard<std::mutex> lock(s.mu);
    Shard::Slot* slot = s.Find(key);
    if (!slot) return FeedbackResult::kUnknownRequestId;  // counted by the caller, per model
    Shard::Entry& e = s.At(slot->seq);
    rows = e.rows;
    if (e.labeled) {
      fail(FeedbackResult::kDuplicate, "this request's predictions have a label already; the first one counts");
    } else if (labels.size() != rows) {
      fail(FeedbackResult::kWrongShape, "the request had " + std::to_string(rows) + " row" + (rows == 1 ? "" : "s") +
                                            ": give " + (rows == 1 ? "one label" : "a list of " + std::to_string(rows) + " labels") +
                                            ", not " + (list ? "a list of " + std::to_string(labels.size()) : std::string("one")));
    } else {
      for (size_t i = 0; i < labels.size() && result == FeedbackResult::kJoined; ++i) {
        const LabelValue& l = labels[i];
        std::string where = list ? "label " + std::to_string(i) + ": " : "";
        if (shape_.task == Task::kRegression) {
          if (l.kind != LabelValue::Kind::kNumber || !std::isfinite(l.value))
            fail(FeedbackResult::kWrongType, where + "a regressor's label must be a finite number");
        } else {
          bool integral = (l.kind == LabelValue::Kind::kNumber || l.kind == LabelValue::Kind::kBool) &&
                          l.value == std::floor(l.value) && l.value >= 0 && l.value < shape_.classes;
          if (!integral)
            fail(FeedbackResult::kWrongType, where + "a classifier's label must be a class number from 0 to " +
                                                 std::to_string(shape_.classes - 1) + " (or true/false)");
        }
      }
    }
    if (result == FeedbackResult::kJoined) {
      e.labeled = true;
      values.assign(e.values.data(), e.values.data() + e.values.size());
    }
  }
  Count(result);
  if (result != FeedbackResult::kJoined) return result;
  size_t width = static_cast<size_t>(shape_.width);
  std::lock_guard<std::mutex> lock(pending_mu_);
  for (uint32_t r = 0; r < rows; ++r) {
    const double* v = &values[r * width];
    if (shape_.task == Task::kRegression) {
      pending_.AddValue(labels[r].value, v[0]);
      continue;
    }
    double probs[monitor::kMaxClasses];
    bool have = Probabilities(v, probs);
    pending_.AddClass(static_cast<int>(labels[r].value), PredictedClass(v), have ? probs : nullptr);
  }
  return result;
}

void QualityTracker::Collect(Clock::time_point now) {
  size_t n = ring_.size();
  uint64_t bucket = now > origin_ ? static_cast<uint64_t>((now - origin_) / bucket_len_) : 0;
  if (bucket > head_) {  // slide: the buckets passed over are emptied
    uint64_t steps = std::min<uint64_t>(bucket - head_, n);
    for (uint64_t i = 1; i <= steps; ++i) {
      size_t at = static_cast<size_t>((head_ + i) % n);
      ring_[at].Clear();
      if (!estimate_ring_.empty()) estimate_ring_[at].Clear();
    }
    head_ = bucket;
  }
  size_t at = static_cast<size_t>(head_ % n);
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    ring_[at].Merge(pending_);
    pending_.Clear();
  }
  auto snap = std::make_shared<QualitySnapshot>();
  snap->task = shape_.task;
  snap->estimates = !estimate_ring_.empty();
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    Evict(*s, now, 0);  // predictions older than the window leave even without traffic
    snap->kept += s->rows;
    if (snap->estimates) {
      estimate_ring_[at].Merge(s->estimate);
      s->estimate.Clear();
    }
  }
  monitor::QualityCounts sum(shape_.task, shape_.classes, shape_.probs);
  for (const auto& b : ring_) sum.Merge(b);
  snap->labels = sum.labels();
  snap->quality = monitor::ComputeQuality(sum);
  if (snap->estimates) {
    monitor::EstimateCounts est(shape_.classes);
    for (const auto& b : estimate_ring_) est.Merge(b);
    snap->estimate_rows = est.rows();
    snap->estimate = monitor::EstimateQuality(est);
  }
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snapshot_ = std::move(snap);
  }
  next_due_ = now + interval_;
}

std::shared_ptr<const QualitySnapshot> QualityTracker::Snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

std::optional<bool> QualityBelowGates(const QualitySnapshot& s, const std::string& model,
                                      const std::vector<monitor::QualityGate>& gates, double min_labels) {
  if (static_cast<double>(s.labels) < min_labels || s.labels == 0) return std::nullopt;
  std::optional<bool> below;
  for (const monitor::QualityGate& g : gates) {
    if (g.model != model && g.model != "*") continue;
    for (const auto& [name, value] : s.quality) {
      if (g.metric != name) continue;
      bool pass = g.op == ">=" ? value >= g.threshold : g.op == ">" ? value > g.threshold
                : g.op == "<=" ? value <= g.threshold : g.op == "<" ? value < g.threshold : true;
      below = below.value_or(false) || !pass;
    }
  }
  return below;
}

void RenderQualityMetrics(const std::vector<QualityVersion>& versions,
                          const std::vector<std::pair<std::string, uint64_t>>& unknown, std::string* out) {
  if (versions.empty() && unknown.empty()) return;
  constexpr auto Label = &PromRegistry::Label;
  auto family = [&](const char* name, const char* type, const char* help) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto labels = [&](const QualityVersion& v) { return Label("model", v.model) + "," + Label("version", v.version); };
  family("forja_model_quality", "gauge",
         "Quality of the model version's predictions from the labels posted to /feedback in the window (metric: "
         "accuracy, precision, recall, roc_auc, log_loss, mae, rmse, mape).");
  for (const QualityVersion& v : versions)
    for (const auto& [m, x] : v.snapshot->quality) *out += "forja_model_quality{" + labels(v) + "," + Label("metric", m) + "} " + Number(x) + "\n";
  family("forja_model_quality_estimated", "gauge",
         "Quality estimated from the predicted probabilities alone (CBPE, assumes calibrated scores), over the window's predictions.");
  for (const QualityVersion& v : versions)
    for (const auto& [m, x] : v.snapshot->estimate)
      *out += "forja_model_quality_estimated{" + labels(v) + "," + Label("metric", m) + "} " + Number(x) + "\n";
  family("forja_model_quality_window_labels", "gauge", "Labeled rows joined to the model version's predictions in the window.");
  for (const QualityVersion& v : versions)
    *out += "forja_model_quality_window_labels{" + labels(v) + "} " + std::to_string(v.snapshot->labels) + "\n";
  family("forja_model_quality_estimated_window_rows", "gauge", "Predicted rows with probabilities behind the estimate, in the window.");
  for (const QualityVersion& v : versions)
    if (v.snapshot->estimates)
      *out += "forja_model_quality_estimated_window_rows{" + labels(v) + "} " + std::to_string(v.snapshot->estimate_rows) + "\n";
  family("forja_model_feedback_predictions_kept", "gauge", "Rows of predictions kept for joining labels to, now.");
  for (const QualityVersion& v : versions)
    *out += "forja_model_feedback_predictions_kept{" + labels(v) + "} " + std::to_string(v.snapshot->kept) + "\n";
  family("forja_model_feedback_predictions_evicted_total", "counter",
         "Requests whose predictions were dropped before a label came: older than the window (age) or beyond "
         "monitoring.max_predictions (capacity).");
  for (const QualityVersion& v : versions) {
    *out += "forja_model_feedback_predictions_evicted_total{" + labels(v) + ",reason=\"age\"} " +
            std::to_string(v.tracker->evicted_age()) + "\n";
    *out += "forja_model_feedback_predictions_evicted_total{" + labels(v) + ",reason=\"capacity\"} " +
            std::to_string(v.tracker->evicted_capacity()) + "\n";
  }
  family("forja_model_feedback_labels_total", "counter",
         "Feedback items by result (joined, duplicate, wrong_type, wrong_shape; unknown_request_id with version \"\").");
  for (const QualityVersion& v : versions)
    for (int r = 0; r < kFeedbackResults; ++r) {
      auto res = static_cast<FeedbackResult>(r);
      if (res == FeedbackResult::kUnknownRequestId) continue;
      *out += "forja_model_feedback_labels_total{" + labels(v) + "," + Label("result", FeedbackResultName(res)) + "} " +
              std::to_string(v.tracker->results(res)) + "\n";
    }
  for (const auto& [model, n] : unknown)
    *out += "forja_model_feedback_labels_total{" + Label("model", model) + ",version=\"\",result=\"unknown_request_id\"} " +
            std::to_string(n) + "\n";
}

}  // namespace forja::serve
