#include "forja/config/interpolation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "forja/config/py_values.h"
#include "forja/core/log.h"

namespace forja::config {
namespace {

// How deep "${" / "[" / "{" may nest in one string, and how long a chain of
// interpolations (a -> b -> c ...) may be. Both far beyond real configs; they
// keep hostile input from exhausting the stack.
constexpr int kMaxNesting = 64;
constexpr int kMaxChain = 200;

// A piece of text shown in a message: control characters escaped, long text cut.
std::string Show(std::string_view s) {
  std::string out;
  size_t n = 0;
  for (unsigned char c : s) {
    if (++n > 160 && (c & 0xc0) != 0x80) {  // cut at a character boundary
      out += "...";
      break;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWs(char c) { return c == ' ' || c == '\t'; }

// ===================================================================================
// Parse tree
// ===================================================================================

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

// ===================================================================================
// Parser: OmegaConf's lexer modes (top level, interpolation, value, quoted) as a
// hand-written recursive descent. Positions in messages are 1-based columns.
// ===================================================================================

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  // The grammar's `configValue`: top-level text with interpolations.
  bool ParseTop(Text* out) {
    std::string lit;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '$' && At(i_ + 1, '{')) {
        Flush(&lit, out);
        auto in = std::make_unique<Interp>();
        if (!ParseInterp(in.get())) return false;
        out->push_back(Seg{"", std::move(in)});
        continue;
      }
      if (c == '\\') {
        BackslashRun(0, &lit);
        continue;
      }
      lit += c;
      i_++;
    }
    Flush(&lit, out);
    return true;
  }

  // The grammar's `singleElement`, lexed in value mode (what oc.decode parses).
  bool ParseSingleElement(Elem* out) {
    if (!ParseElement(out)) return false;
    if (i_ < s_.size()) return Fail(i_, "unexpected " + Quote(i_) + " after the value");
    return true;
  }

  const std::string& error() const { return err_; }
  size_t error_column() const { return err_pos_ + 1; }

 private:
  bool At(size_t i, char c) const { return i < s_.size() && s_[i] == c; }

  std::string Quote(size_t i) const {
    if (i >= s_.size()) return "end of text";
    return "'" + Show(s_.substr(i, 1)) + "'";
  }

  bool Fail(size_t pos, std::string msg) {
    if (err_.empty()) {
      err_ = std::move(msg);
      err_pos_ = pos;
    }
    return false;
  }

  static void Flush(std::string* lit, Text* out) {
    if (lit->empty()) return;
    if (!out->empty() && !out->back().interp) out->back().lit += *lit;
    else out->push_back(Seg{std::move(*lit), nullptr});
    lit->clear();
  }

  void SkipWs() {
    while (i_ < s_.size() && IsWs(s_[i_])) i_++;
  }

  // A run of backslashes at i_, at top level (quote == 0) or in a quoted string.
  // Only a run right before "${" (or before the closing quote) is an escape:
  // an odd run escapes the "${" (or the quote) and halves the rest; an even run
  // before "${" (or before the closing quote) is halved. Any other run is literal.
  void BackslashRun(char quote, std::string* lit) {
    size_t j = i_;
    while (j < s_.size() && s_[j] == '\\') j++;
    size_t k = j - i_;
    if (At(j, '$') && At(j + 1, '{')) {
      if (k % 2 == 1) {
        lit->append((k - 1) / 2, '\\');
        *lit += "${";
        i_ = j + 2;
      } else {
        lit->append(k / 2, '\\');
        i_ = j;
      }
    } else if (quote && At(j, quote)) {
      if (k % 2 == 1) {
        lit->append((k - 1) / 2, '\\');
        *lit += quote;
        i_ = j + 1;
      } else {
        lit->append(k / 2, '\\');
        i_ = j;
      }
    } else {
      lit->append(k, '\\');
      i_ = j;
    }
  }

  // ---- interpolation mode ----------------------------------------------------------

  struct Tok {
    enum T { kDot, kOpen, kClose, kId, kKey, kInterp } t;
    std::string text;
    std::unique_ptr<Interp> in;
    size_t pos;
  };

  static bool IsKeyChar(char c) {
    switch (c) {
      case '\\': case '{': case '}': case '(': case ')': case '[': case ']':
      case ':': case '.': case ' ': case '\t': case '\'': case '"':
        return false;
      default:
        return true;
    }
  }

  // At "${": parses one interpolation up to and including its closing brace.
  bool ParseInterp(Interp* out) {
    size_t start = i_;
    if (++depth_ > kMaxNesting) return Fail(i_, "interpolations nested too deeply");
    i_ += 2;
    SkipWs();
    std::vector<Tok> toks;
    bool resolver = false;
    while (true) {
      if (i_ >= s_.size())
        return Fail(i_, "missing '}' to close the '${' at column " + std::to_string(start + 1));
      char c = s_[i_];
      size_t pos = i_;
      if (c == '$' && At(i_ + 1, '{')) {
        auto in = std::make_unique<Interp>();
        if (!ParseInterp(in.get())) return false;
        toks.push_back(Tok{Tok::kInterp, "", std::move(in), pos});
        continue;
      }
      if (IsWs(c)) {
        SkipWs();
        if (At(i_, '}') || At(i_, ':')) continue;
        return Fail(pos, "unexpected space inside '${...}'");
      }
      if (c == '}') {
        i_++;
        break;
      }
      if (c == ':') {
        i_++;
        SkipWs();
        resolver = true;
        break;
      }
      if (c == '.' || c == '[' || c == ']') {
        toks.push_back(Tok{c == '.' ? Tok::kDot : c == '[' ? Tok::kOpen : Tok::kClose,
                           std::string(1, c), nullptr, pos});
        i_++;
        continue;
      }
      if (IsKeyChar(c)) {
        size_t j = i_;
        while (j < s_.size() && IsKeyChar(s_[j])) j++;
        size_t id = i_;
        if (IsAlpha(s_[id]) || s_[id] == '_') {
          id++;
          while (id < j && (IsAlpha(s_[id]) || IsDigit(s_[id]) || s_[id] == '_' || s_[id] == '-')) id++;
        }
        toks.push_back(Tok{id == j ? Tok::kId : Tok::kKey, std::string(s_.substr(i_, j - i_)),
                           nullptr, pos});
        i_ = j;
        continue;
      }
      return Fail(pos, "unexpected " + Quote(pos) + " inside '${...}'");
    }
    if (resolver) {
      // resolverName: (interpolation | ID) (DOT (interpolation | ID))*
      if (toks.empty()) return Fail(i_ - 1, "missing resolver name before ':'");
      for (size_t t = 0; t < toks.size(); t++) {
        bool want_name = t % 2 == 0;
        Tok& tok = toks[t];
        if (want_name && (tok.t == Tok::kId || tok.t == Tok::kInterp)) {
          out->name.push_back(KeyPart{std::move(tok.text), std::move(tok.in)});
        } else if (!want_name && tok.t == Tok::kDot) {
          continue;
        } else {
          return Fail(tok.pos, "bad resolver name: unexpected " + Quote(tok.pos));
        }
      }
      if (toks.back().t == Tok::kDot) return Fail(toks.back().pos, "resolver name ends with '.'");
      out->resolver = true;
      if (!ParseSequence(&out->args, '}')) return false;
    } else {
      // DOT* (key | '[' key ']') (DOT key | '[' key ']')*
      size_t t = 0;
      auto is_key = [&](size_t k) {
        return k < toks.size() &&
               (toks[k].t == Tok::kId || toks[k].t == Tok::kKey || toks[k].t == Tok::kInterp);
      };
      auto bad = [&](size_t k) {
        if (k < toks.size()) return Fail(toks[k].pos, "unexpected " + Quote(toks[k].pos) + " in the key");
        if (toks.empty()) return Fail(i_ - 1, "empty interpolation '${}'");
        Tok::T prev = toks.back().t;
        return Fail(i_ - 1, prev == Tok::kOpen  ? "missing a key after '['"
                            : prev == Tok::kDot ? "missing a key after '.'"
                                                : "missing ']'");
      };
      while (t < toks.size() && toks[t].t == Tok::kDot) t++;
      bool first = true;
      while (first || t < toks.size()) {
        if (!first && toks[t].t == Tok::kDot) {
          if (!is_key(t + 1)) return bad(t + 1);
          t += 2;
        } else if (first && is_key(t)) {
          t += 1;
        } else if (t < toks.size() && toks[t].t == Tok::kOpen) {
          if (!is_key(t + 1)) return bad(t + 1);
          if (t + 2 >= toks.size() || toks[t + 2].t != Tok::kClose) return bad(t + 2);
          t += 3;
        } else {
          return bad(t);
        }
        first = false;
      }
      out->key_static = true;
      for (Tok& tok : toks) {
        if (tok.t == Tok::kInterp) out->key_static = false;
        else out->key_text += tok.text;
        out->key.push_back(KeyPart{std::move(tok.text), std::move(tok.in)});
      }
    }
    out->src = std::string(s_.substr(start, i_ - start));
    depth_--;
    return true;
  }

  // ---- value mode ------------------------------------------------------------------

  // Whether a (possibly space-led) ',' or `close` starts at i_.
  bool AtSep(char c) const {
    size_t j = i_;
    while (j < s_.size() && IsWs(s_[j])) j++;
    return At(j, c);
  }
  void EatSep(char c) {  // WS? c WS?  (',' and ':' eat spaces after, closers do not)
    SkipWs();
    i_++;
    if (c == ',' || c == ':') SkipWs();
  }

  // sequence? then `close`: (element (',' element?)*) | (',' element?)+
  bool ParseSequence(std::vector<Elem>* out, char close) {
    if (AtSep(close)) {
      EatSep(close);
      return true;
    }
    while (true) {
      Elem e;
      if (!AtSep(',') && !AtSep(close)) {
        if (!ParseElement(&e)) return false;
      }
      out->push_back(std::move(e));
      if (AtSep(',')) {
        EatSep(',');
        continue;
      }
      if (AtSep(close)) {
        EatSep(close);
        return true;
      }
      if (i_ >= s_.size())
        return Fail(i_, std::string("missing '") + close + "' at the end");
      return Fail(i_, "unexpected " + Quote(i_) + std::string(", expected ',' or '") + close + "'");
    }
  }

  bool ParseElement(Elem* out) {
    if (i_ >= s_.size()) return Fail(i_, "missing a value at the end");
    if (++depth_ > kMaxNesting) return Fail(i_, "values nested too deeply");
    char c = s_[i_];
    bool ok;
    if (c == '[') {
      i_++;
      SkipWs();
      out->kind = Elem::Kind::kList;
      ok = ParseSequence(&out->items, ']');
    } else if (c == '{') {
      i_++;
      SkipWs();
      out->kind = Elem::Kind::kDict;
      ok = ParseDict(out);
    } else if (c == '\'' || c == '"') {
      i_++;
      out->kind = Elem::Kind::kQuoted;
      ok = ParseQuoted(&out->segs, c, i_ - 1);
    } else {
      ok = ParsePrimitive(out, false);
    }
    depth_--;
    return ok;
  }

  bool ParseDict(Elem* out) {
    if (At(i_, '}')) {
      i_++;
      return true;
    }
    while (true) {
      Elem key;
      size_t key_pos = i_;
      if (!ParsePrimitive(&key, true)) return false;
      if (!AtSep(':')) {
        if (i_ >= s_.size()) return Fail(i_, "missing ':' after a dict key");
        return Fail(i_, "unexpected " + Quote(i_) + " in a dict key, expected ':'");
      }
      EatSep(':');
      if (AtSep(',') || AtSep('}') || i_ >= s_.size())
        return Fail(i_, "missing the value of a dict key");
      Elem value;
      if (!ParseElement(&value)) return false;
      std::string k;
      if (key.kind == Elem::Kind::kConst) k = ScalarToString(key.value);
      else if (key.kind == Elem::Kind::kText && key.segs.size() == 1) k = key.segs[0].lit;
      else return Fail(key_pos, "bad dict key");
      out->keys.push_back(std::move(k));
      out->items.push_back(std::move(value));
      if (AtSep(',')) {
        EatSep(',');
        continue;
      }
      if (AtSep('}')) {
        EatSep('}');
        return true;
      }
      if (i_ >= s_.size()) return Fail(i_, "missing '}' at the end");
      return Fail(i_, "unexpected " + Quote(i_) + ", expected ',' or '}'");
    }
  }

  // A quoted string; i_ is after the opening quote.
  bool ParseQuoted(Text* out, char quote, size_t open) {
    std::string lit;
    while (true) {
      if (i_ >= s_.size())
        return Fail(open, std::string("unterminated string: missing the closing ") + quote);
      char c = s_[i_];
      if (c == quote) {
        i_++;
        break;
      }
      if (c == '$' && At(i_ + 1, '{')) {
        Flush(&lit, out);
        auto in = std::make_unique<Interp>();
        if (!ParseInterp(in.get())) return false;
        out->push_back(Seg{"", std::move(in)});
        continue;
      }
      if (c == '\\') {
        BackslashRun(quote, &lit);
        continue;
      }
      lit += c;
      i_++;
    }
    Flush(&lit, out);
    return true;
  }

  // Token kinds of value mode, in the lexer's priority order (ties go to the first).
  enum class VT { kFloat, kInt, kBool, kNull, kUnquoted, kId, kEsc, kNone };

  // [1-9] ('_'? DIGIT)*  |  '0'   -> end, or npos
  size_t IntUnsigned(size_t j) const {
    if (At(j, '0')) return j + 1;
    if (j < s_.size() && s_[j] >= '1' && s_[j] <= '9') return Digits(j);
    return std::string_view::npos;
  }
  // DIGIT ('_'? DIGIT)*  -> end, or npos
  size_t Digits(size_t j) const {
    if (j >= s_.size() || !IsDigit(s_[j])) return std::string_view::npos;
    j++;
    while (j < s_.size()) {
      if (IsDigit(s_[j])) j++;
      else if (s_[j] == '_' && j + 1 < s_.size() && IsDigit(s_[j + 1])) j += 2;
      else break;
    }
    return j;
  }
  bool NoCase(size_t j, std::string_view word) const {
    if (j + word.size() > s_.size()) return false;
    for (size_t k = 0; k < word.size(); k++) {
      char c = s_[j + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != word[k]) return false;
    }
    return true;
  }
  size_t FloatLen(size_t i) const {
    constexpr size_t npos = std::string_view::npos;
    size_t j = i;
    if (At(j, '+') || At(j, '-')) j++;
    size_t best = 0;
    if (NoCase(j, "inf") || NoCase(j, "nan")) best = j + 3 - i;
    size_t iu = IntUnsigned(j);
    size_t pf = npos;  // POINT_FLOAT
    if (iu != npos && At(iu, '.')) {
      pf = iu + 1;
      size_t d = Digits(pf);
      if (d != npos) pf = d;
    } else if (iu == npos && At(j, '.')) {
      pf = Digits(j + 1);
    }
    if (pf != npos) best = std::max(best, pf - i);
    for (size_t base : {pf, iu}) {  // EXPONENT_FLOAT
      if (base == npos || !(At(base, 'e') || At(base, 'E'))) continue;
      size_t k = base + 1;
      if (At(k, '+') || At(k, '-')) k++;
      size_t d = Digits(k);
      if (d != npos) best = std::max(best, d - i);
    }
    return best;
  }
  size_t IntLen(size_t i) const {
    size_t j = i;
    if (At(j, '+') || At(j, '-')) j++;
    size_t e = IntUnsigned(j);
    return e == std::string_view::npos ? 0 : e - i;
  }
  size_t IdLen(size_t i) const {
    if (i >= s_.size() || !(IsAlpha(s_[i]) || s_[i] == '_')) return 0;
    size_t j = i + 1;
    while (j < s_.size() && (IsAlpha(s_[j]) || IsDigit(s_[j]) || s_[j] == '_' || s_[j] == '-')) j++;
    return j - i;
  }
  size_t EscLen(size_t i) const {
    static constexpr std::string_view kEscapable = "\\()[]{}:=, \t";
    size_t j = i;
    while (j + 1 < s_.size() && s_[j] == '\\' && kEscapable.find(s_[j + 1]) != std::string_view::npos)
      j += 2;
    return j - i;
  }
  VT LexValue(size_t i, size_t* len) const {
    static constexpr std::string_view kUnquoted = "/-\\+.$%*@?|";
    size_t lens[7] = {
        FloatLen(i),
        IntLen(i),
        NoCase(i, "true") ? 4u : NoCase(i, "false") ? 5u : 0u,
        NoCase(i, "null") ? 4u : 0u,
        kUnquoted.find(s_[i]) != std::string_view::npos ? 1u : 0u,
        IdLen(i),
        EscLen(i),
    };
    size_t best = 0;
    VT kind = VT::kNone;
    for (int k = 0; k < 7; k++) {
      if (lens[k] > best) {
        best = lens[k];
        kind = static_cast<VT>(k);
      }
    }
    *len = best;
    return kind;
  }

  static std::string Unescape(std::string_view esc) {  // ESC: every second character
    std::string out;
    for (size_t k = 1; k < esc.size(); k += 2) out += esc[k];
    return out;
  }

  // A primitive (or, with dict_key, a dict key): tokens up to ',' / ':' / a closer.
  bool ParsePrimitive(Elem* out, bool dict_key) {
    struct PTok {
      VT t;  // kNone: whitespace, colon or interpolation (see in / raw)
      std::string text;
      std::unique_ptr<Interp> in;
    };
    std::vector<PTok> toks;
    size_t start = i_;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (IsWs(c) || c == ':') {
        size_t j = i_;
        while (j < s_.size() && IsWs(s_[j])) j++;
        if (At(j, ',') || At(j, '}') || At(j, ']')) break;
        if (At(j, ':')) {  // COLON (WS? ':' WS?), part of a primitive but ends a dict key
          if (dict_key) break;
          j++;
          while (j < s_.size() && IsWs(s_[j])) j++;
        }
        toks.push_back(PTok{VT::kNone, std::string(s_.substr(i_, j - i_)), nullptr});
        i_ = j;
        continue;
      }
      if (c == ',' || c == '}' || c == ']' || c == '[' || c == '{' || c == '\'' || c == '"') break;
      if (c == '$' && At(i_ + 1, '{')) {
        if (dict_key) return Fail(i_, "a dict key cannot hold an interpolation");
        auto in = std::make_unique<Interp>();
        if (!ParseInterp(in.get())) return false;
        toks.push_back(PTok{VT::kNone, "", std::move(in)});
        continue;
      }
      size_t len = 0;
      VT t = LexValue(i_, &len);
      if (t == VT::kNone) return Fail(i_, "unexpected " + Quote(i_) + " in a value");
      toks.push_back(PTok{t, std::string(s_.substr(i_, len)), nullptr});
      i_ += len;
    }
    if (toks.empty()) {
      if (i_ >= s_.size()) return Fail(i_, "missing a value at the end");
      return Fail(i_, "unexpected " + Quote(i_) + ", expected a value");
    }
    if (toks.size() == 1) {
      PTok& t = toks[0];
      if (t.in) {
        out->kind = Elem::Kind::kSingle;
        out->segs.push_back(Seg{"", std::move(t.in)});
        return true;
      }
      out->kind = Elem::Kind::kConst;
      switch (t.t) {
        case VT::kNull: out->value = Node::Null(); return true;
        case VT::kBool: out->value = Node::Bool(t.text.size() == 4); return true;
        case VT::kInt: {
          int64_t v = 0;
          if (PyIntFromString(t.text, &v) != PyIntParse::kOk)  // an INT token can only be too big
            return Fail(start, "integer " + t.text + " is out of range");
          out->value = Node::Int(v);
          return true;
        }
        case VT::kFloat: {
          double v = 0;
          PyFloatFromString(t.text, &v);  // a FLOAT token is always a float literal
          out->value = Node::Float(v);
          return true;
        }
        case VT::kEsc: out->value = Node::String(Unescape(t.text)); return true;
        case VT::kNone:
          if (t.text.find(':') == std::string::npos)
            return Fail(start, "unexpected space, expected a value");
          out->value = Node::String(t.text);
          return true;
        default: out->value = Node::String(t.text); return true;
      }
    }
    out->kind = Elem::Kind::kText;
    std::string lit;
    for (PTok& t : toks) {
      if (t.in) {
        Flush(&lit, &out->segs);
        out->segs.push_back(Seg{"", std::move(t.in)});
      } else {
        lit += t.t == VT::kEsc ? Unescape(t.text) : t.text;
      }
    }
    Flush(&lit, &out->segs);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  std::string err_;
  size_t err_pos_ = 0;
};

std::string MalformedMessage(std::string_view where, std::string_view text, const Parser& p) {
  return "malformed interpolation at " + std::string(where) + ", column " +
         std::to_string(p.error_column()) + " of \"" + Show(text) + "\": " + p.error();
}

// ===================================================================================
// Python's str() and repr() of values
// ===================================================================================

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

std::string PyRepr(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kString: return PyStrRepr(n.as_string());
    case Node::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < n.items().size(); i++) {
        if (i) out += ", ";
        out += PyRepr(n.items()[i]);
      }
      return out + "]";
    }
    case Node::Kind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < n.entries().size(); i++) {
        if (i) out += ", ";
        out += PyStrRepr(n.entries()[i].first) + ": " + PyRepr(n.entries()[i].second);
      }
      return out + "}";
    }
    default: return ScalarToString(n);
  }
}

