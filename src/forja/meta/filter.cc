#include "forja/meta/filter.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "forja/core/limits.h"
#include "forja/core/utf8.h"

namespace forja::meta {

const char* EntityName(Entity e) {
  switch (e) {
    case Entity::kAttribute: return "attributes";
    case Entity::kMetric: return "metrics";
    case Entity::kParam: return "params";
    case Entity::kTag: return "tags";
    case Entity::kDataset: return "datasets";
  }
  return "?";
}

namespace {

bool EntityFromPrefix(std::string_view p, Entity* e) {
  std::string s;
  for (char c : p) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "metric" || s == "metrics") return *e = Entity::kMetric, true;
  if (s == "param" || s == "params" || s == "parameter" || s == "parameters") return *e = Entity::kParam, true;
  if (s == "tag" || s == "tags") return *e = Entity::kTag, true;
  if (s == "dataset" || s == "datasets") return *e = Entity::kDataset, true;
  if (s == "attribute" || s == "attributes" || s == "attr" || s == "run") return *e = Entity::kAttribute, true;
  return false;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

// A printable excerpt for error messages: control bytes would break the one-line
// rule, and invalid UTF-8 (replaced, never cut inside a character) the JSON of the error.
std::string Show(std::string_view s) {
  std::string out = ValidUtf8(s, 40);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, const char* what) : s_(text), what_(what) {}

  Result<Filter> ParseFilter() {
    Filter f;
    if (s_.size() > limits::kMaxFilterBytes)
      return ErrorAt(limits::kMaxFilterBytes, "the filter is " + std::to_string(s_.size()) + " bytes; at most " +
                                                  std::to_string(limits::kMaxFilterBytes) + " are allowed");
    SkipSpace();
    if (AtEnd()) return f;
    // The limits are checked once the whole text is parsed (it is bounded above),
    // so the error says how many there are; positions are where the limit was passed.
    size_t clauses_at = 0, values = 0, values_at = 0;
    for (;;) {
      if (f.clauses.size() == limits::kMaxFilterClauses) clauses_at = i_;
      ASSIGN_OR_RETURN(Clause c, ParseClause());
      if (c.op == "IN" || c.op == "NOT IN") {
        if (values <= limits::kMaxFilterValues && values + c.values.size() > limits::kMaxFilterValues)
          values_at = i_ - 1;
        values += c.values.size();
      }
      f.clauses.push_back(std::move(c));
      SkipSpace();
      if (AtEnd()) {
        if (f.clauses.size() > limits::kMaxFilterClauses)
          return ErrorAt(clauses_at, limits::TooMany("the filter", f.clauses.size(), "clauses",
                                                     limits::kMaxFilterClauses).message());
        if (values > limits::kMaxFilterValues)
          return ErrorAt(values_at, limits::TooMany("the filter", values, "values in IN lists",
                                                    limits::kMaxFilterValues).message());
        return f;
      }
      size_t at = i_;
      std::string word = Word();
      if (Upper(word) == "AND") continue;
      if (Upper(word) == "OR")
        return ErrorAt(at, "OR is not supported (MLflow's filters join clauses with AND only)");
      return ErrorAt(at, "expected AND or the end of the filter, found '" + Show(s_.substr(at)) + "'");
    }
  }

  Result<OrderBy> ParseOrderBy() {
    OrderBy o;
    SkipSpace();
    if (AtEnd()) return ErrorAt(i_, "expected a column to order by");
    RETURN_IF_ERROR(ParseIdentifier(&o.entity, &o.key));
    SkipSpace();
    if (!AtEnd()) {
      size_t at = i_;
      std::string dir = Upper(Word());
      if (dir == "ASC") {
        o.ascending = true;
      } else if (dir == "DESC") {
        o.ascending = false;
      } else {
        return ErrorAt(at, "expected ASC or DESC, found '" + Show(s_.substr(at)) + "'");
      }
      SkipSpace();
      if (!AtEnd()) return ErrorAt(i_, "unexpected '" + Show(s_.substr(i_)) + "' after the direction");
    }
    return o;
  }

