// The Open Inference Protocol over gRPC (proto/inference.proto's GRPCInferenceService) on
// cfg.grpc_port: gRPC's wire format (HTTP/2, length-prefixed protobuf messages, the status in
// trailers) served by forja's own event loops (net's HTTP/2 mode, h2_session.h), not by
// grpc++'s server, which cost ~25 us of CPU per call against REST's ~9 us here
// (docs/architecture.md). ModelInfer turns the message into the same InferRequest the REST
// decoder makes (grpc_convert.h) and hands it to Admit (infer.cc): the same signature checks,
// limits, shadow copy, batcher, prediction log, drift window and per-version counts as REST.
// The answer leaves from the batcher's thread (GrpcAnswer) through the call's Responder. What
// REST sends as headers goes out as initial metadata: x-request-id and forja-model-version.
#include <google/protobuf/arena.h>
#include <google/protobuf/message_lite.h>

#include <atomic>
#include <chrono>

#include "forja/core/log.h"
#include "forja/serve/grpc_convert.h"
#include "forja/serve/proto/inference.pb.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

// A ModelInfer call's messages live in its arena: a few blocks instead of an allocation per
// message, field and repeated field, let go of at once with the call. The first block is
// inside the call; the call and the later blocks stay under 1 KiB because glibc's malloc (the
// unit tests'; forja itself links jemalloc) sorts through its free lists (malloc_consolidate)
// before every larger allocation.
struct GrpcCall {
  static google::protobuf::ArenaOptions Options(char* block, size_t size) {
    google::protobuf::ArenaOptions o;
    o.initial_block = block;
    o.initial_block_size = size;
    o.start_block_size = 960;
    o.max_block_size = 960;
    return o;
  }
  alignas(8) char block[640];
  google::protobuf::Arena arena{Options(block, sizeof block)};
  inference::ModelInferRequest& request = *google::protobuf::Arena::CreateMessage<inference::ModelInferRequest>(&arena);
  inference::ModelInferResponse& response = *google::protobuf::Arena::CreateMessage<inference::ModelInferResponse>(&arena);
  bool raw = false;
};
static_assert(sizeof(GrpcCall) < 1000);

namespace {

constexpr const char* kCodeNames[kGrpcCodes] = {
    "OK",          "CANCELLED",         "UNKNOWN",   "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED",    "INTERNAL",  "UNAVAILABLE",      "DATA_LOSS",         "UNAUTHENTICATED"};

enum Code { kOk = 0, kInvalidArgument = 3, kDeadlineExceeded = 4, kNotFound = 5, kResourceExhausted = 8,
            kUnimplemented = 12, kInternal = 13, kUnavailable = 14 };

constexpr std::string_view kPrefix = "/inference.GRPCInferenceService/";
constexpr size_t kFrameHead = 5;  // gRPC's message prefix: compressed flag, 4-byte big-endian length

// The gRPC status for the HTTP status REST answers the same failure with (and for net's own
// refusals: 413 body too large, 431 headers too large, 500 a dropped call).
int CodeFor(int http) {
  switch (http) {
    case 400: return kInvalidArgument;
    case 404: return kNotFound;
    case 408:
    case 504: return kDeadlineExceeded;
    case 413:
    case 429:
    case 431: return kResourceExhausted;
    case 503: return kUnavailable;
    default: return http < 500 ? kInvalidArgument : kInternal;
  }
}

// grpc-message is percent-encoded: every byte outside printable ASCII, and '%' itself.
std::string EncodeMessage(std::string_view m) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(m.size());
  for (unsigned char c : m) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// X-Request-Id's rules (net/http_parser.cc): printable ASCII, at most 128 bytes.
bool SaneId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (unsigned char c : v)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// The call's request id: the x-request-id metadata (net kept it if sane), else the message's
// id, else a new one ("g" and 19 hex digits, unlike HTTP's, so a log line says which front
// end took it).
std::string RequestId(const net::Request& req, const inference::ModelInferRequest& rq) {
  if (!req.request_id.empty()) return req.request_id;
  if (SaneId(rq.id())) return rq.id();
  static std::atomic<uint64_t> next{0};
  static const uint64_t base = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) << 20;
  static const char kHex[] = "0123456789abcdef";
  std::string id(20, 'g');
  uint64_t n = base + next.fetch_add(1, std::memory_order_relaxed);
  for (int i = 19; i >= 1; i--, n >>= 4) id[static_cast<size_t>(i)] = kHex[n & 15];
  return id;
}

