// The value tokens that Hydra's override lexer (hydra/grammar/OverrideLexer.g4)
// and OmegaConf's interpolation lexer (omegaconf/grammar/OmegaConfGrammarLexer.g4,
// value mode) define alike: FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID and ESC.
// Each *Len function gives the length of that token at s[i], 0 when there is
// none. Internal to config/: override_lexer.cc and interpolation_parser.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace forja::config::tokens {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The characters a backslash escapes outside quotes (ESC; Hydra's _ESC).
inline constexpr std::string_view kEscChars = "\\()[]{}:=, \t";
// UNQUOTED_CHAR: [/\-\\+.$%*@?|]
inline constexpr std::string_view kUnquotedChars = "/-\\+.$%*@?|";

// INT_UNSIGNED: '0' | [1-9] (('_')? DIGIT)*; returns its end, or npos.
size_t IntUnsignedEnd(std::string_view s, size_t i);
// FLOAT: [+-]? (POINT_FLOAT | EXPONENT_FLOAT | [Ii][Nn][Ff] | [Nn][Aa][Nn])
size_t FloatLen(std::string_view s, size_t i);
// INT: [+-]? INT_UNSIGNED
size_t IntLen(std::string_view s, size_t i);
// A keyword in any case (BOOL: true, false; NULL: null).
size_t WordLen(std::string_view s, size_t i, std::string_view word);
// ID: (CHAR|'_') (CHAR|DIGIT|'_'|'-')*
size_t IdLen(std::string_view s, size_t i);
// ESC: ('\\\\' | '\\(' | '\\)' | ... | '\\ ' | '\\\t')+
size_t EscLen(std::string_view s, size_t i);
// The text an ESC token stands for: its escaped characters, backslashes dropped.
std::string EscText(std::string_view esc);

// Appends c to a message as itself, or as \xNN when it is a control character
// (both grammars quote the user's text back in their errors).
void AppendPrintable(unsigned char c, std::string* out);

}  // namespace forja::config::tokens
