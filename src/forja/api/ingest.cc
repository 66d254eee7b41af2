// The bodies of the hot ingest routes, runs/log-batch and runs/log-metric, read two ways.
//
// ReadLogBatch and ReadLogMetric read the request's tree (Params) and are the definition:
// every check and every MLflow message. The plain readers read the bodies MLflow's clients
// send — strings where strings go, numbers where numbers go — straight from the text with
// core/json.h's JsonDoc, which builds no tree: a batch of 1,000 metrics is a flat vector of
// nodes the thread reuses instead of thousands of allocations. They never answer an error:
// a body they are not sure to read exactly as the tree readers would (malformed, a field of
// another kind, an escaped key, a number a double cannot hold, ...) they decline, and
// Dispatch reads it the general way, so every odd body gets the answer it always got.
// tests/api/ingest_test.cc holds the two to agreement.
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"
#include "forja/core/json.h"
#include "forja/core/limits.h"

namespace forja::api {

// ---- the definition: from the tree ---------------------------------------------------------

Result<LogBatchBody> ReadLogBatch(const Params& p) {
  LogBatchBody out;
  ASSIGN_OR_RETURN(out.run_id, p.RunId());
  const Json& b = p.body();
  if (b.contains("metrics")) {
    if (!b["metrics"].is_array()) return Status::User("'metrics' must be a list");
    RETURN_IF_ERROR(ListFromJson(b["metrics"], MetricFromJson, &out.metrics));
  }
  if (b.contains("params")) {
    if (!b["params"].is_array()) return Status::User("'params' must be a list");
    for (const Json& x : b["params"]) {
      if (!x.is_object() || !x.contains("key") || !x["key"].is_string())
        return Status::User("'params' must be a list of {key, value}");
      out.params.push_back({x["key"].get<std::string>(), x.contains("value") && x["value"].is_string()
                                                             ? x["value"].get<std::string>()
                                                             : (x.contains("value") ? x["value"].dump() : "")});
    }
  }
  ASSIGN_OR_RETURN(out.tags, TagsFromJson(b, "tags"));
  return out;
}

Result<LogBatchBody> ReadLogMetric(const Params& p) {
  LogBatchBody out;
  ASSIGN_OR_RETURN(out.run_id, p.RunId());
  ASSIGN_OR_RETURN(meta::Metric m, MetricFromJson(p.body()));
  out.metrics.push_back(std::move(m));
  return out;
}

// ---- the plain readers: from the text -------------------------------------------------------------

namespace {

using Node = JsonNode;

uint32_t Hex4(std::string_view s, size_t at) {
  uint32_t v = 0;
  std::from_chars(s.data() + at, s.data() + at + 4, v, 16);  // JsonDoc checked the four digits
  return v;
}

// A string nlohmann reads as JsonString does: each \u escape of a surrogate is half of a
// pair (nlohmann refuses a lone half, which JsonString would read as U+FFFD).
bool PlainText(std::string_view raw, bool escaped) {
  if (!escaped) return true;
  for (size_t i = 0; i < raw.size(); i++) {
    if (raw[i] != '\\') continue;
    if (raw[++i] != 'u') continue;
    uint32_t cp = Hex4(raw, i + 1);
    i += 4;  // at the escape's last digit
    if (cp >= 0xDC00 && cp < 0xE000) return false;
    if (cp >= 0xD800 && cp < 0xDC00) {
      if (i + 6 >= raw.size() || raw[i + 1] != '\\' || raw[i + 2] != 'u') return false;
      uint32_t low = Hex4(raw, i + 3);
      if (low < 0xDC00 || low >= 0xE000) return false;
      i += 6;
    }
  }
  return true;
}

// A value nlohmann reads without refusing the body: its numbers fit a double (nlohmann
// refuses 1e400; JsonDoc keeps the text) and its strings and keys pair their surrogates.
bool PlainValue(const JsonDoc& doc, const Node& n) {
  double d = 0;
  switch (n.kind) {
    case Node::kNumber: return JsonDouble(n, &d);
    case Node::kString: return PlainText(n.raw, n.escaped);
    case Node::kArray:
    case Node::kObject:
      for (const Node* c = doc.First(n); c; c = doc.Next(*c))  // as deep as CheckJsonText allows
        if (!PlainText(c->key, c->key_escaped) || !PlainValue(doc, *c)) return false;
      return true;
    default: return true;
  }
}

// The members of an object named in `names`, each the last of its name, as nlohmann keeps
// it (or null). False when a key has escapes (it might spell one of the names) or a member
// not kept is one nlohmann would refuse; the kept ones are checked as they are read.
template <size_t N>
bool Members(const JsonDoc& doc, const Node& object, const std::string_view (&names)[N], const Node* (&found)[N]) {
  for (const Node*& f : found) f = nullptr;
  for (const Node* c = doc.First(object); c; c = doc.Next(*c)) {
    if (c->key_escaped) return false;
    size_t i = 0;
    while (i < N && c->key != names[i]) i++;
    if (i == N) {
      if (!PlainValue(doc, *c)) return false;
      continue;
    }
    if (found[i] && !PlainValue(doc, *found[i])) return false;  // a repeated name: the last counts
    found[i] = c;
  }
  return true;
}

// A string field as the tree readers read one: absent or null is "", a string its text.
// Other kinds decline (the tree readers write a number as its text, refuse the rest).
bool PlainStr(const Node* n, std::string* out) {
  if (!n || n->kind == Node::kNull) {
    out->clear();
    return true;
  }
  if (n->kind != Node::kString || !PlainText(n->raw, n->escaped)) return false;
  *out = JsonString(*n);
  return true;
}

// A field that must be a string: absent and null decline (the tree readers refuse them).
bool PlainRequiredStr(const Node* n, std::string* out) {
  return n && n->kind == Node::kString && PlainStr(n, out);
}

// An integer as codec's Int reads one, for what MLflow's clients send: absent or null is 0,
// a number without fraction or exponent, or a string of digits (Java's clients write int64
// as text). What does not fit an int64, and every other kind, declines.
bool PlainInt(const Node* n, int64_t* out) {
  if (!n || n->kind == Node::kNull) {
    *out = 0;
    return true;
  }
  if (n->kind != Node::kNumber && (n->kind != Node::kString || n->escaped)) return false;
  auto r = std::from_chars(n->raw.data(), n->raw.data() + n->raw.size(), *out);
  return r.ec == std::errc() && r.ptr == n->raw.data() + n->raw.size();
}

// A metric value as codec's DoubleFromJson reads one: a number, or the strings MLflow writes
// for NaN and the infinities. An integer is read as one first, as nlohmann does ("-0" is 0).
bool PlainDouble(const Node* n, double* out) {
  if (!n) return false;
  if (n->kind == Node::kNumber) {
    int64_t i = 0;
    auto r = std::from_chars(n->raw.data(), n->raw.data() + n->raw.size(), i);
    if (r.ec == std::errc() && r.ptr == n->raw.data() + n->raw.size()) {
      *out = static_cast<double>(i);
      return true;
    }
    return JsonDouble(*n, out);
  }
  if (n->kind != Node::kString || n->escaped) return false;
  if (n->raw == "NaN" || n->raw == "nan") *out = std::numeric_limits<double>::quiet_NaN();
  else if (n->raw == "Infinity" || n->raw == "inf") *out = std::numeric_limits<double>::infinity();
  else if (n->raw == "-Infinity" || n->raw == "-inf") *out = -std::numeric_limits<double>::infinity();
  else return false;
  return true;
}

// Params::RunId: run_id, or run_uuid when that is empty.
bool PlainRunId(const Node* run_id, const Node* run_uuid, std::string* out) {
  std::string uuid;
  if (!PlainStr(run_id, out) || !PlainStr(run_uuid, &uuid)) return false;
  if (out->empty()) *out = std::move(uuid);
  return !out->empty();
}

// MLflow 3's model_id, dataset_name and dataset_digest are read too: never dropped.
constexpr std::string_view kMetricFields[] = {"key",      "value",        "timestamp",     "step",
                                              "model_id", "dataset_name", "dataset_digest"};

bool PlainMetric(const Node* const (&f)[7], meta::Metric* m) {
  return PlainRequiredStr(f[0], &m->key) && PlainDouble(f[1], &m->value) && PlainInt(f[2], &m->timestamp) &&
         PlainInt(f[3], &m->step) && PlainStr(f[4], &m->model_id) && PlainStr(f[5], &m->dataset_name) &&
         PlainStr(f[6], &m->dataset_digest);
}

bool ReadMetric(const JsonDoc& doc, const Node& n, meta::Metric* m) {
  const Node* f[7];
  return n.kind == Node::kObject && Members(doc, n, kMetricFields, f) && PlainMetric(f, m);
}

constexpr std::string_view kKeyValue[] = {"key", "value"};

// A param's value is a string or absent; the tree reader writes any other as JSON text.
bool ReadParam(const JsonDoc& doc, const Node& n, meta::Param* p) {
  const Node* f[2];
  return n.kind == Node::kObject && Members(doc, n, kKeyValue, f) && PlainRequiredStr(f[0], &p->key) &&
         (!f[1] || f[1]->kind == Node::kString) && PlainStr(f[1], &p->value);
}

bool ReadTag(const JsonDoc& doc, const Node& n, meta::Tag* t) {
  const Node* f[2];
  return n.kind == Node::kObject && Members(doc, n, kKeyValue, f) && PlainRequiredStr(f[0], &t->key) &&
         PlainStr(f[1], &t->value);
}

// A list field: absent is none, and null too where `null_is_none` (tags; the tree reader
// refuses a null list of metrics or params).
template <typename T>
bool ReadList(const JsonDoc& doc, const Node* list, bool null_is_none,
              bool (*read)(const JsonDoc&, const Node&, T*), std::vector<T>* out) {
  if (!list || (null_is_none && list->kind == Node::kNull)) return true;
  if (list->kind != Node::kArray) return false;
  out->resize(list->count);
  T* item = out->data();
  for (const Node* c = doc.First(*list); c; c = doc.Next(*c))
    if (!read(doc, *c, item++)) return false;
  return true;
}

// The thread's document: its nodes are reused from request to request.
JsonDoc& ThreadDoc() {
  thread_local JsonDoc doc;
  return doc;
}

// The body's tree as JsonDoc reads it, when the tree readers would read the same: valid
// UTF-8 and not too deep (limits::CheckJsonText, as ParseJsonText checks first), JSON, an object.
const Node* PlainRoot(std::string_view body, JsonDoc& doc) {
  if (!limits::CheckJsonText(body, "the request body").ok() || !doc.Parse(body).ok()) return nullptr;
  return doc.root().kind == Node::kObject ? &doc.root() : nullptr;
}

}  // namespace

bool ReadPlainLogBatch(std::string_view body, LogBatchBody* out) {
  JsonDoc& doc = ThreadDoc();
  const Node* root = PlainRoot(body, doc);
  static constexpr std::string_view kFields[] = {"run_id", "run_uuid", "metrics", "params", "tags"};
  const Node* f[5];
  return root && Members(doc, *root, kFields, f) && PlainRunId(f[0], f[1], &out->run_id) &&
         ReadList(doc, f[2], false, &ReadMetric, &out->metrics) &&
         ReadList(doc, f[3], false, &ReadParam, &out->params) && ReadList(doc, f[4], true, &ReadTag, &out->tags);
}

bool ReadPlainLogMetric(std::string_view body, LogBatchBody* out) {
  JsonDoc& doc = ThreadDoc();
  const Node* root = PlainRoot(body, doc);
  static constexpr std::string_view kFields[] = {"run_id",   "run_uuid",     "key",           "value", "timestamp",
                                                 "step",     "model_id",     "dataset_name",  "dataset_digest"};
  const Node* f[9];
  if (!root || !Members(doc, *root, kFields, f) || !PlainRunId(f[0], f[1], &out->run_id)) return false;
  out->metrics.resize(1);
  return PlainMetric({f[2], f[3], f[4], f[5], f[6], f[7], f[8]}, &out->metrics[0]);
}

}  // namespace forja::api