// A gRPC answer: HTTP 200 with the message and grpc-status 0 as a trailer, or (a failure)
// the status alone in the header block (Trailers-Only). Counted by code.
net::Response Answer(ModelServer::Impl* s, int code, std::string_view message, const google::protobuf::MessageLite* msg,
                     const std::string& request_id = "", const Version* v = nullptr) {
  net::Response r;
  r.content_type = "application/grpc";
  r.headers.reserve(2);
  r.trailers.reserve(2);
  if (!request_id.empty()) r.headers.emplace_back("x-request-id", request_id);
  if (v != nullptr) r.headers.emplace_back("forja-model-version", v->label);
  if (code == kOk && msg != nullptr) {
    size_t n = msg->ByteSizeLong();
    if (n > UINT32_MAX || !(r.body.resize(kFrameHead + n), msg->SerializeToArray(&r.body[kFrameHead], static_cast<int>(n)))) {
      r.body.clear();
      code = kInternal;
      message = "the answer could not be serialized";
    } else {
      r.body[0] = 0;
      for (int i = 0; i < 4; i++) r.body[static_cast<size_t>(1 + i)] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
    }
  }
  r.trailers.emplace_back("grpc-status", std::to_string(code));
  if (code != kOk) r.trailers.emplace_back("grpc-message", EncodeMessage(message));
  s->grpc_codes[code].fetch_add(1, std::memory_order_relaxed);
  return r;
}

// One gRPC call's way through: the message unframed and decoded, the method run.
class Calls {
 public:
  explicit Calls(ModelServer::Impl* s) : s_(s) {}

  void Handle(net::Request& req, net::Responder res) {
    std::string_view method = req.path;
    if (req.method != "POST" || method.substr(0, kPrefix.size()) != kPrefix) {
      res.Send(Answer(s_, kUnimplemented, "no method " + req.path, nullptr));
      return;
    }
    method.remove_prefix(kPrefix.size());
    std::string_view body;
    if (!Unframe(req.body, &body, &res)) return;
    if (method == "ModelInfer") {
      ModelInfer(req, body, std::move(res));
    } else if (method == "ServerLive") {
      Reply<inference::ServerLiveRequest, inference::ServerLiveResponse>(body, res, [](auto&, auto& r) {
        r.set_live(true);
        return kOk;
      });
    } else if (method == "ServerReady") {
      Reply<inference::ServerReadyRequest, inference::ServerReadyResponse>(body, res, [this](auto&, auto& r) {
        r.set_ready(s_->ready.load());
        return kOk;
      });
    } else if (method == "ServerMetadata") {
      Reply<inference::ServerMetadataRequest, inference::ServerMetadataResponse>(body, res, [](auto&, auto& r) {
        r.set_name("forja");
        r.set_version(FORJA_VERSION);
        return kOk;
      });
    } else if (method == "ModelReady") {
      ModelReady(body, res);
    } else if (method == "ModelMetadata") {
      ModelMetadata(body, res);
    } else {
      res.Send(Answer(s_, kUnimplemented, "no method " + req.path, nullptr));
    }
  }

 private:
  // The one message of a unary call. False: answered (a bad frame).
  bool Unframe(const std::string& in, std::string_view* msg, net::Responder* res) {
    if (in.size() < kFrameHead) {
      res->Send(Answer(s_, kInvalidArgument, "the request holds no gRPC message", nullptr));
      return false;
    }
    auto* b = reinterpret_cast<const unsigned char*>(in.data());
    uint64_t length = (uint64_t{b[1]} << 24) | (uint64_t{b[2]} << 16) | (uint64_t{b[3]} << 8) | b[4];
    if (length > s_->cfg.max_body_bytes) {
      res->Send(Answer(s_, kResourceExhausted,
                       "the message is " + std::to_string(length) + " bytes; the limit is " +
                           std::to_string(s_->cfg.max_body_bytes),
                       nullptr));
      return false;
    }
    if (b[0] != 0) {
      res->Send(Answer(s_, kUnimplemented, "compressed messages are not accepted", nullptr));
      return false;
    }
    if (in.size() != kFrameHead + length) {
      res->Send(Answer(s_, kInvalidArgument, "a unary call must carry exactly one whole message", nullptr));
      return false;
    }
    *msg = std::string_view(in).substr(kFrameHead);
    return true;
  }

