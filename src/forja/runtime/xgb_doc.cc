#include "forja/runtime/xgb_doc.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace forja::runtime::xgb {

namespace {

// xgboost nests five levels deep; the bound keeps a hostile file off the stack.
constexpr int kMaxDepth = 64;

// Arrays of numbers stay packed: an element is appended to `nums` while every element
// so far was a number, and the array falls back to `items` at the first that is not.
void Append(Value* array, Value&& elem) {
  bool numeric = elem.kind == Value::kNumber || elem.kind == Value::kBool;
  if (numeric && array->items.empty()) {
    double d = elem.kind == Value::kBool ? (elem.boolean ? 1 : 0) : elem.number;
    float f = elem.kind == Value::kBool ? static_cast<float>(d) : elem.number_f;
    array->nums.push_back(d);
    array->nums_f.push_back(f);
    return;
  }
  if (array->items.empty() && !array->nums.empty()) {
    for (size_t i = 0; i < array->nums.size(); ++i) {
      Value n;
      n.kind = Value::kNumber;
      n.number = array->nums[i];
      n.number_f = array->nums_f[i];
      array->items.push_back(std::move(n));
    }
    array->nums.clear();
    array->nums_f.clear();
  }
  array->items.push_back(std::move(elem));
}

// Reads a decimal number: from_chars rounds the text straight to float as well as to
// double (a double rounded to float can differ from the float xgboost wrote).
bool ParseNumber(std::string_view text, Value* v) {
  const char* b = text.data();
  const char* e = b + text.size();
  double d = 0;
  auto [pd, ecd] = std::from_chars(b, e, d);
  if (ecd != std::errc() || pd != e) return false;
  float f = 0;
  auto [pf, ecf] = std::from_chars(b, e, f);
  if (ecf == std::errc::result_out_of_range) f = static_cast<float>(d);
  else if (ecf != std::errc() || pf != e) return false;
  v->kind = Value::kNumber;
  v->number = d;
  v->number_f = f;
  return true;
}

// "invalid JSON at byte 17: expected ':'", or "invalid JSON: unexpected end of file".
Status ParseError(const char* format, size_t pos, size_t size, const std::string& what) {
  std::string f = std::string("invalid ") + format;
  if (pos >= size) return Status::User(f + ": unexpected end of file");
  return Status::User(f + " at byte " + std::to_string(pos) + ": " + what);
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Result<Value> Run() {
    Value v;
    RETURN_IF_ERROR(ParseValue(&v, 0));
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected bytes after the document");
    return v;
  }

 private:
  Status Error(const std::string& what) const { return ParseError("JSON", pos_, s_.size(), what); }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }

  bool Consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(Value* v, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (pos_ >= s_.size()) return Error("");
    char c = s_[pos_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->kind = Value::kString;
      return ParseString(&v->str);
    }
    if (Consume("true") || Consume("false")) {
      v->kind = Value::kBool;
      v->boolean = c == 't';
      return Status::Ok();
    }
    if (Consume("null")) return Status::Ok();
    return ParseNumberToken(v);
  }

  Status ParseNumberToken(Value* v) {
    // xgboost writes NaN and Infinity for non-finite floats, outside the JSON standard.
    if (Consume("NaN")) return SetNumber(v, std::numeric_limits<double>::quiet_NaN());
    if (Consume("Infinity")) return SetNumber(v, std::numeric_limits<double>::infinity());
    if (Consume("-Infinity")) return SetNumber(v, -std::numeric_limits<double>::infinity());
    size_t start = pos_;
    while (pos_ < s_.size() && std::strchr("+-0123456789.eE", s_[pos_]) != nullptr && s_[pos_] != '\0') ++pos_;
    if (pos_ == start) return Error("expected a value");
    std::string_view text = s_.substr(start, pos_ - start);
    if (text[0] == '+' || !ParseNumber(text, v)) {
      pos_ = start;
      return Error("invalid number");
    }
    return Status::Ok();
  }

