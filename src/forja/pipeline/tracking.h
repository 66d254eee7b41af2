// Recording pipeline runs in the metadata store: each `forja run` that ran or
// restored a stage becomes a run of the project's experiment, with the stages'
// params, the metrics their metrics files hold, the git commit, and lineage —
// every dep and out by content hash — so a registered model can be traced back
// to the exact bytes it was made from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"
#include "forja/meta/store.h"
#include "forja/pipeline/runner.h"

namespace forja::pipeline {

struct Project;

struct TrackingSettings {
  std::string uri;         // where runs go
  std::string experiment;  // which experiment they go to
  bool enabled = true;     // tracking: {enabled: false} turns recording off
};

// forja.yaml's `tracking: {uri, experiment, enabled}`. The URI is FORJA_TRACKING_URI
// when set, else tracking.uri (a relative sqlite path is relative to the
// workspace), else the embedded store sqlite:////<root>/.forja/forja.db; the
// experiment defaults to the workspace folder's name (FORJA_TRACKING_EXPERIMENT
// overrides it, as `forja exp run` does for its worktrees). Errors name forja.yaml:line.
Result<TrackingSettings> ReadTrackingSettings(const std::string& root, const config::Node& forja_yaml);

struct RecordedRun {
  std::string run_id;
  std::string experiment_id;
  size_t metrics = 0, params = 0, inputs = 0, outputs = 0;
};

// Records the run; `extra_tags` are added (e.g. forja.exp for an experiment).
Result<RecordedRun> RecordRun(meta::MetaStore& store, const TrackingSettings& settings, const Project& project,
                              const RunSummary& summary, int64_t start_ms, int64_t end_ms,
                              const std::vector<meta::Tag>& extra_tags);

}  // namespace forja::pipeline
