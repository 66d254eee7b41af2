// Hydra's override lexer and the escaping rules of its tokens (see override_lexer.h).
#include "forja/config/override_lexer.h"

#include <algorithm>

#include "forja/config/grammar_tokens.h"

namespace forja::config::hydra {

std::string EscapeSpecial(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (tokens::kEscChars.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

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

size_t WsLen(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) j++;
  return j - i;
}

namespace {

using tokens::IsAlpha;
using tokens::IsDigit;
using tokens::IdLen;
using tokens::IntUnsignedEnd;

// KEY_SPECIAL: (CHAR|'_'|'$') (CHAR|DIGIT|'_'|'-'|'$')*
size_t KeySpecialLen(std::string_view s, size_t i) {
  if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_' || s[i] == '$')) return 0;
  size_t j = i + 1;
  while (j < s.size() &&
         (IsAlpha(s[j]) || IsDigit(s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '$'))
    j++;
  return j - i;
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
      {Tok::kFloat, tokens::FloatLen(s, i)},
      {Tok::kInt, tokens::IntLen(s, i)},
      {Tok::kBool, std::max(tokens::WordLen(s, i, "true"), tokens::WordLen(s, i, "false"))},
      {Tok::kNull, tokens::WordLen(s, i, "null")},
      {Tok::kUnquotedChar, tokens::kUnquotedChars.find(s[i]) != std::string_view::npos ? 1u : 0u},
      {Tok::kId, IdLen(s, i)},
      {Tok::kEsc, tokens::EscLen(s, i)},
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

}  // namespace

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

}  // namespace forja::config::hydra
