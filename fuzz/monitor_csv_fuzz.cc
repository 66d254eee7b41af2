// fuzz-libs: forja_monitor
// Fuzzes monitor's CSV reader and column typing (monitor/csv.h, sample.h): reference and
// current data files come from users.
//
// Invariants, beyond "no crash":
//  - a failure is a user error;
//  - every column compared with itself never drifts (exact: KS p = 1, Wasserstein 0,
//    chi-square and z p = 1, Jensen-Shannon 0), and its profile's JSON reads back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/monitor/csv.h"
#include "forja/monitor/drift.h"
#include "fuzz_check.h"

using namespace forja::monitor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto csv = ReadCsvColumns(text);
  if (!csv.ok()) {
    FUZZ_CHECK(csv.status().code() == forja::Code::kUser, csv.status().message());
    return 0;
  }
  for (size_t i = 0; i < csv->names.size(); ++i) {
    auto numeric = csv->columns[i].Finish(csv->names[i], ColumnKind::kNumeric);
    if (!numeric.ok()) FUZZ_CHECK(numeric.status().code() == forja::Code::kUser, numeric.status().message());
    auto sample = csv->columns[i].Finish(csv->names[i]);
    FUZZ_CHECK(sample.ok(), sample.status().message());
    FUZZ_CHECK(sample->rows == csv->rows, csv->names[i]);
    ColumnDrift self = CompareSamples(*sample, *sample);
    FUZZ_CHECK(!self.drifted(), csv->names[i] + " " + MethodName(self.method) + " " + std::to_string(self.score));
    Profile profile = MakeProfile({*sample});
    auto back = ParseProfile(ProfileToJson(profile));
    FUZZ_CHECK(back.ok(), back.status().message() + "\n" + ProfileToJson(profile));
  }
  return 0;
}
