// Python's type names, repr() and str() of values, and int() / float() of a
// string (see py_values.h).
#include "forja/config/py_values.h"

#include <cmath>
#include <cstdio>
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

// Whether repr() leaves a character as it is (Python's str.isprintable()).
bool PyPrintable(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7f) return false;
  if (cp < 0x7f) return true;
  if (cp <= 0xa0 || cp == 0xad) return false;
  if ((cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
      (cp >= 0x205f && cp <= 0x206f) || cp == 0x1680 || cp == 0x180e || cp == 0x3000 ||
      cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xfffe || cp == 0xffff)
    return false;
  if ((cp >= 0xd800 && cp <= 0xf8ff) || cp >= 0xf0000) return false;  // surrogates, private use
  return true;
}

// Python's repr() of a str.
std::string PyStrRepr(const std::string& s) {
  bool single = s.find('\'') != std::string::npos, dbl = s.find('"') != std::string::npos;
  char q = single && !dbl ? '"' : '\'';
  std::string out(1, q);
  size_t i = 0;
  auto hex = [&](const char* fmt, uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, fmt, v);
    out += b;
  };
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == static_cast<unsigned char>(q) || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20 || c == 0x7f) hex("\\x%02x", c);
      else out += static_cast<char>(c);
      i++;
      continue;
    }
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    uint32_t cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0fu : c & 0x1fu;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; k++) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (d & 0x3fu);
    }
    if (!valid) {
      hex("\\x%02x", c);
      i++;
      continue;
    }
    if (PyPrintable(cp)) out.append(s, i, len);
    else if (cp < 0x100) hex("\\x%02x", cp);
    else if (cp < 0x10000) hex("\\u%04x", cp);
    else hex("\\U%08x", cp);
    i += len;
  }
  return out + q;
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

std::string PyRepr(const Node& n) {
  if (n.is_string()) return PyStrRepr(n.as_string());
  if (n.is_scalar()) return ScalarToString(n);
  return ContainerText(n, ", ", ": ", PyStrRepr, PyRepr);
}

std::string PyStr(const Node& n) { return n.is_string() ? n.as_string() : PyRepr(n); }

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
