#include "forja/serve/protocol.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace forja::serve {

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  AppendShape(&s, shape);
  return s;
}

template <typename T>
void Put(std::string* data, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  data->append(b, sizeof(T));
}

template <typename T>
T Get(const std::string& data, size_t i) {
  T v;
  std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
  return v;
}

// Appends one number in datatype `dt`; false when it does not fit.
bool PutNumber(const std::string& dt, double d, std::string* data) {
  auto integer = [&](double lo, double hi) { return d == std::floor(d) && d >= lo && d <= hi; };
  if (dt == "FP32") Put(data, static_cast<float>(d));
  else if (dt == "FP64") Put(data, d);
  else if (dt == "INT64" && integer(-9.2233720368547758e18, 9.2233720368547748e18)) Put(data, static_cast<int64_t>(d));
  else if (dt == "INT32" && integer(INT32_MIN, INT32_MAX)) Put(data, static_cast<int32_t>(d));
  else if (dt == "INT16" && integer(INT16_MIN, INT16_MAX)) Put(data, static_cast<int16_t>(d));
  else if (dt == "INT8" && integer(INT8_MIN, INT8_MAX)) Put(data, static_cast<int8_t>(d));
  else if (dt == "UINT64" && integer(0, 1.8446744073709550e19)) Put(data, static_cast<uint64_t>(d));
  else if (dt == "UINT32" && integer(0, UINT32_MAX)) Put(data, static_cast<uint32_t>(d));
  else if (dt == "UINT16" && integer(0, UINT16_MAX)) Put(data, static_cast<uint16_t>(d));
  else if (dt == "UINT8" && integer(0, UINT8_MAX)) Put(data, static_cast<uint8_t>(d));
  else if (dt == "BOOL" && (d == 0 || d == 1)) Put(data, static_cast<uint8_t>(d));
  else return false;
  return true;
}

void PutBytes(std::string_view s, std::string* data) {
  Put(data, static_cast<uint32_t>(s.size()));
  data->append(s);
}

// One JSON element into a tensor of datatype dt.
Status PutJson(const JsonNode& n, const std::string& dt, const std::string& input, std::string* data) {
  if (dt == "BYTES") {
    if (n.kind != JsonNode::kString) return Status::User("input '" + input + "': BYTES elements must be strings");
    if (n.escaped) PutBytes(JsonString(n), data);
    else PutBytes(n.raw, data);
    return Status::Ok();
  }
  if (n.kind == JsonNode::kTrue || n.kind == JsonNode::kFalse) {
    if (dt != "BOOL") return Status::User("input '" + input + "': a boolean in " + dt + " data");
    Put(data, static_cast<uint8_t>(n.kind == JsonNode::kTrue));
    return Status::Ok();
  }
  if (n.kind != JsonNode::kNumber)
    return Status::User("input '" + input + "': " + dt + " data must be numbers" +
                        (n.kind == JsonNode::kNull ? " (null is not a number; send NaN as binary data)" : ""));
  const char* b = n.raw.data();
  const char* e = b + n.raw.size();
  if (dt == "FP32") {  // the common case, read straight as float (no double rounding)
    float f = 0;
    auto r = std::from_chars(b, e, f);
    if (r.ec != std::errc() || r.ptr != e) return Status::User("input '" + input + "': " + std::string(n.raw) + " is out of FP32's range");
    Put(data, f);
    return Status::Ok();
  }
  if (dt == "INT64") {
    int64_t v = 0;
    if (!JsonInt(n, &v)) return Status::User("input '" + input + "': " + std::string(n.raw) + " is not an INT64");
    Put(data, v);
    return Status::Ok();
  }
  if (dt == "UINT64") {
    uint64_t v = 0;
    if (!JsonUint(n, &v)) return Status::User("input '" + input + "': " + std::string(n.raw) + " is not a UINT64");
    Put(data, v);
    return Status::Ok();
  }
  if (dt == "FP16") return Status::User("input '" + input + "': send FP16 tensors as binary data");
  double d = 0;
  if (!JsonDouble(n, &d) || !PutNumber(dt, d, data))
    return Status::User("input '" + input + "': " + std::string(n.raw) + " is not a valid " + dt);
  return Status::Ok();
}