  template <typename Rq, typename Rs, typename Fn>
  void Reply(std::string_view body, net::Responder& res, Fn fn) {
    Rq q;
    Rs r;
    if (!q.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      res.Send(Answer(s_, kInvalidArgument, "the message is not a " + q.GetTypeName(), nullptr));
      return;
    }
    int code = fn(q, r);
    res.Send(Answer(s_, code, "", &r));
  }

  // The version a metadata or readiness call names, as REST's routes pick it. Empty: found.
  std::string Lookup(const std::string& name, const std::string& version, std::shared_ptr<Version>* v) {
    Served* s = s_->Find(name);
    if (!s) return "model '" + name + "' is not served";
    *v = s_->Pick(*s, version);
    if (!*v) return "model '" + name + "' has no version " + version;
    return "";
  }

  void ModelReady(std::string_view body, net::Responder& res) {
    inference::ModelReadyRequest q;
    if (!q.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      res.Send(Answer(s_, kInvalidArgument, "the message is not a ModelReadyRequest", nullptr));
      return;
    }
    std::shared_ptr<Version> v;
    if (std::string err = Lookup(q.name(), q.version(), &v); !err.empty()) {
      res.Send(Answer(s_, kNotFound, err, nullptr));
      return;
    }
    inference::ModelReadyResponse r;
    r.set_ready(s_->ready.load());
    res.Send(Answer(s_, kOk, "", &r));
  }

  static void AddSpecs(const std::vector<TensorSpec>& specs,
                       google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>* out) {
    for (const TensorSpec& t : specs) {
      auto* m = out->Add();
      m->set_name(t.name);
      m->set_datatype(t.datatype);
      for (int64_t d : t.shape) m->add_shape(d);
    }
  }

  void ModelMetadata(std::string_view body, net::Responder& res) {
    inference::ModelMetadataRequest q;
    if (!q.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      res.Send(Answer(s_, kInvalidArgument, "the message is not a ModelMetadataRequest", nullptr));
      return;
    }
    std::shared_ptr<Version> v;
    if (std::string err = Lookup(q.name(), q.version(), &v); !err.empty()) {
      res.Send(Answer(s_, kNotFound, err, nullptr));
      return;
    }
    inference::ModelMetadataResponse r;
    r.set_name(q.name());
    if (!q.version().empty()) {
      r.add_versions(q.version());
    } else {
      for (auto& route : s_->Find(q.name())->routes) r.add_versions(route->Get()->version);
    }
    r.set_platform(v->platform);
    AddSpecs(v->inputs, r.mutable_inputs());
    AddSpecs(v->outputs, r.mutable_outputs());
    res.Send(Answer(s_, kOk, "", &r, "", v.get()));
  }

  void ModelInfer(const net::Request& req, std::string_view body, net::Responder res) {
    auto c = std::make_unique<Call>();
    c->server = s_;
    c->start = Clock::now();
    auto g = std::make_unique<GrpcCall>();
    if (!g->request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      s_->unrouted.Count(400);
      res.Send(Answer(s_, kInvalidArgument, "the message is not a ModelInferRequest", nullptr));
      return;
    }
    const inference::ModelInferRequest* q = &g->request;
    c->request_id = RequestId(req, *q);
    c->res = std::move(res);
    c->grpc = g.release();
    Served* s = s_->Find(q->model_name());
    if (!s) {
      s_->Fail(*c, 404, "model '" + q->model_name() + "' is not served");
      return;
    }
    c->served = s;
    c->version = s_->Pick(*s, q->model_version());
    if (!c->version) {
      s_->Fail(*c, 404, "model '" + s->name + "' has no version " + q->model_version());
      return;
    }
    Status st = FromProto(&c->grpc->request, &c->req, &c->grpc->raw);
    c->inputs = std::move(c->req.inputs);
    if (!st.ok()) {
      s_->Fail(*c, 400, st.message());
      return;
    }
    std::string version = q->model_version();  // q dies with the answer, which may come before Admit returns
    s_->Admit(std::move(c), *s, version);
  }

