// forja monitor report --current predictions: the prediction log forja serve wrote
// (serve/prediction_log.h; the workspace's .forja/predictions/, or the user's cache folder
// outside a workspace) as a CSV file with the reference profile's columns, so that the
// report compares it exactly as it compares a file.
//
// Which logged tensor becomes which column follows forja serve's live monitor
// (serve/monitoring.h): an input named like a profile column, one value per row, is that
// column; the values of any other input go by position onto the profile's feature columns no
// name took; the first output of one value per row is "__prediction__", an output NAME of one
// value per row "__prediction__.NAME", value J of a wider one "__prediction__.NAME_J".
#pragma once

#include <cstdint>
#include <string>

#include "forja/core/status.h"

namespace forja {

namespace monitor {
struct Profile;
}

struct LogSelection {
  std::string dir;      // the prediction log's folder
  std::string model;    // lines of this model
  std::string version;  // and this version
  std::string target;   // the profile's target column (never in the log)
  double since_s = 0;   // only lines of the last since_s seconds (0: every line)
  double now_s = 0;     // seconds since the epoch
};

struct LogExtract {
  uint64_t lines = 0;  // lines of the model version read
  uint64_t rows = 0;   // rows written
  uint64_t skipped = 0;  // lines that are not the model's predictions (other models, feedback, shadows)
};

// Writes the selected predictions as CSV to `out` (header: the profile's columns but the
// target). A line that is not JSON, or whose tensors do not fit the profile, is an error naming
// the file and line.
Result<LogExtract> PredictionLogToCsv(const LogSelection& sel, const monitor::Profile& profile, const std::string& out);

// "24h", "30m", "90s", "7d" or a number of seconds.
Result<double> ParseSince(const std::string& text);

}  // namespace forja
