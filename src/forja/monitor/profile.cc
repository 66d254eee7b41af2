#include "forja/monitor/profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "forja/core/json.h"
#include "forja/core/utf8.h"

namespace forja::monitor {

const char* KindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kNumeric: return "numeric";
    case ColumnKind::kCategorical: return "categorical";
    case ColumnKind::kText: return "text";
  }
  return "?";
}

void Moments::Add(double x) {
  ++n;
  double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
  min = std::min(min, x);
  max = std::max(max, x);
}

void Moments::Merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  double na = static_cast<double>(n), nb = static_cast<double>(o.n), total = na + nb;
  double delta = o.mean - mean;
  mean += delta * nb / total;
  m2 += o.m2 + delta * delta * na * nb / total;
  n += o.n;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
}

double Moments::Variance() const {
  if (n < 2) return 0.0;
  double v = m2 / static_cast<double>(n);
  return v < 0 ? 0.0 : v;  // NaN or infinity (values beyond ~1e154 overflow) stay what they are
}
double Moments::Std() const { return std::sqrt(Variance()); }

int ColumnProfile::NumericBin(double x) const {
  if (edges.empty()) return -3;
  if (discrete) {
    auto it = std::lower_bound(edges.begin(), edges.end(), x);
    if (it != edges.end() && *it == x) return static_cast<int>(it - edges.begin());
    if (x < edges.front()) return -1;
    if (x > edges.back()) return -2;
    return -3;
  }
  if (x < edges.front()) return -1;
  if (x > edges.back()) return -2;
  auto it = std::upper_bound(edges.begin(), edges.end(), x);
  int bin = static_cast<int>(it - edges.begin()) - 1;
  return std::min(bin, static_cast<int>(edges.size()) - 2);  // x == max: the last, closed bin
}

int ColumnProfile::Gap(double x) const {
  if (GapCount() == 0 || !(x > edges.front() && x < edges.back())) return -1;
  auto it = std::lower_bound(edges.begin(), edges.end(), x);
  if (*it == x) return -1;
  return static_cast<int>(it - edges.begin()) - 1;
}

int ColumnProfile::CategoryIndex(std::string_view value) const {
  // Profiles are small (kTopCategories); windows build a hash index over this (window.h).
  for (size_t i = 0; i < categories.size(); ++i) {
    if (categories[i] == value) return static_cast<int>(i);
  }
  return -1;
}

int Profile::Find(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// ---- writing --------------------------------------------------------------------------

namespace {

void Key(std::string* out, const char* key) {
  out->push_back('"');
  out->append(key);
  out->append("\": ");
}

void Uint(std::string* out, const char* key, uint64_t v) {
  Key(out, key);
  out->append(std::to_string(v));
  out->append(", ");
}

void Number(std::string* out, const char* key, double v) {
  Key(out, key);
  AppendDouble(out, v);
  out->append(", ");
}

template <typename T, typename F>
void Array(std::string* out, const char* key, const std::vector<T>& items, F append_one) {
  Key(out, key);
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->append(", ");
    append_one(out, items[i]);
  }
  out->append("], ");
}

void AppendColumn(std::string* out, const ColumnProfile& c) {
  out->append("{");
  Key(out, "name");
  AppendJsonString(out, c.name);
  out->append(", ");
  Key(out, "kind");
  AppendJsonString(out, KindName(c.kind));
  out->append(", ");
  Uint(out, "rows", c.rows);
  Uint(out, "missing", c.missing);
  Uint(out, "infinite", c.infinite);
  Uint(out, "distinct", c.distinct);
  auto number = [](std::string* o, double v) { AppendDouble(o, v); };
  auto count = [](std::string* o, uint64_t v) { o->append(std::to_string(v)); };
  if (c.kind == ColumnKind::kNumeric) {
    Uint(out, "n", c.moments.n);
    if (c.moments.n > 0) {
      Number(out, "mean", c.moments.mean);
      Number(out, "std", c.moments.Std());
      Number(out, "min", c.moments.min);
      Number(out, "max", c.moments.max);
    }
    Array(out, "quantiles", c.quantiles, number);
    Key(out, "discrete");
    out->append(c.discrete ? "true, " : "false, ");
    Array(out, "edges", c.edges, number);
  } else {
    Array(out, "categories", c.categories,
          [](std::string* o, const std::string& s) { AppendJsonString(o, s); });
    Uint(out, "other", c.other);
  }
  Array(out, "counts", c.counts, count);
  out->resize(out->size() - 2);  // the last ", "
  out->append("}");
}

}  // namespace

