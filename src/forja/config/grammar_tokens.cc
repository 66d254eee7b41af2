// The value tokens Hydra's and OmegaConf's lexers share (see grammar_tokens.h).
#include "forja/config/grammar_tokens.h"

#include <cstdio>

#include <algorithm>

#include "forja/config/py_values.h"
#include "forja/core/strings.h"

namespace forja::config::tokens {

size_t IntUnsignedEnd(std::string_view s, size_t i) {
  if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
  if (s[i] == '0') return i + 1;
  return DigitPartEnd(s, i);
}

size_t FloatLen(std::string_view s, size_t i) {
  constexpr size_t npos = std::string_view::npos;
  size_t j = i;
  if (j < s.size() && (s[j] == '+' || s[j] == '-')) j++;
  size_t best = 0;
  if (j + 3 <= s.size() &&
      (EqualsNoCase(s.substr(j, 3), "inf") || EqualsNoCase(s.substr(j, 3), "nan")))
    best = j + 3;
  // POINT_FLOAT: INT_UNSIGNED '.' | INT_UNSIGNED? '.' DIGIT (('_')? DIGIT)*
  size_t iu = IntUnsignedEnd(s, j);
  size_t pf = npos;
  if (iu != npos) {
    if (iu < s.size() && s[iu] == '.') {
      size_t d = DigitPartEnd(s, iu + 1);
      pf = d != npos ? d : iu + 1;
    }
  } else if (j < s.size() && s[j] == '.') {
    pf = DigitPartEnd(s, j + 1);
  }
  if (pf != npos) best = std::max(best, pf);
  // EXPONENT_FLOAT: (INT_UNSIGNED | POINT_FLOAT) [eE] [+-]? DIGIT (('_')? DIGIT)*
  for (size_t base : {iu, pf}) {
    if (base == npos || base >= s.size() || (s[base] != 'e' && s[base] != 'E')) continue;
    size_t k = base + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) k++;
    size_t d = DigitPartEnd(s, k);
    if (d != npos) best = std::max(best, d);
  }
  return best ? best - i : 0;
}

size_t IntLen(std::string_view s, size_t i) {
  size_t j = i;
  if (j < s.size() && (s[j] == '+' || s[j] == '-')) j++;
  size_t e = IntUnsignedEnd(s, j);
  return e == std::string_view::npos ? 0 : e - i;
}

size_t WordLen(std::string_view s, size_t i, std::string_view word) {
  return i + word.size() <= s.size() && EqualsNoCase(s.substr(i, word.size()), word)
             ? word.size()
             : 0;
}

size_t IdLen(std::string_view s, size_t i) {
  if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_')) return 0;
  size_t j = i + 1;
  while (j < s.size() && (IsAlpha(s[j]) || IsDigit(s[j]) || s[j] == '_' || s[j] == '-')) j++;
  return j - i;
}

size_t EscLen(std::string_view s, size_t i) {
  size_t j = i;
  while (j + 1 < s.size() && s[j] == '\\' && kEscChars.find(s[j + 1]) != std::string_view::npos)
    j += 2;
  return j - i;
}

std::string EscText(std::string_view esc) {
  std::string out;
  for (size_t k = 1; k < esc.size(); k += 2) out += esc[k];
  return out;
}

void AppendPrintable(unsigned char c, std::string* out) {
  if (c < 0x20 || c == 0x7f) {
    char b[8];
    std::snprintf(b, sizeof b, "\\x%02x", c);
    *out += b;
  } else {
    *out += static_cast<char>(c);
  }
}

}  // namespace forja::config::tokens
