// Shared helpers for the fuzz targets: invariant checks that abort() with a
// message, so libFuzzer (and the replay driver) report a violated invariant as
// a crash, not only memory errors.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace forja::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* what,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, what);
  if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
  std::abort();
}

// Escapes bytes for a readable one-line message.
inline std::string Show(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace forja::fuzz

#define FUZZ_CHECK(cond, detail)                                                 \
  do {                                                                           \
    if (!(cond)) ::forja::fuzz::Fail(__FILE__, __LINE__, #cond, (detail));       \
  } while (0)

namespace forja::fuzz {

// A path a parser accepted from hostile input is relative and normalized: no leading or
// trailing '/', no empty, "." or ".." component ("" only where the root is allowed).
inline void CheckRelativePath(const std::string& p, bool may_be_root, const std::string& input) {
  if (p.empty()) {
    FUZZ_CHECK(may_be_root, "empty path in " + Show(input));
    return;
  }
  FUZZ_CHECK(p[0] != '/' && p.back() != '/', Show(p));
  for (size_t i = 0; i <= p.size();) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view c = std::string_view(p).substr(i, j - i);
    FUZZ_CHECK(!c.empty() && c != "." && c != "..", Show(p) + " in " + Show(input));
    i = j + 1;
  }
}

// Three rows of nf features for a tree model read from `data`: all zeros, all missing (NaN:
// every default branch) and one made of the input's bytes (so splits the input names get hit).
inline std::vector<float> ProbeRows(size_t nf, std::string_view data) {
  std::vector<float> rows(3 * nf, 0.0f);
  for (size_t i = 0; i < nf; ++i) {
    rows[nf + i] = NAN;
    uint8_t b = i < data.size() ? static_cast<uint8_t>(data[i]) : 0;
    rows[2 * nf + i] = static_cast<float>(b) / 8.0f - 8.0f;
  }
  return rows;
}

}  // namespace forja::fuzz