// Flattens nested arrays (or takes a scalar) into data; counts the elements.
Status Flatten(const JsonDoc& doc, const JsonNode& n, const std::string& dt, const std::string& input, int depth,
               std::string* data, int64_t* count) {
  if (n.kind != JsonNode::kArray) {
    (*count)++;
    return PutJson(n, dt, input, data);
  }
  if (depth > 32) return Status::User("input '" + input + "': data nested too deep");
  for (const JsonNode* c = doc.First(n); c; c = doc.Next(*c)) RETURN_IF_ERROR(Flatten(doc, *c, dt, input, depth + 1, data, count));
  return Status::Ok();
}

// The shape of a nested list ([[1,2],[3,4]] is [2,2]); ragged lists are an error.
Status NestedShape(const JsonDoc& doc, const JsonNode& n, const std::string& input, std::vector<int64_t>* shape) {
  shape->clear();
  const JsonNode* p = &n;
  while (p && p->kind == JsonNode::kArray) {
    shape->push_back(p->count);
    p = doc.First(*p);
  }
  // Every list at depth k must have shape[k] elements.
  std::vector<const JsonNode*> level{&n};
  for (size_t k = 0; k < shape->size(); k++) {
    std::vector<const JsonNode*> next;
    for (const JsonNode* x : level) {
      if (x->kind != JsonNode::kArray || x->count != static_cast<uint32_t>((*shape)[k]))
        return Status::User("input '" + input + "': the nested lists are ragged (not a tensor)");
      for (const JsonNode* c = doc.First(*x); c; c = doc.Next(*c)) next.push_back(c);
    }
    level.swap(next);
  }
  for (const JsonNode* x : level)
    if (x->kind == JsonNode::kArray) return Status::User("input '" + input + "': the nested lists are ragged (not a tensor)");
  return Status::Ok();
}