 private:
  Result<Clause> ParseClause() {
    Clause c;
    SkipSpace();
    size_t start = i_;
    if (!AtEnd() && s_[i_] == '(')
      return ErrorAt(i_, "parentheses are not supported (MLflow's filters are clauses joined by AND)");
    RETURN_IF_ERROR(ParseIdentifier(&c.entity, &c.key));
    std::string name = std::string(s_.substr(start, i_ - start));
    SkipSpace();
    size_t at = i_;
    c.op = ParseOperator();
    if (c.op.empty()) {
      if (AtEnd()) return ErrorAt(at, "expected a comparison operator after '" + Show(name) + "'");
      return ErrorAt(at, "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN) after '" +
                             Show(name) + "', found '" + Show(s_.substr(at)) + "'");
    }
    SkipSpace();
    if (c.op == "IN" || c.op == "NOT IN") {
      RETURN_IF_ERROR(ParseList(&c.values));
      return c;
    }
    at = i_;
    if (AtEnd()) return ErrorAt(at, "expected a value after '" + c.op + "'");
    char ch = s_[i_];
    if (ch == '\'' || ch == '"') {
      std::string v;
      RETURN_IF_ERROR(ParseString(&v));
      c.values.push_back(std::move(v));
    } else if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '-' || ch == '+' || ch == '.') {
      RETURN_IF_ERROR(ParseNumber(&c));
    } else {
      return ErrorAt(at, "expected a number or a quoted string, found '" + Show(s_.substr(at)) + "'");
    }
    return c;
  }

  // entity.key, entity.`quoted key`, entity."quoted key", or a bare attribute.
  Status ParseIdentifier(Entity* entity, std::string* key) {
    size_t start = i_;
    if (AtEnd()) return ErrorAt(i_, "expected metrics.<key>, params.<key>, tags.<key> or an attribute");
    if (s_[i_] == '`' || s_[i_] == '"') {  // a quoted attribute name
      *entity = Entity::kAttribute;
      return ParseQuoted(key);
    }
    if (!IsWordChar(s_[i_]))
      return ErrorAt(i_, "expected metrics.<key>, params.<key>, tags.<key> or an attribute, found '" +
                             Show(s_.substr(i_)) + "'");
    size_t j = i_;
    while (j < s_.size() && IsWordChar(s_[j]) && s_[j] != '.') j++;
    std::string_view head = s_.substr(i_, j - i_);
    if (j < s_.size() && s_[j] == '.') {
      if (!EntityFromPrefix(head, entity))
        return ErrorAt(start, "unknown entity '" + Show(head) +
                                  "' (filters name metrics.<key>, params.<key>, tags.<key> or attributes.<name>)");
      i_ = j + 1;
      if (!AtEnd() && (s_[i_] == '`' || s_[i_] == '"')) return ParseQuoted(key);
      size_t k = i_;
      while (k < s_.size() && IsWordChar(s_[k])) k++;
      if (k == i_) return ErrorAt(i_, "expected a key after '" + Show(s_.substr(start, i_ - start)) + "'");
      *key = std::string(s_.substr(i_, k - i_));
      i_ = k;
      return Status::Ok();
    }
    *entity = Entity::kAttribute;
    *key = std::string(head);
    i_ = j;
    return Status::Ok();
  }

  Status ParseQuoted(std::string* out) {
    char q = s_[i_];
    size_t start = i_++;
    out->clear();
    while (i_ < s_.size() && s_[i_] != q) *out += s_[i_++];
    if (AtEnd()) return ErrorAt(start, std::string("unterminated ") + (q == '`' ? "backquoted" : "quoted") + " key");
    i_++;
    if (out->empty()) return ErrorAt(start, "empty key");
    return Status::Ok();
  }