std::string ProfileToJson(const Profile& profile) {
  std::string out = "{\"format\": \"forja-profile\", \"version\": 1, \"rows\": ";
  out += std::to_string(profile.rows);
  out += ", \"columns\": [";
  for (size_t i = 0; i < profile.columns.size(); ++i) {
    out += i ? ",\n  " : "\n  ";
    AppendColumn(&out, profile.columns[i]);
  }
  out += "]}\n";
  return out;
}

// ---- reading --------------------------------------------------------------------------

namespace {

// Reads one column object; every error names the field.
class ColumnReader {
 public:
  ColumnReader(const JsonDoc& doc, const JsonNode& node, std::string where)
      : doc_(doc), node_(node), where_(std::move(where)) {}

  Status Fail(std::string_view field, std::string_view what) const {
    return Status::User("profile: " + where_ + "." + std::string(field) + ": " + std::string(what));
  }

  const JsonNode* Get(std::string_view field, JsonNode::Kind kind, Status* st) const {
    const JsonNode* n = doc_.Find(node_, field);
    if (n == nullptr) {
      *st = Fail(field, "missing");
      return nullptr;
    }
    if (n->kind != kind) {
      *st = Fail(field, "wrong type");
      return nullptr;
    }
    return n;
  }

  Status ReadUint(std::string_view field, uint64_t* out) const {
    Status st;
    const JsonNode* n = Get(field, JsonNode::kNumber, &st);
    if (n == nullptr) return st;
    if (!JsonUint(*n, out)) return Fail(field, "not a non-negative integer");
    return Status::Ok();
  }

  // A number, or null for one that overflowed when written (*out = NaN).
  Status ReadNumberOrNull(std::string_view field, double* out) const {
    const JsonNode* n = doc_.Find(node_, field);
    if (n != nullptr && n->kind == JsonNode::kNull) {
      *out = std::numeric_limits<double>::quiet_NaN();
      return Status::Ok();
    }
    return ReadFinite(field, out);
  }

  Status ReadFinite(std::string_view field, double* out) const {
    Status st;
    const JsonNode* n = Get(field, JsonNode::kNumber, &st);
    if (n == nullptr) return st;
    if (!JsonDouble(*n, out) || !std::isfinite(*out)) return Fail(field, "not a finite number");
    return Status::Ok();
  }

  Status ReadString(std::string_view field, std::string* out) const {
    Status st;
    const JsonNode* n = Get(field, JsonNode::kString, &st);
    if (n == nullptr) return st;
    *out = JsonString(*n);
    if (!IsValidUtf8(*out)) return Fail(field, "not UTF-8");
    return Status::Ok();
  }

  Status ReadBool(std::string_view field, bool* out) const {
    const JsonNode* n = doc_.Find(node_, field);
    if (n == nullptr) return Fail(field, "missing");
    if (n->kind != JsonNode::kTrue && n->kind != JsonNode::kFalse) return Fail(field, "wrong type");
    *out = n->kind == JsonNode::kTrue;
    return Status::Ok();
  }

  // An array of at most `limit` elements, each read by `one(node, index)`.
  template <typename F>
  Status ReadArray(std::string_view field, size_t limit, F one) const {
    Status st;
    const JsonNode* n = Get(field, JsonNode::kArray, &st);
    if (n == nullptr) return st;
    if (n->count > limit) return Fail(field, "more than " + std::to_string(limit) + " elements");
    size_t i = 0;
    for (const JsonNode* e = doc_.First(*n); e; e = doc_.Next(*e), ++i) {
      RETURN_IF_ERROR(one(*e, i));
    }
    return Status::Ok();
  }

  Status ReadNumbers(std::string_view field, size_t limit, std::vector<double>* out) const {
    return ReadArray(field, limit, [&](const JsonNode& e, size_t i) {
      double v;
      if (e.kind != JsonNode::kNumber || !JsonDouble(e, &v) || !std::isfinite(v)) {
        return Fail(std::string(field) + "[" + std::to_string(i) + "]", "not a finite number");
      }
      out->push_back(v);
      return Status::Ok();
    });
  }