std::string PyStr(const Node& n) { return n.is_string() ? n.as_string() : PyRepr(n); }

// A key used as a list index, read as OmegaConf reads it (Python's int()); an
// int too big for 64 bits is past the end of any list.
std::optional<int64_t> ListIndex(std::string_view s) {
  int64_t v = 0;
  switch (PyIntFromString(s, &v)) {
    case PyIntParse::kOk: return v;
    case PyIntParse::kTooBig: return INT64_MAX;
    case PyIntParse::kNotAnInt: break;
  }
  return std::nullopt;
}

// OmegaConf's split_key: "a.b[c].d" -> a, b, c, d (the key has no leading dots).
std::vector<std::string> SplitKey(std::string_view key) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < key.size() && key[i] == '.') i++;
  size_t head_start = 0;
  while (i < key.size() && key[i] != '.' && key[i] != '[') i++;
  // The head "(\.)*[^.[]*" split on dots.
  std::string_view head = key.substr(head_start, i);
  size_t p = 0;
  while (true) {
    size_t d = head.find('.', p);
    parts.emplace_back(head.substr(p, d == std::string_view::npos ? std::string_view::npos : d - p));
    if (d == std::string_view::npos) break;
    p = d + 1;
  }
  if (i == key.size()) return parts;
  if (key[i] == '[' && parts.back().empty()) parts.pop_back();
  // Then "\.([^.[]*)|\[(.*?)\]" found repeatedly.
  while (i < key.size()) {
    if (key[i] == '.') {
      size_t j = i + 1;
      while (j < key.size() && key[j] != '.' && key[j] != '[') j++;
      parts.emplace_back(key.substr(i + 1, j - i - 1));
      i = j;
    } else if (key[i] == '[') {
      size_t j = i + 1;
      while (j < key.size() && key[j] != ']' && key[j] != '\n') j++;
      if (j < key.size() && key[j] == ']') {
        parts.emplace_back(key.substr(i + 1, j - i - 1));
        i = j + 1;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return parts;
}

// Python's datetime.now().strftime(pattern) for a naive local time.
Result<std::string> PyStrftime(const std::string& pattern, std::chrono::system_clock::time_point tp) {
  if (pattern.find('\0') != std::string::npos) return Status::User("the pattern holds a NUL character");
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(tp);
  if (secs > tp) secs -= seconds(1);
  long micros = static_cast<long>(duration_cast<microseconds>(tp - secs).count());
  std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string fmt;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      char c = pattern[++i];
      if (c == 'f') {
        char b[32];
        std::snprintf(b, sizeof b, "%06ld", micros);
        fmt += b;
      } else if (c != 'z' && c != 'Z') {  // a naive time has no zone: both are empty
        fmt += '%';
        fmt += c;
      }
    } else {
      fmt += pattern[i];
    }
  }
  if (fmt.empty()) return std::string();
  for (size_t cap = 256; cap <= (1u << 20); cap *= 4) {
    std::string buf(cap, '\0');
    size_t n = std::strftime(buf.data(), cap, fmt.c_str(), &tm);
    if (n > 0) return buf.substr(0, n);
    if (cap > fmt.size() * 64) break;  // it must really be empty
  }
  return std::string();
}

