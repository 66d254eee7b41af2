#include "forja/config/yaml_fast.h"

#include <cstdio>
#include <vector>

namespace forja::config {

namespace {

struct Line {
  int indent;
  std::string_view text;  // after the indentation; never empty, never a comment
  int lineno;             // 1-based
};

// Thrown-free failure: every parse function returns false to mean "not in the
// subset, use ParseYaml".
class FastParser {
 public:
  FastParser(std::vector<Line> lines, const std::string& name, int eof_line)
      : lines_(std::move(lines)), name_(name), eof_line_(eof_line) {}

  bool Run(Node* out) {
    if (lines_.empty()) return false;
    if (!Block(lines_[0].indent, out)) return false;
    return i_ == lines_.size();
  }

 private:
  std::string Origin(int lineno) const { return name_ + ":" + std::to_string(lineno); }

  static bool IsSeqItem(std::string_view t) { return t[0] == '-' && (t.size() == 1 || t[1] == ' '); }

  bool Block(int indent, Node* out) {
    if (IsSeqItem(lines_[i_].text)) return Seq(indent, out);
    return Map(indent, out);
  }

  // The value after "key:" or "-" when it is on the following lines.
  bool Nested(int parent_indent, bool parent_is_seq, int lineno, Node* out) {
    if (i_ < lines_.size()) {
      const Line& next = lines_[i_];
      if (next.indent > parent_indent) return Block(next.indent, out);
      // A sequence may sit at its key's indentation.
      if (!parent_is_seq && next.indent == parent_indent && IsSeqItem(next.text)) return Seq(next.indent, out);
    }
    // yaml-cpp places an empty value at the next token: the next line, or the end.
    *out = Node::Null();
    out->set_origin(Origin(i_ < lines_.size() ? lines_[i_].lineno : eof_line_));
    (void)lineno;
    return true;
  }

  // A value on the same line as its key or dash; nothing may continue it on
  // the next lines.
  bool InlineValue(std::string_view v, int lineno, int indent, Node* out) {
    if (!Scalar(v, lineno, out)) return false;
    return i_ >= lines_.size() || lines_[i_].indent <= indent;
  }