bool ParseSize(std::string_view s, size_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Status ParseShape(const JsonDoc& doc, const JsonNode* n, const std::string& input, std::vector<int64_t>* shape) {
  if (!n || n->kind != JsonNode::kArray) return Status::User("input '" + input + "': 'shape' must be a list of sizes");
  shape->clear();
  for (const JsonNode* c = doc.First(*n); c; c = doc.Next(*c)) {
    int64_t d = 0;
    if (!JsonInt(*c, &d) || d < 0 || d > (int64_t{1} << 40))
      return Status::User("input '" + input + "': 'shape' must be a list of sizes");
    shape->push_back(d);
  }
  return Status::Ok();
}

bool ElementsOf(const std::vector<int64_t>& shape, int64_t* n) {
  int64_t e = 1;
  for (int64_t d : shape) {
    if (d != 0 && e > (int64_t{1} << 40) / d) return false;
    e *= d;
  }
  *n = e;
  return true;
}

bool BoolParam(const JsonDoc& doc, const JsonNode* params, std::string_view key, bool* out) {
  const JsonNode* v = params ? doc.Find(*params, key) : nullptr;
  if (!v) return false;
  *out = v->kind == JsonNode::kTrue;
  return true;
}

// Bytes of a BYTES tensor's elements, checked: each a 4-byte length then its bytes.
bool CountBytesElements(std::string_view data, int64_t* count) {
  int64_t n = 0;
  size_t i = 0;
  while (i < data.size()) {
    if (data.size() - i < 4) return false;
    uint32_t len;
    std::memcpy(&len, data.data() + i, 4);
    i += 4;
    if (data.size() - i < len) return false;
    i += len;
    n++;
  }
  *count = n;
  return true;
}

Status ParseInput(const JsonDoc& doc, const JsonNode& in, std::string_view binary, size_t* binary_pos, Tensor* t) {
  if (in.kind != JsonNode::kObject) return Status::User("each of 'inputs' must be an object");
  const JsonNode* name = doc.Find(in, "name");
  if (!name || name->kind != JsonNode::kString) return Status::User("an input has no 'name'");
  t->name = JsonString(*name);
  const JsonNode* dt = doc.Find(in, "datatype");
  if (!dt || dt->kind != JsonNode::kString) return Status::User("input '" + t->name + "': no 'datatype'");
  t->datatype = JsonString(*dt);
  if (t->datatype != "BYTES" && DatatypeSize(t->datatype) == 0)
    return Status::User("input '" + t->name + "': unknown datatype '" + t->datatype + "'");
  RETURN_IF_ERROR(ParseShape(doc, doc.Find(in, "shape"), t->name, &t->shape));
  int64_t elements = 0;
  if (!ElementsOf(t->shape, &elements)) return Status::User("input '" + t->name + "': shape " + ShapeText(t->shape) + " is too large");
  t->data.clear();
  const JsonNode* params = doc.Find(in, "parameters");
  const JsonNode* bsize = params ? doc.Find(*params, "binary_data_size") : nullptr;
  if (bsize) {
    size_t size = 0;
    uint64_t u = 0;
    if (!JsonUint(*bsize, &u)) return Status::User("input '" + t->name + "': binary_data_size must be a size");
    size = static_cast<size_t>(u);
    if (size > binary.size() - *binary_pos)
      return Status::User("input '" + t->name + "': binary_data_size " + std::to_string(size) + " is more than the " +
                          std::to_string(binary.size() - *binary_pos) + " bytes left in the body");
    t->data.assign(binary.substr(*binary_pos, size));
    *binary_pos += size;
    int64_t got = 0;
    if (t->datatype == "BYTES") {
      if (!CountBytesElements(t->data, &got)) return Status::User("input '" + t->name + "': malformed BYTES binary data");
    } else {
      size_t es = DatatypeSize(t->datatype);
      if (t->data.size() % es) return Status::User("input '" + t->name + "': binary_data_size is not a multiple of " + std::to_string(es));
      got = static_cast<int64_t>(t->data.size() / es);
    }
    if (got != elements)
      return Status::User("input '" + t->name + "': shape " + ShapeText(t->shape) + " has " + std::to_string(elements) +
                          " elements but the binary data has " + std::to_string(got));
    return Status::Ok();
  }
  const JsonNode* data = doc.Find(in, "data");
  if (!data) return Status::User("input '" + t->name + "': no 'data' (nor parameters.binary_data_size)");
  size_t es = DatatypeSize(t->datatype);
  if (es) t->data.reserve(static_cast<size_t>(elements) * es);
  int64_t got = 0;
  RETURN_IF_ERROR(Flatten(doc, *data, t->datatype, t->name, 0, &t->data, &got));
  if (got != elements)
    return Status::User("input '" + t->name + "': shape " + ShapeText(t->shape) + " has " + std::to_string(elements) +
                        " elements but 'data' has " + std::to_string(got));
  return Status::Ok();
}

}  // namespace

void AppendShape(std::string* out, const std::vector<int64_t>& shape) {
  out->push_back('[');
  char buf[24];
  for (size_t i = 0; i < shape.size(); i++) {
    if (i) out->push_back(',');
    auto r = std::to_chars(buf, buf + sizeof buf, shape[i]);
    out->append(buf, r.ptr);
  }
  out->push_back(']');
}

Status ParseInferRequest(std::string_view body, std::string_view header_length, JsonDoc& doc, InferRequest* req) {
  std::string_view json = body, binary;
  if (!header_length.empty()) {
    size_t n = 0;
    if (!ParseSize(header_length, &n) || n > body.size())
      return Status::User("Inference-Header-Content-Length " + std::string(header_length) + " is not a length within the " +
                          std::to_string(body.size()) + "-byte body");
    json = body.substr(0, n);
    binary = body.substr(n);
  }
  RETURN_IF_ERROR(doc.Parse(json));
  const JsonNode& root = doc.root();
  if (root.kind != JsonNode::kObject) return Status::User("the request must be a JSON object");
  req->id.clear();
  if (const JsonNode* id = doc.Find(root, "id")) {
    if (id->kind != JsonNode::kString) return Status::User("'id' must be a string");
    req->id = JsonString(*id);
  }
  const JsonNode* inputs = doc.Find(root, "inputs");
  if (!inputs || inputs->kind != JsonNode::kArray || inputs->count == 0)
    return Status::User("'inputs' must be a non-empty list of tensors");
  req->inputs.resize(inputs->count);
  size_t pos = 0, i = 0;
  for (const JsonNode* in = doc.First(*inputs); in; in = doc.Next(*in))
    RETURN_IF_ERROR(ParseInput(doc, *in, binary, &pos, &req->inputs[i++]));
  if (pos != binary.size())
    return Status::User(std::to_string(binary.size() - pos) + " bytes of binary data after the last input's");
  req->binary_output = false;
  BoolParam(doc, doc.Find(root, "parameters"), "binary_data_output", &req->binary_output);
  req->outputs.clear();
  if (const JsonNode* outs = doc.Find(root, "outputs")) {
    if (outs->kind != JsonNode::kArray) return Status::User("'outputs' must be a list");
    for (const JsonNode* o = doc.First(*outs); o; o = doc.Next(*o)) {
      const JsonNode* name = o->kind == JsonNode::kObject ? doc.Find(*o, "name") : nullptr;
      if (!name || name->kind != JsonNode::kString) return Status::User("each of 'outputs' needs a 'name'");
      RequestedOutput ro{JsonString(*name), req->binary_output};
      BoolParam(doc, doc.Find(*o, "parameters"), "binary_data", &ro.binary);
      req->outputs.push_back(std::move(ro));
    }
  }
  return Status::Ok();
}