// ===================================================================================
// Resolution
// ===================================================================================

// Where a node sits: the node, its key, and where its parent sits (shared, so
// that a child's place costs one small allocation, not a copy of the path).
struct Place {
  const Node* node;
  std::string key;
  std::shared_ptr<const Place> parent;
};

struct Loc {
  std::shared_ptr<const Place> p;

  static Loc Root(const Node* root) { return Loc{std::make_shared<const Place>(Place{root, "", nullptr})}; }
  const Node* node() const { return p->node; }
  bool is_root() const { return !p->parent; }
  Loc Child(const Node* n, std::string key) const {
    return Loc{std::make_shared<const Place>(Place{n, std::move(key), p})};
  }
  Loc Parent() const { return Loc{p->parent}; }
  // The same place holding another node (a resolver's new dict or list).
  Loc Holding(const Node* n) const { return Loc{std::make_shared<const Place>(Place{n, p->key, p->parent})}; }
  // Whether `n` is this node's parent, grandparent, ... or the root.
  bool InsideOf(const Node* n) const {
    for (const Place* q = p->parent.get(); q; q = q->parent.get())
      if (q->node == n) return true;
    return false;
  }
  std::string FullKey() const {
    if (is_root()) return "(root)";
    std::vector<const std::string*> keys;
    for (const Place* q = p.get(); q->parent; q = q->parent.get()) keys.push_back(&q->key);
    std::string out;
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
      if (!out.empty()) out += '.';
      out += **it;
    }
    return out;
  }
  // This place's key followed by more[from...]: "a.b" + {c, d} -> "a.b.c.d".
  std::string KeyWith(const std::vector<std::string>& more, size_t from) const {
    std::string out = is_root() ? "" : FullKey();
    for (size_t i = from; i < more.size(); i++) {
      if (!out.empty()) out += '.';
      out += more[i];
    }
    return out;
  }
};

