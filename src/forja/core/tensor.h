// Named tensors as the Open Inference Protocol has them: a datatype, a shape and
// the raw bytes, row-major and little-endian. The model server, the runtimes and
// the registry's package signatures all speak this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forja {

// A signature entry: what a model takes or gives. A -1 in shape is any size.
struct TensorSpec {
  std::string name;
  std::string datatype;  // BOOL, INT8..INT64, UINT8..UINT64, FP16, FP32, FP64, BYTES
  std::vector<int64_t> shape;
};

struct Tensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  // The elements, packed: for BYTES each element is a 4-byte little-endian length
  // then its bytes (the OIP binary tensor layout).
  std::string data;

  int64_t Elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Bytes per element of a fixed-size datatype; 0 for BYTES or an unknown name.
inline size_t DatatypeSize(const std::string& dt) {
  if (dt == "BOOL" || dt == "INT8" || dt == "UINT8") return 1;
  if (dt == "INT16" || dt == "UINT16" || dt == "FP16") return 2;
  if (dt == "INT32" || dt == "UINT32" || dt == "FP32") return 4;
  if (dt == "INT64" || dt == "UINT64" || dt == "FP64") return 8;
  return 0;
}

}  // namespace forja
