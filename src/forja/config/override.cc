// Hydra 1.3's override grammar (hydra/grammar/OverrideLexer.g4 and
// OverrideParser.g4), by hand:
//
//  - The lexer has Hydra's two modes. Before the first '=' it reads a key
//    (names, dotted paths, '/', '@', '~', '+'); after it, a value. In each mode
//    it takes the longest token any rule matches at the position, and on a tie
//    the rule listed first, as ANTLR does. So "true" is a BOOL, "trueish" an ID,
//    " , " one COMMA (the blanks belong to it), "1.5.2" FLOAT "1.5" then FLOAT
//    ".2".
//  - The parser is recursive descent over those tokens, one function per
//    grammar rule; it accepts exactly the strings Hydra's grammar accepts.
//  - Values are built as Hydra's visitor builds them (a primitive of several
//    tokens is their text joined, escapes undone; quoted strings keep their
//    quotes until a function unquotes them), and grammar functions run with
//    Hydra's argument binding, type checks and semantics (grammar_functions.py).
//
// Differences from Hydra are deliberate and listed in tests/config/overrides.md.
#include "forja/config/override.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "forja/config/py_values.h"
#include "forja/config/sweep.h"
#include "forja/core/strings.h"

namespace forja::config {

// ---- text helpers with Python's and Hydra's conventions ---------------------------


std::string PrintableText(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

namespace {

constexpr std::string_view kEscChars = "\\()[]{}:=, \t";  // Hydra's _ESC

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// hydra._internal.grammar.utils.escape_special_characters.
std::string EscapeSpecial(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (kEscChars.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// QuotedString.with_quotes(): the text between quote characters `q`, with each
// run of backslashes before a quote (or before the end) doubled, and quotes
// escaped.
std::string WithQuotes(std::string_view text, char q) {
  std::string out(1, q);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\') {
      size_t j = i;
      while (j < text.size() && text[j] == '\\') j++;
      size_t run = j - i;
      if (j == text.size()) {
        out.append(2 * run, '\\');
      } else if (text[j] == q) {
        out.append(2 * run + 1, '\\');
        out += q;
        j++;
      } else {
        out.append(run, '\\');
      }
      i = j;
    } else if (text[i] == q) {
      out += '\\';
      out += q;
      i++;
    } else {
      out += text[i++];
    }
  }
  return out + q;
}

// HydraOverrideVisitor._unescape_quoted_string: `tok` is the QUOTED_VALUE with
// its quotes. Only backslashes before a quote are escapes.
std::string UnescapeQuoted(std::string_view tok) {
  char q = tok[0];
  std::string_view body = tok.substr(1, tok.size() - 2);
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    if (body[i] == '\\') {
      size_t j = i;
      while (j < body.size() && body[j] == '\\') j++;
      size_t run = j - i;
      if (j == body.size()) {  // even, before the closing quote
        out.append(run / 2, '\\');
      } else if (body[j] == q) {  // odd, an escaped quote
        out.append(run / 2, '\\');
        out += q;
        j++;
      } else {
        out.append(run, '\\');
      }
      i = j;
    } else {
      out += body[i++];
    }
  }
  return out;
}

// Python's str.isspace() for ASCII (what int() and float() strip).
bool IsPySpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

std::string_view PyStrip(std::string_view s) {
  while (!s.empty() && IsPySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPySpace(s.back())) s.remove_suffix(1);
  return s;
}

// digit (["_"] digit)*, from i; returns the end, or npos when no digit at i.
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

double ToDouble(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Python's int(str): whitespace around, a sign, digits with single
// underscores between them. Error text when it is not one.
bool PyIntFromString(std::string_view text, int64_t* out, std::string* err) {
  std::string_view s = PyStrip(text);
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (DigitPartEnd(s, i) != s.size()) {
    *err = "invalid literal for int() with base 10: " + Quote(text);
    return false;
  }
  if (!ToInt64(WithoutUnderscores(s), out)) {
    *err = "int " + std::string(s) + " does not fit in 64 bits";
    return false;
  }
  return true;
}

// Python's float(str): also "inf", "infinity", "nan" in any case.
bool PyFloatFromString(std::string_view text, double* out, std::string* err) {
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
  if (!digits || j != s.size()) {
    *err = "could not convert string to float: " + Quote(text);
    return false;
  }
  *out = ToDouble(WithoutUnderscores(s));
  return true;
}

// 1-based column of byte offset `off`, counting UTF-8 characters.
size_t ColumnOf(std::string_view s, size_t off) {
  size_t col = 1;
  for (size_t i = 0; i < off && i < s.size(); i++)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) col++;
  return col;
}

// Offset of the first byte that breaks UTF-8, or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; k++) {
      if (i + k >= s.size()) return i;
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += n + 1;
  }
  return std::string_view::npos;
}


// ---- the lexer ------------------------------------------------------------------

enum class Tok : uint8_t {
  // key mode (EQUAL, COLON and ID also in value mode)
  kEqual, kTilde, kPlus, kAt, kColon, kSlash, kId, kKeySpecial, kDotPath,
  // value mode
  kPopen, kComma, kPclose, kBracketOpen, kBracketClose, kBraceOpen, kBraceClose,
  kFloat, kInt, kBool, kNull, kUnquotedChar, kEsc, kWs, kQuoted, kInterpolation,
  kEof, kError,
};

struct Token {
  Tok type;
  size_t begin, end;
  size_t core;  // the first byte that is not leading whitespace
};

size_t WsLen(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) j++;
  return j - i;
}

// ID: (CHAR|'_') (CHAR|DIGIT|'_'|'-')*
size_t IdLen(std::string_view s, size_t i) {
  if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_')) return 0;
  size_t j = i + 1;
  while (j < s.size() && (IsAlpha(s[j]) || IsDigit(s[j]) || s[j] == '_' || s[j] == '-')) j++;
  return j - i;
}

