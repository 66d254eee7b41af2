// The Open Inference Protocol's gRPC messages (proto/inference.proto) turned into the model
// server's own infer request (protocol.h's InferRequest, what the REST decoder produces) and
// its outputs turned into a ModelInferResponse. Only the wire format is checked here (a
// datatype's contents field, element counts against the shape, raw contents' byte sizes);
// the signature is checked by CheckInputs, as for REST. Errors are Status::User naming the
// input, answered as INVALID_ARGUMENT. Hostile-input safe: fuzz/serve_grpc_fuzz.cc.
//
// Only grpc.cc and the fuzz target include this; the messages are forward declared so that
// nothing else compiles protobuf's headers.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/tensor.h"
#include "forja/serve/protocol.h"

namespace inference {
class ModelInferRequest;
class ModelInferResponse;
}  // namespace inference

namespace forja::serve {

// Inputs, requested outputs and the request's id. *raw: the inputs came as
// raw_input_contents (the answer then uses raw_output_contents too).
Status FromProto(const inference::ModelInferRequest& in, InferRequest* req, bool* raw);
// The same, moving the raw contents out of `in` instead of copying them.
Status FromProto(inference::ModelInferRequest* in, InferRequest* req, bool* raw);

// The outputs the request asked for (all when it named none; an unknown name is an error),
// as raw_output_contents when `raw`, else as typed contents.
Status ToProto(const std::string& model, const std::string& version, const InferRequest& req,
               const std::vector<Tensor>& outputs, bool raw, inference::ModelInferResponse* out);

}  // namespace forja::serve
