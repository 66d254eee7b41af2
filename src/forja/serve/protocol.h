// The wire formats of the model server, without sockets: Open Inference Protocol v2
// infer requests and responses (JSON, and the binary tensor data extension that
// tritonclient uses by default), MLflow's /invocations formats (dataframe_split,
// dataframe_records, instances, inputs, CSV), and checking inputs against a
// model's signature. Every error is Status::User with a message naming the field,
// answered as 400.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/json.h"
#include "forja/core/status.h"
#include "forja/core/tensor.h"

namespace forja::serve {

struct RequestedOutput {
  std::string name;
  bool binary = false;
};

struct InferRequest {
  std::string id;  // echoed in the response
  std::vector<Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: all of them
  bool binary_output = false;            // parameters.binary_data_output
  int64_t rows = 0;                      // set by CheckInputs
};

// Parses an infer request. `header_length` is the Inference-Header-Content-Length
// header's value (empty when absent): the JSON is the body's first that many
// bytes, the binary tensors follow.
Status ParseInferRequest(std::string_view body, std::string_view header_length, JsonDoc& doc, InferRequest* req);

// Checks inputs against the signature: every input present once, known, with the
// signature's datatype and rank, fixed dimensions equal, the same number of rows
// (the first dimension) in each, and no infinity in a floating point input (NaN is
// a missing value, which xgboost takes). Reorders `inputs` as the signature
// lists them and returns the number of rows.
Result<int64_t> CheckInputs(const std::vector<TensorSpec>& signature, std::vector<Tensor>* inputs);

struct InferResponse {
  std::string body;
  size_t header_length = 0;  // > 0: binary outputs follow the JSON (Inference-Header-Content-Length)
};

// Encodes outputs as OIP wants them. Outputs the request did not ask for are
// left out; an unknown requested output is an error.
Status EncodeInferResponse(const std::string& model, const std::string& version, const InferRequest& req,
                           const std::vector<Tensor>& outputs, InferResponse* out);

// MLflow's scoring request: JSON (dataframe_split, dataframe_records, instances,
// inputs) or CSV (content type text/csv), turned into the model's input tensors.
Status ParseInvocations(std::string_view content_type, std::string_view body, const std::vector<TensorSpec>& signature,
                        JsonDoc& doc, std::vector<Tensor>* inputs);
// {"predictions": [...]}: a list per row for one output, else an object of lists by output name.
std::string EncodePredictions(const std::vector<Tensor>& outputs);

// Appends a tensor's elements as JSON, nested by its shape ([[1,2],[3,4]]); `flat` for one list.
void AppendTensorJson(std::string* out, const Tensor& t, bool flat);
// Appends a shape as a JSON array.
void AppendShape(std::string* out, const std::vector<int64_t>& shape);

}  // namespace forja::serve
