// forja serve's prediction log (serve/prediction_log.h: one JSON object per line, with the
// model, version, time, and the request's input and output tensors as nested lists) as CSV
// rows with a reference profile's columns, so that forja monitor report --current predictions
// compares logged traffic exactly as it compares a file.
//
// Which logged tensor becomes which column follows forja serve's live monitor
// (serve/monitoring.h): an input named like a profile column, one value per row, is that
// column; the values of any other input go by position onto the profile's feature columns no
// name took; the first output of one value per row is "__prediction__", an output NAME of one
// value per row "__prediction__.NAME", value J of a wider one "__prediction__.NAME_J".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/monitor/profile.h"

namespace forja::monitor {

struct LogSelection {
  std::string model;    // lines of this model
  std::string version;  // and this version
  std::string target;   // the profile's target column (never in the log)
  double since_s = 0;   // only lines of the last since_s seconds (0: every line)
  double now_s = 0;     // seconds since the epoch
};

struct LogExtract {
  uint64_t lines = 0;    // lines of the model version read
  uint64_t rows = 0;     // rows written
  uint64_t skipped = 0;  // lines of other models or versions
};

class LogCsvWriter {
 public:
  // Starts the CSV with the header: the profile's columns but the target.
  LogCsvWriter(const LogSelection& sel, const Profile& profile);

  // One log file's text. A line that is not a JSON object (valid UTF-8, nested at most 64
  // deep), has no time, or whose tensors do not fit the profile is an error "<name>:<line>: ...".
  Status AddText(std::string_view text, const std::string& name);

  const std::string& csv() const { return csv_; }
  const LogExtract& extract() const { return extract_; }

 private:
  LogSelection sel_;
  std::vector<std::string> columns_;
  std::map<std::string, size_t> index_;  // column name -> its position in columns_
  std::vector<size_t> features_;  // columns_ indexes the positional inputs fill, in order
  bool pruned_ = false;           // features_ less the columns an input names (first line)
  std::string csv_;
  LogExtract extract_;
};

// Every predictions-*.jsonl file of `dir`, oldest first, as CSV written to `out`.
Result<LogExtract> PredictionLogToCsv(const std::string& dir, const LogSelection& sel, const Profile& profile,
                                      const std::string& out);

// "24h", "30m", "90s", "7d" or a number of seconds.
Result<double> ParseSince(const std::string& text);

}  // namespace forja::monitor
