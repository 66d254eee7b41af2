// fuzz-libs: forja_serve forja_serve_grpc forja_net
// The gRPC front end's input path, from the bytes a client sends: HTTP/2 frames through the
// connection's session (net/h2_session.h, nghttp2 underneath) into whole requests, each
// request's gRPC message unframed (the 5-byte prefix) and parsed as a ModelInferRequest, and
// that turned into the model server's InferRequest (serve/grpc_convert.h). Every request
// that comes out is answered (a message and trailers, or Trailers-Only), so the sending side
// runs too. The first byte picks the input's kind: odd, the rest is what a connection
// receives (bit 1: the client preface is put in front, so the fuzzer starts past it; the
// bits above: the size of the reads it arrives in); even, the rest is one gRPC message.
// Invariants: no crash; the session never hands out a request over its body limit; every
// converted input has exactly the bytes its shape and datatype say (BYTES: that many
// length-prefixed elements); what passes a signature's check converts back into a response,
// raw and typed, with one output per tensor and raw contents equal to the data.
// Built without gRPC (FORJA_NO_GRPC), the target replays nothing.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_check.h"

#ifndef FORJA_NO_GRPC
#include "forja/net/h2_session.h"
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

void Convert(const uint8_t* data, size_t size) {
  inference::ModelInferRequest msg;
  if (!msg.ParseFromArray(data, static_cast<int>(size))) return;
  InferRequest req;
  bool raw = false;
  if (!FromProto(msg, &req, &raw).ok()) return;
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
}

constexpr uint64_t kBodyLimit = 1 << 17;  // past the 64 KiB the body budget leaves uncounted

net::Response Trailers(int code) {
  net::Response r;
  r.content_type = "application/grpc";
  r.trailers.emplace_back("grpc-status", std::to_string(code));
  return r;
}

// What a connection receives, in reads of `step` bytes; each request out of the session is
// unframed, converted and answered.
void Connection(std::string_view bytes, size_t step) {
  net::detail::H2Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = kBodyLimit;
  limits.max_concurrent_streams = 8;
  net::detail::BodyBudget budget;
  budget.max = 3 * kBodyLimit / 2;
  limits.budget = &budget;
  net::HeadCheck check = [](const net::Request& req) {
    net::HeadDecision d;
    if (req.path == "/refused") d.refuse = Trailers(12);
    return d;
  };
  auto session = std::make_unique<net::detail::H2Session>(
      limits, check, [](int status, std::string_view) { return Trailers(status == 413 ? 8 : status == 503 ? 14 : 13); });
  std::string out;
  for (size_t at = 0; at < bytes.size(); at += step) {
    bool ok = session->Receive(bytes.substr(at, step));
    for (net::detail::H2Request& r : session->TakeReady()) {
      const std::string& body = r.req.body;
      budget.Release(&r.charged);  // as the server does with the answer
      FUZZ_CHECK(body.size() <= kBodyLimit, "a request over the body limit");
      net::Response answer = Trailers(0);
      if (body.size() >= 5) {
        Convert(reinterpret_cast<const uint8_t*>(body.data()) + 5, body.size() - 5);
        answer.body = body.substr(0, 5 + (body.size() - 5) % 64);  // echoes part of it back
        answer.headers.emplace_back("X-Request-Id", r.req.request_id);
      }
      session->Respond(r.stream, answer);
    }
    FUZZ_CHECK(session->Send(&out), "the session could not send");
    out.clear();
    if (!ok) break;
  }
  session.reset();
  FUZZ_CHECK(budget.used.load() == 0, "body bytes counted against the budget were not given back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    Convert(data + 1, size - 1);
    return 0;
  }
  static const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string bytes = (data[0] & 2) ? kPreface + std::string(rest) : std::string(rest);
  Connection(bytes, 1 + (data[0] >> 2) * 97);
  return 0;
}
#else
extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
#endif
