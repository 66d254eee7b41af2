// fuzz-libs: forja_serve forja_serve_grpc
// The gRPC front end's conversion (serve/grpc_convert.h): bytes parsed as a ModelInferRequest
// (what gRPC hands the server), turned into the model server's InferRequest. Invariants: no
// crash; every converted input has exactly the bytes its shape and datatype say (BYTES: that
// many length-prefixed elements); what passes a signature's check converts back into a
// response, raw and typed, with one output per tensor and raw contents equal to the data.
// Built without gRPC (FORJA_NO_GRPC), the target replays nothing.
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_check.h"

#ifndef FORJA_NO_GRPC
#include "forja/serve/grpc_convert.h"
#include "forja/serve/proto/inference.pb.h"

using namespace forja;
using namespace forja::serve;

namespace {

int64_t CountBytes(const std::string& d) {
  int64_t n = 0;
  size_t i = 0;
  while (i < d.size()) {
    FUZZ_CHECK(d.size() - i >= 4, "a truncated BYTES length");
    uint32_t len;
    std::memcpy(&len, d.data() + i, 4);
    i += 4;
    FUZZ_CHECK(d.size() - i >= len, "a BYTES element past the end");
    i += len;
    n++;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest msg;
  if (!msg.ParseFromArray(data, static_cast<int>(size))) return 0;
  InferRequest req;
  bool raw = false;
  if (!FromProto(msg, &req, &raw).ok()) return 0;
  for (const Tensor& t : req.inputs) {
    size_t es = DatatypeSize(t.datatype);
    if (es) FUZZ_CHECK(t.data.size() == static_cast<size_t>(t.Elements()) * es, t.name);
    else FUZZ_CHECK(CountBytes(t.data) == t.Elements(), t.name);
  }
  static const std::vector<TensorSpec> kSigs[] = {
      {{"features", "FP32", {-1, 3}}},
      {{"a", "INT64", {-1}}, {"b", "BYTES", {-1, 1}}, {"c", "BOOL", {-1, 2}}},
  };
  for (const auto& sig : kSigs) {
    std::vector<Tensor> inputs = req.inputs;
    if (!CheckInputs(sig, &inputs).ok()) continue;
    for (bool as_raw : {true, false}) {
      inference::ModelInferResponse out;
      if (!ToProto("m", "1", req, inputs, as_raw, &out).ok()) continue;
      if (as_raw) {
        FUZZ_CHECK(out.raw_output_contents_size() == out.outputs_size(), "one raw entry per output");
        if (req.outputs.empty())
          for (size_t i = 0; i < inputs.size(); i++) FUZZ_CHECK(out.raw_output_contents(static_cast<int>(i)) == inputs[i].data, "raw");
      }
      std::string wire;
      FUZZ_CHECK(out.SerializeToString(&wire), "a response that does not serialize");
    }
  }
  return 0;
}
#else
extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
#endif
