// fuzz-libs: forja_serve
// The model server's request readers: the JSON reader, OIP infer requests (JSON
// and binary, the first line of the input being the Inference-Header-Content-Length
// value), MLflow's /invocations formats and CSV. Invariants: no crash; a parsed
// request checks against a signature without crashing, and what passes the check
// has the rows and bytes its shape says; a response can be encoded from it, and
// its JSON is valid UTF-8.
#include <cstdint>
#include <string>
#include <string_view>

#include "forja/core/utf8.h"
#include "fuzz_check.h"
#include "forja/core/json.h"
#include "forja/serve/protocol.h"

using namespace forja;
using namespace forja::serve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view header = nl == std::string_view::npos ? std::string_view() : in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? in : in.substr(nl + 1);
  static const std::vector<TensorSpec> kSigs[] = {
      {{"features", "FP32", {-1, 3}}},
      {{"a", "INT64", {-1}}, {"b", "BYTES", {-1, 1}}, {"c", "BOOL", {-1, 2}}},
  };
  JsonDoc doc;
  (void)doc.Parse(in);
  InferRequest req;
  if (ParseInferRequest(body, header, doc, &req).ok()) {
    for (const auto& sig : kSigs) {
      std::vector<Tensor> inputs = req.inputs;
      auto rows = CheckInputs(sig, &inputs);
      if (!rows.ok()) continue;
      for (const Tensor& t : inputs) {
        FUZZ_CHECK(t.shape[0] == *rows, t.name);
        size_t es = DatatypeSize(t.datatype);
        if (es) FUZZ_CHECK(t.data.size() == static_cast<size_t>(t.Elements()) * es, t.name);
      }
      InferResponse resp;
      (void)EncodeInferResponse("m", "1", req, inputs, &resp);
      FUZZ_CHECK(resp.header_length <= resp.body.size(), "");
      // The JSON part is UTF-8 whatever the request's names and BYTES held (issue 11).
      std::string_view json = std::string_view(resp.body).substr(0, resp.header_length ? resp.header_length : resp.body.size());
      FUZZ_CHECK(IsValidUtf8(json), "response JSON is not UTF-8");
    }
  }
  for (const char* ct : {"application/json", "text/csv"}) {
    for (const auto& sig : kSigs) {
      std::vector<Tensor> inputs;
      if (!ParseInvocations(ct, in, sig, doc, &inputs).ok()) continue;
      auto rows = CheckInputs(sig, &inputs);
      if (rows.ok()) FUZZ_CHECK(IsValidUtf8(EncodePredictions(inputs)), "predictions JSON is not UTF-8");
    }
  }
  return 0;
}
