// Live drift of one served model version against its reference profile (monitor/profile.h).
//
// The request path: every answered request hands its input tensors and its outputs to
// VersionMonitor::Observe on the thread that finished it. Each thread has its own pair of
// monitor::Windows (a Shard), found through a small thread_local cache: no lock, no
// allocation, a binary search or a hash lookup per cell. A collector (the server's one
// thread, ModelServer::Impl::Collect) calls Collect every `interval`: it flips each shard to
// its other window, waits for a request still writing into the old one to finish (a
// sequence count, no lock), and merges it into the head of a ring of time buckets. The ring
// spans `window`; the sum of its buckets is compared with the profile (monitor/drift.h) and
// published as a Snapshot that /metrics renders (RenderMonitorMetrics).
//
// Which tensor feeds which profile column (the signature is fixed, so this is decided once):
//   - an input or output whose name is a profile column, one value per row: that column;
//   - any other input of several values per row ([n, k], k fixed or -1): its k values map by
//     position onto the profile's feature columns no name took (profile order, without the
//     prediction columns and the target); a second such input continues where the first stopped;
//   - outputs, as `forja monitor profile` names the model's predictions: the first output of
//     one value per row feeds "__prediction__", an output NAME of one value per row
//     "__prediction__.NAME", value J of a wider output "__prediction__.NAME_J".
// Profile columns no tensor feeds stay empty (verdict no_current_values: not counted in the
// dataset share); tensors that feed nothing, and FP16 tensors, are not watched. Both are
// said once in the log when the version loads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/tensor.h"
#include "forja/monitor/drift.h"
#include "forja/monitor/profile.h"
#include "forja/monitor/window.h"
#include "forja/serve/monitoring_config.h"

namespace forja::serve {

using monitor::IsPredictionColumn;
using monitor::kPredictionColumn;

// What /metrics shows for a version: the last Collect's verdicts.
struct MonitorSnapshot {
  uint64_t rows = 0;              // rows in the window
  monitor::DatasetDrift drift;    // every profile column, in profile order
  std::vector<size_t> shown;      // indexes into drift.columns with their own series
  size_t omitted = 0;             // columns beyond max_columns
  // The first collection of the run of collections, up to this one, that all found dataset
  // drift (empty when this one found none): how long it has drifted without a break (staleness).
  std::optional<std::chrono::steady_clock::time_point> drifted_since;
};

class VersionMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  // Maps the signature onto the profile (the rules above); `target` names the profile's target
  // column (not a feature; may be empty). `notes` gets what is not watched. An error when no
  // tensor feeds any profile column: the profile does not match the model.
  static Result<std::unique_ptr<VersionMonitor>> Create(monitor::Profile profile, const std::vector<TensorSpec>& inputs,
                                                        const std::vector<TensorSpec>& outputs, MonitorOptions options,
                                                        const std::string& target, Clock::time_point now,
                                                        std::vector<std::string>* notes);
  ~VersionMonitor();

  // One answered request (inputs in the signature's order, as CheckInputs left them).
  // Lock-free; called concurrently from any threads.
  void Observe(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs);

  // True when `interval` has passed since the last Collect.
  bool Due(Clock::time_point now) const { return now >= next_due_; }
  // Drains the threads' windows into the ring, slides it to `now`, computes drift and
  // publishes the snapshot. One caller at a time (the collector).
  void Collect(Clock::time_point now);
  std::shared_ptr<const MonitorSnapshot> Snapshot() const;

  const MonitorOptions& options() const { return options_; }
  const monitor::Profile& profile() const { return profile_; }
  size_t buckets() const { return ring_.size(); }
  double bucket_seconds() const { return std::chrono::duration<double>(bucket_len_).count(); }

  // A thread's pair of windows (the header comment); public for the thread_local cache.
  struct Shard;

 private:
  // One tensor's columns: profile column per value of a row (-1: not watched).
  struct Feed {
    std::string name;
    bool output = false;
    size_t index = 0;  // inputs: the signature position; outputs: the first output is 0
    std::vector<int> columns;
  };
  using Columns = std::vector<monitor::ColumnWindow>;

  VersionMonitor(monitor::Profile profile, MonitorOptions options, Clock::time_point now);
  Shard* ThisThreadShard();
  void Feed1(monitor::Window& w, const Feed& f, const Tensor& t);
  void ClearColumns(Columns* c) const;
  void Publish(const Columns& sum, uint64_t rows, Clock::time_point now);

  monitor::Profile profile_;
  MonitorOptions options_;
  uint64_t id_;  // unique in the process: the thread_local cache's key (never reused)
  std::vector<Feed> feeds_;
  int target_ = -1;  // the profile's target column: no live values, no series
  Columns empty_;  // an empty window's columns, shaped as the profile's

  std::mutex shards_mu_;  // taken when a thread first observes, and by Collect
  std::vector<std::unique_ptr<Shard>> shards_;

  // The collector's: the ring of buckets, bucket k of time covering [origin + k*len, ...).
  Clock::time_point origin_, next_due_;
  Clock::duration bucket_len_;
  uint64_t head_ = 0;                 // the bucket number the head holds
  std::vector<Columns> ring_;
  std::vector<uint64_t> ring_rows_;

  std::optional<Clock::time_point> drifted_since_;  // the collector's: see MonitorSnapshot

  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const MonitorSnapshot> snapshot_;
};

// The monitoring gauges of these versions (model, version, snapshot), one family at a time,
// as Prometheus text (the contract in docs/monitoring.md, "Live drift in forja serve").
struct MonitoredVersion {
  std::string model, version;
  std::shared_ptr<const MonitorSnapshot> snapshot;
};
void RenderMonitorMetrics(const std::vector<MonitoredVersion>& versions, std::string* out);

}  // namespace forja::serve
