// forja_monitor_drift_tool REFERENCE.csv CURRENT.csv [--binned]
// forja_monitor_drift_tool --profile REFERENCE.csv
// Prints the per-column drift verdicts between two CSV files as JSON (drift.h's DriftToJson),
// for tests/monitor/evidently_parity_test.py. Exact by default (offline reports); --binned
// goes the way live serving does: the reference's profile, written to JSON and read back, and
// the current rows fed to two windows that are then merged.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "forja/core/fs.h"
#include "forja/monitor/csv.h"
#include "forja/monitor/drift.h"

using namespace forja;
using namespace forja::monitor;

namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "forja_monitor_drift_tool: %s\n", st.message().c_str());
  return 1;
}

Result<std::vector<ColumnDrift>> Binned(const std::vector<ColumnSample>& reference, const std::string& current_path) {
  ASSIGN_OR_RETURN(Profile profile, ParseProfile(ProfileToJson(MakeProfile(reference))));
  ASSIGN_OR_RETURN(std::string text, ReadFile(current_path));
  CsvReader reader(text);
  std::vector<std::string> header, cells;
  ASSIGN_OR_RETURN(bool ok, reader.Next(&header));
  if (!ok) return Status::User(current_path + ": empty");
  std::vector<int> where;  // profile column -> file column
  for (const ColumnProfile& c : profile.columns) {
    int at = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == c.name) at = static_cast<int>(i);
    }
    if (at < 0) return Status::User(current_path + ": no column '" + c.name + "'");
    where.push_back(at);
  }
  Window even(profile), odd(profile);
  for (uint64_t row = 0;; ++row) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&cells));
    if (!more) break;
    std::vector<std::string_view> ordered;
    for (int i : where) ordered.push_back(i < static_cast<int>(cells.size()) ? cells[i] : std::string_view());
    (row % 2 ? odd : even).AddRow(ordered);
  }
  RETURN_IF_ERROR(even.Merge(odd));
  return CompareWindow(even);
}

// Each reference column against the current file's column of that name, read as its kind.
Result<std::vector<ColumnDrift>> Exact(const std::vector<ColumnSample>& reference, const std::string& current_path) {
  std::vector<ColumnSpec> columns;
  for (const ColumnSample& r : reference) columns.push_back({r.name, r.kind});
  ASSIGN_OR_RETURN(std::vector<ColumnSample> current, ReadCsvSamples(current_path, columns));
  std::vector<ColumnDrift> drift;
  for (size_t i = 0; i < reference.size(); ++i) drift.push_back(CompareSamples(reference[i], current[i]));
  return drift;
}

}  // namespace

int main(int argc, char** argv) {
  bool profile = argc == 3 && std::strcmp(argv[1], "--profile") == 0;
  if (argc < 3 || (argc > 3 && std::strcmp(argv[3], "--binned") != 0)) {
    std::fprintf(stderr, "usage: forja_monitor_drift_tool REFERENCE.csv CURRENT.csv [--binned]\n"
                         "       forja_monitor_drift_tool --profile REFERENCE.csv\n");
    return 2;
  }
  Result<std::vector<ColumnSample>> reference = ReadCsvSamples(profile ? argv[2] : argv[1]);
  if (!reference.ok()) return Fail(reference.status());
  if (profile) {
    std::fputs(ProfileToJson(MakeProfile(*reference)).c_str(), stdout);
    return 0;
  }
  Result<std::vector<ColumnDrift>> columns = argc > 3 ? Binned(*reference, argv[2]) : Exact(*reference, argv[2]);
  if (!columns.ok()) return Fail(columns.status());
  std::fputs(DriftToJson(Summarize(std::move(*columns))).c_str(), stdout);
  return 0;
}