  Status ReadCounts(std::string_view field, size_t limit, std::vector<uint64_t>* out) const {
    return ReadArray(field, limit, [&](const JsonNode& e, size_t i) {
      uint64_t v;
      if (e.kind != JsonNode::kNumber || !JsonUint(e, &v)) {
        return Fail(std::string(field) + "[" + std::to_string(i) + "]", "not a non-negative integer");
      }
      out->push_back(v);
      return Status::Ok();
    });
  }

  Status ReadStrings(std::string_view field, size_t limit, std::vector<std::string>* out) const {
    return ReadArray(field, limit, [&](const JsonNode& e, size_t i) {
      if (e.kind != JsonNode::kString) {
        return Fail(std::string(field) + "[" + std::to_string(i) + "]", "not a string");
      }
      out->push_back(JsonString(e));
      if (!IsValidUtf8(out->back())) return Fail(std::string(field) + "[" + std::to_string(i) + "]", "not UTF-8");
      return Status::Ok();
    });
  }

 private:
  const JsonDoc& doc_;
  const JsonNode& node_;
  std::string where_;
};

bool StrictlyIncreasing(const std::vector<double>& v) {
  return std::adjacent_find(v.begin(), v.end(), [](double a, double b) { return a >= b; }) == v.end();
}

uint64_t Sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}

Status ReadNumeric(const ColumnReader& r, ColumnProfile* c) {
  RETURN_IF_ERROR(r.ReadUint("n", &c->moments.n));
  if (c->moments.n != c->present()) return r.Fail("n", "is not rows - missing - infinite");
  if (c->moments.n > 0) {
    double std_dev;
    RETURN_IF_ERROR(r.ReadNumberOrNull("mean", &c->moments.mean));
    RETURN_IF_ERROR(r.ReadNumberOrNull("std", &std_dev));
    RETURN_IF_ERROR(r.ReadFinite("min", &c->moments.min));
    RETURN_IF_ERROR(r.ReadFinite("max", &c->moments.max));
    if (std_dev < 0) return r.Fail("std", "negative");
    if (c->moments.min > c->moments.max) return r.Fail("min", "greater than max");
    c->moments.m2 = std_dev * std_dev * static_cast<double>(c->moments.n);
  }
  RETURN_IF_ERROR(r.ReadNumbers("quantiles", kQuantiles + 1, &c->quantiles));
  if (!c->quantiles.empty() && c->quantiles.size() != kQuantiles + 1) {
    return r.Fail("quantiles", "not " + std::to_string(kQuantiles + 1) + " values");
  }
  if (!std::is_sorted(c->quantiles.begin(), c->quantiles.end())) return r.Fail("quantiles", "not sorted");
  RETURN_IF_ERROR(r.ReadBool("discrete", &c->discrete));
  RETURN_IF_ERROR(r.ReadNumbers("edges", kNumericBins + kMaxDiscreteValues + 1, &c->edges));
  if (!StrictlyIncreasing(c->edges)) return r.Fail("edges", "not strictly increasing");
  RETURN_IF_ERROR(r.ReadCounts("counts", kNumericBins + kMaxDiscreteValues + 1, &c->counts));
  size_t bins = c->discrete ? c->edges.size() : (c->edges.empty() ? 0 : c->edges.size() - 1);
  if (c->counts.size() != bins) return r.Fail("counts", "not one per bin");
  if (c->moments.n > 0 && c->edges.empty()) return r.Fail("edges", "empty for a column with values");
  if (Sum(c->counts) != c->moments.n) return r.Fail("counts", "do not add up to n");
  return Status::Ok();
}

Status ReadCategorical(const ColumnReader& r, ColumnProfile* c) {
  RETURN_IF_ERROR(r.ReadStrings("categories", kTopCategories, &c->categories));
  RETURN_IF_ERROR(r.ReadCounts("counts", kTopCategories, &c->counts));
  RETURN_IF_ERROR(r.ReadUint("other", &c->other));
  if (c->counts.size() != c->categories.size()) return r.Fail("counts", "not one per category");
  if (std::set<std::string>(c->categories.begin(), c->categories.end()).size() != c->categories.size()) {
    return r.Fail("categories", "repeated");
  }
  if (Sum(c->counts) + c->other != c->present()) return r.Fail("counts", "do not add up to rows - missing");
  return Status::Ok();
}

