// One inference request through the model server: its body parsed (OIP v2 JSON or
// binary, or MLflow's formats) and checked against the version's signature, a copy
// for the shadow, queued on the version's batcher (moving to the version that
// replaced it when that one is draining), answered, counted into the version's
// drift window, and sampled into the prediction log.
#include <cstdio>
#include <thread>

#include "forja/core/json.h"
#include "forja/core/log.h"
#include "forja/net/status_http.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

Call::~Call() {
  if (grpc) GrpcFail(*this, 503, "the server dropped the request; retry");
}

void Call::Finish(const Status& st, std::vector<Tensor>* outputs) { server->Finish(*this, st, outputs); }

void ModelServer::Impl::Infer(net::Request& req, net::Responder res, Served& s, const std::string& version, bool mlflow) {
  auto c = std::make_unique<Call>();
  c->server = this;
  c->start = Clock::now();
  c->res = std::move(res);
  c->request_id = req.request_id;
  c->served = &s;
  c->mlflow = mlflow;
  c->version = Pick(s, version);
  if (!c->version) {
    Fail(*c, 404, "model '" + s.name + "' has no version " + version);
    return;
  }
  thread_local JsonDoc doc;
  Status st;
  if (mlflow) {
    st = ParseInvocations(req.Header("content-type"), req.body, c->version->inputs, doc, &c->inputs);
  } else {
    st = ParseInferRequest(req.body, req.Header("inference-header-content-length"), doc, &c->req);
    c->inputs = std::move(c->req.inputs);
  }
  if (!st.ok()) {
    Fail(*c, 400, st.message());
    return;
  }
  Admit(std::move(c), s, version);
}

// gRPC's calls (grpc.cc) join here too, converted to the same InferRequest: one set of checks.
void ModelServer::Impl::Admit(std::unique_ptr<Call> c, Served& s, const std::string& version) {
  auto rows = CheckInputs(c->version->inputs, &c->inputs);
  if (!rows.ok()) {
    Fail(*c, 400, rows.status().message());
    return;
  }
  c->rows = *rows;
  if (c->rows > cfg.max_rows) {
    Fail(*c, 413, std::to_string(c->rows) + " rows in one request; the limit is " + std::to_string(cfg.max_rows));
    return;
  }
  if (c->rows == 0) {
    Fail(*c, 400, "no rows to score");
    return;
  }
  c->sampled = log.enabled() && log.Sample();
  if (s.shadow && version.empty() && log.enabled() && log.SampleShadow()) {
    auto sh = std::make_unique<Call>();
    sh->server = c->server;
    sh->start = c->start;
    sh->request_id = c->request_id;
    sh->served = &s;
    sh->shadow = true;
    sh->version = s.shadow->Get();
    sh->inputs = c->inputs;
    sh->rows = c->rows;
    if (CheckInputs(sh->version->inputs, &sh->inputs).ok()) Submit(std::move(sh), "");
  }
  Submit(std::move(c), version);
}

// Hands the call to its version's batcher; when that version is draining (it was
// just replaced) the call goes to the one that replaced it.
void ModelServer::Impl::Submit(std::unique_ptr<Call> c, const std::string& version) {
  Call* raw = c.get();
  for (int attempt = 0; attempt < 100; attempt++) {
    std::unique_ptr<Job> job = std::move(c);
    Batcher::Submitted s = raw->version->batcher->Submit(job);
    if (s == Batcher::Submitted::kOk) return;
    c.reset(static_cast<Call*>(job.release()));
    if (s == Batcher::Submitted::kFull) {
      if (!c->shadow)
        Fail(*c, Status::Unavailable("the queue of " + c->version->label + " is full (" +
                                     std::to_string(c->version->batcher->options().max_queue) + " rows); retry later"));
      return;
    }
    auto next = Pick(*c->served, version);
    if (!next) {
      if (!c->shadow) Fail(*c, 404, "version " + version + " of " + c->served->name + " is no longer served");
      return;
    }
    if (next != c->version) {
      c->version = std::move(next);
      auto rows = CheckInputs(c->version->inputs, &c->inputs);
      if (!rows.ok()) {
        if (!c->shadow) Fail(*c, 400, rows.status().message());
        return;
      }
    } else {
      std::this_thread::yield();  // the swap is under way
    }
  }
  if (!c->shadow) Fail(*c, Status::Unavailable("no version of " + c->served->name + " takes requests right now"));
}

