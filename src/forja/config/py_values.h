// Python value semantics that more than one config parser needs: YAML scalars
// (node.cc), override values (override*.cc), interpolations and their list
// indexes (interpolation*.cc), defaults-list messages (defaults_list.cc).
// Internal to config/. The small helpers on the hot scalar paths stay inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/config/node.h"

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

// Python's type(x).__name__ of a value, as Python's messages name types:
// NoneType, bool, int, float, str, list, dict.
const char* PyTypeName(const Node& n);

// Python's repr() and str() of a value, which OmegaConf's string interpolation
// and Hydra's messages print: repr gives 'a', [1, None], {'k': True}; str
// is repr except that a string is itself.
std::string PyRepr(const Node& n);
std::string PyStr(const Node& n);

// A list or a map written the way Python writes containers, "[a, b]" and
// "{k: v}", with `sep` between entries and `colon` after each key; each key
// and value is written by key_text and value_text. Python's repr() uses ", "
// and ": "; Hydra's override syntax "," and ":".
template <typename KeyText, typename ValueText>
std::string ContainerText(const Node& n, std::string_view sep, std::string_view colon, KeyText key_text,
                          ValueText value_text) {
  std::string out;
  if (n.is_list()) {
    out += '[';
    for (size_t i = 0; i < n.items().size(); i++) {
      if (i) out += sep;
      out += value_text(n.items()[i]);
    }
    return out + ']';
  }
  out += '{';
  for (size_t i = 0; i < n.entries().size(); i++) {
    if (i) out += sep;
    out += key_text(n.entries()[i].first);
    out += colon;
    out += value_text(n.entries()[i].second);
  }
  return out + '}';
}

// Python's digitpart, digit (["_"] digit)*, which is also the grammars'
// DIGIT (('_')? DIGIT)*: where it ends when it starts at i, or npos when no
// digit is at i.
size_t DigitPartEnd(std::string_view s, size_t i);

// Python's s.strip() of the (ASCII) whitespace int() and float() ignore.
std::string_view PyStrip(std::string_view s);

// Python's int(s) in base 10: whitespace around, a sign, then digits with
// single underscores between them ("007" and " -1_000 " are ints).
enum class PyIntParse { kOk, kNotAnInt, kTooBig /* an int, not in 64 bits */ };
PyIntParse PyIntFromString(std::string_view s, int64_t* out);

// Python's float(s): whitespace around, a sign, a decimal literal with
// optional exponent and '_' between digits, or inf / infinity / nan in any
// case. False when s is none of these.
bool PyFloatFromString(std::string_view s, double* out);

}  // namespace forja::config
