// Fuzzes ParseOverride, the parser of command-line overrides (Hydra's grammar:
// key=value, +key, ~key, group@pkg=option, values, sweeps, grammar functions).
//
// Input: the override's text, as is.
//
// Invariants, beyond "no crash":
//  - a failure is a user error reading "override '<text>': column <n>: ...",
//    with n a column of the text (1 .. characters + 1);
//  - a success written back losslessly (Style::kExact) parses again to the
//    same override (same canonical JSON, texts aside), and writing that again
//    gives the same bytes; the Hydra-style text of the value and its JSON are
//    produced without trouble;
//  - a small choice sweep expands, or fails as a user error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "forja/config/override.h"
#include "forja/config/sweep.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::fuzz::StartsWith;


// Characters as the columns count them (an invalid byte that is not a UTF-8
// continuation byte counts as one).
size_t Characters(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void CheckError(const forja::Status& st, std::string_view text) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message());
  const std::string prefix = "override '" + forja::config::PrintableText(text) + "': column ";
  const std::string& m = st.message();
  FUZZ_CHECK(StartsWith(m, prefix), m);
  size_t i = prefix.size(), col = 0;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9' && col < 1000000000) col = col * 10 + (m[i++] - '0');
  FUZZ_CHECK(i > prefix.size() && i + 2 < m.size() && m[i] == ':' && m[i + 1] == ' ', m);
  FUZZ_CHECK(col >= 1 && col <= Characters(text) + 1, m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forja::config;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseOverride(text);
  if (!parsed.ok()) {
    CheckError(parsed.status(), text);
    return 0;
  }
  const Override& o = *parsed;
  FUZZ_CHECK(o.input == text, Show(o.input));
  std::string json = OverrideToJson(o, false);
  (void)OverrideToJson(o, true);
  (void)FormatOverride(o, Style::kHydra);

  std::string once = FormatOverride(o, Style::kExact);
  auto again = ParseOverride(once);
  FUZZ_CHECK(again.ok(), again.status().message() + " for " + Show(once) + " from " + Show(text));
  FUZZ_CHECK(OverrideToJson(*again, false) == json,
             Show(text) + " -> " + Show(once) + ": " + json + " vs " + OverrideToJson(*again, false));
  std::string twice = FormatOverride(*again, Style::kExact);
  FUZZ_CHECK(twice == once, Show(once) + " then " + Show(twice));

  if (o.value) {
    if (const auto* c = std::get_if<ChoiceSweep>(&o.value->v); c && c->items.size() <= 64) {
      auto v = SweepValues(*o.value, {}, 1);
      if (v.ok()) {
        FUZZ_CHECK(v->size() == c->items.size(), Show(text));
      } else {
        FUZZ_CHECK(v.status().code() == forja::Code::kUser, v.status().message());
      }
    }
  }
  return 0;
}
