// The binary framing between forja and its python workers (python_model.cc),
// over one AF_UNIX stream socket, the worker's fd 3. All integers little-endian.
//
//   frame   = u64 body length, body
//   body    = u8 kind, then by kind:
//     'P' predict (forja -> worker) and 'O' outputs (worker -> forja): u32 count, count x tensor
//     'R' ready (worker -> forja, once, after import and load()): string (a description)
//     'E' error (worker -> forja): u8 class (0: the caller's fault, 1: the model's), string
//   tensor  = u16 name length, name, u8 datatype code, u8 rank, rank x i64 dims,
//             u64 data length, zero padding up to a multiple of 8 from the body's start,
//             data (Tensor::data: packed, BYTES as 4-byte length + bytes per element)
//   string  = u32 length, bytes
//
// The padding lets the worker wrap the data with np.frombuffer aligned.
// The worker's replies are untrusted: DecodeReply checks every length and that
// each tensor's data matches its datatype and shape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/tensor.h"

namespace forja::runtime {

constexpr size_t kFrameHeaderSize = 8;
// No reply may claim more: a garbled length must not make us allocate it.
constexpr uint64_t kMaxFrameBody = uint64_t{4} << 30;

// 1 BOOL, 2..5 UINT8..UINT64, 6..9 INT8..INT64, 10 FP16, 11 FP32, 12 FP64, 13 BYTES; 0 unknown.
uint8_t DatatypeCode(const std::string& datatype);
const char* DatatypeName(uint8_t code);  // nullptr for an unknown code

// The 8 bytes before a body of `size` bytes (also how the bootstrap receives
// the worker's program, python_worker.h).
std::string FrameHeader(uint64_t size);

// The whole 'P' frame, header included. The tensors must have known datatypes.
std::string EncodePredictFrame(const std::vector<const Tensor*>& tensors);

struct Reply {
  char kind = 0;          // 'O', 'R' or 'E'
  bool user_error = false;  // 'E' class 0
  std::string message;    // 'R' and 'E'
  std::vector<Tensor> tensors;  // 'O'
};

// Decodes a reply body (without the 8-byte header).
Result<Reply> DecodeReply(std::string_view body);

// Checks that data holds exactly shape's elements of datatype; "" when it does,
// else what is wrong ("has 12 bytes, its shape [2,3] of FP32 needs 24").
std::string CheckTensorData(const Tensor& t);

std::string ShapeString(const std::vector<int64_t>& shape);  // "[2,3]"

}  // namespace forja::runtime
