// fuzz-libs: forja_monitor
// Fuzzes the reader of forja serve's prediction log (monitor/log_reader.h): forja monitor
// report --current predictions reads a folder anyone with access to the workspace can write.
//
// Invariants, beyond "no crash":
//  - a failure is a user error naming the file and line ("log:<n>: ...");
//  - a success writes the header and one CSV line per row it counts, every line with one
//    field per column (no field holds a bare comma or newline);
//  - the counts of lines read and lines skipped never exceed the lines given.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/monitor/log_reader.h"
#include "fuzz_check.h"

using namespace forja::monitor;

namespace {

// A profile of two features, a target and a prediction: the shapes the reader maps onto.
Profile TestProfile() {
  Profile p;
  p.rows = 1;
  for (const char* name : {"x", "z", "label", "__prediction__"}) {
    ColumnProfile c;
    c.name = name;
    p.columns.push_back(c);
  }
  return p;
}

// Fields of one CSV line (quotes respected).
size_t Fields(std::string_view line) {
  size_t n = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const Profile profile = TestProfile();
  LogSelection sel;
  sel.model = "m";
  sel.version = "1";
  sel.target = "label";
  sel.now_s = 1e9;
  sel.since_s = size % 2 ? 1e6 : 0;
  LogCsvWriter w(sel, profile);
  forja::Status st = w.AddText(text, "log");
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == forja::Code::kUser, st.message());
    FUZZ_CHECK(forja::fuzz::StartsWith(st.message(), "log:"), st.message());
    return 0;
  }
  size_t given = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  FUZZ_CHECK(w.extract().lines + w.extract().skipped <= given, "");
  // Count CSV records: newlines outside quotes.
  const std::string& csv = w.csv();
  size_t records = 0, begin = 0;
  bool quoted = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    if (csv[i] == '"') quoted = !quoted;
    if (csv[i] == '\n' && !quoted) {
      FUZZ_CHECK(Fields(std::string_view(csv).substr(begin, i - begin)) == 3, csv.substr(begin, i - begin));
      ++records;
      begin = i + 1;
    }
  }
  FUZZ_CHECK(records == w.extract().rows + 1, csv);
  return 0;
}
