// Python's type names, and int() / float() of a string (see py_values.h).
#include "forja/config/py_values.h"

#include <cmath>
#include <cstdlib>

#include "forja/core/strings.h"

namespace forja::config {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Python's str.isspace() for ASCII (what int() and float() strip).
bool IsPySpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

// Parses [+-]digits (no underscores left) into an int64. False on overflow.
bool ToInt64(std::string_view s, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d = c - '0';
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace

const char* PyTypeName(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "NoneType";
    case Node::Kind::kBool: return "bool";
    case Node::Kind::kInt: return "int";
    case Node::Kind::kFloat: return "float";
    case Node::Kind::kString: return "str";
    case Node::Kind::kList: return "list";
    case Node::Kind::kMap: return "dict";
  }
  return "?";
}

size_t DigitPartEnd(std::string_view s, size_t i) {
  if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
  i++;
  for (;;) {
    if (i < s.size() && IsDigit(s[i])) {
      i++;
    } else if (i + 1 < s.size() && s[i] == '_' && IsDigit(s[i + 1])) {
      i += 2;
    } else {
      return i;
    }
  }
}

std::string_view PyStrip(std::string_view s) {
  while (!s.empty() && IsPySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPySpace(s.back())) s.remove_suffix(1);
  return s;
}

PyIntParse PyIntFromString(std::string_view text, int64_t* out) {
  std::string_view s = PyStrip(text);
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (DigitPartEnd(s, i) != s.size()) return PyIntParse::kNotAnInt;
  return ToInt64(WithoutUnderscores(s), out) ? PyIntParse::kOk : PyIntParse::kTooBig;
}

bool PyFloatFromString(std::string_view text, double* out) {
  std::string_view s = PyStrip(text);
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  std::string_view rest = s.substr(i);
  bool neg = i == 1 && s[0] == '-';
  if (EqualsNoCase(rest, "inf") || EqualsNoCase(rest, "infinity")) {
    *out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (EqualsNoCase(rest, "nan")) {
    *out = neg ? -std::nan("") : std::nan("");
    return true;
  }
  size_t j = DigitPartEnd(s, i);
  bool digits = j != std::string_view::npos;
  if (!digits) j = i;
  if (j < s.size() && s[j] == '.') {
    size_t k = DigitPartEnd(s, j + 1);
    if (k != std::string_view::npos) {
      j = k;
      digits = true;
    } else {
      j = j + 1;
    }
  }
  if (digits && j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) k++;
    k = DigitPartEnd(s, k);
    if (k == std::string_view::npos) digits = false;
    j = k;
  }
  if (!digits || j != s.size()) return false;
  *out = std::strtod(WithoutUnderscores(s).c_str(), nullptr);
  return true;
}

}  // namespace forja::config
