#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "forja/core/json.h"
#include "forja/core/limits.h"
#include "forja/core/log.h"
#include "forja/net/http_server.h"
#include "forja/net/status_http.h"
#include "forja/registry/package.h"
#include "forja/serve/protocol.h"
#include "forja/serve/serve.h"

namespace forja::serve {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// ---- metrics kept with atomics: the hot path takes no lock for them ----

constexpr double kSecondsBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
constexpr double kRowsBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

struct Hist {
  const double* bounds;
  size_t n;
  std::atomic<uint64_t> counts[16] = {};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_micro{0};  // the sum in millionths

  template <size_t N>
  explicit Hist(const double (&b)[N]) : bounds(b), n(N) {}
  void Observe(double v) {
    size_t i = 0;
    while (i < n && v > bounds[i]) i++;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
    sum_micro.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
  }
  void Render(std::string* out, const std::string& name, const std::string& labels) const {
    uint64_t cum = 0;
    char buf[64];
    for (size_t i = 0; i <= n; i++) {
      cum += counts[i].load(std::memory_order_relaxed);
      std::string le = i < n ? (std::snprintf(buf, sizeof buf, "%g", bounds[i]), std::string(buf)) : "+Inf";
      *out += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cum) + "\n";
    }
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(sum_micro.load()) / 1e6);
    *out += name + "_sum{" + labels + "} " + buf + "\n";
    *out += name + "_count{" + labels + "} " + std::to_string(count.load()) + "\n";
  }
};

constexpr int kCodes[] = {200, 400, 404, 405, 408, 413, 429, 500, 503, 504};
constexpr size_t kNumCodes = sizeof(kCodes) / sizeof(kCodes[0]);

size_t CodeIndex(int code) {
  for (size_t i = 0; i < kNumCodes; i++)
    if (kCodes[i] == code) return i;
  return code < 500 ? 1 : 7;  // other 4xx as 400, other 5xx as 500
}

struct Stats {
  std::atomic<uint64_t> codes[kNumCodes] = {};
  Hist latency{kSecondsBounds}, queue{kSecondsBounds}, batch{kRowsBounds};
  void Count(int code) { codes[CodeIndex(code)].fetch_add(1, std::memory_order_relaxed); }
};

