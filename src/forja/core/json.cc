#include "forja/core/json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "forja/core/utf8.h"

namespace forja {

namespace {

constexpr size_t kKeepNodes = 1 << 16;
constexpr size_t kCountAbove = 1 << 16;  // bodies larger than this are counted before parsing
// 48 bytes a value: a 64 MB body of "0," would otherwise take 1.5 GB of nodes.
constexpr size_t kMaxNodes = 4 << 20;
static_assert(sizeof(JsonNode) == 48);

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint32_t Hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; k++) v = v * 16 + static_cast<uint32_t>(Hex(s[i + k]));
  return v;
}

// Decodes a string the parser already checked, so every escape is well formed.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = Hex4(s, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') {
          uint32_t lo = Hex4(s, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // a lone surrogate
        AppendUtf8(&out, cp);
        break;
      }
      default: out += c;  // " \ /
    }
  }
  return out;
}

}  // namespace

Status JsonDoc::Fail(const char* what) const {
  return Status::User("malformed JSON at byte " + std::to_string(pos_) + ": " + what);
}

void JsonDoc::SkipSpace() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    pos_++;
  }
}

namespace {

// The number of values in `text` if it is valid JSON, without allocating: each value but a
// container's first element follows a ',' outside strings, each non-empty container's first
// follows its '[' or '{'. (For invalid JSON a guess; the parse says what is wrong.)
size_t CountValues(std::string_view text) {
  size_t n = 1;
  bool in_string = false;
  char last = 0;  // the last character outside strings that is not white space
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '"') in_string = true;
    else if (c == ',' || c == '[' || c == '{') n++;
    else if ((c == ']' && last == '[') || (c == '}' && last == '{')) n--;  // empty
    last = c;
  }
  return n;
}

}  // namespace

Status JsonDoc::Parse(std::string_view text) {
  // The vector is kept between requests, but not at the size one huge request grew it to.
  if (nodes_.capacity() > kKeepNodes) std::vector<JsonNode>().swap(nodes_);
  nodes_.clear();
  text_ = text;
  pos_ = 0;
  // A large body is counted first: too many values is refused before 48 bytes of node each
  // are spent, and the nodes are reserved once, so the vector never holds up to twice what
  // it needs while regrowing. (Together they made a refused body peak near 8x its size.)
  if (text.size() > kCountAbove) {
    size_t values = CountValues(text);
    if (values > kMaxNodes)
      return Status::User("more than 4194304 values in the JSON body (" + std::to_string(values) +
                          "; send large tensors as binary data)");
    nodes_.reserve(values);
  }
  uint32_t root = 0;
  RETURN_IF_ERROR(Value(0, &root));
  SkipSpace();
  if (pos_ != text_.size()) return Fail("text after the value");
  return Status::Ok();
}

Status JsonDoc::String(std::string_view* out, bool* escaped) {
  // At the opening quote.
  size_t start = ++pos_;
  *escaped = false;
  while (pos_ < text_.size()) {
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      *out = text_.substr(start, pos_ - start);
      pos_++;
      return Status::Ok();
    }
    if (c < 0x20) return Fail("control character in a string");
    if (c == '\\') {
      *escaped = true;
      if (pos_ + 1 >= text_.size()) break;
      char e = text_[pos_ + 1];
      if (e == 'u') {
        if (pos_ + 5 >= text_.size()) break;
        for (size_t k = 2; k < 6; k++)
          if (Hex(text_[pos_ + k]) < 0) return Fail("bad \\u escape");
        pos_ += 6;
        continue;
      }
      if (!std::strchr("\"\\/bfnrt", e) || e == 0) return Fail("bad escape");
      pos_ += 2;
      continue;
    }
    pos_++;
  }
  return Fail("unterminated string");
}

