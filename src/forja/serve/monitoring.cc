// Live drift per served version (monitoring.h): the signature mapped onto the profile, the
// lock-free request path into thread windows, the collector's ring of time buckets, and the
// Prometheus gauges.
#include "forja/serve/monitoring.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "forja/core/prometheus.h"

namespace forja::serve {

using monitor::ColumnKind;
using monitor::ColumnWindow;

namespace {

// Buckets in a ring at most: a 10m window at interval 1s slides in 10s steps, not 1s ones
// (each bucket holds every column's counts).
constexpr uint64_t kMaxBuckets = 60;

std::atomic<uint64_t> next_monitor_id{1};

// Values per row of a tensor shaped [n, ...] (1 for [n]).
int64_t RowWidth(const std::vector<int64_t>& shape) {
  int64_t k = 1;
  for (size_t i = 1; i < shape.size(); ++i) k *= shape[i];
  return k;
}

// The k values of each row of a fixed-size tensor of element type T, fed to their columns.
template <typename T>
void FeedValues(monitor::Window& w, const std::vector<int>& columns, const Tensor& t, bool is_bool) {
  if (t.shape.empty()) return;
  int64_t n = t.shape[0], k = RowWidth(t.shape);
  if (n <= 0 || k <= 0 || t.data.size() < static_cast<size_t>(n * k) * sizeof(T)) return;
  size_t width = std::min(static_cast<size_t>(k), columns.size());
  const char* p = t.data.data();
  const monitor::Profile& profile = w.profile();
  for (int64_t r = 0; r < n; ++r, p += k * sizeof(T)) {
    for (size_t j = 0; j < width; ++j) {
      int c = columns[j];
      if (c < 0) continue;
      T v;
      std::memcpy(&v, p + j * sizeof(T), sizeof(T));
      // A profile reads true/false cells as the categories "True" and "False", as pandas does.
      if (is_bool && profile.columns[c].kind != ColumnKind::kNumeric) w.AddCell(c, v ? "True" : "False");
      else w.AddNumber(c, static_cast<double>(v));
    }
  }
}

// BYTES: each element a 4-byte little-endian length, then its bytes.
void FeedBytes(monitor::Window& w, const std::vector<int>& columns, const Tensor& t) {
  if (t.shape.empty()) return;
  int64_t n = t.shape[0], k = RowWidth(t.shape);
  size_t pos = 0;
  for (int64_t e = 0; e < n * k; ++e) {
    uint32_t len = 0;
    if (pos + 4 > t.data.size()) return;
    std::memcpy(&len, t.data.data() + pos, 4);
    pos += 4;
    if (pos + len > t.data.size()) return;
    size_t j = static_cast<size_t>(e % k);
    if (j < columns.size() && columns[j] >= 0) w.AddCell(columns[j], std::string_view(t.data.data() + pos, len));
    pos += len;
  }
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

struct VersionMonitor::Shard {
  struct Buffer {
    explicit Buffer(const monitor::Profile& p) : window(p) {}
    monitor::Window window;
    uint64_t rows = 0;
  };
  explicit Shard(const monitor::Profile& p) : buf{Buffer(p), Buffer(p)} {}

  std::thread::id owner;
  std::atomic<uint64_t> seq{0};  // odd while the owning thread writes into buf[active]
  std::atomic<int> active{0};    // flipped by the collector
  Buffer buf[2];
};

VersionMonitor::VersionMonitor(monitor::Profile profile, MonitorOptions options, Clock::time_point now)
    : profile_(std::move(profile)), options_(std::move(options)), id_(next_monitor_id.fetch_add(1)), origin_(now) {
  auto secs = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  Clock::duration interval = secs(options_.interval_s), window = secs(options_.window_s);
  bucket_len_ = std::max(interval, window / static_cast<int64_t>(kMaxBuckets));
  if (bucket_len_ <= Clock::duration::zero()) bucket_len_ = std::chrono::seconds(1);
  monitor::Window empty(profile_);  // columns shaped as the profile's (counts, gaps)
  for (size_t i = 0; i < empty.size(); ++i) empty_.push_back(empty.column(i));
  size_t n = static_cast<size_t>(std::max<int64_t>(1, (window + bucket_len_ - Clock::duration(1)) / bucket_len_));
  ring_.resize(n);
  ring_rows_.assign(n, 0);
  for (Columns& c : ring_) ClearColumns(&c);
  next_due_ = now + interval;
  Publish(ring_[0], 0, now);  // an empty window until the first interval: 0 rows, no drift
}

VersionMonitor::~VersionMonitor() = default;

Result<std::unique_ptr<VersionMonitor>> VersionMonitor::Create(monitor::Profile profile, const std::vector<TensorSpec>& inputs,
                                                               const std::vector<TensorSpec>& outputs, MonitorOptions options,
                                                               const std::string& target, Clock::time_point now,
                                                               std::vector<std::string>* notes) {
  std::unique_ptr<VersionMonitor> m(new VersionMonitor(std::move(profile), std::move(options), now));
  const monitor::Profile& p = m->profile_;
  m->target_ = p.Find(target);
  std::vector<bool> fed(p.columns.size(), false);
  auto one_per_row = [](const TensorSpec& s) { return s.shape.size() <= 1 || RowWidth(s.shape) == 1; };
  auto feed = [&](const TensorSpec& s, bool output, size_t index, std::vector<int> columns) {
    for (int c : columns)
      if (c >= 0) fed[c] = true;
    m->feeds_.push_back({s.name, output, index, std::move(columns)});
  };
  auto free_column = [&](const std::string& name) {
    int c = p.Find(name);
    return c >= 0 && !fed[c] ? c : -1;
  };
  std::vector<bool> named(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    int c = free_column(inputs[i].name);
    if (c < 0 || !one_per_row(inputs[i]) || inputs[i].datatype == "FP16") continue;
    named[i] = true;
    feed(inputs[i], false, i, {c});
  }
  // The positional pool: the profile's features no name took, in profile order.
  std::vector<int> pool;
  for (size_t c = 0; c < p.columns.size(); ++c)
    if (!fed[c] && !IsPredictionColumn(p.columns[c].name) && p.columns[c].name != target) pool.push_back(static_cast<int>(c));
  size_t next = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& s = inputs[i];
    if (named[i]) continue;
    if (one_per_row(s) || s.datatype == "FP16" || next >= pool.size()) {
      notes->push_back("input '" + s.name + "' is not watched (" +
                       (s.datatype == "FP16" ? std::string("FP16") : one_per_row(s) ? "no profile column of its name" : "no profile columns left") + ")");
      continue;
    }
    int64_t k = RowWidth(s.shape);  // negative when a dimension is -1
    size_t take = k > 0 ? std::min(static_cast<size_t>(k), pool.size() - next) : pool.size() - next;
    if (k > 0 && static_cast<size_t>(k) > take)
      notes->push_back("input '" + s.name + "' has " + std::to_string(k) + " values per row, the profile " +
                       std::to_string(take) + " columns left: values past " + std::to_string(take) + " are not watched");
    feed(s, false, i, std::vector<int>(pool.begin() + static_cast<ptrdiff_t>(next), pool.begin() + static_cast<ptrdiff_t>(next + take)));
    next += take;
  }
  // Outputs: a column of the output's name; else the prediction columns forja monitor profile
  // writes: __prediction__ for a model of one output column, __prediction__.NAME for an output
  // of one value per row, __prediction__.NAME_J for value J of a wider one (batch's CSV names).
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorSpec& s = outputs[i];
    if (s.datatype == "FP16") continue;
    std::string prefixed = std::string(kPredictionColumn) + "." + s.name;
    if (one_per_row(s)) {
      int c = free_column(s.name);
      if (c < 0) c = free_column(prefixed);
      if (c < 0 && i == 0) c = free_column(kPredictionColumn);
      if (c >= 0) feed(s, true, i, {c});
      continue;
    }
    int64_t k = RowWidth(s.shape);
    std::vector<int> columns;
    bool any = false;
    for (int64_t j = 0; k > 0 && j < k; ++j) {
      columns.push_back(free_column(prefixed + "_" + std::to_string(j)));
      any |= columns.back() >= 0;
    }
    if (any) feed(s, true, i, std::move(columns));
  }
  std::string unfed;
  for (size_t c = 0; c < p.columns.size(); ++c)
    if (!fed[c] && p.columns[c].name != target) unfed += (unfed.empty() ? "" : ", ") + p.columns[c].name;
  if (!unfed.empty()) notes->push_back("profile columns no tensor feeds (no drift verdict): " + unfed);
  if (m->feeds_.empty()) return Status::User("the profile does not match the model's signature: no input or output feeds any of its columns");
  return m;
}

VersionMonitor::Shard* VersionMonitor::ThisThreadShard() {
  // A thread meets few versions (a batcher's workers finish one version's requests): four
  // entries, replaced in turn. Keys are never reused, so an entry of a monitor that is gone
  // never matches; its Shard pointer is never followed.
  struct Entry {
    uint64_t id = 0;
    Shard* shard = nullptr;
  };
  thread_local Entry cache[4];
  thread_local unsigned next = 0;
  for (const Entry& e : cache)
    if (e.id == id_) return e.shard;
  // A miss: this thread's shard (it may have fallen out of the cache), or a new one.
  Shard* s = nullptr;
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    for (auto& sh : shards_)
      if (sh->owner == std::this_thread::get_id()) s = sh.get();
    if (!s) {
      shards_.push_back(std::make_unique<Shard>(profile_));
      s = shards_.back().get();
      s->owner = std::this_thread::get_id();
    }
  }
  cache[next++ % 4] = {id_, s};
  return s;
}