// A resolved value: a reference to a dict or list of the tree (resolved only
// when it is materialized), or a plain value.
struct RV {
  bool is_ref = false;
  Loc ref;
  Node val;
  std::vector<std::string> via;  // the interpolations followed to reach `ref`

  static RV Ref(Loc l) {
    RV r;
    r.is_ref = true;
    r.ref = std::move(l);
    return r;
  }
  static RV Val(Node n) {
    RV r;
    r.val = std::move(n);
    return r;
  }
};

struct Memo {
  Status status;
  bool missing = false;
  RV rv;
};

std::string OverrideHint(const std::string& key) {
  return "set it with an override such as " + key + "=VALUE";
}

class Resolver {
 public:
  Resolver(const Node& root, const ResolveOptions& options) : root_(root), opts_(options) {
    now_ = options.now ? *options.now : std::chrono::system_clock::now();
  }

  Loc RootLoc() const { return Loc::Root(&root_); }

  // A fully resolved copy of the dict or list at `loc`. Interpolations that
  // need a "???" become "???". `keep` remembers the copy (for a dict or list
  // that interpolations refer to, maybe more than once).
  Result<Node> Materialize(const Loc& loc, bool keep = false) {
    const Node* n = loc.node();
    auto cached = done_.find(n);
    if (cached != done_.end()) return cached->second;
    if (active_.count(n)) return Cycle(loc);
    Enter(loc);
    Node out = n->is_map() ? Node::Map() : Node::List();
    out.set_origin(n->origin());
    Status st;
    if (n->is_map()) {
      out.entries().reserve(n->entries().size());
      for (const auto& [k, child] : n->entries()) {
        auto v = ResolveChild(loc.Child(&child, k));
        if (!v.ok()) {
          st = v.status();
          break;
        }
        out.entries().emplace_back(k, std::move(*v));
      }
    } else {
      out.items().reserve(n->items().size());
      for (size_t i = 0; i < n->items().size(); i++) {
        auto v = ResolveChild(loc.Child(&n->items()[i], std::to_string(i)));
        if (!v.ok()) {
          st = v.status();
          break;
        }
        out.items().push_back(std::move(*v));
      }
    }
    Leave(n);
    if (!st.ok()) return st;
    if (keep) done_.emplace(n, out);
    return out;
  }