// KEY_SPECIAL: (CHAR|'_'|'$') (CHAR|DIGIT|'_'|'-'|'$')*
size_t KeySpecialLen(std::string_view s, size_t i) {
  if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_' || s[i] == '$')) return 0;
  size_t j = i + 1;
  while (j < s.size() &&
         (IsAlpha(s[j]) || IsDigit(s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '$'))
    j++;
  return j - i;
}

// INT_UNSIGNED: '0' | [1-9] (('_')? DIGIT)*; returns the end or npos.
size_t IntUnsignedEnd(std::string_view s, size_t i) {
  if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
  if (s[i] == '0') return i + 1;
  return DigitPartEnd(s, i);
}

// DOT_PATH: (KEY_SPECIAL | INT_UNSIGNED) ('.' (KEY_SPECIAL | INT_UNSIGNED))+
size_t DotPathLen(std::string_view s, size_t i) {
  auto component_end = [&](size_t k) -> size_t {
    if (size_t n = KeySpecialLen(s, k)) return k + n;
    return IntUnsignedEnd(s, k);
  };
  size_t e = component_end(i);
  if (e == std::string_view::npos) return 0;
  int dots = 0;
  while (e < s.size() && s[e] == '.') {
    size_t n = component_end(e + 1);
    if (n == std::string_view::npos) break;
    e = n;
    dots++;
  }
  return dots ? e - i : 0;
}

// FLOAT: [+-]? (POINT_FLOAT | EXPONENT_FLOAT | [Ii][Nn][Ff] | [Nn][Aa][Nn])
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

// INT: [+-]? INT_UNSIGNED
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

// ESC: ('\\\\' | '\\(' | '\\)' | ... | '\\ ' | '\\\t')+
size_t EscLen(std::string_view s, size_t i) {
  size_t j = i;
  while (j + 1 < s.size() && s[j] == '\\' && kEscChars.find(s[j + 1]) != std::string_view::npos)
    j += 2;
  return j - i;
}

// QUOTED_VALUE: a quote, then up to the first same quote that follows an even
// run of backslashes (ANTLR's non-greedy loop stops at the first way out).
size_t QuotedLen(std::string_view s, size_t i) {
  if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return 0;
  char q = s[i];
  size_t run = 0;
  for (size_t k = i + 1; k < s.size(); k++) {
    if (s[k] == q && run % 2 == 0) return k + 1 - i;
    run = s[k] == '\\' ? run + 1 : 0;
  }
  return 0;
}

// INTERPOLATION: '${' ~('}')+ '}'
size_t InterpolationLen(std::string_view s, size_t i) {
  if (i + 1 >= s.size() || s[i] != '$' || s[i + 1] != '{') return 0;
  size_t k = s.find('}', i + 2);
  if (k == std::string_view::npos || k == i + 2) return 0;
  return k + 1 - i;
}

// Punctuation with optional blanks: WS? c WS? (before/after as the rule says).
size_t PunctLen(std::string_view s, size_t i, char c, bool ws_before, bool ws_after) {
  size_t j = i + (ws_before ? WsLen(s, i) : 0);
  if (j >= s.size() || s[j] != c) return 0;
  j++;
  if (ws_after) j += WsLen(s, j);
  return j - i;
}

bool LexValueToken(std::string_view s, size_t i, Token* t) {
  struct Rule {
    Tok type;
    size_t len;
  };
  // Hydra's VALUE_MODE rules, in the order of OverrideLexer.g4.
  const Rule rules[] = {
      {Tok::kPopen, PunctLen(s, i, '(', true, true)},
      {Tok::kComma, PunctLen(s, i, ',', true, true)},
      {Tok::kPclose, PunctLen(s, i, ')', true, false)},
      {Tok::kBracketOpen, PunctLen(s, i, '[', false, true)},
      {Tok::kBracketClose, PunctLen(s, i, ']', true, false)},
      {Tok::kBraceOpen, PunctLen(s, i, '{', false, true)},
      {Tok::kBraceClose, PunctLen(s, i, '}', true, false)},
      {Tok::kColon, PunctLen(s, i, ':', true, true)},
      {Tok::kEqual, PunctLen(s, i, '=', true, true)},
      {Tok::kFloat, FloatLen(s, i)},
      {Tok::kInt, IntLen(s, i)},
      {Tok::kBool, std::max(WordLen(s, i, "true"), WordLen(s, i, "false"))},
      {Tok::kNull, WordLen(s, i, "null")},
      {Tok::kUnquotedChar,
       std::string_view("/-\\+.$%*@?|").find(s[i]) != std::string_view::npos ? 1u : 0u},
      {Tok::kId, IdLen(s, i)},
      {Tok::kEsc, EscLen(s, i)},
      {Tok::kWs, WsLen(s, i)},
      {Tok::kQuoted, QuotedLen(s, i)},
      {Tok::kInterpolation, InterpolationLen(s, i)},
  };
  const Rule* best = nullptr;
  for (const Rule& r : rules)
    if (r.len > 0 && (!best || r.len > best->len)) best = &r;
  if (!best) return false;
  t->type = best->type;
  t->begin = i;
  t->end = i + best->len;
  t->core = i;
  switch (best->type) {
    case Tok::kPopen: case Tok::kComma: case Tok::kPclose: case Tok::kBracketClose:
    case Tok::kBraceClose: case Tok::kColon: case Tok::kEqual:
      t->core = i + WsLen(s, i);
      break;
    default:
      break;
  }
  return true;
}

bool LexKeyToken(std::string_view s, size_t i, Token* t) {
  t->begin = t->core = i;
  char c = s[i];
  Tok single = Tok::kError;
  switch (c) {
    case '=': t->type = Tok::kEqual; t->end = i + 1 + WsLen(s, i + 1); return true;
    case '~': single = Tok::kTilde; break;
    case '+': single = Tok::kPlus; break;
    case '@': single = Tok::kAt; break;
    case ':': single = Tok::kColon; break;
    case '/': single = Tok::kSlash; break;
    default: break;
  }
  if (single != Tok::kError) {
    t->type = single;
    t->end = i + 1;
    return true;
  }
  size_t id = IdLen(s, i), ks = KeySpecialLen(s, i), dp = DotPathLen(s, i);
  if (id == 0 && ks == 0 && dp == 0) return false;
  t->type = Tok::kId;
  size_t len = id;
  if (ks > len) t->type = Tok::kKeySpecial, len = ks;
  if (dp > len) t->type = Tok::kDotPath, len = dp;
  t->end = i + len;
  return true;
}

// All tokens up to the end (kEof) or up to the first character no rule matches
// (kError at it). The first '=' in key mode switches to value mode.
std::vector<Token> Lex(std::string_view s, bool* value_mode_at_error) {
  std::vector<Token> out;
  bool value_mode = false;
  size_t i = 0;
  while (i < s.size()) {
    Token t;
    bool ok = value_mode ? LexValueToken(s, i, &t) : LexKeyToken(s, i, &t);
    if (!ok) {
      *value_mode_at_error = value_mode;
      out.push_back({Tok::kError, i, i, i});
      return out;
    }
    out.push_back(t);
    if (!value_mode && t.type == Tok::kEqual) value_mode = true;
    i = t.end;
  }
  out.push_back({Tok::kEof, s.size(), s.size(), s.size()});
  return out;
}

// ---- Hydra's parsed elements ------------------------------------------------------
//
// PElem mirrors what Hydra's visitor returns: Python None/bool/int/float/str,
// QuotedString (quotes remembered), list, dict (typed keys), and the sweep
// objects. Only the final result is turned into the public Value.

struct PEntry;

struct PElem {
  enum T : uint8_t {
    kNull, kBool, kInt, kFloat, kStr, kQuoted, kList, kDict,
    kChoice, kRange, kInterval, kGlob,
  };
  T t = kNull;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // kStr, kQuoted
  char quote = 0;
  // kList, kChoice; kRange: start, stop, step; kInterval: start, end;
  // kGlob: include, exclude (as given: str, list or null)
  std::vector<PElem> items;
  std::vector<PEntry> dict;                   // kDict, in insertion order
  bool simple = false, shuffle = false;       // kChoice (shuffle: kRange too)
  std::vector<std::string> tags;              // sorted set
  size_t offset = 0;                          // where it was written, for errors

  // Defined below the class: clang needs PElem complete before it builds one.
  static PElem Null();
  static PElem Bool(bool v);
  static PElem Int(int64_t v);
  static PElem Float(double v);
  static PElem Str(std::string v);

  bool is_sweep() const { return t == kChoice || t == kRange || t == kInterval; }
  bool is_number() const { return t == kBool || t == kInt || t == kFloat; }
  // Hydra's ParsedElementType: no sweeps, no Glob.
  bool is_parsed_element() const { return t <= kDict; }
};

// A dict entry (not std::pair: its checks recurse on an incomplete PElem in clang).
struct PEntry {
  PElem key, value;
};

PElem PElem::Null() { return PElem(); }
PElem PElem::Bool(bool v) { PElem e; e.t = kBool; e.b = v; return e; }
PElem PElem::Int(int64_t v) { PElem e; e.t = kInt; e.i = v; return e; }
PElem PElem::Float(double v) { PElem e; e.t = kFloat; e.f = v; return e; }
PElem PElem::Str(std::string v) { PElem e; e.t = kStr; e.s = std::move(v); return e; }

const char* PyTypeName(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return "NoneType";
    case PElem::kBool: return "bool";
    case PElem::kInt: return "int";
    case PElem::kFloat: return "float";
    case PElem::kStr: return "str";
    case PElem::kQuoted: return "QuotedString";
    case PElem::kList: return "list";
    case PElem::kDict: return "dict";
    case PElem::kChoice: return "ChoiceSweep";
    case PElem::kRange: return "RangeSweep";
    case PElem::kInterval: return "IntervalSweep";
    case PElem::kGlob: return "Glob";
  }
  return "?";
}

// Numbers as Python compares them: bool is an int, int vs float exactly.
long double NumValue(const PElem& e) {
  if (e.t == PElem::kBool) return e.b ? 1 : 0;
  if (e.t == PElem::kInt) return static_cast<long double>(e.i);
  return e.f;
}