void VersionMonitor::Feed1(monitor::Window& w, const Feed& f, const Tensor& t) {
  const std::string& dt = t.datatype;
  const std::vector<int>& cols = f.columns;
  if (dt == "FP32") FeedValues<float>(w, cols, t, false);
  else if (dt == "FP64") FeedValues<double>(w, cols, t, false);
  else if (dt == "INT64") FeedValues<int64_t>(w, cols, t, false);
  else if (dt == "INT32") FeedValues<int32_t>(w, cols, t, false);
  else if (dt == "INT16") FeedValues<int16_t>(w, cols, t, false);
  else if (dt == "INT8") FeedValues<int8_t>(w, cols, t, false);
  else if (dt == "UINT64") FeedValues<uint64_t>(w, cols, t, false);
  else if (dt == "UINT32") FeedValues<uint32_t>(w, cols, t, false);
  else if (dt == "UINT16") FeedValues<uint16_t>(w, cols, t, false);
  else if (dt == "UINT8") FeedValues<uint8_t>(w, cols, t, false);
  else if (dt == "BOOL") FeedValues<uint8_t>(w, cols, t, true);
  else if (dt == "BYTES") FeedBytes(w, cols, t);
}

void VersionMonitor::Observe(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) {
  Shard* s = ThisThreadShard();
  uint64_t seq = s->seq.load(std::memory_order_relaxed);
  // Odd before choosing the buffer, so that a collector that flipped `active` and then reads
  // an even count knows no write into the old buffer is under way (both seq_cst: see Collect).
  s->seq.store(seq + 1, std::memory_order_seq_cst);
  Shard::Buffer& b = s->buf[s->active.load(std::memory_order_seq_cst)];
  for (const Feed& f : feeds_) {
    const std::vector<Tensor>& list = f.output ? outputs : inputs;
    const Tensor* t = f.index < list.size() && list[f.index].name == f.name ? &list[f.index] : nullptr;
    for (size_t i = 0; !t && i < list.size(); ++i)
      if (list[i].name == f.name) t = &list[i];
    if (t) Feed1(b.window, f, *t);
  }
  if (!inputs.empty() && !inputs[0].shape.empty()) b.rows += static_cast<uint64_t>(std::max<int64_t>(0, inputs[0].shape[0]));
  s->seq.store(seq + 2, std::memory_order_release);
}

