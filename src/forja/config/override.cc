// Hydra 1.3's override grammar (hydra/grammar/OverrideLexer.g4 and
// OverrideParser.g4), by hand:
//
//  - The lexer has Hydra's two modes, key and value, and takes the longest
//    token at each position as ANTLR does (override_lexer.{h,cc}).
//  - The parser, here, is recursive descent over those tokens, one function per
//    grammar rule; it accepts exactly the strings Hydra's grammar accepts.
//  - Values are built as Hydra's visitor builds them (a primitive of several
//    tokens is their text joined, escapes undone; quoted strings keep their
//    quotes until a function unquotes them), with Python's value semantics
//    (override_values.{h,cc}), and grammar functions run with Hydra's argument
//    binding, type checks and semantics (grammar_functions.{h,cc}).
//  - Writing overrides back and their canonical JSON: override_format.cc.
//
// Differences from Hydra are deliberate and listed in tests/config/overrides.md.
#include "forja/config/override.h"

#include <algorithm>
#include <string>

#include "forja/config/grammar_functions.h"
#include "forja/config/grammar_tokens.h"
#include "forja/config/override_lexer.h"
#include "forja/config/override_values.h"
#include "forja/config/py_values.h"
#include "forja/core/strings.h"
#include "forja/core/utf8.h"

namespace forja::config {

std::string PrintableText(std::string_view s) {
  std::string out;
  for (unsigned char c : s) tokens::AppendPrintable(c, &out);
  return out;
}

namespace hydra {
namespace {

// 1-based column of byte offset `off`, counting UTF-8 characters.
size_t ColumnOf(std::string_view s, size_t off) {
  size_t col = 1;
  for (size_t i = 0; i < off && i < s.size(); i++)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) col++;
  return col;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Override> Run() {
    Override o;
    o.input = std::string(s_);
    if (size_t bad = FindInvalidUtf8(s_); bad != std::string_view::npos)
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
      if (tokens::IsDigit(c)) {
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
        s += toks_[k].type == Tok::kEsc ? tokens::EscText(x) : std::string(x);
      }
      *out = PElem::Str(std::move(s));
      return true;
    }
    const Token& t = toks_[first];
    std::string_view x = Text(t);
    switch (t.type) {
      case Tok::kInt: {
        int64_t v;
        if (PyIntFromString(x, &v) != PyIntParse::kOk)  // an INT token can only be too big
          return Fail(t.begin, "integer " + std::string(x) + " does not fit in 64 bits; quote it to keep it as a string");
        *out = PElem::Int(v);
        return true;
      }
      case Tok::kFloat: {
        double f = 0;
        PyFloatFromString(x, &f);  // a FLOAT token is always a float literal
        *out = PElem::Float(f);
        return true;
      }
      case Tok::kNull: *out = PElem::Null(); return true;
      case Tok::kBool: *out = PElem::Bool(EqualsNoCase(x, "true")); return true;
      case Tok::kEsc: *out = PElem::Str(tokens::EscText(x)); return true;
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

}  // namespace
}  // namespace hydra

bool Override::is_hydra_override() const {
  return key.starts_with("hydra.") || key.starts_with("hydra/");
}

std::string Override::KeyElement() const {
  std::string out = op == Op::kDelete ? "~" : op == Op::kAdd ? "+" : op == Op::kForceAdd ? "++" : "";
  out += key;
  if (package) out += "@" + *package;
  return out;
}

Result<Override> ParseOverride(std::string_view text) { return hydra::Parser(text).Run(); }

Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& texts) {
  std::vector<Override> out;
  for (const std::string& t : texts) {
    ASSIGN_OR_RETURN(Override o, ParseOverride(t));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace forja::config