// Python ==.
bool PyEq(const PElem& a, const PElem& b) {
  if (a.is_number() && b.is_number()) return NumValue(a) == NumValue(b);
  if (a.t != b.t) return false;
  switch (a.t) {
    case PElem::kNull: return true;
    case PElem::kStr: return a.s == b.s;
    case PElem::kQuoted: return a.s == b.s && a.quote == b.quote;
    case PElem::kList:
      if (a.items.size() != b.items.size()) return false;
      for (size_t k = 0; k < a.items.size(); k++)
        if (!PyEq(a.items[k], b.items[k])) return false;
      return true;
    case PElem::kDict:
      if (a.dict.size() != b.dict.size()) return false;
      for (const auto& [k, v] : a.dict) {
        bool found = false;
        for (const auto& [k2, v2] : b.dict) {
          if (PyEq(k, k2)) {
            found = PyEq(v, v2);
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    default:
      return false;  // sweeps: compared by identity in Python
  }
}

// Python <; sets *err (a TypeError) when the two cannot be ordered.
bool PyLess(const PElem& a, const PElem& b, std::string* err) {
  if (a.is_number() && b.is_number()) return NumValue(a) < NumValue(b);
  if (a.t == PElem::kStr && b.t == PElem::kStr) return a.s < b.s;
  if (a.t == PElem::kList && b.t == PElem::kList) {
    size_t n = std::min(a.items.size(), b.items.size());
    for (size_t k = 0; k < n; k++)
      if (!PyEq(a.items[k], b.items[k])) return PyLess(a.items[k], b.items[k], err);
    return a.items.size() < b.items.size();
  }
  if (err->empty())
    *err = std::string("'<' not supported between instances of '") + PyTypeName(a) + "' and '" +
           PyTypeName(b) + "'";
  return false;
}

// Python's sorted(v, reverse=...): for fewer than 64 items exactly CPython's
// algorithm (one run, then binary insertion), so even inconsistent orders
// (nan) give CPython's result; above that a stable merge sort, which gives the
// same result for any consistent order.
bool PySort(std::vector<PElem>* v, bool reverse, std::string* err) {
  std::vector<PElem>& a = *v;
  if (reverse) std::reverse(a.begin(), a.end());
  size_t n = a.size();
  if (n >= 2 && n < 64) {
    // count_run
    size_t run = 2;
    if (PyLess(a[1], a[0], err)) {
      while (run < n && PyLess(a[run], a[run - 1], err)) run++;
      std::reverse(a.begin(), a.begin() + run);
    } else {
      while (run < n && !PyLess(a[run], a[run - 1], err)) run++;
    }
    // binarysort
    for (size_t start = run; start < n && err->empty(); start++) {
      size_t l = 0, r = start;
      do {
        size_t p = l + ((r - l) >> 1);
        if (PyLess(a[start], a[p], err)) r = p;
        else l = p + 1;
      } while (l < r);
      std::rotate(a.begin() + l, a.begin() + start, a.begin() + start + 1);
    }
  } else if (n >= 64) {
    std::vector<PElem> tmp(n);
    for (size_t width = 1; width < n && err->empty(); width *= 2) {
      for (size_t lo = 0; lo < n; lo += 2 * width) {
        size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
        size_t x = lo, y = mid, o = lo;
        while (x < mid && y < hi) {
          if (PyLess(a[y], a[x], err)) tmp[o++] = std::move(a[y++]);
          else tmp[o++] = std::move(a[x++]);
        }
        while (x < mid) tmp[o++] = std::move(a[x++]);
        while (y < hi) tmp[o++] = std::move(a[y++]);
      }
      a.swap(tmp);
    }
  }
  if (!err->empty()) return false;
  if (reverse) std::reverse(a.begin(), a.end());
  return true;
}

// Python dict insertion: a key equal to an existing one (1 == 1.0 == True)
// replaces that entry's value and keeps the first key.
void DictSet(PElem* d, PElem key, PElem value) {
  for (auto& [k, v] : d->dict) {
    if (PyEq(k, key)) {
      v = std::move(value);
      return;
    }
  }
  d->dict.push_back(PEntry{std::move(key), std::move(value)});
}

// A dict key as a Node key: forja's mappings have string keys.
std::string KeyString(const PElem& k) {
  switch (k.t) {
    case PElem::kNull: return "null";
    case PElem::kBool: return k.b ? "true" : "false";
    case PElem::kInt: return std::to_string(k.i);
    case PElem::kFloat: return PythonFloatRepr(k.f);
    default: return k.s;
  }
}

// Override._get_value_element_as_str.
std::string HydraText(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return "null";
    case PElem::kBool: return e.b ? "True" : "False";
    case PElem::kInt: return std::to_string(e.i);
    case PElem::kFloat: return PythonFloatRepr(e.f);
    case PElem::kStr: return EscapeSpecial(e.s);
    case PElem::kQuoted: return WithQuotes(e.s, e.quote);
    case PElem::kList: {
      std::string out = "[";
      for (size_t k = 0; k < e.items.size(); k++) {
        if (k) out += ',';
        out += HydraText(e.items[k]);
      }
      return out + "]";
    }
    case PElem::kDict: {
      std::string out = "{";
      for (size_t k = 0; k < e.dict.size(); k++) {
        if (k) out += ',';
        out += HydraText(e.dict[k].key) + ":" + HydraText(e.dict[k].value);
      }
      return out + "}";
    }
    default: return "";  // sweeps never get here
  }
}

Node ToNode(const PElem& e) {
  switch (e.t) {
    case PElem::kNull: return Node::Null();
    case PElem::kBool: return Node::Bool(e.b);
    case PElem::kInt: return Node::Int(e.i);
    case PElem::kFloat: return Node::Float(e.f);
    case PElem::kStr: case PElem::kQuoted: return Node::String(e.s);
    case PElem::kList: {
      std::vector<Node> items;
      for (const PElem& x : e.items) items.push_back(ToNode(x));
      return Node::List(std::move(items));
    }
    case PElem::kDict: {
      Node m = Node::Map();
      for (const auto& [k, v] : e.dict) m.Set(KeyString(k), ToNode(v));
      return m;
    }
    default: return Node::Null();
  }
}

// Where a sweep sits inside a list or dict (Hydra keeps the object there and
// fails later; forja refuses it at once). Null if none.
const PElem* NestedSweep(const PElem& e) {
  if (e.is_sweep() || e.t == PElem::kGlob) return &e;
  for (const PElem& x : e.items)
    if (const PElem* n = NestedSweep(x)) return n;
  for (const auto& kv : e.dict)
    if (const PElem* n = NestedSweep(kv.value)) return n;
  return nullptr;
}

// ---- grammar functions (hydra/_internal/grammar/grammar_functions.py) -------------

struct Arg {
  std::string name;  // "" for a positional argument
  PElem value;
};

enum class Cast { kInt, kFloat, kStr, kBool };
const char* CastName(Cast c) {
  switch (c) {
    case Cast::kInt: return "int";
    case Cast::kFloat: return "float";
    case Cast::kStr: return "str";
    case Cast::kBool: return "bool";
  }
  return "?";
}

bool CastValue(Cast c, const PElem& v, PElem* out, std::string* err);

// cast_choice: every item cast, the simple form kept; shuffle and tags dropped.
bool CastChoice(Cast c, const PElem& v, PElem* out, std::string* err) {
  PElem r;
  r.t = PElem::kChoice;
  r.simple = v.simple;
  r.offset = v.offset;
  for (const PElem& x : v.items) {
    PElem y;
    if (!CastValue(c, x, &y, err)) return false;
    if (!y.is_parsed_element() || y.t == PElem::kNull || y.t == PElem::kQuoted) {
      *err = std::string("cannot cast ") + PyTypeName(x) + " in a choice";
      return false;
    }
    r.items.push_back(std::move(y));
  }
  *out = std::move(r);
  return true;
}

bool CastScalar(Cast c, const PElem& v, PElem* out, std::string* err) {
  switch (c) {
    case Cast::kInt:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Int(v.b); return true;
        case PElem::kInt: *out = v; return true;
        case PElem::kFloat:
          if (std::isnan(v.f)) {
            *err = "cannot convert float NaN to integer";
            return false;
          }
          if (std::isinf(v.f)) {
            *err = "cannot convert float infinity to integer";
            return false;
          }
          if (!(v.f > -9223372036854775809.0 && v.f < 9223372036854775808.0)) {
            *err = "int(" + PythonFloatRepr(v.f) + ") does not fit in 64 bits";
            return false;
          }
          *out = PElem::Int(static_cast<int64_t>(std::trunc(v.f)));
          return true;
        case PElem::kStr: {
          int64_t x;
          if (!PyIntFromString(v.s, &x, err)) return false;
          *out = PElem::Int(x);
          return true;
        }
        default: break;
      }
      break;
    case Cast::kFloat:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Float(v.b ? 1.0 : 0.0); return true;
        case PElem::kInt: *out = PElem::Float(static_cast<double>(v.i)); return true;
        case PElem::kFloat: *out = v; return true;
        case PElem::kStr: {
          double x;
          if (!PyFloatFromString(v.s, &x, err)) return false;
          *out = PElem::Float(x);
          return true;
        }
        default: break;
      }
      break;
    case Cast::kStr:
      switch (v.t) {
        case PElem::kBool: *out = PElem::Str(v.b ? "true" : "false"); return true;
        case PElem::kInt: *out = PElem::Str(std::to_string(v.i)); return true;
        case PElem::kFloat: *out = PElem::Str(PythonFloatRepr(v.f)); return true;
        case PElem::kStr: *out = v; return true;
        default: break;
      }
      break;
    case Cast::kBool:
      switch (v.t) {
        case PElem::kNull: *out = PElem::Bool(false); return true;  // Python's bool(None)
        case PElem::kGlob: *out = PElem::Bool(true); return true;   // an object is true
        case PElem::kBool: *out = v; return true;
        case PElem::kInt: *out = PElem::Bool(v.i != 0); return true;
        case PElem::kFloat: *out = PElem::Bool(v.f != 0); return true;
        case PElem::kStr:
          if (EqualsNoCase(v.s, "false")) {
            *out = PElem::Bool(false);
            return true;
          }
          if (EqualsNoCase(v.s, "true")) {
            *out = PElem::Bool(true);
            return true;
          }
          *err = "cannot cast " + Quote(v.s) + " to bool (only true and false, in any case)";
          return false;
        default: break;
      }
      break;
  }
  *err = std::string("cannot cast ") + (v.t == PElem::kNull ? "null" : PyTypeName(v)) + " to " +
         CastName(c);
  return false;
}