  // Resolves every interpolation under the dict or list at `loc`, recording the
  // values in `out` (the tree itself is not changed: the caller writes them).
  Status Collect(const Loc& loc, std::vector<std::pair<const Node*, Node>>* out) {
    const Node* n = loc.node();
    Enter(loc);
    Status st;
    auto visit = [&](const Node* child, std::string key) -> Status {
      if (child->is_map() || child->is_list()) return Collect(loc.Child(child, std::move(key)), out);
      if (!child->has_interpolation()) return Status::Ok();
      auto v = ResolveChild(loc.Child(child, std::move(key)));
      if (!v.ok()) return v.status();
      out->emplace_back(child, std::move(*v));
      return Status::Ok();
    };
    if (n->is_map()) {
      for (const auto& [k, child] : n->entries())
        if (!(st = visit(&child, k)).ok()) break;
    } else {
      for (size_t i = 0; i < n->items().size(); i++)
        if (!(st = visit(&n->items()[i], std::to_string(i))).ok()) break;
    }
    Leave(n);
    return st;
  }

  // The value at a path from the root, for ResolveValue.
  Result<Node> ValueAt(std::string_view path) {
    Loc root = RootLoc();
    if (path.empty()) {
      if (root_.is_map() || root_.is_list()) return Materialize(root);
      return root_;
    }
    std::string key(path);
    std::vector<std::string> parts = SplitKey(key);
    Loc cur = root;
    for (size_t i = 0; i < parts.size(); i++) {
      const Node* c = cur.node();
      std::string part = parts[i];
      const Node* child = Lookup(c, &part);
      if (c->is_list() && !ListIndex(parts[i]))
        return Err("key '" + cur.KeyWith(parts, i) + "' not found: " + cur.FullKey() +
                   " is a list, and '" + Show(parts[i]) + "' is not an index");
      if (!child) return Err("key '" + cur.KeyWith(parts, i) + "' not found");
      Loc cl = cur.Child(child, part);
      if (child->is_missing()) {
        std::string k = cl.FullKey();
        return Err(k + ": missing mandatory value (???" "); " + OverrideHint(k));
      }
      auto rv = Deref(cl);
      if (!rv.ok()) return rv.status();
      if (i + 1 == parts.size()) return Plain(*rv);
      if (!rv->is_ref)
        return Err("key '" + cur.KeyWith(parts, i) + "' not found: " + cl.FullKey() + " is " +
                   PyTypeName(rv->val) + ", not a dict or list");
      cur = rv->ref;
    }
    return Err("key '" + key + "' not found");
  }

 private:
  Status Err(std::string msg) {
    err_missing_ = false;
    return Status::User(std::move(msg));
  }
  Status ErrMissing(std::string msg) {
    err_missing_ = true;
    return Status::User(std::move(msg));
  }

  void Enter(const Loc& loc) {
    active_.insert(loc.node());
    stack_.push_back(loc);
  }
  void Leave(const Node* n) {
    active_.erase(n);
    stack_.pop_back();
  }
  // `loc` is being resolved already: the cycle is the stack from there on.
  Status Cycle(const Loc& loc) {
    std::string msg = "interpolation cycle: ";
    size_t i = 0;
    while (i < stack_.size() && stack_[i].node() != loc.node()) i++;
    for (; i < stack_.size(); i++) msg += stack_[i].FullKey() + " -> ";
    return Err(msg + loc.FullKey());
  }

