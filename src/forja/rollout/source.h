// Where a rollout reads its servers' metrics: each forja serve's /metrics, scraped
// directly (--server URL, repeated), or a Prometheus server's HTTP API that scrapes them
// (--prometheus URL; its series are told apart by their `instance` label).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/rollout/metrics.h"

namespace forja::rollout {

// What one server shows now about the candidate version and the rollout.
struct ServerView {
  std::string server;  // its URL, or Prometheus' instance label
  VersionCounters candidate;
  RolloutGauge gauge;
};

class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // Every server's view now. Unavailable names the server that did not answer: a
  // rollout whose servers disappear is aborted.
  virtual Result<std::vector<ServerView>> Read() = 0;
};

// The candidate is `model` version `version`; the rollout's gauges carry `rollout_id`.
std::unique_ptr<MetricsSource> ScrapeServers(std::vector<std::string> urls, std::string model, std::string version,
                                             std::string rollout_id);
std::unique_ptr<MetricsSource> QueryPrometheus(std::string url, std::string model, std::string version,
                                               std::string rollout_id);

}  // namespace forja::rollout