Result<int64_t> CheckInputs(const std::vector<TensorSpec>& signature, std::vector<Tensor>* inputs) {
  for (const Tensor& t : *inputs) {
    bool known = false;
    for (const TensorSpec& s : signature) known |= s.name == t.name;
    if (!known) {
      std::string names;
      for (const TensorSpec& s : signature) names += (names.empty() ? "'" : ", '") + s.name + "'";
      return Status::User("unknown input '" + t.name + "'; the model takes " + names);
    }
  }
  if (inputs->size() > signature.size()) return Status::User("an input is given twice");
  std::vector<Tensor> ordered(signature.size());
  int64_t rows = -1;
  for (size_t i = 0; i < signature.size(); i++) {
    const TensorSpec& s = signature[i];
    Tensor* t = nullptr;
    for (Tensor& x : *inputs)
      if (x.name == s.name) {
        if (t) return Status::User("input '" + s.name + "' is given twice");
        t = &x;
      }
    if (!t) return Status::User("missing input '" + s.name + "' (" + s.datatype + " " + ShapeText(s.shape) + ")");
    if (t->datatype != s.datatype)
      return Status::User("input '" + s.name + "': datatype " + t->datatype + ", but the model takes " + s.datatype);
    bool match = t->shape.size() == s.shape.size() && !t->shape.empty();
    for (size_t k = 0; match && k < s.shape.size(); k++) match = s.shape[k] < 0 || s.shape[k] == t->shape[k];
    if (!match)
      return Status::User("input '" + s.name + "': shape " + ShapeText(t->shape) + ", but the model takes " + ShapeText(s.shape));
    if (rows >= 0 && t->shape[0] != rows)
      return Status::User("input '" + s.name + "' has " + std::to_string(t->shape[0]) + " rows, the others " + std::to_string(rows));
    rows = t->shape[0];
    if (s.datatype == "FP32") {
      for (size_t k = 0, n = t->data.size() / 4; k < n; k++)
        if (std::isinf(Get<float>(t->data, k)))
          return Status::User("input '" + s.name + "': element " + std::to_string(k) + " is infinite (NaN is a missing value; infinity is refused)");
    } else if (s.datatype == "FP64") {
      for (size_t k = 0, n = t->data.size() / 8; k < n; k++)
        if (std::isinf(Get<double>(t->data, k)))
          return Status::User("input '" + s.name + "': element " + std::to_string(k) + " is infinite (NaN is a missing value; infinity is refused)");
    }
    ordered[i] = std::move(*t);
  }
  inputs->swap(ordered);
  return rows;
}