  // A value of the tree, resolved (a dict or list: a resolved copy).
  Result<Node> ResolveChild(const Loc& loc) {
    const Node* n = loc.node();
    if (n->is_map() || n->is_list()) return Materialize(loc);
    if (!n->has_interpolation()) return *n;
    auto rv = Deref(loc);
    if (!rv.ok()) {
      if (err_missing_) {  // as OmegaConf.resolve(): it needs a "???", so it is "???"
        Node m = Node::String("???");
        m.set_origin(n->origin());
        return m;
      }
      return rv.status();
    }
    if (rv->is_ref) {
      Enter(loc);  // so that a cycle through the copy names this key
      auto copy = Materialize(rv->ref, true);
      Leave(n);
      if (copy.ok()) copy->set_origin(n->origin());
      return copy;
    }
    Node v = std::move(rv->val);
    v.set_origin(n->origin());
    return v;
  }

  Result<Node> Plain(const RV& rv) {
    if (rv.is_ref) return Materialize(rv.ref, true);
    return rv.val;
  }

  // The value of the node at `loc`: an interpolation is resolved (once), a
  // dict or list is a reference to itself, anything else is itself.
  Result<RV> Deref(const Loc& loc) {
    const Node* n = loc.node();
    if (n->is_map() || n->is_list()) return RV::Ref(loc);
    if (!n->has_interpolation()) return RV::Val(*n);
    auto it = memo_.find(n);
    if (it != memo_.end()) {
      if (!it->second.status.ok()) {
        err_missing_ = it->second.missing;
        return it->second.status;
      }
      return it->second.rv;
    }
    if (active_.count(n)) return Cycle(loc);
    if (chain_ >= kMaxChain)
      return Err("interpolation at " + loc.FullKey() + ": more than " + std::to_string(kMaxChain) +
                 " interpolations lead to one another");
    Result<RV> r = Status::Internal("unset");
    const std::string& text = n->as_string();
    Parser p(text);
    Text parsed;
    if (!p.ParseTop(&parsed)) {
      r = Err(MalformedMessage(loc.FullKey(), text, p));
    } else {
      Enter(loc);
      chain_++;
      r = EvalText(parsed, loc);
      chain_--;
      Leave(n);
    }
    Memo m;
    if (r.ok()) {
      m.rv = *r;
      if (m.rv.is_ref) m.rv.via.insert(m.rv.via.begin(), loc.FullKey());
    } else {
      m.status = r.status();
      m.missing = err_missing_;
    }
    auto& stored = memo_.emplace(n, std::move(m)).first->second;
    if (!stored.status.ok()) {
      err_missing_ = stored.missing;
      return stored.status;
    }
    return stored.rv;
  }

  Result<RV> EvalText(const Text& t, const Loc& at) {
    if (t.size() == 1 && t[0].interp) return EvalInterp(*t[0].interp, at);
    return Concat(t, at);
  }

  Result<RV> Concat(const Text& t, const Loc& at) {
    std::string s;
    for (const Seg& seg : t) {
      if (!seg.interp) {
        s += seg.lit;
        continue;
      }
      auto rv = EvalInterp(*seg.interp, at);
      if (!rv.ok()) return rv.status();
      s += rv->is_ref ? PyRepr(*rv->ref.node()) : PyStr(rv->val);
    }
    return RV::Val(Node::String(std::move(s)));
  }

  std::string Where(const Interp& in, const Loc& at) const {
    return "interpolation " + Show(in.src) + " at " + at.FullKey();
  }

  // A nested interpolation used as (part of) a key or a resolver name.
  Result<std::string> KeyString(const Interp& part, const Interp& in, const Loc& at, const char* what) {
    auto rv = EvalInterp(part, at);
    if (!rv.ok()) return rv.status();
    if (rv->is_ref || !rv->val.is_string())
      return Err(Where(in, at) + ": " + Show(part.src) + " is used as " + what +
                 ", so it must give a string, but it gives " +
                 (rv->is_ref ? std::string(rv->ref.node()->is_map() ? "a dict" : "a list")
                             : "the " + std::string(PyTypeName(rv->val)) + " " +
                                   Show(PyStr(rv->val))));
    return rv->val.as_string();
  }

  Result<RV> EvalInterp(const Interp& in, const Loc& at) {
    if (!in.resolver) {
      std::string key;
      if (in.key_static) {
        key = in.key_text;
      } else {
        for (const KeyPart& p : in.key) {
          if (!p.interp) {
            key += p.lit;
            continue;
          }
          auto s = KeyString(*p.interp, in, at, "a key");
          if (!s.ok()) return s.status();
          key += *s;
        }
      }
      return NodeInterp(in, key, at);
    }
    std::string name;
    for (const KeyPart& p : in.name) {
      if (&p != &in.name.front()) name += '.';
      if (!p.interp) {
        name += p.lit;
        continue;
      }
      auto s = KeyString(*p.interp, in, at, "a resolver name");
      if (!s.ok()) return s.status();
      name += *s;
    }
    std::vector<RV> args;
    args.reserve(in.args.size());
    for (const Elem& e : in.args) {
      auto rv = EvalElem(e, at);
      if (!rv.ok()) return rv.status();
      args.push_back(std::move(*rv));
    }
    return CallResolver(in, name, args, at);
  }

  Result<RV> EvalElem(const Elem& e, const Loc& at) {
    switch (e.kind) {
      case Elem::Kind::kEmpty: return RV::Val(Node::String(""));
      case Elem::Kind::kConst: return RV::Val(e.value);
      case Elem::Kind::kSingle: return EvalInterp(*e.segs[0].interp, at);
      case Elem::Kind::kText:
      case Elem::Kind::kQuoted: return Concat(e.segs, at);
      case Elem::Kind::kList: {
        Node list = Node::List();
        for (const Elem& item : e.items) {
          auto rv = EvalElem(item, at);
          if (!rv.ok()) return rv.status();
          auto v = Plain(*rv);
          if (!v.ok()) return v.status();
          list.items().push_back(std::move(*v));
        }
        return RV::Val(std::move(list));
      }
      case Elem::Kind::kDict: {
        Node map = Node::Map();
        for (size_t i = 0; i < e.items.size(); i++) {
          const std::string& k = e.keys[i];
          auto rv = EvalElem(e.items[i], at);
          if (!rv.ok()) return rv.status();
          auto v = Plain(*rv);
          if (!v.ok()) return v.status();
          map.Set(k, std::move(*v));  // a repeated key keeps its place, takes the last value
        }
        return RV::Val(std::move(map));
      }
    }
    return Err("bad element");
  }

