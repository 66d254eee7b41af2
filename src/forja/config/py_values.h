// Python value semantics that more than one config parser needs (YAML scalars
// in node.cc, override values in override.cc). Internal to config/; header-only
// so the hot scalar paths stay inline.
#pragma once

#include <string>
#include <string_view>

namespace forja::config {

// The digits of a numeric literal with Python's/YAML's '_' separators removed.
inline std::string WithoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

}  // namespace forja::config