void AppendTensorJson(std::string* out, const Tensor& t, bool flat) {
  int64_t n = t.Elements();
  // Elements per innermost list, and at which counts lists open and close.
  std::vector<int64_t> strides;
  if (!flat && t.shape.size() > 1) {
    int64_t s = 1;
    for (size_t k = t.shape.size(); k-- > 1;) {
      s *= t.shape[k];
      strides.push_back(s);
    }
  }
  auto opens = [&](int64_t i) {
    int c = 0;
    for (int64_t s : strides)
      if (s > 0 && i % s == 0) c++;
    return c;
  };
  out->push_back('[');
  const std::string& dt = t.datatype;
  size_t bpos = 0;
  char buf[32];
  for (int64_t i = 0; i < n; i++) {
    if (i) {
      for (int c = opens(i); c > 0; c--) out->push_back(']');
      out->push_back(',');
    }
    for (int c = opens(i); c > 0; c--) out->push_back('[');
    size_t k = static_cast<size_t>(i);
    if (dt == "FP32") AppendFloat(out, Get<float>(t.data, k));
    else if (dt == "FP64") AppendDouble(out, Get<double>(t.data, k));
    else if (dt == "BOOL") out->append(t.data[k] ? "true" : "false");
    else if (dt == "BYTES") {
      uint32_t len = 0;
      if (bpos + 4 <= t.data.size()) std::memcpy(&len, t.data.data() + bpos, 4);
      bpos += 4;
      AppendJsonString(out, std::string_view(t.data).substr(std::min(bpos, t.data.size()), len));
      bpos += len;
    } else {
      int64_t v = 0;
      uint64_t u = 0;
      bool is_unsigned = dt == "UINT64";
      if (dt == "INT64") v = Get<int64_t>(t.data, k);
      else if (dt == "INT32") v = Get<int32_t>(t.data, k);
      else if (dt == "INT16") v = Get<int16_t>(t.data, k);
      else if (dt == "INT8") v = Get<int8_t>(t.data, k);
      else if (dt == "UINT32") v = Get<uint32_t>(t.data, k);
      else if (dt == "UINT16") v = Get<uint16_t>(t.data, k);
      else if (dt == "UINT8") v = Get<uint8_t>(t.data, k);
      else if (is_unsigned) u = Get<uint64_t>(t.data, k);
      auto r = is_unsigned ? std::to_chars(buf, buf + sizeof buf, u) : std::to_chars(buf, buf + sizeof buf, v);
      out->append(buf, r.ptr);
    }
  }
  if (n > 0)
    for (size_t c = 0; c < strides.size(); c++) out->push_back(']');
  out->push_back(']');
}

Status EncodeInferResponse(const std::string& model, const std::string& version, const InferRequest& req,
                           const std::vector<Tensor>& outputs, InferResponse* out) {
  // Which outputs, and which of them binary.
  std::vector<std::pair<const Tensor*, bool>> chosen;
  if (req.outputs.empty()) {
    for (const Tensor& t : outputs) chosen.push_back({&t, req.binary_output});
  } else {
    for (const RequestedOutput& ro : req.outputs) {
      const Tensor* t = nullptr;
      for (const Tensor& x : outputs)
        if (x.name == ro.name) t = &x;
      if (!t) return Status::User("unknown output '" + ro.name + "'");
      chosen.push_back({t, ro.binary});
    }
  }
  std::string& b = out->body;
  b.clear();
  b.append("{\"model_name\":");
  AppendJsonString(&b, model);
  b.append(",\"model_version\":");
  AppendJsonString(&b, version);
  if (!req.id.empty()) {
    b.append(",\"id\":");
    AppendJsonString(&b, req.id);
  }
  b.append(",\"outputs\":[");
  bool any_binary = false;
  for (size_t i = 0; i < chosen.size(); i++) {
    const Tensor& t = *chosen[i].first;
    if (i) b.push_back(',');
    b.append("{\"name\":");
    AppendJsonString(&b, t.name);
    b.append(",\"datatype\":\"").append(t.datatype).append("\",\"shape\":");
    AppendShape(&b, t.shape);
    if (chosen[i].second) {
      any_binary = true;
      b.append(",\"parameters\":{\"binary_data_size\":").append(std::to_string(t.data.size())).append("}}");
    } else {
      b.append(",\"data\":");
      AppendTensorJson(&b, t, /*flat=*/true);
      b.push_back('}');
    }
  }
  b.append("]}");
  out->header_length = 0;
  if (any_binary) {
    out->header_length = b.size();
    for (const auto& [t, binary] : chosen)
      if (binary) b.append(t->data);
  }
  return Status::Ok();
}

// ---- MLflow ----