Status JsonDoc::Value(int depth, uint32_t* index) {
  if (depth > JsonDoc::kMaxDepth) return Fail("nested too deep");
  SkipSpace();
  if (pos_ >= text_.size()) return Fail("unexpected end");
  if (nodes_.size() >= kMaxNodes) return Fail("more than 4194304 values (send large tensors as binary data)");
  *index = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  char c = text_[pos_];
  auto literal = [&](const char* word, JsonNode::Kind kind) -> Status {
    size_t n = std::strlen(word);
    if (text_.compare(pos_, n, word) != 0) return Fail("unexpected character");
    pos_ += n;
    nodes_[*index].kind = kind;
    return Status::Ok();
  };
  switch (c) {
    case 'n': return literal("null", JsonNode::kNull);
    case 't': return literal("true", JsonNode::kTrue);
    case 'f': return literal("false", JsonNode::kFalse);
    case '"': {
      std::string_view s;
      bool esc = false;
      RETURN_IF_ERROR(String(&s, &esc));
      nodes_[*index].kind = JsonNode::kString;
      nodes_[*index].raw = s;
      nodes_[*index].escaped = esc;
      return Status::Ok();
    }
    case '[':
    case '{': {
      bool object = c == '{';
      char close = object ? '}' : ']';
      nodes_[*index].kind = object ? JsonNode::kObject : JsonNode::kArray;
      pos_++;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == close) {
        pos_++;
        return Status::Ok();
      }
      uint32_t prev = 0, count = 0;
      for (;;) {
        std::string_view key;
        bool key_esc = false;
        if (object) {
          SkipSpace();
          if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key");
          RETURN_IF_ERROR(String(&key, &key_esc));
          SkipSpace();
          if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'");
          pos_++;
        }
        uint32_t child = 0;
        RETURN_IF_ERROR(Value(depth + 1, &child));
        nodes_[child].key = key;
        nodes_[child].key_escaped = key_esc;
        if (prev) nodes_[prev].next = child;
        else nodes_[*index].child = child;
        prev = child;
        count++;
        SkipSpace();
        if (pos_ >= text_.size()) return Fail("unexpected end");
        if (text_[pos_] == ',') {
          pos_++;
          continue;
        }
        if (text_[pos_] == close) {
          pos_++;
          nodes_[*index].count = count;
          return Status::Ok();
        }
        return Fail(object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    default: {
      // A number, checked against JSON's grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
      size_t start = pos_;
      if (pos_ < text_.size() && text_[pos_] == '-') pos_++;
      auto digits = [&] {
        size_t s = pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') pos_++;
        return pos_ - s;
      };
      size_t lead = pos_;
      size_t n = digits();
      if (n == 0) return Fail("unexpected character");
      if (n > 1 && text_[lead] == '0') return Fail("leading zero in a number");
      if (pos_ < text_.size() && text_[pos_] == '.') {
        pos_++;
        if (digits() == 0) return Fail("digits expected after '.'");
      }
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        pos_++;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) pos_++;
        if (digits() == 0) return Fail("digits expected in the exponent");
      }
      nodes_[*index].kind = JsonNode::kNumber;
      nodes_[*index].raw = text_.substr(start, pos_ - start);
      return Status::Ok();
    }
  }
}

const JsonNode* JsonDoc::Find(const JsonNode& object, std::string_view key) const {
  if (object.kind != JsonNode::kObject) return nullptr;
  for (const JsonNode* c = First(object); c; c = Next(*c)) {
    if (!c->key_escaped ? c->key == key : Unescape(c->key) == key) return c;
  }
  return nullptr;
}

std::string JsonString(const JsonNode& n) { return n.escaped ? Unescape(n.raw) : std::string(n.raw); }
std::string JsonKey(const JsonNode& n) { return n.key_escaped ? Unescape(n.key) : std::string(n.key); }

bool JsonDouble(const JsonNode& n, double* out) {
  if (n.kind != JsonNode::kNumber) return false;
  auto r = std::from_chars(n.raw.data(), n.raw.data() + n.raw.size(), *out);
  // Out of range (1e999) is refused rather than read as infinity.
  return r.ec == std::errc() && r.ptr == n.raw.data() + n.raw.size();
}

bool JsonInt(const JsonNode& n, int64_t* out) {
  if (n.kind != JsonNode::kNumber) return false;
  auto r = std::from_chars(n.raw.data(), n.raw.data() + n.raw.size(), *out);
  if (r.ec == std::errc() && r.ptr == n.raw.data() + n.raw.size()) return true;
  // 3.0 or 1e2 are integers too.
  double d = 0;
  if (!JsonDouble(n, &d) || d != std::floor(d) || std::fabs(d) > 9.007199254740992e15) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool JsonUint(const JsonNode& n, uint64_t* out) {
  if (n.kind != JsonNode::kNumber) return false;
  auto r = std::from_chars(n.raw.data(), n.raw.data() + n.raw.size(), *out);
  if (r.ec == std::errc() && r.ptr == n.raw.data() + n.raw.size()) return true;
  int64_t i = 0;
  if (!JsonInt(n, &i) || i < 0) return false;
  *out = static_cast<uint64_t>(i);
  return true;
}

void AppendJsonString(std::string* out, std::string_view s, JsonBytes invalid) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // the start of the bytes not yet appended, all written as they are
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    // DEL (0x7f) is written as it is: JSON (RFC 8259) escapes only what is below 0x20, " and \,
    // and config's JSON, which forja.lock's params and their change detection compare byte for
    // byte, always wrote it so. (Only forja.lock's quoting wrote \u007f; its reader takes both.)
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8CharLength(s, i);
      if (n != 0 || invalid == JsonBytes::kKeep) {
        i += n != 0 ? n : 1;
        continue;
      }
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->append("\\ufffd");  // not UTF-8 (JsonBytes::kReplace)
        }
    }
    run = ++i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::string JsonQuote(std::string_view s, JsonBytes invalid) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(&out, s, invalid);
  return out;
}

namespace {

template <typename T>
void AppendShortest(std::string* out, T v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

}  // namespace

void AppendFloat(std::string* out, float v) { AppendShortest(out, v); }
void AppendDouble(std::string* out, double v) { AppendShortest(out, v); }

}  // namespace forja
