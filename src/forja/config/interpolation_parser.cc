// OmegaConf's interpolation grammar, parsed by hand (see interpolation_parser.h):
// the lexer's modes (top level, interpolation, value, quoted) as a recursive
// descent. Positions in messages are 1-based columns.
#include "forja/config/interpolation_parser.h"

#include <algorithm>

#include "forja/config/grammar_tokens.h"
#include "forja/config/py_values.h"

namespace forja::config::omegaconf {

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
      default: tokens::AppendPrintable(c, &out);
    }
  }
  return out;
}

namespace {

// How deep "${" / "[" / "{" may nest in one string: far beyond real configs,
// it keeps hostile input from exhausting the stack.
constexpr int kMaxNesting = 64;

bool IsWs(char c) { return c == ' ' || c == '\t'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  // The grammar's `configValue`: top-level text with interpolations.
  bool ParseTop(Text* out) { return ParseText(0, 0, out); }

  // The grammar's `singleElement`, lexed in value mode (what oc.decode parses).
  bool ParseSingleElement(Elem* out) {
    if (!ParseElement(out)) return false;
    if (i_ < s_.size()) return Fail(i_, "unexpected " + Quote(i_) + " after the value");
    return true;
  }

  SyntaxError error() const { return SyntaxError{err_pos_ + 1, err_}; }

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
    std::string_view escapable;  // what the run may escape here
    if (At(j, '$') && At(j + 1, '{')) escapable = "${";
    else if (quote && At(j, quote)) escapable = std::string_view(&quote, 1);
    if (escapable.empty()) {
      lit->append(k, '\\');
      i_ = j;
      return;
    }
    lit->append(k / 2, '\\');
    i_ = j;
    if (k % 2 == 1) {
      *lit += escapable;
      i_ += escapable.size();
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

  // At "${": the interpolation up to and including its closing brace, or null
  // when it does not parse.
  std::unique_ptr<Interp> ParseNestedInterp() {
    auto in = std::make_unique<Interp>();
    if (!ParseInterp(in.get())) return nullptr;
    return in;
  }

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
        auto in = ParseNestedInterp();
        if (!in) return false;
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
        bool is_id = tokens::IdLen(s_, i_) == j - i_;  // ID characters are key characters
        toks.push_back(Tok{is_id ? Tok::kId : Tok::kKey, std::string(s_.substr(i_, j - i_)), nullptr, pos});
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
      ok = ParseText(c, i_ - 1, &out->segs);
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

  // Text with interpolations up to the end (quote == 0: top level), or up to
  // the closing `quote` of a quoted string (i_ is after the opening one, at `open`).
  bool ParseText(char quote, size_t open, Text* out) {
    std::string lit;
    while (true) {
      if (i_ >= s_.size()) {
        if (!quote) break;
        return Fail(open, std::string("unterminated string: missing the closing ") + quote);
      }
      char c = s_[i_];
      if (quote && c == quote) {
        i_++;
        break;
      }
      if (c == '$' && At(i_ + 1, '{')) {
        Flush(&lit, out);
        auto in = ParseNestedInterp();
        if (!in) return false;
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

  VT LexValue(size_t i, size_t* len) const {
    size_t lens[7] = {
        tokens::FloatLen(s_, i),
        tokens::IntLen(s_, i),
        std::max(tokens::WordLen(s_, i, "true"), tokens::WordLen(s_, i, "false")),
        tokens::WordLen(s_, i, "null"),
        tokens::kUnquotedChars.find(s_[i]) != std::string_view::npos ? 1u : 0u,
        tokens::IdLen(s_, i),
        tokens::EscLen(s_, i),
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
        auto in = ParseNestedInterp();
        if (!in) return false;
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
        case VT::kEsc: out->value = Node::String(tokens::EscText(t.text)); return true;
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
        lit += t.t == VT::kEsc ? tokens::EscText(t.text) : t.text;
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

}  // namespace

bool ParseConfigValue(std::string_view s, Text* out, SyntaxError* err) {
  Parser p(s);
  if (p.ParseTop(out)) return true;
  *err = p.error();
  return false;
}

bool ParseSingleElement(std::string_view s, Elem* out, SyntaxError* err) {
  Parser p(s);
  if (p.ParseSingleElement(out)) return true;
  *err = p.error();
  return false;
}

std::string MalformedMessage(std::string_view where, std::string_view text, const SyntaxError& err) {
  return "malformed interpolation at " + std::string(where) + ", column " + std::to_string(err.column) +
         " of \"" + Show(text) + "\": " + err.what;
}

}  // namespace forja::config::omegaconf
