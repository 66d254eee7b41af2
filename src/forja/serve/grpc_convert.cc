// proto/inference.proto's ModelInferRequest -> InferRequest, outputs -> ModelInferResponse.
#include "forja/serve/grpc_convert.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "forja/serve/proto/inference.pb.h"

namespace forja::serve {

namespace {

using Contents = inference::InferTensorContents;

template <typename Shape>
std::string ShapeText(const Shape& shape) {
  std::string s = "[";
  for (int64_t d : shape) s += (s.size() > 1 ? "," : "") + std::to_string(d);
  return s + "]";
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

// Elements in a BYTES tensor's packed data (each a 4-byte length then its bytes); false: malformed.
bool CountBytes(const std::string& data, int64_t* count) {
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

// Which contents field a datatype travels in, and how many values each field holds.
const char* FieldOf(const std::string& dt) {
  if (dt == "BOOL") return "bool_contents";
  if (dt == "INT8" || dt == "INT16" || dt == "INT32") return "int_contents";
  if (dt == "INT64") return "int64_contents";
  if (dt == "UINT8" || dt == "UINT16" || dt == "UINT32") return "uint_contents";
  if (dt == "UINT64") return "uint64_contents";
  if (dt == "FP32") return "fp32_contents";
  if (dt == "FP64") return "fp64_contents";
  if (dt == "BYTES") return "bytes_contents";
  return nullptr;  // FP16: raw contents only
}

std::vector<std::pair<const char*, int>> Counts(const Contents& c) {
  return {{"bool_contents", c.bool_contents_size()},   {"int_contents", c.int_contents_size()},
          {"int64_contents", c.int64_contents_size()}, {"uint_contents", c.uint_contents_size()},
          {"uint64_contents", c.uint64_contents_size()}, {"fp32_contents", c.fp32_contents_size()},
          {"fp64_contents", c.fp64_contents_size()},   {"bytes_contents", c.bytes_contents_size()}};
}

// Narrows int_contents / uint_contents into INT8/16/32, UINT8/16/32, range-checked.
template <typename T, typename Src>
Status PutNarrow(const Src& values, const Tensor& t, std::string* data) {
  for (auto v : values) {
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      return Status::User("input '" + t.name + "': " + std::to_string(v) + " is not a valid " + t.datatype);
    Put(data, static_cast<T>(v));
  }
  return Status::Ok();
}

Status TypedInput(const Contents& c, Tensor* t, int64_t elements) {
  const char* field = FieldOf(t->datatype);
  if (!field)
    return Status::User("input '" + t->name + "': " + t->datatype + " has no contents field; send it in raw_input_contents");
  for (auto [name, n] : Counts(c)) {
    if (n == 0 || std::strcmp(name, field) == 0) continue;
    return Status::User("input '" + t->name + "': datatype " + t->datatype + " takes " + field + ", but " + name + " has " +
                        std::to_string(n) + " values");
  }
  const std::string& dt = t->datatype;
  std::string* d = &t->data;
  int64_t got = 0;
  if (dt == "BOOL") {
    got = c.bool_contents_size();
    for (bool b : c.bool_contents()) Put(d, static_cast<uint8_t>(b));
  } else if (dt == "INT8" || dt == "INT16" || dt == "INT32") {
    got = c.int_contents_size();
    if (dt == "INT8") RETURN_IF_ERROR(PutNarrow<int8_t>(c.int_contents(), *t, d));
    else if (dt == "INT16") RETURN_IF_ERROR(PutNarrow<int16_t>(c.int_contents(), *t, d));
    else for (int32_t v : c.int_contents()) Put(d, v);
  } else if (dt == "INT64") {
    got = c.int64_contents_size();
    for (int64_t v : c.int64_contents()) Put(d, v);
  } else if (dt == "UINT8" || dt == "UINT16" || dt == "UINT32") {
    got = c.uint_contents_size();
    if (dt == "UINT8") RETURN_IF_ERROR(PutNarrow<uint8_t>(c.uint_contents(), *t, d));
    else if (dt == "UINT16") RETURN_IF_ERROR(PutNarrow<uint16_t>(c.uint_contents(), *t, d));
    else for (uint32_t v : c.uint_contents()) Put(d, v);
  } else if (dt == "UINT64") {
    got = c.uint64_contents_size();
    for (uint64_t v : c.uint64_contents()) Put(d, v);
  } else if (dt == "FP32") {
    got = c.fp32_contents_size();
    d->resize(static_cast<size_t>(got) * 4);
    if (got) std::memcpy(d->data(), c.fp32_contents().data(), d->size());
  } else if (dt == "FP64") {
    got = c.fp64_contents_size();
    d->resize(static_cast<size_t>(got) * 8);
    if (got) std::memcpy(d->data(), c.fp64_contents().data(), d->size());
  } else {  // BYTES
    got = c.bytes_contents_size();
    for (const std::string& s : c.bytes_contents()) {
      if (s.size() > UINT32_MAX) return Status::User("input '" + t->name + "': an element is larger than 4 GiB");
      Put(d, static_cast<uint32_t>(s.size()));
      d->append(s);
    }
  }
  if (got != elements)
    return Status::User("input '" + t->name + "': shape " + ShapeText(t->shape) + " has " +
                        std::to_string(elements) + " elements but " + field + " has " + std::to_string(got));
  return Status::Ok();
}

// `take` (may be null): `raw` itself, which may be moved out (its message is done with it).
Status RawInput(const std::string& raw, std::string* take, Tensor* t, int64_t elements) {
  int64_t got = 0;
  if (t->datatype == "BYTES") {
    if (!CountBytes(raw, &got))
      return Status::User("input '" + t->name + "': malformed BYTES raw contents (each element a 4-byte length, then its bytes)");
  } else {
    size_t es = DatatypeSize(t->datatype);
    if (raw.size() % es)
      return Status::User("input '" + t->name + "': " + std::to_string(raw.size()) + " bytes of raw contents is not a multiple of " +
                          t->datatype + "'s " + std::to_string(es));
    got = static_cast<int64_t>(raw.size() / es);
  }
  if (got != elements)
    return Status::User("input '" + t->name + "': shape " + ShapeText(t->shape) + " has " +
                        std::to_string(elements) + " elements but its raw contents hold " + std::to_string(got) + " (" +
                        std::to_string(raw.size()) + " bytes)");
  if (take) {
    t->data.swap(*take);
  } else {
    t->data = raw;
  }
  return Status::Ok();
}

Status Input(const inference::ModelInferRequest::InferInputTensor& in, const std::string* raw, std::string* take,
             Tensor* t) {
  t->name = in.name();
  if (t->name.empty()) return Status::User("an input has no name");
  t->datatype = in.datatype();
  if (t->datatype != "BYTES" && DatatypeSize(t->datatype) == 0)
    return Status::User("input '" + t->name + "': unknown datatype '" + t->datatype.substr(0, 64) + "'");
  int64_t elements = 1;
  t->shape.assign(in.shape().begin(), in.shape().end());
  for (int64_t dim : t->shape) {
    if (dim < 0 || dim > (int64_t{1} << 40) || (dim != 0 && elements > (int64_t{1} << 40) / dim))
      return Status::User("input '" + t->name + "': shape " + ShapeText(in.shape()) + " is not a list of sizes within bounds");
    elements *= dim;
  }
  t->data.clear();
  if (raw) {
    if (in.has_contents() && in.contents().ByteSizeLong() > 0)
      return Status::User("input '" + t->name + "': both contents and raw_input_contents; send one");
    return RawInput(*raw, take, t, elements);
  }
  return TypedInput(in.contents(), t, elements);
}

// A BYTES tensor's packed elements, one string each (the data was checked when it was made).
void UnpackBytes(const std::string& data, google::protobuf::RepeatedPtrField<std::string>* out) {
  size_t i = 0;
  while (data.size() - i >= 4) {
    uint32_t len;
    std::memcpy(&len, data.data() + i, 4);
    i += 4;
    if (data.size() - i < len) break;
    out->Add()->assign(data, i, len);
    i += len;
  }
}

void TypedOutput(const Tensor& t, Contents* c) {
  const std::string& dt = t.datatype;
  const std::string& d = t.data;
  size_t es = DatatypeSize(dt);
  size_t n = es ? d.size() / es : 0;
  for (size_t i = 0; i < n; i++) {
    if (dt == "BOOL") c->add_bool_contents(Get<uint8_t>(d, i) != 0);
    else if (dt == "INT8") c->add_int_contents(Get<int8_t>(d, i));
    else if (dt == "INT16") c->add_int_contents(Get<int16_t>(d, i));
    else if (dt == "INT32") c->add_int_contents(Get<int32_t>(d, i));
    else if (dt == "INT64") c->add_int64_contents(Get<int64_t>(d, i));
    else if (dt == "UINT8") c->add_uint_contents(Get<uint8_t>(d, i));
    else if (dt == "UINT16") c->add_uint_contents(Get<uint16_t>(d, i));
    else if (dt == "UINT32") c->add_uint_contents(Get<uint32_t>(d, i));
    else if (dt == "UINT64") c->add_uint64_contents(Get<uint64_t>(d, i));
    else if (dt == "FP32") c->add_fp32_contents(Get<float>(d, i));
    else if (dt == "FP64") c->add_fp64_contents(Get<double>(d, i));
  }
  if (dt == "BYTES") UnpackBytes(d, c->mutable_bytes_contents());
}

}  // namespace

namespace {

// `owner` (may be null): `in` itself, whose raw contents may be moved out.
Status Convert(const inference::ModelInferRequest& in, inference::ModelInferRequest* owner, InferRequest* req, bool* raw) {
  req->id = in.id();
  int n = in.inputs_size();
  if (n == 0) return Status::User("'inputs' must be a non-empty list of tensors");
  *raw = in.raw_input_contents_size() > 0;
  if (*raw && in.raw_input_contents_size() != n)
    return Status::User("raw_input_contents has " + std::to_string(in.raw_input_contents_size()) + " entries for " +
                        std::to_string(n) + " inputs: send one per input, in order, or none");
  req->inputs.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    std::string* take = *raw && owner ? owner->mutable_raw_input_contents(i) : nullptr;
    RETURN_IF_ERROR(Input(in.inputs(i), *raw ? &in.raw_input_contents(i) : nullptr, take,
                          &req->inputs[static_cast<size_t>(i)]));
  }
  req->outputs.clear();
  req->binary_output = *raw;
  for (const auto& o : in.outputs()) {
    if (o.name().empty()) return Status::User("each of 'outputs' needs a name");
    req->outputs.push_back({o.name(), *raw});
  }
  return Status::Ok();
}

}  // namespace

Status FromProto(const inference::ModelInferRequest& in, InferRequest* req, bool* raw) {
  return Convert(in, nullptr, req, raw);
}

// The raw contents' strings are the message's own (heap buffers even on an arena), so they
// can be swapped into the tensors: no copy of the rows, no allocation.
Status FromProto(inference::ModelInferRequest* in, InferRequest* req, bool* raw) {
  return Convert(*in, in, req, raw);
}

Status ToProto(const std::string& model, const std::string& version, const InferRequest& req,
               const std::vector<Tensor>& outputs, bool raw, inference::ModelInferResponse* out) {
  out->set_model_name(model);
  out->set_model_version(version);
  out->set_id(req.id);
  std::vector<const Tensor*> chosen;
  if (req.outputs.empty()) {
    for (const Tensor& t : outputs) chosen.push_back(&t);
  } else {
    for (const RequestedOutput& r : req.outputs) {
      const Tensor* found = nullptr;
      for (const Tensor& t : outputs) found = t.name == r.name ? &t : found;
      if (!found) {
        std::string names;
        for (const Tensor& t : outputs) names += (names.empty() ? "'" : ", '") + t.name + "'";
        return Status::User("unknown output '" + r.name + "'; the model gives " + names);
      }
      chosen.push_back(found);
    }
  }
  for (const Tensor* t : chosen) {
    auto* o = out->add_outputs();
    o->set_name(t->name);
    o->set_datatype(t->datatype);
    for (int64_t d : t->shape) o->add_shape(d);
    if (raw) out->add_raw_output_contents(t->data);
    else TypedOutput(*t, o->mutable_contents());
  }
  return Status::Ok();
}

}  // namespace forja::serve