Status ReadColumn(const JsonDoc& doc, const JsonNode& node, size_t index, ColumnProfile* c) {
  std::string where = "columns[" + std::to_string(index) + "]";
  if (node.kind != JsonNode::kObject) return Status::User("profile: " + where + ": not an object");
  ColumnReader r(doc, node, where);
  std::string kind;
  RETURN_IF_ERROR(r.ReadString("name", &c->name));
  if (c->name.empty()) return r.Fail("name", "empty");
  RETURN_IF_ERROR(r.ReadString("kind", &kind));
  if (kind == "numeric") {
    c->kind = ColumnKind::kNumeric;
  } else if (kind == "categorical") {
    c->kind = ColumnKind::kCategorical;
  } else if (kind == "text") {
    c->kind = ColumnKind::kText;
  } else {
    return r.Fail("kind", "not numeric, categorical or text");
  }
  RETURN_IF_ERROR(r.ReadUint("rows", &c->rows));
  RETURN_IF_ERROR(r.ReadUint("missing", &c->missing));
  RETURN_IF_ERROR(r.ReadUint("infinite", &c->infinite));
  RETURN_IF_ERROR(r.ReadUint("distinct", &c->distinct));
  if (c->missing > c->rows || c->infinite > c->rows - c->missing) {
    return r.Fail("missing", "more missing and infinite cells than rows");
  }
  if (c->kind != ColumnKind::kNumeric && c->infinite != 0) return r.Fail("infinite", "not 0 for a category");
  return c->kind == ColumnKind::kNumeric ? ReadNumeric(r, c) : ReadCategorical(r, c);
}

}  // namespace

Result<Profile> ParseProfile(std::string_view json) {
  if (json.size() > kMaxProfileBytes) {
    return Status::User("profile: larger than " + std::to_string(kMaxProfileBytes >> 20) + " MiB");
  }
  JsonDoc doc;
  Status st = doc.Parse(json);
  if (!st.ok()) return st.Wrap("profile");
  const JsonNode& root = doc.root();
  if (root.kind != JsonNode::kObject) return Status::User("profile: not a JSON object");
  const JsonNode* format = doc.Find(root, "format");
  if (format == nullptr || format->kind != JsonNode::kString || JsonString(*format) != "forja-profile") {
    return Status::User("profile: format: not \"forja-profile\"");
  }
  const JsonNode* version = doc.Find(root, "version");
  int64_t v = 0;
  if (version == nullptr || !JsonInt(*version, &v)) return Status::User("profile: version: missing");
  if (v != 1) return Status::User("profile: version: " + std::to_string(v) + " is not supported (1 is)");
  Profile profile;
  const JsonNode* rows = doc.Find(root, "rows");
  if (rows == nullptr || !JsonUint(*rows, &profile.rows)) return Status::User("profile: rows: missing or not a count");
  const JsonNode* columns = doc.Find(root, "columns");
  if (columns == nullptr || columns->kind != JsonNode::kArray) return Status::User("profile: columns: missing or not an array");
  if (columns->count > kMaxProfileColumns) return Status::User("profile: columns: too many");
  std::set<std::string> names;
  size_t i = 0;
  for (const JsonNode* c = doc.First(*columns); c; c = doc.Next(*c), ++i) {
    ColumnProfile column;
    RETURN_IF_ERROR(ReadColumn(doc, *c, i, &column));
    if (column.rows != profile.rows) {
      return Status::User("profile: columns[" + std::to_string(i) + "].rows: not the profile's rows");
    }
    if (!names.insert(column.name).second) {
      return Status::User("profile: columns[" + std::to_string(i) + "].name: '" + column.name + "' repeated");
    }
    profile.columns.push_back(std::move(column));
  }
  return profile;
}

bool IsPredictionColumn(std::string_view name) {
  return name.starts_with(kPredictionColumn) &&
         (name.size() == sizeof kPredictionColumn - 1 || name[sizeof kPredictionColumn - 1] == '.');
}

}  // namespace forja::monitor
