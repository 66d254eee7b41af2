// fuzz-libs: forja_monitor
// Fuzzes ParseProfile, the reader of stored reference profiles (monitor/profile.h): a profile
// may come from another machine's object store or be edited by hand.
//
// Invariants, beyond "no crash":
//  - a failure is a user error whose message starts with "profile";
//  - a success writes JSON that reads back to the same JSON;
//  - a profile the reader accepts is safe to count traffic on and compare: windows fed numbers,
//    words, missing and non-finite cells, merged, compared, give a drift document that parses,
//    with a dataset share in [0, 1];
//  - the profile as current data against itself (profile_window.h) accounts for every present
//    value of every column exactly once (bins, below, above, other), and compares.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "forja/core/json.h"
#include "forja/monitor/drift.h"
#include "forja/monitor/profile_window.h"
#include "fuzz_check.h"

using namespace forja::monitor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = ParseProfile(text);
  if (!profile.ok()) {
    FUZZ_CHECK(profile.status().code() == forja::Code::kUser, profile.status().message());
    FUZZ_CHECK(forja::fuzz::StartsWith(profile.status().message(), "profile"), profile.status().message());
    return 0;
  }
  std::string once = ProfileToJson(*profile);
  auto again = ParseProfile(once);
  FUZZ_CHECK(again.ok(), again.status().message() + "\n" + once);
  FUZZ_CHECK(ProfileToJson(*again) == once, once);

  Window a(*profile), b(*profile);
  FUZZ_CHECK(CompareWindow(a).size() == profile->columns.size(), "");
  const double kInf = std::numeric_limits<double>::infinity();
  const double numbers[] = {-kInf, -1e308, -1, 0, 0.5, 1, 3, 1e308, kInf, std::nan("")};
  const char* cells[] = {"", "NA", "a", "red", "1", "1.0", "-inf", "x,y"};
  for (size_t i = 0; i < profile->columns.size(); ++i) {
    for (double v : numbers) a.AddNumber(i, v);
    for (const char* c : cells) b.AddCell(i, c);
    const ColumnProfile& c = profile->columns[i];
    for (double e : c.edges) a.AddNumber(i, e);
    for (const std::string& s : c.categories) b.AddCell(i, s);
  }
  FUZZ_CHECK(a.Merge(b).ok(), "");
  DatasetDrift drift = Summarize(CompareWindow(a));
  FUZZ_CHECK(drift.share >= 0 && drift.share <= 1, std::to_string(drift.share));
  forja::JsonDoc doc;
  std::string json = DriftToJson(drift);
  FUZZ_CHECK(doc.Parse(json).ok(), json);

  auto self = WindowOfProfile(*profile, *profile);
  FUZZ_CHECK(self.ok(), self.status().message());
  for (size_t i = 0; i < profile->columns.size(); ++i) {
    const ColumnWindow& w = self->column(i);
    uint64_t counted = w.below + w.above + w.other;
    for (uint64_t n : w.counts) counted += n;
    FUZZ_CHECK(counted == profile->columns[i].present(),
               profile->columns[i].name + ": " + std::to_string(counted) + " of " +
                   std::to_string(profile->columns[i].present()));
  }
  FUZZ_CHECK(CompareWindow(*self).size() == profile->columns.size(), "");
  return 0;
}