bool CastValue(Cast c, const PElem& v, PElem* out, std::string* err) {
  switch (v.t) {
    case PElem::kQuoted: return CastValue(c, PElem::Str(v.s), out, err);
    case PElem::kDict: {
      PElem r;
      r.t = PElem::kDict;
      for (const auto& [k, x] : v.dict) {
        PElem y;
        if (!CastValue(c, x, &y, err)) return false;
        r.dict.push_back(PEntry{k, std::move(y)});
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kList: {
      PElem r;
      r.t = PElem::kList;
      for (const PElem& x : v.items) {
        PElem y;
        if (!CastValue(c, x, &y, err)) return false;
        r.items.push_back(std::move(y));
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kChoice: return CastChoice(c, v, out, err);
    case PElem::kRange: {
      if (c == Cast::kStr || c == Cast::kBool) {
        *err = "a range can only be cast to int or float";
        return false;
      }
      PElem r;
      r.t = PElem::kRange;
      r.offset = v.offset;
      for (const PElem& x : v.items) {
        PElem y;
        if (!CastScalar(c, x, &y, err)) return false;
        r.items.push_back(std::move(y));
      }
      *out = std::move(r);
      return true;
    }
    case PElem::kInterval: {
      if (c == Cast::kStr || c == Cast::kBool) {
        *err = std::string("an interval cannot be cast to ") + CastName(c);
        return false;
      }
      PElem r = v;
      for (PElem& x : r.items)
        if (!CastScalar(c, PElem(x), &x, err)) return false;
      *out = std::move(r);
      return true;
    }
    default:
      return CastScalar(c, v, out, err);
  }
}

// Python's inspect.Signature.bind for the grammar functions, then Hydra's
// is_type_matching check of each bound argument.
struct Param {
  const char* name;
  enum Kind { kPositional, kVarPositional, kKeywordOnly } kind;
  bool required;
  bool (*accepts)(const PElem&);
  const char* type_desc;
};

struct Bound {
  std::vector<PElem> varargs;
  std::vector<std::optional<PElem>> named;  // by parameter index
};

bool AcceptCastType(const PElem& e) { return e.t != PElem::kGlob; }
bool AcceptChoiceArg(const PElem& e) {
  return (e.is_parsed_element() && e.t != PElem::kNull) || e.t == PElem::kChoice;
}
bool AcceptNumber(const PElem& e) { return e.is_number(); }
bool AcceptNumberOrNull(const PElem& e) { return e.is_number() || e.t == PElem::kNull; }
bool AcceptTagArg(const PElem& e) { return e.t == PElem::kStr || e.is_sweep(); }
bool AcceptSweepOrNull(const PElem& e) { return e.is_sweep() || e.t == PElem::kNull; }
bool AcceptSortArg(const PElem& e) {
  return (e.is_parsed_element() && e.t != PElem::kNull) || e.t == PElem::kChoice ||
         e.t == PElem::kRange;
}
bool AcceptChoiceRangeOrNull(const PElem& e) {
  return e.t == PElem::kChoice || e.t == PElem::kRange || e.t == PElem::kNull;
}
bool AcceptListOrNull(const PElem& e) { return e.t == PElem::kList || e.t == PElem::kNull; }
bool AcceptBool(const PElem& e) { return e.t == PElem::kBool; }
bool AcceptListOrStr(const PElem& e) { return e.t == PElem::kList || e.t == PElem::kStr; }
bool AcceptListStrOrNull(const PElem& e) { return AcceptListOrStr(e) || e.t == PElem::kNull; }

bool Bind(const std::vector<Param>& params, std::vector<Arg> args, Bound* b, std::string* err) {
  b->named.assign(params.size(), std::nullopt);
  size_t pi = 0;
  size_t ai = 0;
  for (; ai < args.size() && args[ai].name.empty(); ai++) {
    while (pi < params.size() && params[pi].kind == Param::kKeywordOnly) pi++;
    if (pi >= params.size()) {
      *err = "too many positional arguments";
      return false;
    }
    if (params[pi].kind == Param::kVarPositional) {
      b->varargs.push_back(std::move(args[ai].value));
    } else {
      b->named[pi++] = std::move(args[ai].value);
    }
  }
  for (; ai < args.size(); ai++) {
    size_t k = 0;
    while (k < params.size() &&
           (params[k].name != args[ai].name || params[k].kind == Param::kVarPositional))
      k++;
    if (k == params.size()) {
      *err = "got an unexpected keyword argument '" + args[ai].name + "'";
      return false;
    }
    if (b->named[k]) {
      *err = "multiple values for argument '" + args[ai].name + "'";
      return false;
    }
    b->named[k] = std::move(args[ai].value);
  }
  for (size_t k = 0; k < params.size(); k++) {
    if (params[k].required && !b->named[k]) {
      *err = std::string("missing a required argument: '") + params[k].name + "'";
      return false;
    }
  }
  for (size_t k = 0; k < params.size(); k++) {
    const Param& p = params[k];
    if (p.kind == Param::kVarPositional) {
      for (const PElem& v : b->varargs) {
        if (!p.accepts(v)) {
          *err = "an argument must be " + std::string(p.type_desc) + ", not " +
                 (v.t == PElem::kNull ? std::string("null") : PyTypeName(v));
          return false;
        }
      }
    } else if (b->named[k] && !p.accepts(*b->named[k])) {
      *err = std::string("argument '") + p.name + "' must be " + p.type_desc + ", not " +
             (b->named[k]->t == PElem::kNull ? std::string("null") : PyTypeName(*b->named[k]));
      return false;
    }
  }
  return true;
}

// _list_to_simple_choice
bool SimpleChoice(std::vector<PElem> args, PElem* out, std::string* err) {
  PElem r;
  r.t = PElem::kChoice;
  r.simple = true;
  for (PElem& a : args) {
    if (!a.is_parsed_element()) {
      *err = std::string("a ") + PyTypeName(a) + " cannot be one of several values here";
      return false;
    }
    r.items.push_back(std::move(a));
  }
  *out = std::move(r);
  return true;
}

// Python arithmetic on the numbers of a range (bool and int add as ints).
bool NumAdd(const PElem& a, const PElem& b, PElem* out, std::string* err) {
  if (a.t != PElem::kFloat && b.t != PElem::kFloat) {
    int64_t x = a.t == PElem::kBool ? a.b : a.i, y = b.t == PElem::kBool ? b.b : b.i, r;
    if (__builtin_add_overflow(x, y, &r)) {
      *err = "range bound does not fit in 64 bits";
      return false;
    }
    *out = PElem::Int(r);
  } else {
    *out = PElem::Float(static_cast<double>(NumValue(a)) + static_cast<double>(NumValue(b)));
  }
  return true;
}
bool NumNeg(const PElem& a, PElem* out, std::string* err) {
  if (a.t == PElem::kFloat) {
    *out = PElem::Float(-a.f);
    return true;
  }
  int64_t x = a.t == PElem::kBool ? a.b : a.i;
  if (x == INT64_MIN) {
    *err = "range step does not fit in 64 bits";
    return false;
  }
  *out = PElem::Int(-x);
  return true;
}
bool NumAbs(const PElem& a, PElem* out, std::string* err) {
  if (NumValue(a) < 0) return NumNeg(a, out, err);
  *out = a.t == PElem::kBool ? PElem::Int(a.b) : a;
  return true;
}

// _sort_sweep
bool SortSweep(PElem sweep, bool reverse, PElem* out, std::string* err) {
  if (sweep.t == PElem::kChoice) {
    if (!PySort(&sweep.items, reverse, err)) return false;
    *out = std::move(sweep);
    return true;
  }
  // A range: Hydra flips start and stop when they are in the other order.
  PElem& start = sweep.items[0];
  PElem& stop = sweep.items[1];
  PElem& step = sweep.items[2];
  bool flip = reverse ? NumValue(start) < NumValue(stop) : NumValue(start) > NumValue(stop);
  if (flip) {
    PElem abs_step, new_start, new_stop, neg_step;
    if (!NumAbs(step, &abs_step, err)) return false;
    if (!reverse) {
      if (!NumAdd(stop, abs_step, &new_start, err) || !NumAdd(start, abs_step, &new_stop, err))
        return false;
    } else {
      PElem neg_abs;
      if (!NumNeg(abs_step, &neg_abs, err) || !NumAdd(stop, neg_abs, &new_start, err) ||
          !NumAdd(start, neg_abs, &new_stop, err))
        return false;
    }
    if (!NumNeg(step, &neg_step, err)) return false;
    start = std::move(new_start);
    stop = std::move(new_stop);
    step = std::move(neg_step);
  }
  *out = std::move(sweep);
  return true;
}

// The fixed seed of shuffle(list) at parse time: Hydra shuffles at random,
// forja reproducibly (tests/config/overrides.md).
constexpr uint64_t kParseShuffleSeed = 0x666f726a61ULL;  // "forja"

bool CallShuffle(std::vector<PElem> args, std::optional<PElem> sweep, std::optional<PElem> list,
                 PElem* out, std::string* err) {
  if (list && list->t != PElem::kNull) return CallShuffle({std::move(*list)}, {}, {}, out, err);
  if (sweep && sweep->t != PElem::kNull) return CallShuffle({std::move(*sweep)}, {}, {}, out, err);
  if (args.size() == 1) {
    PElem& a = args[0];
    if (a.t == PElem::kChoice || a.t == PElem::kRange) {
      a.shuffle = true;
      *out = std::move(a);
    } else if (a.t == PElem::kList) {
      uint64_t state = kParseShuffleSeed;
      sweep::Shuffle(&a.items, &state);
      *out = std::move(a);
    } else {
      PElem l;
      l.t = PElem::kList;
      l.items.push_back(std::move(a));
      *out = std::move(l);
    }
    return true;
  }
  if (!SimpleChoice(std::move(args), out, err)) return false;
  out->shuffle = true;
  return true;
}

bool CallSort(std::vector<PElem> args, std::optional<PElem> sweep, std::optional<PElem> list,
              bool reverse, PElem* out, std::string* err) {
  if (list && list->t != PElem::kNull) return CallSort({std::move(*list)}, {}, {}, reverse, out, err);
  if (sweep && sweep->t != PElem::kNull) return SortSweep(std::move(*sweep), reverse, out, err);
  if (args.size() == 1) {
    PElem& a = args[0];
    if (a.t == PElem::kChoice || a.t == PElem::kRange) return SortSweep(std::move(a), reverse, out, err);
    if (a.t == PElem::kList) {
      if (!PySort(&a.items, reverse, err)) return false;
    }
    *out = std::move(a);
    return true;
  }
  for (const PElem& a : args) {
    if (!(a.is_number() || a.t == PElem::kStr)) {
      *err = std::string("with several arguments, sort() takes only int, float, bool or str, not ") +
             PyTypeName(a);
      return false;
    }
  }
  if (args.empty()) {
    *err = "empty sort input";
    return false;
  }
  PElem choice;
  if (!SimpleChoice(std::move(args), &choice, err)) return false;
  return SortSweep(std::move(choice), reverse, out, err);
}

bool CallTag(std::vector<PElem> args, std::optional<PElem> sweep, PElem* out, std::string* err) {
  if (args.empty()) {
    *err = "not enough arguments: tag() takes tags and then a sweep";
    return false;
  }
  if (sweep && sweep->t != PElem::kNull) args.push_back(std::move(*sweep));
  PElem last = std::move(args.back());
  args.pop_back();
  if (!last.is_sweep()) {
    *err = "the last argument of tag() must be a choice(), range() or interval()";
    return false;
  }
  std::vector<std::string> tags;
  for (const PElem& t : args) {
    if (t.t != PElem::kStr) {
      *err = std::string("tags must be strings, not ") + PyTypeName(t);
      return false;
    }
    tags.push_back(t.s);
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  last.tags = std::move(tags);
  *out = std::move(last);
  return true;
}

// glob()'s include or exclude as strings. Hydra keeps whatever it is given and
// fails only when the glob is expanded; forja checks when the glob is the
// value (not earlier: a dict may still drop it, {1:glob(x),true:y}).
bool GlobPatterns(const PElem& v, std::vector<std::string>* out, std::string* err) {
  if (v.t == PElem::kNull) return true;
  if (v.t == PElem::kStr) {
    out->push_back(v.s);
    return true;
  }
  for (const PElem& x : v.items) {
    if (x.t != PElem::kStr && x.t != PElem::kQuoted) {
      *err = std::string("glob() patterns must be strings, not ") +
             (x.t == PElem::kNull ? "null" : PyTypeName(x));
      return false;
    }
    out->push_back(x.s);
  }
  return true;
}

constexpr const char* kFunctionNames =
    "bool, choice, float, glob, int, interval, range, shuffle, sort, str, tag";

bool CallFunction(const std::string& name, std::vector<Arg> args, PElem* out, std::string* err) {
  // Functions.eval unquotes the arguments themselves (not what they contain).
  for (Arg& a : args)
    if (a.value.t == PElem::kQuoted) a.value.t = PElem::kStr;
  Bound b;
  auto bind = [&](std::vector<Param> params) { return Bind(params, std::move(args), &b, err); };
  static const char* kCastDesc = "a value or a sweep (not a glob)";
  Cast cast;
  if (name == "int" || name == "float" || name == "str" || name == "bool") {
    cast = name == "int" ? Cast::kInt : name == "float" ? Cast::kFloat : name == "str" ? Cast::kStr : Cast::kBool;
    if (!bind({{"args", Param::kVarPositional, false, AcceptCastType, kCastDesc},
               {"value", Param::kKeywordOnly, false, AcceptCastType, kCastDesc}}))
      return false;
    std::optional<PElem>& value = b.named[1];
    bool has_value = value && value->t != PElem::kNull;
    PElem v;
    if (!b.varargs.empty() && has_value) {
      *err = "cannot use both positional arguments and value=";
      return false;
    } else if (has_value) {
      v = std::move(*value);
    } else if (b.varargs.empty()) {
      *err = "no positional argument or value= given";
      return false;
    } else if (b.varargs.size() == 1) {
      v = std::move(b.varargs[0]);
    } else if (!SimpleChoice(std::move(b.varargs), &v, err)) {
      return false;
    }
    return CastValue(cast, v, out, err);
  }
  if (name == "choice") {
    if (!bind({{"args", Param::kVarPositional, false, AcceptChoiceArg,
                "a value (not null) or a choice"}}))
      return false;
    if (b.varargs.empty()) {
      *err = "empty choice is not legal";
      return false;
    }
    if (b.varargs.size() == 1 && b.varargs[0].t == PElem::kChoice) {
      if (!b.varargs[0].simple) {
        *err = "nesting choices is not supported";
        return false;
      }
      *out = std::move(b.varargs[0]);
      out->simple = false;
      return true;
    }
    PElem r;
    r.t = PElem::kChoice;
    r.items = std::move(b.varargs);
    *out = std::move(r);
    return true;
  }
  if (name == "range") {
    if (!bind({{"start", Param::kPositional, true, AcceptNumber, "an int or a float"},
               {"stop", Param::kPositional, false, AcceptNumberOrNull, "an int, a float or null"},
               {"step", Param::kPositional, false, AcceptNumber, "an int or a float"}}))
      return false;
    PElem start = std::move(*b.named[0]);
    PElem stop = b.named[1] ? std::move(*b.named[1]) : PElem::Null();
    PElem step = b.named[2] ? std::move(*b.named[2]) : PElem::Int(1);
    if (stop.t == PElem::kNull) {
      stop = std::move(start);
      start = PElem::Int(0);
    }
    PElem r;
    r.t = PElem::kRange;
    r.items = {std::move(start), std::move(stop), std::move(step)};
    *out = std::move(r);
    return true;
  }
  if (name == "interval") {
    if (!bind({{"start", Param::kPositional, true, AcceptNumber, "an int or a float"},
               {"end", Param::kPositional, true, AcceptNumber, "an int or a float"}}))
      return false;
    PElem r;
    r.t = PElem::kInterval;
    r.items = {PElem::Float(static_cast<double>(NumValue(*b.named[0]))),
               PElem::Float(static_cast<double>(NumValue(*b.named[1])))};
    *out = std::move(r);
    return true;
  }
  if (name == "tag") {
    if (!bind({{"args", Param::kVarPositional, false, AcceptTagArg, "a string or a sweep"},
               {"sweep", Param::kKeywordOnly, false, AcceptSweepOrNull, "a sweep"}}))
      return false;
    return CallTag(std::move(b.varargs), std::move(b.named[1]), out, err);
  }
  if (name == "shuffle" || name == "sort") {
    std::vector<Param> params = {
        {"args", Param::kVarPositional, false, AcceptSortArg,
         "a value (not null), a choice or a range"},
        {"sweep", Param::kKeywordOnly, false, AcceptChoiceRangeOrNull, "a choice or a range"},
        {"list", Param::kKeywordOnly, false, AcceptListOrNull, "a list"}};
    if (name == "sort") params.push_back({"reverse", Param::kKeywordOnly, false, AcceptBool, "true or false"});
    if (!bind(params)) return false;
    if (name == "shuffle")
      return CallShuffle(std::move(b.varargs), std::move(b.named[1]), std::move(b.named[2]), out, err);
    bool reverse = b.named[3] && b.named[3]->b;
    return CallSort(std::move(b.varargs), std::move(b.named[1]), std::move(b.named[2]), reverse, out, err);
  }
  if (name == "glob") {
    if (!bind({{"include", Param::kPositional, true, AcceptListOrStr, "a string or a list"},
               {"exclude", Param::kPositional, false, AcceptListStrOrNull, "a string or a list"}}))
      return false;
    PElem r;
    r.t = PElem::kGlob;
    r.items = {std::move(*b.named[0]), b.named[1] ? std::move(*b.named[1]) : PElem::Null()};
    *out = std::move(r);
    return true;
  }
  *err = "unknown function '" + name + "' (the functions are " + kFunctionNames + ")";
  return false;
}

// ---- the parser -------------------------------------------------------------------

bool InPrimitive(Tok t) {
  switch (t) {
    case Tok::kId: case Tok::kNull: case Tok::kInt: case Tok::kFloat: case Tok::kBool:
    case Tok::kInterpolation: case Tok::kUnquotedChar: case Tok::kColon: case Tok::kEsc:
    case Tok::kWs:
      return true;
    default:
      return false;
  }
}

bool InDictKey(Tok t) { return InPrimitive(t) && t != Tok::kColon && t != Tok::kInterpolation; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Override> Run() {
    Override o;
    o.input = std::string(s_);
    if (size_t bad = InvalidUtf8At(s_); bad != std::string_view::npos)
      return Error(bad, "the override is not valid UTF-8");
    toks_ = Lex(s_, &lex_error_in_value_);
    if (!ParseOverride(&o)) return Error(err_off_, err_);
    return o;
  }

 private:
  Status Error(size_t off, const std::string& what) const {
    return Status::User("override '" + PrintableText(s_) + "': column " +
                        std::to_string(ColumnOf(s_, off)) + ": " + what);
  }
  bool Fail(size_t off, std::string what) {
    err_off_ = off;
    err_ = std::move(what);
    return false;
  }

  const Token& Cur() const { return toks_[p_]; }
  const Token& Next() const { return toks_[std::min(p_ + 1, toks_.size() - 1)]; }
  Tok CurType() const { return Cur().type; }
  std::string_view Text(const Token& t) const { return s_.substr(t.begin, t.end - t.begin); }

  // How a token reads in a message.
  std::string Describe(const Token& t) const {
    if (t.type == Tok::kEof) return "the end";
    if (t.type == Tok::kWs) return "whitespace";
    std::string_view x = s_.substr(t.core, t.end - t.core);
    while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.remove_suffix(1);
    if (x.size() > 24) return "'" + PrintableText(x.substr(0, 21)) + "...'";
    return "'" + PrintableText(x) + "'";
  }

  // The message for the character no lexer rule matched.
  bool FailLexer(const Token& t) {
    size_t i = t.begin;
    unsigned char c = s_[i];
    size_t len = 1;
    if (c >= 0x80) {
      len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    }
    std::string ch = c < 0x20 || c == 0x7f ? PrintableText(s_.substr(i, 1)) : std::string(s_.substr(i, len));
    if (!lex_error_in_value_) {
      if (c == ' ' || c == '\t') {
        size_t j = i + WsLen(s_, i);
        if (j < s_.size() && s_[j] == '=')
          return Fail(i, "whitespace before '=': write key=value with nothing between the key and '='");
        return Fail(i, "a key cannot contain whitespace (nor be quoted)");
      }
      if (c == '\'' || c == '"') return Fail(i, "a key cannot be quoted");
      if (c == '.') return Fail(i, "'.' must join two names in a key (like db.host)");
      if (IsDigit(c)) {
        if (i >= 2 && s_[i - 1] == '0' && s_[i - 2] == '.')
          return Fail(i - 1, "a list index in a key cannot have leading zeros");
        return Fail(i, "a name in a key cannot start with a digit (a list index can: a.0)");
      }
      return Fail(i, "'" + ch + "' cannot appear here in a key (a key is a dotted path like " +
                         "db.host, or a config group like db or hydra/launcher, optionally " +
                         "followed by @package)");
    }
    if (c == '\'' || c == '"')
      return Fail(i, std::string("unterminated quoted string: add the closing ") +
                         static_cast<char>(c));
    if (c == '$' && i + 1 < s_.size() && s_[i + 1] == '{')
      return Fail(i, "unterminated interpolation: add the closing '}'");
    return Fail(i, "'" + ch + "' cannot appear in an unquoted value; quote the value " +
                       "(key='...')");
  }

  // The token `t` is not what the rule needs; `wanted` says what would be.
  bool FailAt(const Token& t, const std::string& wanted) {
    if (t.type == Tok::kError) return FailLexer(t);
    if (t.type == Tok::kEqual)
      return Fail(t.core, "'=' in a value must be escaped (\\=) or the value quoted");
    return Fail(t.core, wanted + ", found " + Describe(t));
  }

  bool Expect(Tok type, const char* closing) {
    if (CurType() == type) {
      p_++;
      return true;
    }
    if (CurType() == Tok::kEof) return Fail(Cur().begin, std::string("missing '") + closing + "'");
    return FailAt(Cur(), std::string("expected ',' or '") + closing + "'");
  }

  // override: key EQUAL value? | TILDE key (EQUAL value?)? | PLUS PLUS? key EQUAL value?
  bool ParseOverride(Override* o) {
    if (CurType() == Tok::kTilde) {
      o->op = Override::Op::kDelete;
      p_++;
    } else if (CurType() == Tok::kPlus) {
      o->op = Override::Op::kAdd;
      p_++;
      if (CurType() == Tok::kPlus) {
        o->op = Override::Op::kForceAdd;
        p_++;
      }
    }
    if (!ParseKey(o)) return false;
    if (CurType() == Tok::kEof && o->op == Override::Op::kDelete) return true;
    if (CurType() != Tok::kEqual) {
      if (CurType() == Tok::kEof) {
        std::string prefix = o->op == Override::Op::kAdd ? "+" : o->op == Override::Op::kForceAdd ? "++" : "";
        std::string key = o->key.empty() ? "KEY" : o->key;
        return Fail(Cur().begin, "missing '=': write " + prefix + key + "=VALUE" +
                                     (o->op == Override::Op::kChange ? " (or ~" + key + " to delete it)" : ""));
      }
      if (CurType() == Tok::kError) return FailLexer(Cur());
      if (CurType() == Tok::kSlash)
        return Fail(Cur().begin, "'/' can only join config group names (db/mysql), not a dotted path or a " +
                                     std::string("special name"));
      if (CurType() == Tok::kTilde || CurType() == Tok::kPlus)
        return Fail(Cur().begin, "'~', '+' and '++' can only start an override");
      return Fail(Cur().begin, Describe(Cur()) + " cannot appear in a key");
    }
    p_++;
    PElem v;
    if (CurType() == Tok::kEof) {
      v = PElem::Str("");
    } else if (!ParseValue(&v)) {
      return false;
    }
    return MakeValue(std::move(v), o);
  }

  // key: packageOrGroup (AT package)?
  // packageOrGroup: package | ID (SLASH ID)+
  // package: ( | ID | KEY_SPECIAL | DOT_PATH)
  bool ParseKey(Override* o) {
    auto is_package = [](Tok t) { return t == Tok::kId || t == Tok::kKeySpecial || t == Tok::kDotPath; };
    if (CurType() == Tok::kId && Next().type == Tok::kSlash) {
      o->key = std::string(Text(Cur()));
      p_++;
      while (CurType() == Tok::kSlash) {
        o->key += '/';
        p_++;
        if (CurType() != Tok::kId) {
          if (CurType() == Tok::kError) return FailLexer(Cur());
          return Fail(Cur().begin, "a config group name must follow '/' (like db/mysql), found " +
                                       Describe(Cur()));
        }
        o->key += Text(Cur());
        p_++;
      }
    } else if (is_package(CurType())) {
      o->key = std::string(Text(Cur()));
      p_++;
    }
    if (CurType() == Tok::kAt) {
      p_++;
      o->package = "";
      if (is_package(CurType())) {
        *o->package = std::string(Text(Cur()));
        p_++;
      }
    }
    return true;
  }

  // value: element | element (COMMA element)+
  bool ParseValue(PElem* out) {
    PElem first;
    if (!ParseElement(&first)) return false;
    if (CurType() == Tok::kComma) {
      PElem choice;
      choice.t = PElem::kChoice;
      choice.simple = true;
      choice.offset = first.offset;
      choice.items.push_back(std::move(first));
      while (CurType() == Tok::kComma) {
        p_++;
        PElem e;
        if (!ParseElement(&e)) return false;
        choice.items.push_back(std::move(e));
      }
      first = std::move(choice);
    }
    if (CurType() != Tok::kEof) return FailAfterValue();
    *out = std::move(first);
    return true;
  }

  bool FailAfterValue() {
    const Token& t = Cur();
    const Token& prev = toks_[p_ - 1];
    if (t.type == Tok::kError) return FailLexer(t);
    if (t.type == Tok::kWs && prev.type == Tok::kQuoted)
      return Fail(t.begin, "whitespace after a quoted string: remove it, or put it inside the quotes");
    if (t.type == Tok::kQuoted)
      return Fail(t.begin, "a quoted string cannot be joined to other text: quote the whole value");
    if (t.type == Tok::kBraceOpen && prev.type == Tok::kUnquotedChar && Text(prev) == "$") {
      if (t.end < s_.size() && s_[t.end] == '}') return Fail(prev.begin, "empty interpolation '${}'");
      return Fail(prev.begin, "unterminated interpolation: add the closing '}'");
    }
    if (t.type == Tok::kBraceClose && prev.type == Tok::kInterpolation &&
        Text(prev).find("${", 2) != std::string_view::npos)
      return Fail(t.core, "a nested interpolation must be quoted: key='${...${...}}'");
    if (t.type == Tok::kPopen)
      return Fail(t.core, "'(' must follow a function name (" + std::string(kFunctionNames) +
                              "); escape it (\\() or quote the value");
    if (t.type == Tok::kEqual || t.type == Tok::kWs) return FailAt(t, "");
    return Fail(t.core, "unexpected " + Describe(t) + " after the value; escape it with '\\' or quote the value");
  }

  bool FailNoElement() {
    const Token& t = Cur();
    Tok prev = p_ > 0 ? toks_[p_ - 1].type : Tok::kEof;
    if (t.type == Tok::kError) return FailLexer(t);
    if (t.type == Tok::kComma) return Fail(t.core, "missing value before ','");
    if (prev == Tok::kComma &&
        (t.type == Tok::kEof || t.type == Tok::kBracketClose || t.type == Tok::kBraceClose ||
         t.type == Tok::kPclose))
      return Fail(t.type == Tok::kEof ? t.begin : t.core, "missing value after ','");
    if (t.type == Tok::kEof) return Fail(t.begin, "missing value");
    if (t.type == Tok::kPopen)
      return Fail(t.core, "'(' must follow a function name (" + std::string(kFunctionNames) +
                              "); escape it (\\() or quote the value");
    if (t.type == Tok::kEqual) return FailAt(t, "");
    return Fail(t.core, "expected a value, found " + Describe(t) +
                            (t.type == Tok::kBracketClose || t.type == Tok::kBraceClose ||
                                     t.type == Tok::kPclose
                                 ? " (escape it with '\\' or quote the value)"
                                 : ""));
  }

  // element: primitive | listContainer | dictContainer | function
  bool ParseElement(PElem* out) {
    // Recursion is bounded (Hydra's is by Python's: about 246 dicts or 490 lists deep).
    if (depth_ == kMaxDepth)
      return Fail(Cur().core, "the value is nested more than " + std::to_string(kMaxDepth) + " levels deep");
    depth_++;
    bool ok = ParseElementAt(out);
    depth_--;
    return ok;
  }

  bool ParseElementAt(PElem* out) {
    size_t off = Cur().core;
    bool ok;
    switch (CurType()) {
      case Tok::kBracketOpen: ok = ParseList(out); break;
      case Tok::kBraceOpen: ok = ParseDict(out); break;
      case Tok::kQuoted:
        out->t = PElem::kQuoted;
        out->quote = s_[Cur().begin];
        out->s = UnescapeQuoted(Text(Cur()));
        p_++;
        ok = true;
        break;
      default:
        if (CurType() == Tok::kId && Next().type == Tok::kPopen) {
          ok = ParseFunction(out);
        } else if (InPrimitive(CurType())) {
          ok = ParsePrimitive(false, out);
        } else {
          return FailNoElement();
        }
    }
    if (ok && out->offset == 0) out->offset = off;
    return ok;
  }

  // primitive / dictKey: tokens joined, blanks at both ends dropped, one token typed.
  bool ParsePrimitive(bool dict_key, PElem* out) {
    size_t first = p_;
    while (dict_key ? InDictKey(CurType()) : InPrimitive(CurType())) p_++;
    size_t last = p_;  // exclusive
    if (toks_[first].type == Tok::kWs) {
      if (last - first == 1) return Fail(toks_[first].begin, "a value cannot be only whitespace");
      first++;
    }
    if (toks_[last - 1].type == Tok::kWs) last--;
    if (last - first > 1) {
      std::string s;
      for (size_t k = first; k < last; k++) {
        std::string_view x = Text(toks_[k]);
        if (toks_[k].type == Tok::kEsc) {
          for (size_t j = 1; j < x.size(); j += 2) s += x[j];
        } else {
          s += x;
        }
      }
      *out = PElem::Str(std::move(s));
      return true;
    }
    const Token& t = toks_[first];
    std::string_view x = Text(t);
    switch (t.type) {
      case Tok::kInt: {
        int64_t v;
        if (!ToInt64(WithoutUnderscores(x), &v))
          return Fail(t.begin, "integer " + std::string(x) + " does not fit in 64 bits; quote it to keep it as a string");
        *out = PElem::Int(v);
        return true;
      }
      case Tok::kFloat: {
        std::string f = WithoutUnderscores(x);
        *out = PElem::Float(ToDouble(f));
        return true;
      }
      case Tok::kNull: *out = PElem::Null(); return true;
      case Tok::kBool: *out = PElem::Bool(EqualsNoCase(x, "true")); return true;
      case Tok::kEsc: {
        std::string s;
        for (size_t j = 1; j < x.size(); j += 2) s += x[j];
        *out = PElem::Str(std::move(s));
        return true;
      }
      default: *out = PElem::Str(std::string(x)); return true;
    }
  }

  // listContainer: BRACKET_OPEN (element (COMMA element)*)? BRACKET_CLOSE
  bool ParseList(PElem* out) {
    out->t = PElem::kList;
    p_++;
    if (CurType() == Tok::kBracketClose) {
      p_++;
      return true;
    }
    if (CurType() == Tok::kEof) return Fail(Cur().begin, "missing ']'");
    for (;;) {
      PElem e;
      if (!ParseElement(&e)) return false;
      out->items.push_back(std::move(e));
      if (CurType() != Tok::kComma) break;
      p_++;
    }
    return Expect(Tok::kBracketClose, "]");
  }

  // dictContainer: BRACE_OPEN (dictKeyValuePair (COMMA dictKeyValuePair)*)? BRACE_CLOSE
  // dictKeyValuePair: dictKey COLON element
  bool ParseDict(PElem* out) {
    out->t = PElem::kDict;
    p_++;
    if (CurType() == Tok::kBraceClose) {
      p_++;
      return true;
    }
    if (CurType() == Tok::kEof) return Fail(Cur().begin, "missing '}'");
    for (;;) {
      if (!InDictKey(CurType())) {
        const Token& t = Cur();
        if (t.type == Tok::kQuoted) return Fail(t.begin, "a dict key cannot be quoted; escape special characters with '\\' instead");
        if (t.type == Tok::kInterpolation) return Fail(t.begin, "a dict key cannot be an interpolation");
        if (t.type == Tok::kColon) return Fail(t.core, "missing dict key before ':'");
        if (t.type == Tok::kEof) return Fail(t.begin, "missing '}'");
        return FailAt(t, "expected a dict key");
      }
      size_t key_start = Cur().begin;
      PElem key;
      if (!ParsePrimitive(true, &key)) return false;
      if (CurType() != Tok::kColon) {
        if (CurType() == Tok::kInterpolation) return Fail(Cur().begin, "a dict key cannot contain an interpolation");
        if (CurType() == Tok::kError) return FailLexer(Cur());
        return Fail(CurType() == Tok::kEof ? Cur().begin : Cur().core,
                    "missing ':' after the dict key '" +
                        PrintableText(s_.substr(key_start, Cur().begin - key_start)) + "'");
      }
      p_++;
      PElem value;
      if (!ParseElement(&value)) return false;
      DictSet(out, std::move(key), std::move(value));
      if (CurType() != Tok::kComma) break;
      p_++;
    }
    return Expect(Tok::kBraceClose, "}");
  }

  // function: ID POPEN (argName? element (COMMA argName? element)*)? PCLOSE
  // argName: ID EQUAL
  bool ParseFunction(PElem* out) {
    size_t off = Cur().begin;
    std::string name(Text(Cur()));
    p_ += 2;
    std::vector<Arg> args;
    bool in_kwargs = false;
    if (CurType() == Tok::kPclose) {
      p_++;
    } else {
      for (;;) {
        Arg a;
        size_t arg_off = Cur().core;
        if (CurType() == Tok::kId && Next().type == Tok::kEqual) {
          a.name = std::string(Text(Cur()));
          in_kwargs = true;
          p_ += 2;
        } else if (in_kwargs) {
          if (!ParseElement(&a.value)) return false;
          return Fail(arg_off, "a positional argument cannot follow a keyword argument");
        }
        if (!ParseElement(&a.value)) return false;
        // Hydra keeps the last of repeated keyword arguments.
        bool replaced = false;
        if (!a.name.empty()) {
          for (Arg& prev : args) {
            if (prev.name == a.name) {
              prev.value = std::move(a.value);
              replaced = true;
            }
          }
        }
        if (!replaced) args.push_back(std::move(a));
        if (CurType() == Tok::kComma) {
          p_++;
          continue;
        }
        if (!Expect(Tok::kPclose, ")")) return false;
        break;
      }
    }
    std::string err;
    if (!CallFunction(name, std::move(args), out, &err)) {
      if (err.starts_with("unknown function")) return Fail(off, err);
      return Fail(off, name + "(): " + err);
    }
    out->offset = off;
    return true;
  }

  // The public Value of the whole parse; sweeps nested in values are refused.
  bool MakeValue(PElem v, Override* o) {
    auto check_plain = [&](const PElem& e, const char* where) {
      const PElem* n = NestedSweep(e);
      if (!n) return true;
      const char* what = n->t == PElem::kGlob ? "a glob()" : n->t == PElem::kRange ? "a range()" :
                         n->t == PElem::kInterval ? "an interval()" : "a choice";
      return Fail(n->offset, std::string(what) + " cannot be " + where +
                                 ": only a whole value can be a sweep");
    };
    Value value;
    switch (v.t) {
      case PElem::kChoice: {
        ChoiceSweep c;
        for (const PElem& x : v.items) {
          if (!check_plain(x, "one of the values of a sweep")) return false;
          c.items.push_back({ToNode(x), HydraText(x)});
        }
        c.simple_form = v.simple;
        c.shuffle = v.shuffle;
        c.tags = v.tags;
        value.v = std::move(c);
        break;
      }
      case PElem::kRange:
        value.v = RangeSweep{ToNode(v.items[0]), ToNode(v.items[1]), ToNode(v.items[2]), v.shuffle, v.tags};
        break;
      case PElem::kInterval:
        value.v = IntervalSweep{ToNode(v.items[0]), ToNode(v.items[1]), v.tags};
        break;
      case PElem::kGlob: {
        GlobSweep g;
        std::string err;
        if (!GlobPatterns(v.items[0], &g.include, &err) || !GlobPatterns(v.items[1], &g.exclude, &err))
          return Fail(v.offset, err);
        value.v = std::move(g);
        break;
      }
      default:
        if (!check_plain(v, "inside a list or a dict")) return false;
        value.v = Element{ToNode(v), HydraText(v)};
    }
    o->value = std::move(value);
    return true;
  }

  static constexpr int kMaxDepth = 200;

  std::string_view s_;
  std::vector<Token> toks_;
  size_t p_ = 0;
  int depth_ = 0;
  bool lex_error_in_value_ = false;
  size_t err_off_ = 0;
  std::string err_;
};

// ---- writing values back ------------------------------------------------------------

// Whether `text` (an escaped unquoted string) parses back as that string: only
// primitive tokens, and not one INT/FLOAT/BOOL/NULL token on its own.
bool ReadsBackAsString(std::string_view text, bool dict_key) {
  std::string with_key = "x=" + std::string(text);
  bool value_mode_error = false;
  std::vector<Token> toks = Lex(with_key, &value_mode_error);
  // toks: ID "x", EQUAL, ..., EOF
  if (toks.size() < 4 || toks.back().type != Tok::kEof) return false;
  for (size_t k = 2; k + 1 < toks.size(); k++)
    if (!(dict_key ? InDictKey(toks[k].type) : InPrimitive(toks[k].type)) || toks[k].type == Tok::kWs)
      return false;
  if (toks.size() == 4) {
    Tok t = toks[2].type;
    if (t == Tok::kInt || t == Tok::kFloat || t == Tok::kBool || t == Tok::kNull) return false;
  }
  return true;
}

std::string ExactString(const std::string& s) {
  std::string esc = EscapeSpecial(s);
  if (!s.empty() && ReadsBackAsString(esc, false)) return esc;
  return WithQuotes(s, '\'');
}

// Dict keys come from the parse, where they are typed ("1", "true", "1.5" are
// an int, a bool, a float); their escaped text reads back to the same key.
std::string ExactKey(const std::string& k) { return EscapeSpecial(k); }

std::string ExactText(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kBool: return n.as_bool() ? "true" : "false";
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat: return PythonFloatRepr(n.as_float());
    case Node::Kind::kString: return ExactString(n.as_string());
    case Node::Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < n.items().size(); k++) {
        if (k) out += ',';
        out += ExactText(n.items()[k]);
      }
      return out + "]";
    }
    case Node::Kind::kMap: {
      std::string out = "{";
      for (size_t k = 0; k < n.entries().size(); k++) {
        if (k) out += ',';
        out += ExactKey(n.entries()[k].first) + ":" + ExactText(n.entries()[k].second);
      }
      return out + "}";
    }
  }
  return "";
}

std::string ItemText(const Element& e, Style style) {
  return style == Style::kHydra ? e.text : ExactText(e.node);
}

std::string NumberText(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kBool: return n.as_bool() ? "True" : "False";
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat: return PythonFloatRepr(n.as_float());
    default: return "null";
  }
}

std::string WithTags(const std::vector<std::string>& tags, std::string sweep) {
  if (tags.empty()) return sweep;
  std::string out = "tag(";
  for (const std::string& t : tags) out += ExactString(t) + ",";
  return out + sweep + ")";
}

std::string ChoiceText(const ChoiceSweep& c, Style style) {
  std::string body;
  for (size_t k = 0; k < c.items.size(); k++) {
    if (k) body += ',';
    body += ItemText(c.items[k], style);
  }
  std::string s;
  if (c.items.empty()) {
    // Only functions make an empty choice: shuffle() and what wraps it.
    s = c.simple_form ? (c.shuffle ? "shuffle()" : "str(shuffle())")
                      : (c.shuffle ? "choice(shuffle())" : "str(choice(shuffle()))");
  } else if (!c.simple_form) {
    s = "choice(" + body + ")";
    if (c.shuffle) s = "shuffle(" + s + ")";
  } else if (c.shuffle) {
    s = "shuffle(" + body + ")";
  } else if (c.tags.empty()) {
    s = body;
  } else {
    // tag() needs one function call for the sweep; a simple form with tags
    // comes from a cast (all items one type) or from sort().
    Node::Kind kind = c.items[0].node.kind();
    bool same = std::all_of(c.items.begin(), c.items.end(),
                            [&](const Element& e) { return e.node.kind() == kind; });
    const char* cast = !same ? nullptr
                       : kind == Node::Kind::kInt ? "int"
                       : kind == Node::Kind::kFloat ? "float"
                       : kind == Node::Kind::kBool ? "bool"
                       : kind == Node::Kind::kString ? "str" : nullptr;
    if (cast) {
      s = std::string(cast) + "(" + body + ")";
    } else {
      bool descending = false;
      for (size_t k = 1; k < c.items.size(); k++) {
        auto num = [](const Node& n) -> long double {
          return n.kind() == Node::Kind::kBool ? n.as_bool()
                 : n.kind() == Node::Kind::kInt ? static_cast<long double>(n.as_int()) : n.as_float();
        };
        if (num(c.items[k].node) < num(c.items[k - 1].node)) descending = true;
      }
      s = "sort(" + body + (descending ? ",reverse=true)" : ")");
    }
  }
  return WithTags(c.tags, s);
}

}  // namespace

