// The Open Inference Protocol over gRPC (proto/inference.proto's GRPCInferenceService) on
// cfg.grpc_port, with gRPC's callback API: a handler never blocks a thread. ModelInfer turns
// the message into the same InferRequest the REST decoder makes (grpc_convert.h) and hands it
// to Admit (infer.cc): the same signature checks, limits, shadow copy, batcher, prediction
// log, drift window and per-version counts as REST. The answer leaves from the batcher's
// thread (GrpcAnswer). What REST sends as headers goes out as initial metadata:
// x-request-id and forja-model-version.
#include <grpcpp/grpcpp.h>

#include <climits>
#include <thread>

#include "forja/core/log.h"
#include "forja/serve/grpc_convert.h"
#include "forja/serve/proto/inference.grpc.pb.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

// ModelInfer is registered raw (bytes in, bytes out) so that a message that does not decode is
// INVALID_ARGUMENT, not the UNIMPLEMENTED gRPC's generated handler answers it with.
struct GrpcCall {
  grpc::CallbackServerContext* ctx;
  grpc::ServerUnaryReactor* reactor;
  grpc::ByteBuffer* out;
  inference::ModelInferRequest request;
  inference::ModelInferResponse response;
  bool raw = false;
};

namespace {

constexpr const char* kCodeNames[kGrpcCodes] = {
    "OK",          "CANCELLED",         "UNKNOWN",   "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED",    "INTERNAL",  "UNAVAILABLE",      "DATA_LOSS",         "UNAUTHENTICATED"};

// The gRPC status for the HTTP status REST answers the same failure with.
grpc::StatusCode CodeFor(int http) {
  switch (http) {
    case 400: return grpc::StatusCode::INVALID_ARGUMENT;
    case 404: return grpc::StatusCode::NOT_FOUND;
    case 408:
    case 504: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case 413:
    case 429: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 503: return grpc::StatusCode::UNAVAILABLE;
    default: return http < 500 ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::INTERNAL;
  }
}

// X-Request-Id's rules (net/http_parser.cc): printable ASCII, at most 128 bytes.
bool SaneId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (unsigned char c : v)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// The call's request id: the x-request-id metadata, else the message's id, else a new one
// ("g" and 19 hex digits, unlike HTTP's, so a log line says which front end took it).
std::string RequestId(const grpc::CallbackServerContext& ctx, const inference::ModelInferRequest& rq) {
  const auto& md = ctx.client_metadata();
  if (auto it = md.find("x-request-id"); it != md.end()) {
    std::string_view v(it->second.data(), it->second.size());
    if (SaneId(v)) return std::string(v);
  }
  if (SaneId(rq.id())) return rq.id();
  static std::atomic<uint64_t> next{0};
  static const uint64_t base = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) << 20;
  static const char kHex[] = "0123456789abcdef";
  std::string id(20, 'g');
  uint64_t n = base + next.fetch_add(1, std::memory_order_relaxed);
  for (int i = 19; i >= 1; i--, n >>= 4) id[static_cast<size_t>(i)] = kHex[n & 15];
  return id;
}

using Base = inference::GRPCInferenceService::WithRawCallbackMethod_ModelInfer<inference::GRPCInferenceService::CallbackService>;