namespace {

// A table of cells read from any of MLflow's formats, before it becomes tensors.
struct Cell {
  const JsonNode* json = nullptr;  // JSON formats
  std::string_view text;           // CSV
};

struct Table {
  std::vector<std::string> columns;  // may be empty (no names)
  std::vector<Cell> cells;           // row-major
  int64_t rows = 0, cols = 0;
};

Status PutCell(const Cell& c, const std::string& dt, const std::string& input, std::string* data) {
  if (c.json) {
    if (c.json->kind == JsonNode::kNull && (dt == "FP32" || dt == "FP64")) {  // a missing value
      if (dt == "FP32") Put(data, std::numeric_limits<float>::quiet_NaN());
      else Put(data, std::numeric_limits<double>::quiet_NaN());
      return Status::Ok();
    }
    return PutJson(*c.json, dt, input, data);
  }
  std::string_view s = c.text;
  if (dt == "BYTES") {
    PutBytes(s, data);
    return Status::Ok();
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  double d = std::numeric_limits<double>::quiet_NaN();
  if (!s.empty()) {
    if (s == "true" || s == "True") d = 1;
    else if (s == "false" || s == "False") d = 0;
    else {
      auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size())
        return Status::User("input '" + input + "': '" + std::string(s) + "' is not a number");
    }
  } else if (dt != "FP32" && dt != "FP64") {
    return Status::User("input '" + input + "': an empty value in " + dt + " data");
  }
  if (!PutNumber(dt, d, data)) return Status::User("input '" + input + "': " + std::string(s) + " is not a valid " + dt);
  return Status::Ok();
}

// Turns a table into the signature's tensors: one 2-D input takes every column in
// order; several inputs take their columns by name.
Status TableToTensors(const Table& t, const std::vector<TensorSpec>& sig, std::vector<Tensor>* inputs) {
  inputs->clear();
  if (t.rows == 0) return Status::User("no rows to score");
  if (sig.size() == 1 && !(sig[0].shape.size() == 1 && t.cols > 1 && !t.columns.empty())) {
    const TensorSpec& s = sig[0];
    int64_t width = s.shape.size() >= 2 ? s.shape[1] : 1;
    if (s.shape.size() > 2) return Status::User("input '" + s.name + "' has rank " + std::to_string(s.shape.size()) + ": send it with the inputs format as a tensor");
    if (width >= 0 && t.cols != width)
      return Status::User("input '" + s.name + "' takes " + std::to_string(width) + " columns, the request has " + std::to_string(t.cols));
    Tensor x;
    x.name = s.name;
    x.datatype = s.datatype;
    x.shape = s.shape.size() >= 2 ? std::vector<int64_t>{t.rows, t.cols} : std::vector<int64_t>{t.rows};
    if (s.shape.size() < 2 && t.cols != 1)
      return Status::User("input '" + s.name + "' takes one column, the request has " + std::to_string(t.cols));
    size_t es = DatatypeSize(s.datatype);
    if (es) x.data.reserve(t.cells.size() * es);
    for (const Cell& c : t.cells) RETURN_IF_ERROR(PutCell(c, s.datatype, s.name, &x.data));
    inputs->push_back(std::move(x));
    return Status::Ok();
  }
  if (t.columns.empty()) return Status::User("the model has several inputs: name the columns");
  for (const TensorSpec& s : sig) {
    int64_t col = -1;
    for (size_t j = 0; j < t.columns.size(); j++)
      if (t.columns[j] == s.name) col = static_cast<int64_t>(j);
    if (col < 0) return Status::User("missing input column '" + s.name + "'");
    if (s.shape.size() > 2 || (s.shape.size() == 2 && s.shape[1] != 1 && s.shape[1] != -1))
      return Status::User("input '" + s.name + "' is not one column: send it with the inputs format as a tensor");
    Tensor x;
    x.name = s.name;
    x.datatype = s.datatype;
    x.shape = s.shape.size() == 2 ? std::vector<int64_t>{t.rows, 1} : std::vector<int64_t>{t.rows};
    for (int64_t r = 0; r < t.rows; r++) RETURN_IF_ERROR(PutCell(t.cells[r * t.cols + col], s.datatype, s.name, &x.data));
    inputs->push_back(std::move(x));
  }
  return Status::Ok();
}

Status RowsToTable(const JsonDoc& doc, const JsonNode& rows, Table* t) {
  for (const JsonNode* r = doc.First(rows); r; r = doc.Next(*r)) {
    int64_t n = 0;
    if (r->kind == JsonNode::kArray) {
      for (const JsonNode* c = doc.First(*r); c; c = doc.Next(*c), n++) t->cells.push_back({c, {}});
    } else {
      t->cells.push_back({r, {}});
      n = 1;
    }
    if (t->rows == 0) t->cols = n;
    else if (n != t->cols) return Status::User("row " + std::to_string(t->rows) + " has " + std::to_string(n) + " values, the first " + std::to_string(t->cols));
    t->rows++;
  }
  return Status::Ok();
}

Status RecordsToTable(const JsonDoc& doc, const JsonNode& records, Table* t) {
  for (const JsonNode* r = doc.First(records); r; r = doc.Next(*r)) {
    if (r->kind != JsonNode::kObject) return Status::User("record " + std::to_string(t->rows) + " is not an object");
    if (t->rows == 0) {
      for (const JsonNode* c = doc.First(*r); c; c = doc.Next(*c)) t->columns.push_back(JsonKey(*c));
      t->cols = static_cast<int64_t>(t->columns.size());
    }
    // Columns by name: records may list keys in any order.
    for (const std::string& col : t->columns) {
      const JsonNode* v = doc.Find(*r, col);
      if (!v) return Status::User("record " + std::to_string(t->rows) + " has no '" + col + "'");
      t->cells.push_back({v, {}});
    }
    t->rows++;
  }
  return Status::Ok();
}

// "instances" or "inputs": a list of rows, a list of records, or an object of tensors by input name.
Status TensorsFromValue(const JsonDoc& doc, const JsonNode& v, const std::vector<TensorSpec>& sig, std::vector<Tensor>* inputs) {
  if (v.kind == JsonNode::kArray) {
    Table t;
    const JsonNode* first = doc.First(v);
    if (first && first->kind == JsonNode::kObject) RETURN_IF_ERROR(RecordsToTable(doc, v, &t));
    else if (sig.size() == 1 && sig[0].shape.size() == 2 && first && first->kind != JsonNode::kArray &&
             sig[0].shape[1] == static_cast<int64_t>(v.count)) {
      // One row given flat: [1, 2, 3] for a [-1, 3] input.
      Table one;
      one.rows = 1;
      for (const JsonNode* c = doc.First(v); c; c = doc.Next(*c)) one.cells.push_back({c, {}});
      one.cols = static_cast<int64_t>(one.cells.size());
      return TableToTensors(one, sig, inputs);
    } else {
      RETURN_IF_ERROR(RowsToTable(doc, v, &t));
    }
    return TableToTensors(t, sig, inputs);
  }
  if (v.kind != JsonNode::kObject) return Status::User("'instances' / 'inputs' must be a list or an object");
  inputs->clear();
  for (const JsonNode* c = doc.First(v); c; c = doc.Next(*c)) {
    Tensor x;
    x.name = JsonKey(*c);
    const TensorSpec* s = nullptr;
    for (const TensorSpec& e : sig)
      if (e.name == x.name) s = &e;
    if (!s) return Status::User("unknown input '" + x.name + "'");
    x.datatype = s->datatype;
    RETURN_IF_ERROR(NestedShape(doc, *c, x.name, &x.shape));
    if (x.shape.size() + 1 == s->shape.size()) x.shape.push_back(1);  // [1,2,3] for a [-1,1] input
    int64_t n = 0;
    RETURN_IF_ERROR(Flatten(doc, *c, x.datatype, x.name, 0, &x.data, &n));
    inputs->push_back(std::move(x));
  }
  return Status::Ok();
}

Status CsvToTable(std::string_view body, Table* t) {
  std::vector<std::string_view> fields;
  bool first_line = true;
  size_t line_no = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    fields.clear();
    for (size_t s = 0;;) {
      size_t c = line.find(',', s);
      std::string_view f = line.substr(s, c == std::string_view::npos ? std::string_view::npos : c - s);
      if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
      fields.push_back(f);
      if (c == std::string_view::npos) break;
      s = c + 1;
    }
    if (first_line) {
      first_line = false;
      // A header unless every field reads as a number.
      bool header = false;
      for (std::string_view f : fields) {
        double d;
        auto r = std::from_chars(f.data(), f.data() + f.size(), d);
        header |= !f.empty() && (r.ec != std::errc() || r.ptr != f.data() + f.size());
      }
      if (header) {
        for (std::string_view f : fields) t->columns.emplace_back(f);
        t->cols = static_cast<int64_t>(fields.size());
        continue;
      }
    }
    if (t->cols == 0) t->cols = static_cast<int64_t>(fields.size());
    if (static_cast<int64_t>(fields.size()) != t->cols)
      return Status::User("CSV line " + std::to_string(line_no) + " has " + std::to_string(fields.size()) + " fields, expected " + std::to_string(t->cols));
    for (std::string_view f : fields) t->cells.push_back({nullptr, f});
    t->rows++;
  }
  return Status::Ok();
}

}  // namespace