void VersionMonitor::ClearColumns(Columns* c) const { *c = empty_; }

void VersionMonitor::Collect(Clock::time_point now) {
  size_t n = ring_.size();
  uint64_t bucket = now > origin_ ? static_cast<uint64_t>((now - origin_) / bucket_len_) : 0;
  if (bucket > head_) {  // slide: the buckets passed over are emptied (all of them after a long pause)
    uint64_t steps = std::min<uint64_t>(bucket - head_, n);
    for (uint64_t i = 1; i <= steps; ++i) {
      size_t at = static_cast<size_t>((head_ + i) % n);
      ClearColumns(&ring_[at]);
      ring_rows_[at] = 0;
    }
    head_ = bucket;
  }
  size_t at = static_cast<size_t>(head_ % n);
  std::vector<Shard*> shards;
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    for (auto& s : shards_) shards.push_back(s.get());
  }
  for (Shard* s : shards) {
    int old = s->active.load(std::memory_order_relaxed);
    s->active.store(1 - old, std::memory_order_seq_cst);
    // A writer that may have picked the old buffer has an odd count; wait for it to move on.
    uint64_t q = s->seq.load(std::memory_order_seq_cst);
    if (q & 1)
      while (s->seq.load(std::memory_order_acquire) == q) std::this_thread::yield();
    Shard::Buffer& b = s->buf[old];
    for (size_t i = 0; i < ring_[at].size(); ++i) ring_[at][i].Merge(b.window.column(i));
    ring_rows_[at] += b.rows;
    b.window.Clear();
    b.rows = 0;
  }
  Columns sum;
  ClearColumns(&sum);
  uint64_t rows = 0;
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < sum.size(); ++i) sum[i].Merge(ring_[k][i]);
    rows += ring_rows_[k];
  }
  Publish(sum, rows, now);
  next_due_ = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.interval_s));
}