class Service final : public Base {
 public:
  explicit Service(ModelServer::Impl* s) : s_(s) {}
  using Base::ModelInfer;  // the typed overloads, never called (the method is raw)

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* r) override {
    r->set_live(true);
    return Done(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* r) override {
    r->set_ready(s_->ready.load());
    return Done(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx, const inference::ModelReadyRequest* q,
                                       inference::ModelReadyResponse* r) override {
    std::shared_ptr<Version> v;
    if (grpc::Status st = Lookup(q->name(), q->version(), &v); !st.ok()) return Done(ctx, st);
    r->set_ready(s_->ready.load());
    return Done(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx, const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* r) override {
    r->set_name("forja");
    r->set_version(FORJA_VERSION);
    return Done(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx, const inference::ModelMetadataRequest* q,
                                          inference::ModelMetadataResponse* r) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                       grpc::ByteBuffer* out) override;

 private:
  grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& st) {
    s_->grpc_codes[st.error_code()].fetch_add(1, std::memory_order_relaxed);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(st);
    return reactor;
  }
  // The version a metadata or readiness call names, as REST's routes pick it.
  grpc::Status Lookup(const std::string& name, const std::string& version, std::shared_ptr<Version>* v) {
    Served* s = s_->Find(name);
    if (!s) return grpc::Status(grpc::StatusCode::NOT_FOUND, "model '" + name + "' is not served");
    *v = s_->Pick(*s, version);
    if (!*v) return grpc::Status(grpc::StatusCode::NOT_FOUND, "model '" + name + "' has no version " + version);
    return grpc::Status::OK;
  }

  ModelServer::Impl* s_;
};

void AddSpecs(const std::vector<TensorSpec>& specs,
              google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>* out) {
  for (const TensorSpec& t : specs) {
    auto* m = out->Add();
    m->set_name(t.name);
    m->set_datatype(t.datatype);
    for (int64_t d : t.shape) m->add_shape(d);
  }
}

grpc::ServerUnaryReactor* Service::ModelMetadata(grpc::CallbackServerContext* ctx, const inference::ModelMetadataRequest* q,
                                                 inference::ModelMetadataResponse* r) {
  std::shared_ptr<Version> v;
  if (grpc::Status st = Lookup(q->name(), q->version(), &v); !st.ok()) return Done(ctx, st);
  r->set_name(q->name());
  if (!q->version().empty()) {
    r->add_versions(q->version());
  } else {
    for (auto& route : s_->Find(q->name())->routes) r->add_versions(route->Get()->version);
  }
  r->set_platform(v->platform);
  AddSpecs(v->inputs, r->mutable_inputs());
  AddSpecs(v->outputs, r->mutable_outputs());
  ctx->AddInitialMetadata("forja-model-version", v->label);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* Service::ModelInfer(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                              grpc::ByteBuffer* out) {
  auto start = Clock::now();
  auto g = std::make_unique<GrpcCall>(GrpcCall{ctx, ctx->DefaultReactor(), out});
  grpc::ByteBuffer bytes(*in);  // shares the slices; Deserialize consumes its argument
  if (!grpc::SerializationTraits<inference::ModelInferRequest>::Deserialize(&bytes, &g->request).ok()) {
    s_->unrouted.Count(400);
    return Done(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the message is not a ModelInferRequest"));
  }
  const inference::ModelInferRequest* q = &g->request;
  auto* reactor = g->reactor;
  auto c = std::make_unique<Call>();
  c->server = s_;
  c->start = start;
  c->request_id = RequestId(*ctx, *q);
  c->grpc = g.release();
  Served* s = s_->Find(q->model_name());
  if (!s) {
    s_->Fail(*c, 404, "model '" + q->model_name() + "' is not served");
    return reactor;
  }
  c->served = s;
  c->version = s_->Pick(*s, q->model_version());
  if (!c->version) {
    s_->Fail(*c, 404, "model '" + s->name + "' has no version " + q->model_version());
    return reactor;
  }
  Status st = FromProto(*q, &c->req, &c->grpc->raw);
  c->inputs = std::move(c->req.inputs);
  if (!st.ok()) {
    s_->Fail(*c, 400, st.message());
    return reactor;
  }
  std::string version = q->model_version();  // q dies with the answer, which may come before Admit returns
  s_->Admit(std::move(c), *s, version);
  return reactor;
}

// Sends the call's metadata and status, and lets go of it.
void Answer(Call& c, const grpc::Status& st) {
  GrpcCall* g = c.grpc;
  c.grpc = nullptr;
  g->ctx->AddInitialMetadata("x-request-id", c.request_id);
  if (c.version) g->ctx->AddInitialMetadata("forja-model-version", c.version->label);
  c.server->grpc_codes[st.error_code()].fetch_add(1, std::memory_order_relaxed);
  bool own = false;
  if (st.ok() && !grpc::SerializationTraits<inference::ModelInferResponse>::Serialize(g->response, g->out, &own).ok()) {
    g->reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "the answer could not be serialized"));
  } else {
    g->reactor->Finish(st);
  }
  delete g;
}

class Frontend final : public GrpcFrontend {
 public:
  Frontend(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server, int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}
  ~Frontend() override { Shutdown(0); }
  int port() const override { return port_; }
  void Shutdown(int drain_ms) override {
    if (!server_) return;
    // Calls in flight get drain_ms to be answered (their batchers still run), then are cancelled.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(drain_ms));
    server_.reset();
  }

 private:
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
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
  Answer(c, grpc::Status::OK);
}

void GrpcFail(Call& c, int http_status, const std::string& message) {
  if (http_status >= 500 && http_status != 503)
    LogWarn("gRPC request " + c.request_id + " to " + (c.version ? c.version->label : "?") + ": " + message);
  Answer(c, grpc::Status(CodeFor(http_status), message));
}

Result<std::unique_ptr<GrpcFrontend>> StartGrpc(ModelServer::Impl* server) {
  const ServeConfig& cfg = server->cfg;
  auto service = std::make_unique<Service>(server);
  std::string host = cfg.host.find(':') != std::string::npos ? "[" + cfg.host + "]" : cfg.host;
  std::string addr = host + ":" + std::to_string(cfg.grpc_port);
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort(addr, grpc::InsecureServerCredentials(), &port);
  // The REST body limit: a larger message is refused with RESOURCE_EXHAUSTED before it is parsed.
  b.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(cfg.max_body_bytes, INT_MAX)));
  b.RegisterService(service.get());
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (!s || port == 0)
    return Status::User("cannot listen for gRPC on " + addr + " (in use, or not an address here); pick another --grpc-port");
  return std::unique_ptr<GrpcFrontend>(new Frontend(std::move(service), std::move(s), port));
}

}  // namespace forja::serve
