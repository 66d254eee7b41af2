// fuzz-libs: forja_meta
// Fuzzes ParseFilter and ParseOrderBy, MLflow's search grammar as the tracking
// server reads it from any client (runs/search, registered-models/search, ...).
//
// Input: the first byte picks the parser (even: filter, odd: order_by); the
// rest is the text.
//
// Invariants, beyond "no crash":
//  - a failure is a user error "invalid filter|order_by '...' at character N: ..."
//    with 1 <= N <= length + 1 (the position the server tells the user);
//  - a parsed clause has a key and one of the operators the store evaluates,
//    IN / NOT IN with at least one value, every other operator with exactly one.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "forja/meta/filter.h"
#include "fuzz_check.h"

namespace {

void CheckError(const forja::Status& st, std::string_view text) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message());
  const std::string& m = st.message();
  // The message quotes the text, which may itself hold "' at character ": one
  // occurrence must be followed by a valid position and a colon.
  const std::string marker = "' at character ";
  bool found = false;
  for (size_t at = m.find(marker); at != std::string::npos && !found; at = m.find(marker, at + 1)) {
    size_t i = at + marker.size(), n = 0;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9' && n < 1000000000) n = n * 10 + (m[i++] - '0');
    found = i > at + marker.size() && i < m.size() && m[i] == ':' && n >= 1 && n <= text.size() + 1;
  }
  FUZZ_CHECK(found, m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto o = forja::meta::ParseOrderBy(text);
    if (!o.ok()) {
      CheckError(o.status(), text);
      return 0;
    }
    FUZZ_CHECK(!o->key.empty(), forja::fuzz::Show(text));
    return 0;
  }
  auto f = forja::meta::ParseFilter(text);
  if (!f.ok()) {
    CheckError(f.status(), text);
    return 0;
  }
  static const std::set<std::string> kOps = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"};
  for (const auto& c : f->clauses) {
    FUZZ_CHECK(!c.key.empty(), forja::fuzz::Show(text));
    FUZZ_CHECK(kOps.count(c.op) == 1, c.op + " from " + forja::fuzz::Show(text));
    bool list = c.op == "IN" || c.op == "NOT IN";
    FUZZ_CHECK(list ? !c.values.empty() : (c.numeric ? c.values.size() <= 1 : c.values.size() == 1),
               forja::fuzz::Show(text));
  }
  return 0;
}
