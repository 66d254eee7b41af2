// The reference data of a version `forja models register` just made, profiled there so that
// forja serve and forja monitor report have something to compare with (docs/monitoring.md,
// "Profiles at registration"). Where it is, in order:
//   1. forja.yaml's monitoring.models.NAME.reference: a CSV file in the workspace;
//   2. the lineage of the run that made the version (--run): the CSV files it names, directly
//      or inside a folder it names (read from the object cache by hash, so the workspace may
//      have moved on since): the one file, or else the one whose name has "train" in it.
// The target and the columns that are not features come from monitoring.models.NAME.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja {

class Cache;
namespace meta {
class MetaStore;
}
namespace serve {
struct MonitoringConfig;
}

struct ReferenceData {
  std::string path;   // the CSV file to read
  std::string shown;  // how messages name it
  std::string target;
  std::vector<std::string> exclude;
  bool configured = false;  // named in forja.yaml (a failure to profile it is an error)
};

// Where the version's reference data is, or nullopt with the reason in *why ("" when nothing
// asks for a profile: no forja.yaml entry and no run). `root` is the workspace ("" outside one).
Result<std::optional<ReferenceData>> FindReferenceData(const std::string& root, const serve::MonitoringConfig& cfg,
                                                       meta::MetaStore& store, Cache& cache, const std::string& model,
                                                       const std::string& run_id, const std::string& package_hash,
                                                       std::string* why);

// Profiles `data` as `forja monitor profile LABEL --data ...` does and attaches it to the
// version LABEL; returns the sentence that says what was done. (cmd_monitor.cc)
Result<std::string> ProfileRegisteredVersion(const std::string& store_flag, const std::string& label,
                                             const ReferenceData& data, bool quiet);

}  // namespace forja