  bool Map(int indent, Node* out) {
    *out = Node::Map();
    out->set_origin(Origin(lines_[i_].lineno));
    while (i_ < lines_.size() && lines_[i_].indent == indent) {
      const Line line = lines_[i_];
      if (IsSeqItem(line.text)) return false;
      std::string_view t = line.text;
      size_t colon = std::string_view::npos;
      for (size_t k = 0; k < t.size(); k++) {
        char c = t[k];
        if (c == ':' && (k + 1 == t.size() || t[k + 1] == ' ')) {
          colon = k;
          break;
        }
        if (c == '#' && k > 0 && t[k - 1] == ' ') return false;
      }
      if (colon == std::string_view::npos || colon == 0) return false;
      std::string_view key = t.substr(0, colon);
      if (!PlainKey(key)) return false;
      if (out->Find(key)) return false;  // duplicate: ParseYaml says so
      std::string_view rest = t.substr(colon + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      i_++;
      Node value;
      if (rest.empty() || rest.front() == '#') {
        if (!Nested(indent, false, line.lineno, &value)) return false;
      } else {
        if (!InlineValue(rest, line.lineno, indent, &value)) return false;
      }
      out->entries().emplace_back(std::string(key), std::move(value));
    }
    return i_ >= lines_.size() || lines_[i_].indent < indent;
  }

  bool Seq(int indent, Node* out) {
    *out = Node::List();
    out->set_origin(Origin(lines_[i_].lineno));
    while (i_ < lines_.size() && lines_[i_].indent == indent && IsSeqItem(lines_[i_].text)) {
      Line& line = lines_[i_];
      std::string_view rest = line.text.substr(1);
      size_t spaces = 0;
      while (spaces < rest.size() && rest[spaces] == ' ') spaces++;
      rest.remove_prefix(spaces);
      Node item;
      if (rest.empty() || rest.front() == '#') {
        i_++;
        if (!Nested(indent, true, line.lineno, &item)) return false;
      } else if (IsSeqItem(rest) || LooksLikeKey(rest)) {
        // "- key: v" or "- - v": a block that starts on this line, at this column.
        line.indent = indent + 1 + static_cast<int>(spaces);
        line.text = rest;
        if (!Block(line.indent, &item)) return false;
      } else {
        i_++;
        if (!InlineValue(rest, line.lineno, indent, &item)) return false;
      }
      out->items().push_back(std::move(item));
    }
    // A line at this indentation that is not an item ends a sequence that is
    // a mapping's value ("key:\n- a\nnext: 1"); anywhere else the caller fails.
    return i_ >= lines_.size() || lines_[i_].indent <= indent;
  }

  static bool LooksLikeKey(std::string_view t) {
    if (t[0] == '\'' || t[0] == '"' || t[0] == '[' || t[0] == '{') return false;
    for (size_t k = 0; k < t.size(); k++)
      if (t[k] == ':' && (k + 1 == t.size() || t[k + 1] == ' ')) return true;
    return false;
  }

  static bool Indicator(char c) {
    switch (c) {
      case '-': case '?': case ':': case ',': case '[': case ']': case '{': case '}': case '#':
      case '&': case '*': case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
        return true;
      default:
        return false;
    }
  }

  static bool PlainKey(std::string_view k) {
    if (k.empty() || Indicator(k[0]) || k.back() == ' ') return false;
    // yaml-cpp reads these keys as null, which ParseYaml refuses.
    if (k == "~" || k == "null" || k == "Null" || k == "NULL") return false;
    for (char c : k)
      if (c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == '#' || c == '"' || c == '\'') return false;
    return true;
  }

  // The rest of a line after a quoted scalar or a flow sequence: nothing, or a comment.
  static bool OnlyComment(std::string_view r) {
    size_t k = 0;
    while (k < r.size() && r[k] == ' ') k++;
    return k == r.size() || (k > 0 && r[k] == '#');
  }

  bool Scalar(std::string_view v, int lineno, Node* out) {
    std::string origin = Origin(lineno);
    char c = v[0];
    if (c == '\'' || c == '"') {
      std::string s;
      size_t end;
      if (!Quoted(v, &s, &end) || !OnlyComment(v.substr(end))) return false;
      *out = Node::String(std::move(s));
    } else if (c == '[') {
      if (!FlowSeq(v, origin, out)) return false;
    } else {
      // '-', '?' and ':' start a plain scalar when a non-space follows ("-1", "???").
      bool dash_like = (c == '-' || c == '?' || c == ':') && v.size() > 1 && v[1] != ' ';
      if (Indicator(c) && !dash_like) return false;
      // A comment starts at " #"; ": " inside a plain scalar is an error.
      size_t end = v.size();
      for (size_t k = 0; k < v.size(); k++) {
        if (v[k] == '#' && k > 0 && v[k - 1] == ' ') {
          end = k;
          break;
        }
        if (v[k] == ':' && (k + 1 == v.size() || v[k + 1] == ' ')) return false;
      }
      std::string_view p = v.substr(0, end);
      while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
      if (p.empty()) return false;
      *out = TypePlainScalar(p);
    }
    out->set_origin(std::move(origin));
    return true;
  }

  // 'single' ('' is a quote) or "double" (\\ \" \n \t only); on one line.
  static bool Quoted(std::string_view v, std::string* s, size_t* end) {
    char q = v[0];
    for (size_t k = 1; k < v.size(); k++) {
      char c = v[k];
      if (q == '\'') {
        if (c == '\'') {
          if (k + 1 < v.size() && v[k + 1] == '\'') {
            *s += '\'';
            k++;
            continue;
          }
          *end = k + 1;
          return true;
        }
        *s += c;
      } else {
        if (c == '"') {
          *end = k + 1;
          return true;
        }
        if (c == '\\') {
          if (k + 1 >= v.size()) return false;
          char e = v[++k];
          if (e == '\\' || e == '"') *s += e;
          else if (e == 'n') *s += '\n';
          else if (e == 't') *s += '\t';
          else return false;
          continue;
        }
        *s += c;
      }
    }
    return false;
  }

  // [a, b, 'c'] on one line, no nesting.
  bool FlowSeq(std::string_view v, const std::string& origin, Node* out) {
    *out = Node::List();
    size_t k = 1;
    auto skip = [&] {
      while (k < v.size() && v[k] == ' ') k++;
    };
    skip();
    if (k < v.size() && v[k] == ']') return OnlyComment(v.substr(k + 1));
    for (;;) {
      skip();
      if (k >= v.size()) return false;
      Node item;
      if (v[k] == '\'' || v[k] == '"') {
        std::string s;
        size_t end;
        if (!Quoted(v.substr(k), &s, &end)) return false;
        k += end;
        item = Node::String(std::move(s));
      } else {
        size_t start = k;
        while (k < v.size() && v[k] != ',' && v[k] != ']') {
          char c = v[k];
          if (c == '[' || c == '{' || c == '}' || c == '#' || c == ':' || c == '"' || c == '\'') return false;
          k++;
        }
        std::string_view p = v.substr(start, k - start);
        while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
        if (p.empty() || Indicator(p[0])) return false;
        item = TypePlainScalar(p);
      }
      item.set_origin(origin);
      out->items().push_back(std::move(item));
      skip();
      if (k >= v.size()) return false;
      if (v[k] == ']') return OnlyComment(v.substr(k + 1));
      if (v[k] != ',') return false;
      k++;
      skip();
      if (k < v.size() && v[k] == ']') return false;  // a trailing comma
    }
  }

  std::vector<Line> lines_;
  const std::string& name_;
  int eof_line_;
  size_t i_ = 0;
};

}  // namespace

// Valid UTF-8 without byte order marks: yaml-cpp guesses UTF-16/32 from the
// first bytes and replaces invalid sequences, which a byte-wise parser would not.
bool PlainUtf8(std::string_view t) {
  size_t i = 0;
  while (i < t.size()) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (n == 0 || i + n >= t.size()) return false;
    for (size_t k = 1; k <= n; k++)
      if ((static_cast<unsigned char>(t[i + k]) & 0xC0) != 0x80) return false;
    unsigned char d1 = static_cast<unsigned char>(t[i + 1]);
    if ((c == 0xE0 && d1 < 0xA0) || (c == 0xED && d1 >= 0xA0) || (c == 0xF0 && d1 < 0x90) ||
        (c == 0xF4 && d1 >= 0x90))
      return false;  // overlong, a surrogate, or beyond U+10FFFF
    if (c == 0xEF && d1 == 0xBB && static_cast<unsigned char>(t[i + 2]) == 0xBF) return false;  // U+FEFF
    i += n + 1;
  }
  return true;
}

std::optional<Node> ParseYamlFast(std::string_view text, const std::string& name) {
  if (!PlainUtf8(text)) return std::nullopt;
  std::vector<Line> lines;
  lines.reserve(64);
  int lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    lineno++;
    for (char c : raw) {
      unsigned char u = static_cast<unsigned char>(c);
      if (c == '\t' || c == '\r' || u < 0x20 || u == 0x7F || u == 0xC2 || u == 0xE2) return std::nullopt;
    }
    size_t ind = 0;
    while (ind < raw.size() && raw[ind] == ' ') ind++;
    std::string_view t = raw.substr(ind);
    if (t.empty() || t[0] == '#') continue;
    if (ind == 0 && (t[0] == '%' || t.substr(0, 3) == "---" || t.substr(0, 3) == "...")) return std::nullopt;
    while (t.back() == ' ') t.remove_suffix(1);
    lines.push_back(Line{static_cast<int>(ind), t, lineno});
  }
  int eof_line = 1;
  for (char c : text) eof_line += c == '\n';
  FastParser p(std::move(lines), name, eof_line);
  Node out;
  if (!p.Run(&out)) return std::nullopt;
  return out;
}

Result<Node> ParseConfigYaml(std::string_view text, const std::string& name) {
  if (auto fast = ParseYamlFast(text, name)) return std::move(*fast);
  auto r = ParseYaml(text, name);
  if (r.ok()) return r;
  // yaml-cpp quotes the offending character raw (a newline, a NUL); keep the
  // message on one line.
  std::string msg;
  for (char c : r.status().message()) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      msg += buf;
    } else {
      msg += c;
    }
  }
  return Status(r.status().code(), msg);
}

}  // namespace forja::config
