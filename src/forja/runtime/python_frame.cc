#include "forja/runtime/python_frame.h"

#include <cstring>

namespace forja::runtime {

namespace {

constexpr const char* kDatatypeNames[] = {nullptr, "BOOL",  "UINT8", "UINT16", "UINT32",
                                          "UINT64", "INT8",  "INT16", "INT32",  "INT64",
                                          "FP16",   "FP32",  "FP64",  "BYTES"};
constexpr uint8_t kCodes = sizeof kDatatypeNames / sizeof kDatatypeNames[0];

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); i++) b[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
  out->append(b, sizeof(T));
}

void PutTensor(std::string* out, size_t body_start, const Tensor& t) {
  Put<uint16_t>(out, static_cast<uint16_t>(t.name.size()));
  out->append(t.name);
  Put<uint8_t>(out, DatatypeCode(t.datatype));
  Put<uint8_t>(out, static_cast<uint8_t>(t.shape.size()));
  for (int64_t d : t.shape) Put<int64_t>(out, d);
  Put<uint64_t>(out, t.data.size());
  out->append((8 - (out->size() - body_start) % 8) % 8, '\0');
  out->append(t.data);
}

// Reads the body front to back; any read past the end fails the whole decode.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <typename T>
  bool Get(T* v) {
    if (s_.size() - pos_ < sizeof(T)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); i++) x |= uint64_t{static_cast<uint8_t>(s_[pos_ + i])} << (8 * i);
    *v = static_cast<T>(x);
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(uint64_t n, std::string* out) {
    if (s_.size() - pos_ < n) return false;
    out->assign(s_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool Align8() {
    size_t pad = (8 - pos_ % 8) % 8;
    if (s_.size() - pos_ < pad) return false;
    pos_ += pad;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool GetString(Reader* r, std::string* out) {
  uint32_t n;
  return r->Get(&n) && r->Bytes(n, out);
}

Status GetTensor(Reader* r, Tensor* t) {
  uint16_t name_len;
  uint8_t code, rank;
  if (!r->Get(&name_len) || !r->Bytes(name_len, &t->name) || !r->Get(&code) || !r->Get(&rank)) {
    return Status::Internal("truncated tensor header");
  }
  const char* dt = DatatypeName(code);
  if (dt == nullptr) return Status::Internal("tensor '" + t->name + "' has unknown datatype code " + std::to_string(code));
  t->datatype = dt;
  t->shape.resize(rank);
  for (int64_t& d : t->shape) {
    if (!r->Get(&d)) return Status::Internal("truncated shape of tensor '" + t->name + "'");
  }
  uint64_t size;
  if (!r->Get(&size) || !r->Align8() || !r->Bytes(size, &t->data)) {
    return Status::Internal("truncated data of tensor '" + t->name + "'");
  }
  std::string bad = CheckTensorData(*t);
  if (!bad.empty()) return Status::Internal("tensor '" + t->name + "' " + bad);
  return Status::Ok();
}

}  // namespace

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

uint8_t DatatypeCode(const std::string& datatype) {
  for (uint8_t c = 1; c < kCodes; c++) {
    if (datatype == kDatatypeNames[c]) return c;
  }
  return 0;
}

const char* DatatypeName(uint8_t code) { return code < kCodes ? kDatatypeNames[code] : nullptr; }

std::string FrameHeader(uint64_t size) {
  std::string h;
  Put<uint64_t>(&h, size);
  return h;
}

std::string EncodePredictFrame(const std::vector<const Tensor*>& tensors) {
  size_t size = kFrameHeaderSize + 5;
  for (const Tensor* t : tensors) size += 2 + t->name.size() + 2 + 8 * t->shape.size() + 8 + 7 + t->data.size();
  std::string out;
  out.reserve(size);
  out.append(kFrameHeaderSize, '\0');
  Put<uint8_t>(&out, 'P');
  Put<uint32_t>(&out, static_cast<uint32_t>(tensors.size()));
  for (const Tensor* t : tensors) PutTensor(&out, kFrameHeaderSize, *t);
  out.replace(0, kFrameHeaderSize, FrameHeader(out.size() - kFrameHeaderSize));
  return out;
}

Result<Reply> DecodeReply(std::string_view body) {
  Reader r(body);
  Reply reply;
  uint8_t kind;
  if (!r.Get(&kind)) return Status::Internal("empty reply");
  reply.kind = static_cast<char>(kind);
  if (kind == 'R') {
    if (!GetString(&r, &reply.message)) return Status::Internal("truncated ready reply");
  } else if (kind == 'E') {
    uint8_t cls;
    if (!r.Get(&cls) || !GetString(&r, &reply.message)) return Status::Internal("truncated error reply");
    reply.user_error = cls == 0;
  } else if (kind == 'O') {
    uint32_t count;
    if (!r.Get(&count)) return Status::Internal("truncated outputs reply");
    // Each tensor takes at least 12 bytes: a huge count cannot make us reserve much.
    if (count > body.size() / 12) return Status::Internal("outputs reply claims " + std::to_string(count) + " tensors");
    reply.tensors.resize(count);
    for (Tensor& t : reply.tensors) RETURN_IF_ERROR(GetTensor(&r, &t));
  } else {
    return Status::Internal("unknown reply kind " + std::to_string(kind));
  }
  if (!r.done()) return Status::Internal("trailing bytes after the reply");
  return reply;
}

std::string CheckTensorData(const Tensor& t) {
  uint64_t elements = 1;
  for (int64_t d : t.shape) {
    if (d < 0) return "has a negative dimension in shape " + ShapeString(t.shape);
    if (d != 0 && elements > UINT64_MAX / static_cast<uint64_t>(d)) return "has an impossible shape " + ShapeString(t.shape);
    elements *= static_cast<uint64_t>(d);
  }
  size_t width = DatatypeSize(t.datatype);
  if (width > 0) {
    if (elements > t.data.size() / width || elements * width != t.data.size()) {
      return "has " + std::to_string(t.data.size()) + " bytes, its shape " + ShapeString(t.shape) +
             " of " + t.datatype + " needs " + std::to_string(elements) + " x " + std::to_string(width);
    }
    return "";
  }
  if (t.datatype != "BYTES") return "has unknown datatype '" + t.datatype + "'";
  // BYTES: walk the 4-byte lengths; they must tile the data exactly.
  size_t pos = 0;
  for (uint64_t i = 0; i < elements; i++) {
    if (t.data.size() - pos < 4) return "has " + std::to_string(i) + " BYTES elements, its shape " + ShapeString(t.shape) + " needs " + std::to_string(elements);
    uint32_t n;
    std::memcpy(&n, t.data.data() + pos, 4);  // little-endian hosts only (x86-64, arm64)
    pos += 4;
    if (t.data.size() - pos < n) return "has a BYTES element running past its data";
    pos += n;
  }
  if (pos != t.data.size()) return "has bytes after its " + std::to_string(elements) + " BYTES elements";
  return "";
}

}  // namespace forja::runtime
