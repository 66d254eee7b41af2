// Hydra's override lexer (hydra/grammar/OverrideLexer.g4), by hand, and the
// escaping rules of its tokens: ESC outside quotes (EscapeSpecial) and
// QUOTED_VALUE (WithQuotes, UnescapeQuoted). It has Hydra's two modes: before
// the first '=' it reads a key (names, dotted paths, '/', '@', '~', '+'); after
// it, a value. In each mode it takes the longest token any rule matches at the
// position, and on a tie the rule listed first, as ANTLR does. So "true" is a
// BOOL, "trueish" an ID, " , " one COMMA (the blanks belong to it), "1.5.2"
// FLOAT "1.5" then FLOAT ".2".
//
// Internal to config/: the override parser (override.cc), Hydra's texts of
// values (override_values.cc) and the writer (override_format.cc) use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forja::config::hydra {

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

// All tokens up to the end (kEof) or up to the first character no rule matches
// (kError at it). The first '=' in key mode switches to value mode;
// *value_mode_at_error says which mode the kError was met in.
std::vector<Token> Lex(std::string_view s, bool* value_mode_at_error);

// The tokens a primitive is made of (OverrideParser.g4's primitive), and those
// of a dict key (dictKey: no ':' and no interpolation).
bool InPrimitive(Tok t);
bool InDictKey(Tok t);

// The length of the blanks (' ', '\t') at s[i].
size_t WsLen(std::string_view s, size_t i);

// hydra._internal.grammar.utils.escape_special_characters: a backslash before
// each character ESC escapes.
std::string EscapeSpecial(std::string_view s);

// QuotedString.with_quotes(): the text between quote characters `q`, with each
// run of backslashes before a quote (or before the end) doubled, and quotes
// escaped.
std::string WithQuotes(std::string_view text, char q);

// HydraOverrideVisitor._unescape_quoted_string: `tok` is the QUOTED_VALUE with
// its quotes. Only backslashes before a quote are escapes.
std::string UnescapeQuoted(std::string_view tok);

}  // namespace forja::config::hydra