std::string Label(const std::string& k, const std::string& v) {
  std::string out = k + "=\"";
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// ---- the model graph ----

struct Version {
  std::string name, version, label, ref, platform, describe, key;
  std::vector<TensorSpec> inputs, outputs;
  std::unique_ptr<runtime::Model> model;
  std::unique_ptr<Batcher> batcher;
  Stats stats;
  bool shadow = false;

  ~Version() {
    if (batcher) batcher->Stop();  // before the model it calls goes away
  }
};

struct Slot {
  Target target;
  bool moving = false;
  std::string failed_key;  // the poller's: a version refused once is not retried until the ref moves
  mutable std::mutex mu;
  std::shared_ptr<Version> current;

  std::shared_ptr<Version> Get() const {
    std::lock_guard<std::mutex> lock(mu);
    return current;
  }
};

struct Served {
  std::string name;
  std::vector<std::unique_ptr<Slot>> routes;
  std::unique_ptr<Slot> shadow;
  uint64_t total_weight = 0;
  std::atomic<uint64_t> turn{0};
};

std::string ErrorJson(std::string_view message) {
  std::string b = "{\"error\":";
  AppendJsonString(&b, message);  // UTF-8-safe: messages quote requests
  b += "}";
  return b;
}

// MLflow's scoring server answers errors as {"error_code": ..., "message": ...}.
std::string MlflowErrorJson(int status, std::string_view message) {
  std::string b = "{\"error_code\":\"";
  b += status == 400 || status == 413 ? "BAD_REQUEST" : status == 404 ? "RESOURCE_DOES_NOT_EXIST" : status == 503 ? "TEMPORARILY_UNAVAILABLE" : "INTERNAL_ERROR";
  b += "\",\"message\":";
  AppendJsonString(&b, message);  // UTF-8-safe: messages quote requests
  b += "}";
  return b;
}

net::Response Json(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void AppendSpecs(std::string* b, const std::vector<TensorSpec>& specs) {
  b->push_back('[');
  for (size_t i = 0; i < specs.size(); i++) {
    if (i) b->push_back(',');
    b->append("{\"name\":");
    AppendJsonString(b, specs[i].name);
    b->append(",\"datatype\":");
    AppendJsonString(b, specs[i].datatype);
    b->append(",\"shape\":");
    AppendShape(b, specs[i].shape);
    b->push_back('}');
  }
  b->push_back(']');
}

// One row of zeros (empty strings for BYTES) for the warm-up call.
std::vector<Tensor> WarmupInputs(const std::vector<TensorSpec>& specs) {
  std::vector<Tensor> in;
  for (const TensorSpec& s : specs) {
    Tensor t;
    t.name = s.name;
    t.datatype = s.datatype;
    t.shape = s.shape;
    for (auto& d : t.shape)
      if (d < 0) d = 1;
    if (!t.shape.empty()) t.shape[0] = 1;
    size_t es = DatatypeSize(s.datatype);
    t.data.assign(static_cast<size_t>(t.Elements()) * (es ? es : 4), '\0');
    in.push_back(std::move(t));
  }
  return in;
}

}  // namespace


namespace {

struct Call : Job {
  ModelServer::Impl* server = nullptr;
  std::shared_ptr<Version> version;  // released on the worker thread only after Finish: see Finish
  Served* served = nullptr;
  net::Responder res;
  std::string request_id;
  Clock::time_point start;
  bool mlflow = false, shadow = false, sampled = false;
  InferRequest req;
  void Finish(const Status& st, std::vector<Tensor>* outputs) override;
};

}  // namespace

struct ModelServer::Impl {
  ServeConfig cfg;
  std::unique_ptr<Resolver> resolver;
  Loader loader;
  std::map<std::string, std::unique_ptr<Served>> served;
  std::vector<std::string> names;  // in the order given
  PredictionLog log;
  std::unique_ptr<net::Server> http;
  std::atomic<bool> ready{false};
  Stats unrouted;  // requests for no known model
  std::atomic<uint64_t> http_codes[kNumCodes] = {};
  std::mutex reload_mu;
  std::map<std::string, uint64_t> reloads;  // "model|outcome"
  // The poller.
  std::mutex poll_mu;
  std::condition_variable poll_cv;
  bool stop_poll = false;
  std::thread poller;
  bool shut = false;

  BatchOptions OptionsFor(const std::string& name) const {
    auto it = cfg.models.find(name);
    return it == cfg.models.end() ? cfg.batching : it->second;
  }

  Result<std::shared_ptr<Version>> Load(const Target& t, const Resolved& r) {
    ASSIGN_OR_RETURN(registry::ModelPackage pkg, registry::LoadPackage(r.dir));
    runtime::ModelSpec spec = SpecFor(pkg, r.dir);
    auto v = std::make_shared<Version>();
    v->name = r.name;
    v->version = r.version;
    v->label = r.name + "/" + r.version;
    v->ref = t.ref;
    v->key = r.key;
    v->platform = pkg.flavor;
    v->shadow = t.shadow;
    {
      auto m = loader(spec);
      if (!m.ok()) return m.status().Wrap("loading " + v->label + " (" + t.ref + ")");
      v->model = std::move(*m);
    }
    v->inputs = v->model->inputs().empty() ? pkg.inputs : v->model->inputs();
    v->outputs = v->model->outputs().empty() ? pkg.outputs : v->model->outputs();
    v->describe = v->model->Describe();
    // Warm up before taking traffic: the first call pays for lazy setup, and a model that
    // loads but cannot predict is refused here rather than on users' requests.
    std::vector<Tensor> out;
    Status st = v->model->Predict(WarmupInputs(v->inputs), &out);
    if (!st.ok()) return st.Wrap("warming up " + v->label + " (" + t.ref + ")");
    BatchOptions bo = OptionsFor(r.name);
    // A python model predicts in worker processes: one batcher thread per process keeps them
    // all busy (a single thread would hand them one batch at a time).
    if (pkg.flavor == "python") {
      int procs = spec.workers > 0 ? spec.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      bo.workers = std::max(bo.workers, procs);
    }
    v->batcher = std::make_unique<Batcher>(v->model.get(), bo);
    return v;
  }

  Status Init() {
    for (const Target& t : cfg.targets) {
      ASSIGN_OR_RETURN(Resolved r, resolver->Resolve(t.ref));
      ASSIGN_OR_RETURN(auto v, Load(t, r));
      auto slot = std::make_unique<Slot>();
      slot->target = t;
      slot->moving = r.moving;
      slot->current = v;
      auto& s = served[r.name];
      if (!s) {
        s = std::make_unique<Served>();
        s->name = r.name;
        names.push_back(r.name);
      }
      if (t.shadow) {
        if (s->shadow) return Status::Usage("two shadows for " + r.name + ": " + s->shadow->target.ref + " and " + t.ref);
        s->shadow = std::move(slot);
      } else {
        if (t.weight <= 0) return Status::Usage("the weight of " + t.ref + " must be positive");
        s->total_weight += static_cast<uint64_t>(t.weight);
        s->routes.push_back(std::move(slot));
      }
    }
    for (auto& [name, s] : served)
      if (s->routes.empty()) return Status::Usage(name + " has a shadow but no model to answer: serve one too");
    if (served.empty()) return Status::Usage("name at least one model to serve");
    return Status::Ok();
  }

  std::shared_ptr<Version> Pick(Served& s, const std::string& version) {
    if (!version.empty()) {
      for (auto& r : s.routes)
        if (auto v = r->Get(); v->version == version) return v;
      if (s.shadow)
        if (auto v = s.shadow->Get(); v->version == version) return v;
      return nullptr;
    }
    if (s.routes.size() == 1) return s.routes[0]->Get();
    // A Weyl sequence (the n-th multiple of the golden ratio, mod 1) spreads the turns
    // evenly: 90/10 interleaves instead of sending 90 in a row to one version.
    uint64_t n = s.turn.fetch_add(1, std::memory_order_relaxed);
    double frac = static_cast<double>((n * 0x9E3779B97F4A7C15ull) >> 11) * 0x1p-53;
    uint64_t t = static_cast<uint64_t>(frac * static_cast<double>(s.total_weight));
    for (auto& r : s.routes) {
      uint64_t w = static_cast<uint64_t>(r->target.weight);
      if (t < w) return r->Get();
      t -= w;
    }
    return s.routes.back()->Get();
  }

  // ---- answering ----

  void Reply(Call& c, int status, std::string body, const std::string& content_type = "application/json") {
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

  void Fail(Call& c, int status, const std::string& message) {
    Reply(c, status, c.mlflow ? MlflowErrorJson(status, message) : ErrorJson(message));
  }
  void Fail(Call& c, const Status& st) { Fail(c, net::HttpStatusFor(st), st.message()); }

  void LogPrediction(const Call& c, const std::vector<Tensor>& outputs) {
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

  void Finish(Call& c, const Status& st, std::vector<Tensor>* outputs) {
    Version& v = *c.version;
    v.stats.queue.Observe(c.queue_seconds);
    if (c.batch_leader) v.stats.batch.Observe(c.batch_rows);
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

  // Hands the call to its version's batcher; when that version is draining (it was
  // just replaced) the call goes to the one that replaced it.
  void Submit(std::unique_ptr<Call> c, const std::string& version) {
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

  void Infer(net::Request& req, net::Responder res, Served& s, const std::string& version, bool mlflow) {
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

  // ---- routes ----

  void Handle(net::Request& req, net::Responder res) {
    const std::string& p = req.path;
    if (p.starts_with("/v2/models/")) return ModelRoute(req, std::move(res), std::string_view(p).substr(11));
    if (p == "/invocations") {
      if (req.method != "POST") return res.Send(Json(405, MlflowErrorJson(405, "POST a scoring request to /invocations")));
      std::string name = req.Param("model");
      Served* s = Find(name.empty() ? names[0] : name);
      if (!s) return res.Send(Json(404, MlflowErrorJson(404, "no model '" + name + "' is served")));
      return Infer(req, std::move(res), *s, "", true);
    }
    if (p == "/v2/health/live") return res.Send(Json(200, "{\"live\":true}"));
    if (p == "/v2/health/ready") return res.Send(ready ? Json(200, "{\"ready\":true}") : Json(503, "{\"ready\":false}"));
    if (p == "/v2" || p == "/v2/") {
      return res.Send(Json(200, std::string("{\"name\":\"forja\",\"version\":\"") + FORJA_VERSION +
                                    "\",\"extensions\":[\"binary_tensor_data\"]}"));
    }
    if (p == "/ping" || p == "/health") {
      net::Response r = Json(ready ? 200 : 503, "\n");
      r.content_type = "application/json";
      return res.Send(std::move(r));
    }
    if (p == "/version") {
      net::Response r = Json(200, FORJA_VERSION);
      r.content_type = "text/plain";
      return res.Send(std::move(r));
    }
    if (p == "/metrics") {
      net::Response r = Json(200, RenderMetrics());
      r.content_type = "text/plain; version=0.0.4";
      return res.Send(std::move(r));
    }
    unrouted.Count(404);
    res.Send(Json(404, ErrorJson("no route " + req.method + " " + p)));
  }

  // On the head of a request with a body, before the body is read (net's on_head, on the
  // loop): a model that is not served is a 404 without taking the body in.
  net::HeadDecision CheckHead(const net::Request& req) {
    net::HeadDecision d;
    std::string_view p = req.path;
    if (!p.starts_with("/v2/models/")) return d;
    p.remove_prefix(11);
    std::string name(p.substr(0, p.find('/')));
    if (!Find(name)) {
      unrouted.Count(404);
      d.refuse = Json(404, ErrorJson("model '" + name + "' is not served"));
    }
    return d;
  }

  Served* Find(const std::string& name) {
    auto it = served.find(name);
    return it == served.end() ? nullptr : it->second.get();
  }

  void ModelRoute(net::Request& req, net::Responder res, std::string_view rest) {
    size_t slash = rest.find('/');
    std::string name(rest.substr(0, slash));
    std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    std::string version;
    if (tail.starts_with("/versions/")) {
      tail.remove_prefix(10);
      size_t e = tail.find('/');
      version = std::string(tail.substr(0, e));
      tail = e == std::string_view::npos ? std::string_view() : tail.substr(e);
    }
    Served* s = Find(name);
    if (!s) {
      unrouted.Count(404);
      return res.Send(Json(404, ErrorJson("model '" + name + "' is not served")));
    }
    bool post = req.method == "POST";
    if (tail == "/infer") {
      if (!post) return res.Send(Json(405, ErrorJson("POST to " + req.path)));
      return Infer(req, std::move(res), *s, version, false);
    }
    if (tail == "/feedback" && version.empty()) {
      if (!post) return res.Send(Json(405, ErrorJson("POST to " + req.path)));
      return res.Send(Feedback(*s, req));
    }
    if (post) return res.Send(Json(405, ErrorJson("GET " + req.path)));
    auto v = Pick(*s, version);
    if (!v) return res.Send(Json(404, ErrorJson("model '" + name + "' has no version " + version)));
    if (tail == "/ready") {
      std::string b = "{\"name\":";
      AppendJsonString(&b, name);
      b += ",\"ready\":true}";
      return res.Send(Json(200, std::move(b)));
    }
    if (!tail.empty()) return res.Send(Json(404, ErrorJson("no route " + req.method + " " + req.path)));
    std::string b = "{\"name\":";
    AppendJsonString(&b, name);
    b += ",\"versions\":[";
    if (!version.empty()) {
      AppendJsonString(&b, version);
    } else {
      bool first = true;
      for (auto& r : s->routes) {
        if (!first) b += ',';
        first = false;
        AppendJsonString(&b, r->Get()->version);
      }
    }
    b += "],\"platform\":";
    AppendJsonString(&b, v->platform);
    b += ",\"inputs\":";
    AppendSpecs(&b, v->inputs);
    b += ",\"outputs\":";
    AppendSpecs(&b, v->outputs);
    b += ",\"parameters\":{\"description\":";
    AppendJsonString(&b, v->describe);
    b += "}}";
    net::Response r = Json(200, std::move(b));
    r.headers.emplace_back("forja-model-version", v->label);
    res.Send(std::move(r));
  }

  // {"request_id": "...", "label": ...} or a list of them: kept as given, with the time and model.
  net::Response Feedback(Served& s, const net::Request& req) {
    if (!log.enabled()) return Json(503, ErrorJson("the prediction log is off: feedback has nowhere to go"));
    // Depth first: copying or dumping a tree nested 100,000 deep would overflow the stack.
    if (Status st = limits::CheckJsonText(req.body, "the feedback"); !st.ok()) return Json(400, ErrorJson(st.message()));
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return Json(400, ErrorJson("malformed JSON"));
    std::vector<nlohmann::json> items;
    if (body.is_array()) items.assign(body.begin(), body.end());
    else items.push_back(body);
    for (size_t i = 0; i < items.size(); i++) {
      auto& it = items[i];
      std::string where = items.size() > 1 ? "item " + std::to_string(i) + ": " : "";
      if (!it.is_object()) return Json(400, ErrorJson(where + "feedback must be an object"));
      if (!it.contains("request_id") || !it["request_id"].is_string() || it["request_id"].get<std::string>().empty())
        return Json(400, ErrorJson(where + "'request_id' (the X-Request-Id of the prediction) is required"));
      if (!it.contains("label")) return Json(400, ErrorJson(where + "'label' (the ground truth) is required"));
    }
    for (auto& it : items) {
      nlohmann::json line = {{"model", s.name}, {"feedback_request_id", req.request_id}};
      for (auto& [k, v] : it.items()) line[k] = v;
      std::string text = line.dump();
      log.AddFeedback("{\"time\":" + NowText() + "," + text.substr(1));
    }
    return Json(200, "{\"recorded\":" + std::to_string(items.size()) + "}");
  }

  // ---- metrics ----

  std::string RenderMetrics() {
    std::string o;
    o += "# HELP forja_serve_requests_total Inference requests answered, by model, version and status code.\n";
    o += "# TYPE forja_serve_requests_total counter\n";
    std::vector<std::shared_ptr<Version>> versions;
    for (const std::string& n : names) {
      Served& s = *served[n];
      for (auto& r : s.routes) versions.push_back(r->Get());
      if (s.shadow) versions.push_back(s.shadow->Get());
    }
    auto labels = [](const Version& v) { return Label("model", v.name) + "," + Label("version", v.version); };
    auto counts = [&](const std::string& l, const Stats& st) {
      for (size_t i = 0; i < kNumCodes; i++)
        if (uint64_t n = st.codes[i].load())
          o += "forja_serve_requests_total{" + l + "," + Label("code", std::to_string(kCodes[i])) + "} " + std::to_string(n) + "\n";
    };
    for (auto& v : versions) counts(labels(*v), v->stats);
    counts(Label("model", "") + "," + Label("version", ""), unrouted);
    o += "# HELP forja_serve_request_duration_seconds From the request's arrival to its answer, by model and version.\n";
    o += "# TYPE forja_serve_request_duration_seconds histogram\n";
    for (auto& v : versions) v->stats.latency.Render(&o, "forja_serve_request_duration_seconds", labels(*v));
    o += "# HELP forja_serve_queue_seconds Time a request waited in its model's batching queue.\n";
    o += "# TYPE forja_serve_queue_seconds histogram\n";
    for (auto& v : versions) v->stats.queue.Render(&o, "forja_serve_queue_seconds", labels(*v));
    o += "# HELP forja_serve_batch_rows Rows per predict call (dynamic batching).\n";
    o += "# TYPE forja_serve_batch_rows histogram\n";
    for (auto& v : versions) v->stats.batch.Render(&o, "forja_serve_batch_rows", labels(*v));
    o += "# HELP forja_serve_queue_rows Rows waiting in a model's batching queue now.\n";
    o += "# TYPE forja_serve_queue_rows gauge\n";
    for (auto& v : versions) o += "forja_serve_queue_rows{" + labels(*v) + "} " + std::to_string(v->batcher->queued_rows()) + "\n";
    o += "# HELP forja_serve_model_info The versions loaded now (value 1), with their reference and role.\n";
    o += "# TYPE forja_serve_model_info gauge\n";
    for (auto& v : versions)
      o += "forja_serve_model_info{" + labels(*v) + "," + Label("ref", v->ref) + "," + Label("platform", v->platform) + "," +
           Label("role", v->shadow ? "shadow" : "primary") + "} 1\n";
    o += "# HELP forja_serve_http_responses_total Every HTTP response, by status code (including the server's own 408/413/431).\n";
    o += "# TYPE forja_serve_http_responses_total counter\n";
    for (size_t i = 0; i < kNumCodes; i++)
      if (uint64_t n = http_codes[i].load())
        o += "forja_serve_http_responses_total{" + Label("code", std::to_string(kCodes[i])) + "} " + std::to_string(n) + "\n";
    o += "# HELP forja_serve_reloads_total Version switches (switched) and refused new versions (refused), by model.\n";
    o += "# TYPE forja_serve_reloads_total counter\n";
    {
      std::lock_guard<std::mutex> lock(reload_mu);
      for (auto& [k, n] : reloads) {
        size_t bar = k.find('|');
        o += "forja_serve_reloads_total{" + Label("model", k.substr(0, bar)) + "," + Label("outcome", k.substr(bar + 1)) + "} " +
             std::to_string(n) + "\n";
      }
    }
    o += "# HELP forja_serve_prediction_log_lines_total Prediction log lines written, and dropped when the writer fell behind.\n";
    o += "# TYPE forja_serve_prediction_log_lines_total counter\n";
    o += "forja_serve_prediction_log_lines_total{outcome=\"written\"} " + std::to_string(log.written()) + "\n";
    o += "forja_serve_prediction_log_lines_total{outcome=\"dropped\"} " + std::to_string(log.dropped()) + "\n";
    return o;
  }

  // ---- hot reload ----

  void CountReload(const std::string& model, const char* outcome) {
    std::lock_guard<std::mutex> lock(reload_mu);
    reloads[model + "|" + outcome]++;
  }

  void PollSlot(Slot& slot) {
    auto r = resolver->Resolve(slot.target.ref);
    if (!r.ok()) {
      LogWarn("serve: cannot resolve " + slot.target.ref + " (still serving " + slot.Get()->label + "): " + r.status().message());
      return;
    }
    auto old = slot.Get();
    if (r->key == old->key || r->key == slot.failed_key) return;
    LogInfo("serve: " + slot.target.ref + " moved to " + r->name + "/" + r->version + "; loading it beside " + old->label);
    auto v = Load(slot.target, *r);
    if (!v.ok()) {
      slot.failed_key = r->key;
      CountReload(old->name, "refused");
      LogError("serve: refusing " + r->name + "/" + r->version + ", still serving " + old->label + ": " + v.status().message());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(slot.mu);
      slot.current = *v;
    }
    // Requests already queued on the old version are answered by it; new ones go to the new.
    old->batcher->Stop();
    CountReload(old->name, "switched");
    LogInfo("serve: " + slot.target.ref + " now answered by " + (*v)->label + " (was " + old->label + ")");
  }

  void PollOnce() {
    for (const std::string& n : names) {
      Served& s = *served[n];
      for (auto& r : s.routes)
        if (r->moving) PollSlot(*r);
      if (s.shadow && s.shadow->moving) PollSlot(*s.shadow);
    }
  }

  void Poll() {
    std::unique_lock<std::mutex> lock(poll_mu);
    for (;;) {
      poll_cv.wait_for(lock, std::chrono::duration<double>(cfg.poll_interval_s), [&] { return stop_poll; });
      if (stop_poll) return;
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  }

  void Shutdown() {
    if (shut) return;
    shut = true;
    ready = false;
    {
      std::lock_guard<std::mutex> lock(poll_mu);
      stop_poll = true;
    }
    poll_cv.notify_all();
    if (poller.joinable()) poller.join();
    if (http) http->Shutdown(cfg.drain_ms);
    for (auto& [n, s] : served) {
      for (auto& r : s->routes) r->Get()->batcher->Stop();
      if (s->shadow) s->shadow->Get()->batcher->Stop();
    }
  }
};

namespace {
void Call::Finish(const Status& st, std::vector<Tensor>* outputs) { server->Finish(*this, st, outputs); }
}  // namespace

ModelServer::ModelServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelServer::~ModelServer() { Shutdown(); }
int ModelServer::port() const { return impl_->http->port(); }
void ModelServer::PollOnce() { impl_->PollOnce(); }
void ModelServer::Shutdown() { impl_->Shutdown(); }

std::vector<std::string> ModelServer::Loaded() const {
  std::vector<std::string> out;
  for (const std::string& n : impl_->names) {
    Served& s = *impl_->served[n];
    auto line = [](const Slot& slot, const char* role) {
      auto v = slot.Get();
      return v->label + " (" + role + slot.target.ref + (slot.moving ? ", followed" : "") + "; " + v->describe + ")";
    };
    for (auto& r : s.routes)
      out.push_back(line(*r, s.routes.size() > 1 ? (std::to_string(r->target.weight) + "% of traffic, ").c_str() : ""));
    if (s.shadow) out.push_back(line(*s.shadow, "shadow, "));
  }
  return out;
}

Result<std::unique_ptr<ModelServer>> ModelServer::Start(ServeConfig cfg, std::unique_ptr<Resolver> resolver, Loader loader) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(cfg);
  impl->resolver = std::move(resolver);
  impl->loader = std::move(loader);
  RETURN_IF_ERROR(impl->Init());
  RETURN_IF_ERROR(impl->log.Start(impl->cfg.log));
  net::ServerOptions opts;
  opts.host = impl->cfg.host;
  opts.port = impl->cfg.port;
  opts.io_threads = impl->cfg.io_threads;
  opts.max_body_bytes = impl->cfg.max_body_bytes;
  // Anyone may send bodies here: all of them together stay within a bound (503 beyond).
  opts.max_body_bytes_in_flight = std::max<uint64_t>(4 * uint64_t{impl->cfg.max_body_bytes}, uint64_t{512} << 20);
  opts.max_header_bytes = impl->cfg.max_header_bytes;
  opts.header_timeout_ms = impl->cfg.header_timeout_ms;
  opts.body_timeout_ms = impl->cfg.body_timeout_ms;
  opts.idle_timeout_ms = impl->cfg.idle_timeout_ms;
  // The net layer's own errors (413, 431, ...) may quote header bytes: the same UTF-8-safe JSON.
  opts.error_body = [](int, std::string_view message) { return ErrorJson(message); };
  Impl* raw = impl.get();
  opts.on_head = [raw](const net::Request& req) { return raw->CheckHead(req); };
  opts.on_complete = [raw](const net::Request& req, int status, double secs) {
    raw->http_codes[CodeIndex(status)].fetch_add(1, std::memory_order_relaxed);
    if (raw->cfg.access_log)
      LogInfo(req.method + " " + req.target.substr(0, 200) + " " + std::to_string(status) + " " +
              std::to_string(static_cast<int>(secs * 1e6)) + "us id=" + req.request_id);
  };
  ASSIGN_OR_RETURN(impl->http, net::Server::Start(opts, [raw](net::Request& req, net::Responder res) {
                     raw->Handle(req, std::move(res));
                   }));
  impl->ready = true;
  if (impl->cfg.poll_interval_s > 0) {
    bool any = false;
    for (auto& [n, s] : impl->served) {
      for (auto& r : s->routes) any |= r->moving;
      if (s->shadow) any |= s->shadow->moving;
    }
    if (any) impl->poller = std::thread([raw] { raw->Poll(); });
  }
  return std::unique_ptr<ModelServer>(new ModelServer(std::move(impl)));
}

runtime::ModelSpec SpecFor(const registry::ModelPackage& pkg, const std::string& dir) {
  runtime::ModelSpec spec;
  spec.dir = dir;
  spec.flavor = pkg.flavor;
  spec.model_file = pkg.model_file;
  spec.inputs = pkg.inputs;
  spec.outputs = pkg.outputs;
  spec.python_module = pkg.python_module;
  spec.python_function = pkg.python_function;
  spec.workers = static_cast<int>(pkg.python_workers);
  spec.timeout_ms = static_cast<int>(pkg.python_timeout_ms);
  return spec;
}

// ---- package folders ----

namespace {

class Folders : public Resolver {
 public:
  Result<Resolved> Resolve(const std::string& ref) override {
    ASSIGN_OR_RETURN(registry::ModelPackage pkg, registry::LoadPackage(ref));
    (void)pkg;
    Resolved r;
    std::string dir = ref;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    size_t slash = dir.rfind('/');
    r.name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    r.version = "1";
    r.dir = dir;
    r.key = dir;
    return r;
  }
};

}  // namespace

std::unique_ptr<Resolver> FolderResolver() { return std::make_unique<Folders>(); }

}  // namespace forja::serve