  static Status SetNumber(Value* v, double d) {
    v->kind = Value::kNumber;
    v->number = d;
    v->number_f = static_cast<float>(d);
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // the opening quote
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) break;
      char e = s_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out->push_back(e); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': RETURN_IF_ERROR(ParseUnicode(out)); break;
        default: --pos_; return Error("invalid escape in a string");
      }
    }
    return Error("unterminated string");
  }

  // \uXXXX as UTF-8; a lone surrogate is kept as its three bytes (keys and names only).
  Status ParseUnicode(std::string* out) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    unsigned cp = 0;
    auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, cp, 16);
    if (ec != std::errc() || p != s_.data() + pos_ + 4) return Error("invalid \\u escape");
    pos_ += 4;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    return Status::Ok();
  }

  // At an opening bracket: skips it, and the closing one too when the container is empty.
  bool OpenEmpty(char close) {
    ++pos_;
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != close) return false;
    ++pos_;
    return true;
  }

  // After an element: `done` at the closing bracket, not at a ','.
  Status AfterElement(char close, bool* done) {
    SkipSpace();
    if (pos_ >= s_.size()) return Error("");
    char c = s_[pos_];
    if (c != close && c != ',') return Error(std::string("expected ',' or '") + close + "'");
    ++pos_;
    *done = c == close;
    return Status::Ok();
  }

  Status ParseArray(Value* v, int depth) {
    v->kind = Value::kArray;
    bool done = OpenEmpty(']');
    while (!done) {
      Value elem;
      RETURN_IF_ERROR(ParseValue(&elem, depth + 1));
      Append(v, std::move(elem));
      RETURN_IF_ERROR(AfterElement(']', &done));
    }
    return Status::Ok();
  }

  Status ParseObject(Value* v, int depth) {
    v->kind = Value::kObject;
    bool done = OpenEmpty('}');
    while (!done) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a key");
      std::string key;
      RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      Value member;
      RETURN_IF_ERROR(ParseValue(&member, depth + 1));
      v->members.push_back(Member{std::move(key), std::move(member)});
      RETURN_IF_ERROR(AfterElement('}', &done));
    }
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

class UbjParser {
 public:
  explicit UbjParser(std::string_view s) : s_(s) {}

  Result<Value> Run() {
    Value v;
    RETURN_IF_ERROR(ParseValue(&v, 0));
    if (pos_ != s_.size()) return Error("unexpected bytes after the document");
    return v;
  }

 private:
  Status Error(const std::string& what) const { return ParseError("UBJ", pos_, s_.size(), what); }

  size_t Left() const { return s_.size() - pos_; }

  static size_t NumberSize(char type) {
    switch (type) {
      case 'i': case 'U': return 1;
      case 'I': return 2;
      case 'l': case 'd': return 4;
      case 'L': case 'D': return 8;
      default: return 0;
    }
  }

