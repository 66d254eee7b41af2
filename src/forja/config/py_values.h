// Python value semantics that more than one config parser needs (YAML scalars
// in node.cc, override values in override.cc). Internal to config/; header-only
// so the hot scalar paths stay inline.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forja::config {

// The digits of a numeric literal with Python's/YAML's '_' separators removed.
inline std::string WithoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// Python's s.split(sep) for one character: empty parts kept ("a..b" gives
// "a", "", "b"), as Hydra splits keys on '.' and defaults keywords on ' '.
inline std::vector<std::string> PySplit(std::string_view s, char sep) {
  std::vector<std::string> parts;
  for (;;) {
    size_t at = s.find(sep);
    parts.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

}  // namespace forja::config
