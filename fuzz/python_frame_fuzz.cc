// fuzz-libs: forja_runtime
// Fuzzes the decoding of a python worker's replies (runtime/python_frame.h):
// the bytes come from a process running user code, so they are untrusted.
//
// Input: one reply body (without the 8-byte length header).
//
// Invariants, beyond "no crash":
//  - a failure is Status::Internal;
//  - a decoded 'O' reply's tensors have known datatypes and data that fits
//    their shape (CheckTensorData), and encoding them again and decoding that
//    gives the same tensors (the encoder and the decoder agree on the padding).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/runtime/python_frame.h"
#include "fuzz_check.h"

using forja::runtime::CheckTensorData;
using forja::runtime::DecodeReply;
using forja::runtime::kFrameHeaderSize;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto reply = DecodeReply(body);
  if (!reply.ok()) {
    FUZZ_CHECK(reply.status().code() == forja::Code::kInternal, reply.status().message());
    return 0;
  }
  FUZZ_CHECK(reply->kind == 'O' || reply->kind == 'R' || reply->kind == 'E', forja::fuzz::Show(body));
  if (reply->kind != 'O') return 0;
  std::vector<const forja::Tensor*> tensors;
  for (const forja::Tensor& t : reply->tensors) {
    FUZZ_CHECK(CheckTensorData(t).empty(), t.name);
    tensors.push_back(&t);
  }
  std::string again = forja::runtime::EncodePredictFrame(tensors);
  again[kFrameHeaderSize] = 'O';
  auto twice = DecodeReply(std::string_view(again).substr(kFrameHeaderSize));
  FUZZ_CHECK(twice.ok(), twice.status().message());
  FUZZ_CHECK(twice->tensors.size() == reply->tensors.size(), "");
  for (size_t i = 0; i < tensors.size(); i++) {
    const forja::Tensor &a = reply->tensors[i], &b = twice->tensors[i];
    FUZZ_CHECK(a.name == b.name && a.datatype == b.datatype && a.shape == b.shape && a.data == b.data, a.name);
  }
  return 0;
}