void ModelServer::Impl::Finish(Call& c, const Status& st, std::vector<Tensor>* outputs) {
  Version& v = *c.version;
  v.stats.queue.Observe(c.queue_seconds);
  if (c.batch_leader) v.stats.batch.Observe(c.batch_rows);
  // Every answered request feeds the version's drift window (monitoring.h): no lock.
  if (st.ok() && v.monitor) v.monitor->Observe(c.inputs, *outputs);
  // ...and is kept under its request id for feedback labels to join (quality.h).
  if (st.ok() && v.quality) v.quality->Record(c.request_id, *outputs, Clock::now());
  if (c.shadow) {  // answers nobody: only its predictions are logged
    v.stats.Count(st.ok() ? 200 : net::HttpStatusFor(st));
    v.stats.latency.Observe(Seconds(c.start, Clock::now()));
    if (st.ok()) LogPrediction(c, *outputs);
    return;
  }
  if (!st.ok()) {
    Fail(c, st);
    return;
  }
  if (c.sampled) LogPrediction(c, *outputs);
  if (c.grpc) {
    GrpcAnswer(c, *outputs);  // counts the answer as Reply would
    return;
  }
  if (c.mlflow) {
    Reply(c, 200, EncodePredictions(*outputs));
    return;
  }
  InferResponse resp;
  Status es = EncodeInferResponse(v.name, v.version, c.req, *outputs, &resp);
  if (!es.ok()) {
    Fail(c, 400, es.message());
    return;
  }
  if (resp.header_length == 0) {
    Reply(c, 200, std::move(resp.body));
    return;
  }
  net::Response r;
  r.content_type = "application/octet-stream";
  r.body = std::move(resp.body);
  r.headers.emplace_back("Inference-Header-Content-Length", std::to_string(resp.header_length));
  r.headers.emplace_back("forja-model-version", v.label);
  v.stats.Count(200);
  v.stats.latency.Observe(Seconds(c.start, Clock::now()));
  c.res.Send(std::move(r));
}

void ModelServer::Impl::Reply(Call& c, int status, std::string body, const std::string& content_type) {
  net::Response r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  if (c.version) r.headers.emplace_back("forja-model-version", c.version->label);
  Stats& st = c.version ? c.version->stats : unrouted;
  st.Count(status);
  st.latency.Observe(Seconds(c.start, Clock::now()));
  if (status >= 500 && status != 503) LogWarn("request " + c.request_id + " to " + (c.version ? c.version->label : "?") + ": " + std::to_string(status));
  c.res.Send(std::move(r));
}

void ModelServer::Impl::Fail(Call& c, int status, const std::string& message) {
  if (c.grpc) {
    Stats& st = c.version ? c.version->stats : unrouted;
    st.Count(status);
    st.latency.Observe(Seconds(c.start, Clock::now()));
    GrpcFail(c, status, message);
    return;
  }
  Reply(c, status, c.mlflow ? MlflowErrorJson(status, message) : ErrorJson(message));
}

void ModelServer::Impl::Fail(Call& c, const Status& st) { Fail(c, net::HttpStatusFor(st), st.message()); }

void ModelServer::Impl::LogPrediction(const Call& c, const std::vector<Tensor>& outputs) {
  std::string line = "{\"time\":" + NowText() + ",\"request_id\":";
  AppendJsonString(&line, c.request_id);
  line += ",\"model\":";
  AppendJsonString(&line, c.version->name);
  line += ",\"version\":";
  AppendJsonString(&line, c.version->version);
  line += ",\"ref\":";
  AppendJsonString(&line, c.version->ref);
  if (c.shadow) line += ",\"shadow\":true";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", Seconds(c.start, Clock::now()) * 1e6);
  line += ",\"latency_us\":";
  line += buf;
  for (auto [key, list] : {std::pair{"inputs", &c.inputs}, std::pair{"outputs", &outputs}}) {
    line += ",\"";
    line += key;
    line += "\":{";
    for (size_t i = 0; i < list->size(); i++) {
      if (i) line += ',';
      AppendJsonString(&line, (*list)[i].name);
      line += ':';
      AppendTensorJson(&line, (*list)[i], false);
    }
    line += '}';
  }
  line += '}';
  log.Add(std::move(line));
}

}  // namespace forja::serve