  // A number of `type` (one of NumberSize's), big-endian; the caller checked the bytes are there.
  double ReadNumber(char type, float* as_float) {
    size_t n = NumberSize(type);
    uint64_t bits = 0;
    for (size_t i = 0; i < n; ++i) bits = bits << 8 | static_cast<unsigned char>(s_[pos_ + i]);
    pos_ += n;
    double d = 0;
    switch (type) {
      case 'i': d = static_cast<int8_t>(bits); break;
      case 'U': d = static_cast<uint8_t>(bits); break;
      case 'I': d = static_cast<int16_t>(bits); break;
      case 'l': d = static_cast<int32_t>(bits); break;
      case 'L': d = static_cast<double>(static_cast<int64_t>(bits)); break;
      case 'd': {
        float f;
        uint32_t b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, 4);
        *as_float = f;
        return f;
      }
      case 'D': std::memcpy(&d, &bits, 8); break;
    }
    *as_float = static_cast<float>(d);
    return d;
  }

  Status ReadMarker(char* m) {
    do {
      if (pos_ >= s_.size()) return Error("");
      *m = s_[pos_++];
    } while (*m == 'N');  // no-op
    return Status::Ok();
  }

  // A length or count: an integer of any integer type, not negative.
  Status ReadLength(size_t* n) {
    char type;
    RETURN_IF_ERROR(ReadMarker(&type));
    if (type == 'd' || type == 'D' || NumberSize(type) == 0) return Error("expected an integer length");
    if (Left() < NumberSize(type)) return Error("");
    float unused;
    double d = ReadNumber(type, &unused);
    if (d < 0) return Error("negative length");
    *n = static_cast<size_t>(d);
    return Status::Ok();
  }

  Status ReadString(std::string* out) {
    size_t n;
    RETURN_IF_ERROR(ReadLength(&n));
    if (n > Left()) return Error("string longer than the file");
    out->assign(s_.substr(pos_, n));
    pos_ += n;
    return Status::Ok();
  }

  Status ParseValue(Value* v, int depth) {
    char m;
    RETURN_IF_ERROR(ReadMarker(&m));
    return ParseTyped(m, v, depth);
  }

  Status ParseTyped(char m, Value* v, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (NumberSize(m) != 0) {
      if (Left() < NumberSize(m)) return Error("");
      v->kind = Value::kNumber;
      v->number = ReadNumber(m, &v->number_f);
      return Status::Ok();
    }
    switch (m) {
      case 'Z': return Status::Ok();
      case 'T': case 'F':
        v->kind = Value::kBool;
        v->boolean = m == 'T';
        return Status::Ok();
      case 'C':
        if (Left() < 1) return Error("");
        v->kind = Value::kString;
        v->str.assign(1, s_[pos_++]);
        return Status::Ok();
      case 'S':
        v->kind = Value::kString;
        return ReadString(&v->str);
      case 'H': {
        std::string text;
        RETURN_IF_ERROR(ReadString(&text));
        if (!ParseNumber(text, v)) return Error("invalid high-precision number");
        return Status::Ok();
      }
      case '[': return ParseContainer(v, depth, false);
      case '{': return ParseContainer(v, depth, true);
      default: --pos_; return Error(std::string("unknown type marker '") + m + "'");
    }
  }

  // Arrays and objects alike: optional `$type` (then `#count` must follow), optional
  // `#count` (then there is no closing marker).
  Status ParseContainer(Value* v, int depth, bool object) {
    v->kind = object ? Value::kObject : Value::kArray;
    char type = 0;
    bool counted = false;
    size_t count = 0;
    if (pos_ < s_.size() && s_[pos_] == '$') {
      ++pos_;
      if (pos_ >= s_.size()) return Error("");
      type = s_[pos_++];
      if (type == 'Z' || type == 'T' || type == 'F' || type == 'N') return Error("typed container of T, F, Z or N");
      if (pos_ >= s_.size() || s_[pos_] != '#') return Error("'$' type without '#' count");
    }
    if (pos_ < s_.size() && s_[pos_] == '#') {
      ++pos_;
      RETURN_IF_ERROR(ReadLength(&count));
      counted = true;
      // Every element takes a byte at least: a count past the file is a lie, not an allocation.
      if (count > Left()) return Error("count larger than the file");
    }
    if (!object && type != 0 && NumberSize(type) != 0) return ReadPackedNumbers(v, type, count);
    for (size_t i = 0; !counted || i < count; ++i) {
      if (!counted) {
        if (pos_ >= s_.size()) return Error("");
        if (s_[pos_] == (object ? '}' : ']')) {
          ++pos_;
          return Status::Ok();
        }
      }
      std::string key;
      if (object) RETURN_IF_ERROR(ReadString(&key));
      Value elem;
      if (type != 0) {
        RETURN_IF_ERROR(ParseTyped(type, &elem, depth + 1));
      } else {
        RETURN_IF_ERROR(ParseValue(&elem, depth + 1));
      }
      if (object) {
        v->members.push_back(Member{std::move(key), std::move(elem)});
      } else {
        Append(v, std::move(elem));
      }
    }
    return Status::Ok();
  }

  Status ReadPackedNumbers(Value* v, char type, size_t count) {
    if (count > Left() / NumberSize(type)) return Error("typed array longer than the file");
    v->nums.resize(count);
    v->nums_f.resize(count);
    for (size_t i = 0; i < count; ++i) v->nums[i] = ReadNumber(type, &v->nums_f[i]);
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

Result<Value> ParseJson(std::string_view text) { return JsonParser(text).Run(); }
Result<Value> ParseUbj(std::string_view bytes) { return UbjParser(bytes).Run(); }

}  // namespace forja::runtime::xgb