bool Override::is_hydra_override() const {
  return key.starts_with("hydra.") || key.starts_with("hydra/");
}

std::string Override::KeyElement() const {
  std::string out = op == Op::kDelete ? "~" : op == Op::kAdd ? "+" : op == Op::kForceAdd ? "++" : "";
  out += key;
  if (package) out += "@" + *package;
  return out;
}

Result<Override> ParseOverride(std::string_view text) { return Parser(text).Run(); }

Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& texts) {
  std::vector<Override> out;
  for (const std::string& t : texts) {
    ASSIGN_OR_RETURN(Override o, ParseOverride(t));
    out.push_back(std::move(o));
  }
  return out;
}

std::string FormatValue(const Value& value, Style style) {
  if (const auto* e = std::get_if<Element>(&value.v)) {
    if (style == Style::kHydra) return e->text;
    // At the top, an empty string needs no quotes ("key=" is "").
    if (e->node.is_string() && e->node.as_string().empty()) return "";
    return ExactText(e->node);
  }
  if (const auto* c = std::get_if<ChoiceSweep>(&value.v)) return ChoiceText(*c, style);
  if (const auto* r = std::get_if<RangeSweep>(&value.v)) {
    std::string s = "range(" + NumberText(r->start) + "," + NumberText(r->stop) + "," + NumberText(r->step) + ")";
    if (r->shuffle) s = "shuffle(" + s + ")";
    return WithTags(r->tags, s);
  }
  if (const auto* iv = std::get_if<IntervalSweep>(&value.v)) {
    std::string s = "interval(" + NumberText(iv->start) + "," + NumberText(iv->end) + ")";
    if (iv->start.kind() == Node::Kind::kInt) s = "int(" + s + ")";
    return WithTags(iv->tags, s);
  }
  const auto& g = std::get<GlobSweep>(value.v);
  auto list = [](const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t k = 0; k < v.size(); k++) out += (k ? "," : "") + ExactString(v[k]);
    return out + "]";
  };
  return "glob(" + list(g.include) + "," + list(g.exclude) + ")";
}