  // The dict or list to start a key from: the root, or for ".x" the dict/list
  // holding the value, for "..x" its parent, and so on. Strips the dots.
  Result<Loc> KeyBase(std::string* key, const Loc& at, const Interp& in) {
    if (key->empty() || (*key)[0] != '.') return RootLoc();
    Loc base = at.Parent();
    size_t dots = 1;
    while (dots < key->size() && (*key)[dots] == '.') {
      if (base.is_root())
        return Err(Where(in, at) + ": '" + Show(*key) + "' goes above the root (" +
                   std::to_string(dots + 1) + " dots from " + at.FullKey() + ")");
      base = base.Parent();
      dots++;
    }
    key->erase(0, dots);
    return base;
  }

  const Node* Lookup(const Node* c, std::string* part) {
    if (c->is_map()) return c->Find(*part);
    if (!c->is_list()) return nullptr;
    auto idx = ListIndex(*part);
    if (!idx || *idx < 0 || static_cast<uint64_t>(*idx) >= c->items().size()) return nullptr;
    *part = std::to_string(*idx);
    return &c->items()[static_cast<size_t>(*idx)];
  }

  struct Found {
    bool found = false;
    bool missing = false;  // not found because a "???" is in the way (non-strict walks)
    RV rv;
  };

  // Walks `key` from the dict/list `base` as OmegaConf's _select_impl does:
  // each step is resolved if it is an interpolation. `strict` is node
  // interpolation (missing values and non-containers are errors); otherwise
  // (oc.select) they are "not found".
  Result<Found> Walk(const Loc& base, const std::string& key, bool strict, const Interp& in,
                     const Loc& at) {
    if (key.empty()) return Found{true, false, RV::Ref(base)};
    std::vector<std::string> parts = SplitKey(key);
    Loc cur = base;
    for (size_t i = 0; i < parts.size(); i++) {
      const Node* c = cur.node();
      std::string part = parts[i];
      if (c->is_list() && !ListIndex(part))
        return Err(Where(in, at) + ": " + cur.FullKey() + " is a list, and '" + Show(part) +
                   "' is not an index");
      const Node* child = Lookup(c, &part);
      if (!child) {
        if (!strict) return Found{};
        return Err(Where(in, at) + ": key '" + Show(cur.KeyWith(parts, i)) + "' not found");
      }
      Loc cl = cur.Child(child, part);
      bool last = i + 1 == parts.size();
      if (child->is_missing()) {
        if (!strict) return Found{false, last, RV()};
        std::string k = cl.FullKey();
        return ErrMissing(k + ": missing mandatory value (???" "), read by " + Show(in.src) + " at " +
                          at.FullKey() + "; " + OverrideHint(k));
      }
      auto rv = Deref(cl);
      if (!rv.ok()) return rv.status();
      if (last) return Found{true, false, std::move(*rv)};
      if (!rv->is_ref) {
        if (!strict) return Found{};
        return Err(Where(in, at) + ": " + cl.FullKey() + " is " + PyTypeName(rv->val) +
                   ", not a dict or list, so it has no key '" + Show(parts[i + 1]) + "'");
      }
      cur = rv->ref;
    }
    return Found{};
  }

  Result<RV> NodeInterp(const Interp& in, std::string key, const Loc& at) {
    auto base = KeyBase(&key, at, in);
    if (!base.ok()) return base.status();
    auto f = Walk(*base, key, true, in, at);
    if (!f.ok()) return f.status();
    RV& rv = f->rv;
    if (rv.is_ref) {
      // OmegaConf refuses a reference to a dict or list that holds the value.
      const Node* target = rv.ref.node();
      if (at.InsideOf(target)) {
        std::string msg = "interpolation cycle: " + at.FullKey() + " -> ";
        for (const auto& v : rv.via) msg += v + " -> ";
        return Err(msg + rv.ref.FullKey() + ", which contains " + at.FullKey());
      }
    }
    return std::move(rv);
  }

  // ---- resolvers ----------------------------------------------------------------------

  Status Arity(const Interp& in, const Loc& at, const std::string& name, size_t got, size_t lo,
               size_t hi) {
    if (got >= lo && got <= hi) return Status::Ok();
    std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + " or " + std::to_string(hi);
    return Err(Where(in, at) + ": " + name + " takes " + want + " argument" + (hi == 1 ? "" : "s") +
               ", not " + std::to_string(got));
  }

  Result<std::string> StringArg(const Interp& in, const Loc& at, const std::string& name,
                                const RV& rv, const char* what) {
    if (!rv.is_ref && rv.val.is_string()) return rv.val.as_string();
    std::string got = rv.is_ref ? (rv.ref.node()->is_map() ? "a dict" : "a list")
                                : "the " + std::string(PyTypeName(rv.val)) + " " + Show(PyStr(rv.val));
    return Err(Where(in, at) + ": " + name + " needs " + what + " as a string, not " + got);
  }

  // Where a resolver's new dict or list sits: where the interpolation is.
  Loc Make(Node n, const Loc& at) {
    arena_.push_back(std::move(n));
    return at.Holding(&arena_.back());
  }

  // An absolute or relative key for oc.select and friends (non-dot keys are from the root).
  Result<Found> Select(const Interp& in, const Loc& at, std::string key, bool strict) {
    auto base = KeyBase(&key, at, in);
    if (!base.ok()) return base.status();
    return Walk(*base, key, strict, in, at);
  }