  ModelServer::Impl* s_;
};

// Sends the call's answer and lets go of its message.
void Finish(Call& c, int code, std::string_view message) {
  GrpcCall* g = std::exchange(c.grpc, nullptr);
  c.res.Send(Answer(c.server, code, message, code == kOk ? &g->response : nullptr, c.request_id, c.version.get()));
  delete g;
}

class Frontend final : public GrpcFrontend {
 public:
  Frontend(std::unique_ptr<Calls> calls, std::unique_ptr<net::Server> server)
      : calls_(std::move(calls)), server_(std::move(server)) {}
  ~Frontend() override { Shutdown(0); }
  int port() const override { return server_->port(); }
  // Calls in flight get drain_ms to be answered (their batchers still run); clients are sent
  // a GOAWAY so they start no new call here.
  void Shutdown(int drain_ms) override { server_->Shutdown(drain_ms); }

 private:
  std::unique_ptr<Calls> calls_;
  std::unique_ptr<net::Server> server_;
};

}  // namespace

const char* GrpcCodeName(int code) { return code >= 0 && code < kGrpcCodes ? kCodeNames[code] : "UNKNOWN"; }

void GrpcAnswer(Call& c, const std::vector<Tensor>& outputs) {
  Version& v = *c.version;
  Status st = ToProto(v.name, v.version, c.req, outputs, c.grpc->raw, &c.grpc->response);
  if (!st.ok()) {
    c.server->Fail(c, 400, st.message());
    return;
  }
  v.stats.Count(200);
  v.stats.latency.Observe(Seconds(c.start, Clock::now()));
  Finish(c, kOk, "");
}

void GrpcFail(Call& c, int http_status, const std::string& message) {
  if (http_status >= 500 && http_status != 503)
    LogWarn("gRPC request " + c.request_id + " to " + (c.version ? c.version->label : "?") + ": " + message);
  Finish(c, CodeFor(http_status), message);
}

Result<std::unique_ptr<GrpcFrontend>> StartGrpc(ModelServer::Impl* server) {
  const ServeConfig& cfg = server->cfg;
  auto calls = std::make_unique<Calls>(server);
  net::ServerOptions opts;
  opts.http2 = true;
  opts.host = cfg.host;
  opts.port = cfg.grpc_port;
  opts.io_threads = cfg.io_threads;
  opts.max_header_bytes = cfg.max_header_bytes;
  opts.max_body_bytes = cfg.max_body_bytes + kFrameHead;
  opts.body_timeout_ms = cfg.body_timeout_ms;
  opts.idle_timeout_ms = cfg.idle_timeout_ms;
  // An unknown method is refused before its message is taken in, and a message announced
  // over the limit as soon as its 5-byte prefix arrives.
  opts.on_head = [server](const net::Request& req) {
    net::HeadDecision d;
    std::string_view m = req.path;
    bool known = m.substr(0, kPrefix.size()) == kPrefix;
    m.remove_prefix(known ? kPrefix.size() : 0);
    known = known && (m == "ModelInfer" || m == "ServerLive" || m == "ServerReady" || m == "ServerMetadata" ||
                      m == "ModelReady" || m == "ModelMetadata");
    if (!known) d.refuse = Answer(server, kUnimplemented, "no method " + req.path, nullptr);
    d.length_prefixed = true;  // a message over --max-body-mb is refused from its prefix
    return d;
  };
  // What net refuses itself (a message over the limit, headers over theirs) in gRPC's terms.
  opts.stream_error = [server](int status, std::string_view message) {
    return Answer(server, CodeFor(status), message, nullptr);
  };
  Calls* raw = calls.get();
  auto started = net::Server::Start(opts, [raw](net::Request& req, net::Responder res) { raw->Handle(req, std::move(res)); });
  if (!started.ok()) return Status::User("gRPC port: " + started.status().message());
  return std::unique_ptr<GrpcFrontend>(new Frontend(std::move(calls), std::move(*started)));
}

}  // namespace forja::serve
