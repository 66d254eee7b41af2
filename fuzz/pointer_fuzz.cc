// Fuzzes ParsePointer, the parser of <path>.forja pointer files (git-versioned,
// so their text comes from anyone who can push to the repository).
//
// Input: the pointer file's text. If it starts with a comment line
// "#expect:<path>", <path> (verbatim, up to the newline) is the name the pointer
// must track; otherwise it is "data.csv". The comment is ordinary pointer text,
// so every input is also a realistic pointer file.
//
// Invariants, beyond "no crash":
//  - a failure is a user error whose message starts with "<name>:";
//    "<name>:<line>: ..." names a line that exists;
//  - a success tracks the expected path, and its Serialize() parses back to
//    equal fields, and serializing that again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/data/pointer.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;

size_t CountLines(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

void CheckError(const forja::Status& st, const std::string& name, std::string_view text) {
  FUZZ_CHECK(st.code() == forja::Code::kUser, st.message());
  const std::string& m = st.message();
  FUZZ_CHECK(forja::fuzz::StartsWith(m, name + ":"), m);
  std::string_view rest = std::string_view(m).substr(name.size() + 1);
  if (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
    size_t line = 0, i = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') line = line * 10 + (rest[i++] - '0');
    FUZZ_CHECK(i < rest.size() && rest[i] == ':', m);
    FUZZ_CHECK(line >= 1 && line <= CountLines(text), m);
  } else {
    FUZZ_CHECK(forja::fuzz::StartsWith(rest, " missing field '"), m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string expected = "data.csv";
  constexpr std::string_view kExpect = "#expect:";
  if (forja::fuzz::StartsWith(text, kExpect)) {
    size_t nl = text.find('\n');
    expected = std::string(text.substr(kExpect.size(), nl == std::string_view::npos
                                                            ? std::string_view::npos
                                                            : nl - kExpect.size()));
  }
  const std::string name = expected + ".forja";

  auto parsed = forja::ParsePointer(text, name, expected);
  if (!parsed.ok()) {
    CheckError(parsed.status(), name, text);
    return 0;
  }
  const forja::Pointer& p = *parsed;
  FUZZ_CHECK(p.path == expected, Show(p.path) + " vs " + Show(expected));

  std::string once = p.Serialize();
  auto again = forja::ParsePointer(once, name, expected);
  FUZZ_CHECK(again.ok(), again.status().message() + " for " + Show(once));
  FUZZ_CHECK(again->path == p.path, Show(again->path) + " vs " + Show(p.path));
  FUZZ_CHECK(again->is_dir == p.is_dir, Show(once));
  FUZZ_CHECK(again->oid == p.oid, Show(once));
  FUZZ_CHECK(again->size == p.size, Show(once));
  FUZZ_CHECK(again->files == p.files, Show(once));
  std::string twice = again->Serialize();
  FUZZ_CHECK(twice == once, Show(once) + " then " + Show(twice));
  return 0;
}