std::string FormatOverride(const Override& o, Style style) {
  std::string out = o.KeyElement();
  if (o.value) out += "=" + FormatValue(*o.value, style);
  return out;
}

// ---- canonical JSON ---------------------------------------------------------------------

namespace {


void JsonNode(const Node& n, std::string* out) {
  switch (n.kind()) {
    case Node::Kind::kNull: *out += "null"; break;
    case Node::Kind::kBool: *out += n.as_bool() ? "true" : "false"; break;
    case Node::Kind::kInt: *out += std::to_string(n.as_int()); break;
    case Node::Kind::kFloat: *out += "{\"float\":\"" + PythonFloatRepr(n.as_float()) + "\"}"; break;
    case Node::Kind::kString: AppendJsonString(n.as_string(), out); break;
    case Node::Kind::kList:
      *out += '[';
      for (size_t k = 0; k < n.items().size(); k++) {
        if (k) *out += ',';
        JsonNode(n.items()[k], out);
      }
      *out += ']';
      break;
    case Node::Kind::kMap:
      *out += "{\"dict\":[";
      for (size_t k = 0; k < n.entries().size(); k++) {
        if (k) *out += ',';
        *out += '[';
        AppendJsonString(n.entries()[k].first, out);
        *out += ',';
        JsonNode(n.entries()[k].second, out);
        *out += ']';
      }
      *out += "]}";
      break;
  }
}

void JsonElement(const Element& e, bool with_text, std::string* out) {
  *out += "{\"elem\":";
  JsonNode(e.node, out);
  if (with_text) {
    *out += ",\"str\":";
    AppendJsonString(e.text, out);
  }
  *out += '}';
}

void JsonStrings(const std::vector<std::string>& v, std::string* out) {
  *out += '[';
  for (size_t k = 0; k < v.size(); k++) {
    if (k) *out += ',';
    AppendJsonString(v[k], out);
  }
  *out += ']';
}

void JsonValue(const Value& value, bool with_text, std::string* out) {
  if (const auto* e = std::get_if<Element>(&value.v)) {
    JsonElement(*e, with_text, out);
  } else if (const auto* c = std::get_if<ChoiceSweep>(&value.v)) {
    *out += "{\"choice\":[";
    for (size_t k = 0; k < c->items.size(); k++) {
      if (k) *out += ',';
      JsonElement(c->items[k], with_text, out);
    }
    *out += std::string("],\"shuffle\":") + (c->shuffle ? "true" : "false") +
            ",\"simple\":" + (c->simple_form ? "true" : "false") + ",\"tags\":";
    JsonStrings(c->tags, out);
    *out += '}';
  } else if (const auto* r = std::get_if<RangeSweep>(&value.v)) {
    *out += "{\"range\":[";
    JsonNode(r->start, out);
    *out += ',';
    JsonNode(r->stop, out);
    *out += ',';
    JsonNode(r->step, out);
    *out += std::string("],\"shuffle\":") + (r->shuffle ? "true" : "false") + ",\"tags\":";
    JsonStrings(r->tags, out);
    *out += '}';
  } else if (const auto* iv = std::get_if<IntervalSweep>(&value.v)) {
    *out += "{\"interval\":[";
    JsonNode(iv->start, out);
    *out += ',';
    JsonNode(iv->end, out);
    *out += "],\"tags\":";
    JsonStrings(iv->tags, out);
    *out += '}';
  } else {
    const auto& g = std::get<GlobSweep>(value.v);
    *out += "{\"glob\":{\"exclude\":";
    JsonStrings(g.exclude, out);
    *out += ",\"include\":";
    JsonStrings(g.include, out);
    *out += "}}";
  }
}

}  // namespace

std::string OverrideToJson(const Override& o, bool with_text) {
  static const char* kOps[] = {"change", "add", "force_add", "delete"};
  std::string out = "{\"key\":";
  AppendJsonString(o.key, &out);
  out += ",\"op\":\"" + std::string(kOps[static_cast<int>(o.op)]) + "\",\"package\":";
  if (o.package) AppendJsonString(*o.package, &out);
  else out += "null";
  if (o.value) {
    out += ",\"value\":";
    JsonValue(*o.value, with_text, &out);
  }
  return out + "}";
}

}  // namespace forja::config