Status ParseInvocations(std::string_view content_type, std::string_view body, const std::vector<TensorSpec>& signature,
                        JsonDoc& doc, std::vector<Tensor>* inputs) {
  std::string_view ct = content_type.substr(0, content_type.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  if (ct == "text/csv") {
    Table t;
    RETURN_IF_ERROR(CsvToTable(body, &t));
    return TableToTensors(t, signature, inputs);
  }
  if (!ct.empty() && ct != "application/json")
    return Status::User("content type '" + std::string(ct) + "' is not scored: use application/json or text/csv");
  RETURN_IF_ERROR(doc.Parse(body));
  const JsonNode& root = doc.root();
  if (root.kind != JsonNode::kObject) return Status::User("the request must be a JSON object");
  if (const JsonNode* split = doc.Find(root, "dataframe_split")) {
    if (split->kind != JsonNode::kObject) return Status::User("'dataframe_split' must be an object");
    Table t;
    if (const JsonNode* cols = doc.Find(*split, "columns")) {
      if (cols->kind != JsonNode::kArray) return Status::User("dataframe_split.columns must be a list");
      for (const JsonNode* c = doc.First(*cols); c; c = doc.Next(*c)) {
        if (c->kind != JsonNode::kString) return Status::User("dataframe_split.columns must be strings");
        t.columns.push_back(JsonString(*c));
      }
    }
    const JsonNode* data = doc.Find(*split, "data");
    if (!data || data->kind != JsonNode::kArray) return Status::User("dataframe_split.data must be a list of rows");
    RETURN_IF_ERROR(RowsToTable(doc, *data, &t));
    if (!t.columns.empty() && t.rows > 0 && static_cast<int64_t>(t.columns.size()) != t.cols)
      return Status::User("dataframe_split has " + std::to_string(t.columns.size()) + " columns but rows of " + std::to_string(t.cols));
    return TableToTensors(t, signature, inputs);
  }
  if (const JsonNode* records = doc.Find(root, "dataframe_records")) {
    if (records->kind != JsonNode::kArray) return Status::User("'dataframe_records' must be a list of objects");
    Table t;
    RETURN_IF_ERROR(RecordsToTable(doc, *records, &t));
    return TableToTensors(t, signature, inputs);
  }
  for (const char* key : {"instances", "inputs"})
    if (const JsonNode* v = doc.Find(root, key)) return TensorsFromValue(doc, *v, signature, inputs);
  return Status::User("the request needs one of dataframe_split, dataframe_records, instances or inputs");
}

std::string EncodePredictions(const std::vector<Tensor>& outputs) {
  std::string b = "{\"predictions\":";
  if (outputs.size() == 1) {
    AppendTensorJson(&b, outputs[0], outputs[0].shape.size() <= 1);
  } else {
    b.push_back('{');
    for (size_t i = 0; i < outputs.size(); i++) {
      if (i) b.push_back(',');
      AppendJsonString(&b, outputs[i].name);
      b.push_back(':');
      AppendTensorJson(&b, outputs[i], outputs[i].shape.size() <= 1);
    }
    b.push_back('}');
  }
  b.push_back('}');
  return b;
}

}  // namespace forja::serve