  // 'text' with '' or \' for a quote inside.
  Status ParseString(std::string* out) {
    char q = s_[i_];
    size_t start = i_++;
    out->clear();
    for (;;) {
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size() && (s_[i_] == q || s_[i_] == '\\')) {
        *out += s_[i_++];
      } else if (c == q) {
        if (i_ < s_.size() && s_[i_] == q) {
          *out += q;
          i_++;
        } else {
          return Status::Ok();
        }
      } else {
        *out += c;
      }
    }
  }

  Status ParseNumber(Clause* c) {
    size_t start = i_;
    size_t j = i_;
    if (s_[j] == '-' || s_[j] == '+') j++;
    while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '.' ||
                             ((s_[j] == '-' || s_[j] == '+') && (s_[j - 1] == 'e' || s_[j - 1] == 'E'))))
      j++;
    std::string text(s_.substr(start, j - start));
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    bool hex = text.find_first_of("xX") != std::string::npos;
    if (text.empty() || end != text.c_str() + text.size() || hex || std::isnan(v))
      return ErrorAt(start, "'" + Show(text) + "' is not a number");
    c->numeric = true;
    c->number = v;
    c->values.push_back(text);
    i_ = j;
    return Status::Ok();
  }

  Status ParseList(std::vector<std::string>* out) {
    if (AtEnd() || s_[i_] != '(') return ErrorAt(i_, "expected '(' and a list of quoted strings after IN");
    i_++;
    for (;;) {
      SkipSpace();
      if (AtEnd()) return ErrorAt(i_, "unterminated list: expected ')'");
      if (s_[i_] != '\'' && s_[i_] != '"') return ErrorAt(i_, "expected a quoted string in the IN list");
      std::string v;
      RETURN_IF_ERROR(ParseString(&v));
      out->push_back(std::move(v));
      SkipSpace();
      if (AtEnd()) return ErrorAt(i_, "unterminated list: expected ')'");
      if (s_[i_] == ',') {
        i_++;
        continue;
      }
      if (s_[i_] == ')') {
        i_++;
        return Status::Ok();
      }
      return ErrorAt(i_, "expected ',' or ')' in the IN list");
    }
  }

  std::string ParseOperator() {
    if (AtEnd()) return "";
    auto take = [&](std::string_view op, std::string name) {
      if (s_.substr(i_, op.size()) != op) return std::string();
      i_ += op.size();
      return name;
    };
    for (auto [op, name] : {std::pair<std::string_view, const char*>{"!=", "!="}, {"<>", "!="}, {"<=", "<="},
                            {">=", ">="}, {"==", "="}, {"=", "="}, {"<", "<"}, {">", ">"}}) {
      std::string got = take(op, name);
      if (!got.empty()) return got;
    }
    size_t save = i_;
    std::string w = Upper(Word());
    if (w == "LIKE" || w == "ILIKE" || w == "IN") return w;
    if (w == "NOT") {
      SkipSpace();
      if (Upper(Word()) == "IN") return "NOT IN";
    }
    i_ = save;
    return "";
  }

  std::string Word() {
    size_t j = i_;
    while (j < s_.size() && std::isalpha(static_cast<unsigned char>(s_[j]))) j++;
    std::string w(s_.substr(i_, j - i_));
    i_ = j;
    return w;
  }

  static std::string Upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) i_++;
  }
  bool AtEnd() const { return i_ >= s_.size(); }

  Status ErrorAt(size_t at, const std::string& what) const {
    return Status::User(std::string("invalid ") + what_ + " '" + Show(s_) + "' at character " +
                        std::to_string(at + 1) + ": " + what);
  }

  std::string_view s_;
  const char* what_;
  size_t i_ = 0;
};

}  // namespace

Result<Filter> ParseFilter(std::string_view text) { return Parser(text, "filter").ParseFilter(); }

Result<OrderBy> ParseOrderBy(std::string_view text) { return Parser(text, "order_by").ParseOrderBy(); }

Status CheckOrderByCount(size_t n) {
  if (n > limits::kMaxOrderByKeys) return limits::TooMany("order_by", n, "keys", limits::kMaxOrderByKeys);
  return Status::Ok();
}

Result<int64_t> IntegerValue(const Clause& c) {
  std::string name = std::string(EntityName(c.entity)) + "." + c.key;
  std::string_view text = c.values.empty() ? std::string_view() : std::string_view(c.values[0]);
  std::string_view digits = !text.empty() && text[0] == '+' ? text.substr(1) : text;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc() && end == digits.data() + digits.size()) return v;
  // 2^63 is exact as a double; the range of int64 is [-2^63, 2^63).
  if (ec == std::errc::result_out_of_range || !(c.number >= -9223372036854775808.0 && c.number < 9223372036854775808.0))
    return Status::User("invalid filter: " + Show(text) + " is out of range for " + name +
                        " (a 64-bit integer, -9223372036854775808 to 9223372036854775807)");
  if (c.number != std::floor(c.number))
    return Status::User("invalid filter: " + name + " must be compared to a whole number, not " + Show(text));
  return static_cast<int64_t>(c.number);
}

}  // namespace forja::meta