void VersionMonitor::Publish(const Columns& sum, uint64_t rows, Clock::time_point now) {
  auto snap = std::make_shared<MonitorSnapshot>();
  snap->rows = rows;
  std::vector<monitor::ColumnDrift> columns;
  columns.reserve(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) columns.push_back(monitor::CompareWindow(profile_.columns[i], sum[i]));
  snap->drift = monitor::Summarize(std::move(columns), options_.drift_share);
  if (!snap->drift.drift) drifted_since_.reset();
  else if (!drifted_since_) drifted_since_ = now;
  snap->drifted_since = drifted_since_;
  // Series go to the prediction first, then the drifted columns, then the rest, each group in
  // profile order: stable while verdicts hold, and a drifted column is never the one left out.
  const auto& cols = snap->drift.columns;
  size_t cap = static_cast<size_t>(std::max(0, options_.max_columns));
  auto take = [&](auto pick) {
    for (size_t i = 0; i < cols.size() && snap->shown.size() < cap; ++i)
      if (static_cast<int>(i) != target_ && pick(cols[i]) && std::find(snap->shown.begin(), snap->shown.end(), i) == snap->shown.end())
        snap->shown.push_back(i);
  };
  take([](const monitor::ColumnDrift& c) { return IsPredictionColumn(c.name); });
  take([](const monitor::ColumnDrift& c) { return c.drifted(); });
  take([](const monitor::ColumnDrift&) { return true; });
  snap->omitted = cols.size() - snap->shown.size() - (target_ >= 0 ? 1 : 0);
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(snap);
}

std::shared_ptr<const MonitorSnapshot> VersionMonitor::Snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void RenderMonitorMetrics(const std::vector<MonitoredVersion>& versions, std::string* out) {
  if (versions.empty()) return;
  constexpr auto Label = &PromRegistry::Label;
  auto family = [&](const char* name, const char* help) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
  };
  auto version_labels = [&](const MonitoredVersion& v) { return Label("model", v.model) + "," + Label("version", v.version); };
  // One line per version.
  auto per_version = [&](const char* name, const char* help, auto value) {
    family(name, help);
    for (const MonitoredVersion& v : versions)
      *out += std::string(name) + "{" + version_labels(v) + "} " + value(*v.snapshot) + "\n";
  };
  // One line per shown column that `value` gives a number for (empty: no line).
  auto per_column = [&](const char* name, const char* help, bool method, auto value) {
    family(name, help);
    for (const MonitoredVersion& v : versions) {
      for (size_t i : v.snapshot->shown) {
        const monitor::ColumnDrift& c = v.snapshot->drift.columns[i];
        std::string text = value(c);
        if (text.empty()) continue;
        *out += std::string(name) + "{" + version_labels(v) + "," + Label("column", c.name) +
                (method ? "," + Label("method", monitor::MethodName(c.method)) : std::string()) + "} " + text + "\n";
      }
    }
  };
  auto count = [](uint64_t n) { return std::to_string(n); };
  per_version("forja_model_window_rows", "Rows the model version answered in the current monitoring window.",
              [&](const MonitorSnapshot& s) { return count(s.rows); });
  per_version("forja_model_dataset_drift_share", "Share of the tested columns that drifted from the reference profile.",
              [](const MonitorSnapshot& s) { return Number(s.drift.share); });
  per_version("forja_model_dataset_drifted", "1 when the drifted share reaches monitoring.drift_share, else 0.",
              [](const MonitorSnapshot& s) { return std::string(s.drift.drift ? "1" : "0"); });
  per_version("forja_model_monitored_columns", "Columns with their own drift series (at most monitoring.max_columns).",
              [&](const MonitorSnapshot& s) { return count(s.shown.size()); });
  per_version("forja_model_monitor_columns_omitted",
              "Columns beyond monitoring.max_columns: counted in the dataset share, without series of their own.",
              [&](const MonitorSnapshot& s) { return count(s.omitted); });
  per_column("forja_model_drift_score", "The score of the column's drift test (method: the test Evidently's preset picks).",
             true, [](const monitor::ColumnDrift& c) { return c.tested() ? Number(c.score) : std::string(); });
  per_column("forja_model_column_drifted", "1 when the column's drift test finds drift, else 0.", false,
             [](const monitor::ColumnDrift& c) { return std::string(c.drifted() ? "1" : "0"); });
  per_column("forja_model_missing_share", "Share of the column's cells in the window that are missing, NaN or not a number.",
             false, [](const monitor::ColumnDrift& c) {
               return std::isnan(c.current_missing_share) ? std::string() : Number(c.current_missing_share);
             });
  per_column("forja_model_out_of_range_share",
             "Share of the column's values outside the reference range (or categories the reference does not list).", false,
             [](const monitor::ColumnDrift& c) {
               return std::isnan(c.out_of_reference_share) ? std::string() : Number(c.out_of_reference_share);
             });
}

}  // namespace forja::serve
