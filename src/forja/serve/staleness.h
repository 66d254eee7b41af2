// Staleness of the versions forja serve has loaded (docs/monitoring.md, "Staleness"): the
// registry's facts about a version (registry/staleness_facts.h) are taken when it loads (and
// when the poller loads another) and read again every poll_interval by the collector
// (ModelServer::Impl::RefreshStaleness); the ages and the verdict (monitor/staleness.h) are
// computed at each scrape of /metrics, with the drift trend from the version's monitor snapshot.
// A package folder served directly has no facts: only its drift (and quality) can make it stale.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "forja/monitor/staleness.h"

namespace forja::meta {
class MetaStore;
}
namespace forja::registry {
struct StalenessFacts;
}

namespace forja::serve {

struct MonitorSnapshot;

// One loaded version as a scrape sees it.
struct StaleVersion {
  std::string model, version;
  std::shared_ptr<const registry::StalenessFacts> facts;  // null: no registry facts (a package folder)
  std::shared_ptr<const MonitorSnapshot> snapshot;         // null: not monitored (no drift trend)
  // The quality hook: true when the version's quality from feedback is below its threshold
  // (serve/quality.h's snapshot); empty while nothing says so.
  std::optional<bool> quality_below;
  monitor::StalenessThresholds thresholds;  // monitoring.staleness for the model
};

// The verdict's inputs at `now_ms` (wall clock, ms since the epoch) and `now` (the monitor's clock).
monitor::StalenessInput StalenessInputOf(const StaleVersion& v, int64_t now_ms, std::chrono::steady_clock::time_point now);

// The staleness gauges of these versions as Prometheus text: ages where known, the verdict and
// one line per reason of the fixed set for every version.
void RenderStalenessMetrics(const std::vector<StaleVersion>& versions, int64_t now_ms,
                            std::chrono::steady_clock::time_point now, std::string* out);

// The facts of version `version` of `name`, served through `ref` (NAME/VERSION, NAME@ALIAS,
// NAME@production), from the store; what was missing is logged, once: lines already in `said`
// are not logged again (the facts are read again every poll). Null (and a warning) when the
// store fails: the version is served with no ages.
std::shared_ptr<const registry::StalenessFacts> LoadStalenessFacts(meta::MetaStore& store, const std::string& ref,
                                                                   const std::string& name, int64_t version,
                                                                   std::set<std::string>* said);

}  // namespace forja::serve