  Result<RV> CallResolver(const Interp& in, const std::string& name, std::vector<RV>& args,
                          const Loc& at) {
    size_t n = args.size();
    if (name == "oc.env") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string var, StringArg(in, at, name, args[0], "the variable name"));
      std::optional<std::string> v;
      if (opts_.getenv) {
        v = opts_.getenv(var);
      } else if (var.find('\0') == std::string::npos) {
        if (const char* e = std::getenv(var.c_str())) v = e;
      }
      if (v) return RV::Val(Node::String(*v));
      if (n == 2) {
        const RV& d = args[1];
        if (!d.is_ref && d.val.is_null()) return RV::Val(Node::Null());
        return RV::Val(Node::String(d.is_ref ? PyRepr(*d.ref.node()) : PyStr(d.val)));
      }
      return Err(Where(in, at) + ": environment variable '" + Show(var) +
                 "' is not set and has no default (write ${oc.env:" + Show(var) + ",DEFAULT})");
    }
    if (name == "oc.select") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      ASSIGN_OR_RETURN(Found f, Select(in, at, key, false));
      if (f.found) return std::move(f.rv);
      if (n == 2) return std::move(args[1]);
      return RV::Val(Node::Null());
    }
    if (name == "oc.decode") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      if (!args[0].is_ref && args[0].val.is_null()) return RV::Val(Node::Null());
      ASSIGN_OR_RETURN(std::string text, StringArg(in, at, name, args[0], "its input"));
      Parser p(text);
      Elem e;
      if (!p.ParseSingleElement(&e))
        return Err(Where(in, at) + ": oc.decode cannot decode \"" + Show(text) + "\": column " +
                   std::to_string(p.error_column()) + ": " + p.error());
      return EvalElem(e, at);
    }
    if (name == "now") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      ASSIGN_OR_RETURN(std::string pattern, StringArg(in, at, name, args[0], "the pattern"));
      auto s = PyStrftime(pattern, now_);
      if (!s.ok()) return Err(Where(in, at) + ": now: " + s.status().message());
      return RV::Val(Node::String(std::move(*s)));
    }
    if (name == "oc.create") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      const RV& a = args[0];
      if (a.is_ref) return RV::Ref(Make(*a.ref.node(), at));
      if (a.val.is_null()) return RV::Val(Node::Null());
      if (a.val.is_map() || a.val.is_list()) return RV::Ref(Make(a.val, at));
      if (a.val.is_string()) {
        // As OmegaConf.create(str): YAML text; empty gives {}, a string s gives {s: None}.
        auto y = ParseYaml(a.val.as_string(), "oc.create");
        if (!y.ok())
          return Err(Where(in, at) + ": oc.create: " + Show(y.status().message()));
        if (y->is_null()) return RV::Ref(Make(Node::Map(), at));
        if (y->is_string()) return RV::Ref(Make(Node::Map({{y->as_string(), Node::Null()}}), at));
        if (y->is_map() || y->is_list()) return RV::Ref(Make(std::move(*y), at));
      }
      return Err(Where(in, at) + ": oc.create needs a dict, a list or YAML text of one, not " +
                 Show(a.val.is_string() ? a.val.as_string() : PyStr(a.val)));
    }
    if (name == "oc.deprecated") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 2));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      std::string message = "'$OLD_KEY' is deprecated. Change your code and config to use '$NEW_KEY'";
      if (n == 2) {
        ASSIGN_OR_RETURN(message, StringArg(in, at, name, args[1], "the message"));
      }
      ASSIGN_OR_RETURN(Found f, Select(in, at, key, false));
      if (f.missing) f = Found{true, false, RV::Val(Node::String("???"))};  // as OmegaConf
      if (!f.found)
        return Err(Where(in, at) + ": oc.deprecated: key '" + Show(key) + "' not found");
      std::string new_key = f.rv.is_ref ? f.rv.ref.FullKey() : key;
      for (auto [from, to] : {std::pair<std::string, std::string>{"OLD_KEY", at.FullKey()},
                              std::pair<std::string, std::string>{"NEW_KEY", new_key}}) {
        for (const std::string& pat : {"${" + from + "}", "$" + from}) {
          size_t p = 0;
          while ((p = message.find(pat, p)) != std::string::npos) {
            message.replace(p, pat.size(), to);
            p += to.size();
          }
        }
      }
      LogWarn(message);
      return std::move(f.rv);
    }
    if (name == "oc.dict.keys" || name == "oc.dict.values") {
      RETURN_IF_ERROR(Arity(in, at, name, n, 1, 1));
      ASSIGN_OR_RETURN(std::string key, StringArg(in, at, name, args[0], "the key"));
      auto f = Select(in, at, key, true);
      if (!f.ok()) return Err(f.status().message());  // a "???" here is an error, not "???"
      if (!f->rv.is_ref || !f->rv.ref.node()->is_map())
        return Err(Where(in, at) + ": " + name + " needs a dict, but '" + Show(key) + "' is " +
                   (f->rv.is_ref ? "a list" : std::string("a ") + PyTypeName(f->rv.val)));
      Node list = Node::List();
      const Node* dict = f->rv.ref.node();
      if (name == "oc.dict.keys") {
        for (const auto& e : dict->entries()) list.items().push_back(Node::String(e.first));
        return RV::Val(std::move(list));
      }
      // As OmegaConf: a list of "${key.k}" placed where the interpolation is.
      std::string prefix = key[0] == '.' ? "." + key : key;
      for (const auto& e : dict->entries())
        list.items().push_back(Node::String("${" + prefix + "." + e.first + "}"));
      return RV::Ref(Make(std::move(list), at));
    }
    return Err(Where(in, at) + ": unknown resolver '" + Show(name) +
               "' (known: now, oc.create, oc.decode, oc.deprecated, oc.dict.keys, "
               "oc.dict.values, oc.env, oc.select)");
  }

  const Node& root_;
  const ResolveOptions& opts_;
  std::chrono::system_clock::time_point now_;
  std::unordered_map<const Node*, Memo> memo_;          // resolved interpolations
  std::unordered_map<const Node*, Node> done_;          // materialized dicts and lists
  std::unordered_set<const Node*> active_;              // being resolved now
  std::vector<Loc> stack_;                              // the same, in order
  std::deque<Node> arena_;                              // dicts and lists made by resolvers
  bool err_missing_ = false;  // the last error is "a value needed is ???"
  int chain_ = 0;
};

}  // namespace

Status ResolveAll(Node& root, const ResolveOptions& options) {
  if (!root.is_map() && !root.is_list()) return Status::Ok();
  // Resolve everything against the unchanged tree, then write the values of the
  // interpolations in place (only strings are replaced: no other node moves).
  std::vector<std::pair<const Node*, Node>> values;
  {
    Resolver r(root, options);
    RETURN_IF_ERROR(r.Collect(r.RootLoc(), &values));
  }
  for (auto& [node, value] : values) *const_cast<Node*>(node) = std::move(value);
  return Status::Ok();
}

Result<Node> ResolveValue(const Node& root, std::string_view path, const ResolveOptions& options) {
  Resolver r(root, options);
  return r.ValueAt(path);
}

Status CheckInterpolationSyntax(std::string_view value, std::string_view where) {
  if (value.find("${") == std::string_view::npos) return Status::Ok();
  Parser p(value);
  Text t;
  if (!p.ParseTop(&t)) return Status::User(MalformedMessage(where, value, p));
  return Status::Ok();
}

}  // namespace forja::config
