// Fuzzes ParseManifest, the parser of directory manifests (cache and remote
// objects: a remote is shared, so its bytes are outside input).
//
// Invariants, beyond "no crash":
//  - a failure is a corruption error "<name>:<line>: ..." naming an existing line;
//  - a success has strictly sorted, safe relative paths and permission-only
//    modes, and SerializeManifest(parsed) == input, byte for byte (the manifest's
//    hash names the directory, so there must be exactly one encoding of it);
//  - in the other direction, entries built from the input (paths = the input
//    split at NUL bytes, keeping the safe ones) serialize to a manifest that
//    parses back to the same entries.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/cas/manifest.h"
#include "forja/core/sha256.h"
#include "fuzz_check.h"

namespace {

using forja::ManifestEntry;
using forja::fuzz::Show;

const std::string kName = "manifest";

// The manifest's rule for entry paths: relative, '/'-separated, no empty, "."
// or ".." component, no NUL.
bool SafeRelative(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find('\0') != std::string_view::npos) return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = std::min(p.find('/', i), p.size());
    std::string_view part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

size_t CountLines(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

void CheckError(const forja::Status& st, std::string_view data) {
  const std::string& m = st.message();
  FUZZ_CHECK(st.code() == forja::Code::kCorrupt, m);
  FUZZ_CHECK(forja::fuzz::StartsWith(m, kName + ":"), m);
  size_t line = 0, i = kName.size() + 1;
  FUZZ_CHECK(i < m.size() && m[i] >= '0' && m[i] <= '9', m);
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') line = line * 10 + (m[i++] - '0');
  FUZZ_CHECK(i < m.size() && m[i] == ':', m);
  // "empty manifest" reports line 0; anything else names a line of the input.
  FUZZ_CHECK(data.empty() ? line == 0 : line >= 1 && line <= CountLines(data), m);
}

void CheckEntries(const std::vector<ManifestEntry>& entries) {
  for (size_t i = 0; i < entries.size(); i++) {
    FUZZ_CHECK(SafeRelative(entries[i].path), Show(entries[i].path));
    FUZZ_CHECK(entries[i].mode <= 07777, std::to_string(entries[i].mode));
    if (i > 0)
      FUZZ_CHECK(entries[i - 1].path < entries[i].path,
                 Show(entries[i - 1].path) + " then " + Show(entries[i].path));
  }
}

bool SameEntries(const std::vector<ManifestEntry>& a, const std::vector<ManifestEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].path != b[i].path || a[i].oid != b[i].oid || a[i].size != b[i].size ||
        a[i].mode != b[i].mode)
      return false;
  return true;
}

// Serialize -> parse of well-formed entries made from the input.
void CheckWriterSide(std::string_view data) {
  std::vector<ManifestEntry> entries;
  size_t i = 0;
  while (i <= data.size() && entries.size() < 64) {
    size_t j = std::min(data.find('\0', i), data.size());
    std::string path(data.substr(i, j - i));
    i = j + 1;
    if (!SafeRelative(path)) continue;
    ManifestEntry e;
    e.oid = forja::Sha256::Of(path);
    e.path = std::move(path);
    e.size = (uint64_t{e.oid.bytes[0]} << 56) | (uint64_t{e.oid.bytes[1]} << 8) | e.oid.bytes[2];
    e.mode = (uint32_t{e.oid.bytes[3]} << 8 | e.oid.bytes[4]) & 07777;
    entries.push_back(std::move(e));
  }
  forja::SortManifest(&entries);
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const ManifestEntry& a, const ManifestEntry& b) {
                              return a.path == b.path;
                            }),
                entries.end());
  std::string text = forja::SerializeManifest(entries);
  auto back = forja::ParseManifest(text, kName);
  FUZZ_CHECK(back.ok(), back.status().message() + " for " + Show(text));
  FUZZ_CHECK(SameEntries(*back, entries), Show(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = forja::ParseManifest(text, kName);
  if (!parsed.ok()) {
    CheckError(parsed.status(), text);
  } else {
    CheckEntries(*parsed);
    std::string out = forja::SerializeManifest(*parsed);
    FUZZ_CHECK(out == text, "input " + Show(text) + " serializes back as " + Show(out));
  }
  CheckWriterSide(text);
  return 0;
}
