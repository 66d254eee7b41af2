// OmegaConf's interpolation grammar (omegaconf/grammar/OmegaConfGrammarLexer.g4
// and OmegaConfGrammarParser.g4), parsed by hand into a tree the resolver
// (interpolation.cc) evaluates: text with interpolations ("${a.b}",
// "${oc.env:HOME}/x"), keys made of pieces (which may be interpolations
// themselves), and resolver arguments typed as OmegaConf types them (null, bool,
// int, float, quoted and unquoted strings, lists, dicts). Internal to config/.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forja/config/node.h"

namespace forja::config::omegaconf {

struct Interp;

// Literal text (already unescaped) or an interpolation.
struct Seg {
  std::string lit;
  std::unique_ptr<Interp> interp;
};
using Text = std::vector<Seg>;

// A resolver argument, a list item or a dict value (the grammar's `element`).
struct Elem {
  enum class Kind {
    kEmpty,   // a missing item in "a,,b": the empty string
    kConst,   // one typed token: null, bool, int, float or a plain string
    kSingle,  // exactly one interpolation: its value, type kept
    kText,    // several tokens: their concatenation, a string
    kQuoted,  // a quoted string (interpolations inside are converted to str)
    kList,
    kDict,
  };
  Kind kind = Kind::kEmpty;
  Node value;                                        // kConst
  Text segs;                                         // kSingle, kText, kQuoted
  std::vector<Elem> items;       // kList; kDict: the values
  std::vector<std::string> keys;  // kDict: the keys as str() gives them (repeats kept:
                                  // every value is evaluated, the last one wins)
};

// One piece of a node path ("a", ".", "[", ...) or of a resolver name.
struct KeyPart {
  std::string lit;
  std::unique_ptr<Interp> interp;
};

struct Interp {
  bool resolver = false;
  // Node interpolation: the pieces whose concatenation is the key ("..a[0].b").
  std::vector<KeyPart> key;
  bool key_static = false;  // no nested interpolation: key_text is the key
  std::string key_text;
  // Resolver: the name's dotted parts, and the arguments.
  std::vector<KeyPart> name;
  std::vector<Elem> args;
  std::string src;  // "${...}" as written
};

// Why a text does not parse: what is wrong, and where (a 1-based column).
struct SyntaxError {
  size_t column = 0;
  std::string what;
};

// The grammar's configValue: text with interpolations, as a config value holds it.
bool ParseConfigValue(std::string_view s, Text* out, SyntaxError* err);

// The grammar's singleElement, lexed in value mode (what oc.decode parses).
bool ParseSingleElement(std::string_view s, Elem* out, SyntaxError* err);

// The message of a value that does not parse:
//   malformed interpolation at <where>, column <n> of "<text>": <what>
std::string MalformedMessage(std::string_view where, std::string_view text, const SyntaxError& err);

// A piece of text shown in a message: control characters escaped, long text cut.
std::string Show(std::string_view s);

}  // namespace forja::config::omegaconf
