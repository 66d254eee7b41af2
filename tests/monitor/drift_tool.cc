// forja_monitor_drift_tool REFERENCE.csv CURRENT.csv [--binned]
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: forja_monitor_drift_tool REFERENCE.csv CURRENT.csv [--binned]\n");
    return 2;
  }
  bool binned = argc > 3 && std::strcmp(argv[3], "--binned") == 0;
  Result<CsvColumns> ref = ReadCsvFile(argv[1]);
  if (!ref.ok()) return Fail(ref.status());
  Result<CsvColumns> cur = ReadCsvFile(argv[2]);
  if (!cur.ok()) return Fail(cur.status());
  std::vector<ColumnSample> ref_samples;
  std::vector<ColumnDrift> columns;
  for (size_t i = 0; i < ref->names.size(); ++i) {
    Result<ColumnSample> r = ref->columns[i].Finish(ref->names[i]);
    if (!r.ok()) return Fail(r.status());
    ref_samples.push_back(std::move(*r));
  }
  if (binned) {
    Result<std::vector<ColumnDrift>> drift = Binned(ref_samples, argv[2]);
    if (!drift.ok()) return Fail(drift.status());
    columns = std::move(*drift);
  } else {
    for (const ColumnSample& r : ref_samples) {
      size_t j = 0;
      while (j < cur->names.size() && cur->names[j] != r.name) ++j;
      if (j == cur->names.size()) return Fail(Status::User(std::string(argv[2]) + ": no column '" + r.name + "'"));
      Result<ColumnSample> c = cur->columns[j].Finish(r.name, r.kind);
      if (!c.ok()) return Fail(c.status());
      columns.push_back(CompareSamples(r, *c));
    }
  }
  std::fputs(DriftToJson(Summarize(std::move(columns))).c_str(), stdout);
  return 0;
}
