// The model server's wiring (serve.h): loading and warming versions with their drift
// monitors, building the served models from the targets, picking a version by weight,
// starting the HTTP server, the poller and the monitoring collector, shutting down. The rest of ModelServer::Impl
// (server_impl.h) is in routes.cc, infer.cc, metrics.cc and reload.cc.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <thread>

#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/monitor/profile.h"
#include "forja/registry/package.h"
#include "forja/serve/protocol.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

namespace {

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

// What a version warms up with: one row of zeros, except for an MLflow model, which takes the
// scoring request saved with it (zeros may be no valid input to it: an unknown category), and
// without one and without a signature warms up on nothing (nullopt: there are no inputs to make).
std::optional<std::vector<Tensor>> WarmupFor(const registry::ModelPackage& pkg, const std::string& dir,
                                             const std::vector<TensorSpec>& inputs) {
  if (pkg.mlflow_flavor.empty()) return WarmupInputs(inputs);
  std::string path = pkg.input_example.empty() ? "" : JoinPath(dir, pkg.input_example);
  if (!path.empty() && IsFile(path)) {
    auto body = ReadFile(path);
    JsonDoc doc;
    std::vector<Tensor> in;
    if (body.ok() && body->size() <= (size_t{16} << 20) &&
        ParseInvocations("application/json", *body, inputs, doc, &in).ok() && !in.empty())
      return in;
  }
  if (inputs.empty()) return std::nullopt;
  return WarmupInputs(inputs);
}

}  // namespace

BatchOptions ModelServer::Impl::OptionsFor(const std::string& name) const {
  auto it = cfg.models.find(name);
  return it == cfg.models.end() ? cfg.batching : it->second;
}

Result<std::shared_ptr<Version>> ModelServer::Impl::Load(const Target& t, const Resolved& r) {
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
  std::optional<std::vector<Tensor>> warm = WarmupFor(pkg, r.dir, v->inputs);
  Status st = warm ? v->model->Predict(*warm, &out) : Status::Ok();
  if (!st.ok()) return st.Wrap("warming up " + v->label + " (" + t.ref + ")");
  BatchOptions bo = OptionsFor(r.name);
  // A python model predicts in worker processes: one batcher thread per process keeps them
  // all busy (a single thread would hand them one batch at a time).
  if (pkg.flavor == "python" || pkg.flavor == "onnx") {
    int procs = spec.workers > 0 ? spec.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    bo.workers = std::max(bo.workers, procs);
  }
  v->batcher = std::make_unique<Batcher>(v->model.get(), bo);
  RETURN_IF_ERROR(AttachMonitor(*v, r));
  AttachQuality(*v, r);
  v->staleness.store(resolver->Staleness(t.ref, r));  // taken at each load: a reload takes them anew
  return v;
}

// The version's drift monitor, against monitoring.models.NAME.profile or else the registry's
// profile. No profile, or one that does not match the signature, is said in the log and the
// version is served unmonitored; a configured profile file that cannot be read is an error.
Status ModelServer::Impl::AttachMonitor(Version& v, const Resolved& r) {
  const MonitorOptions& o = cfg.monitoring.For(v.name);
  std::string json, from;
  if (!o.profile.empty()) {
    // Checked relative at parse time; here a symlink that leaves the workspace is refused too.
    const std::string& root = cfg.monitoring.base_dir;
    if (root.empty()) return Status::User("monitoring.models." + v.name + ".profile: no workspace to read it from");
    auto rel = ResolveInRepo(root, root, o.profile);
    if (!rel.ok()) return rel.status().Wrap("monitoring.models." + v.name + ".profile");
    from = JoinPath(root, *rel);
    auto text = ReadFile(from);
    if (!text.ok()) return text.status().Wrap("monitoring.models." + v.name + ".profile");
    json = std::move(*text);
  } else if (r.profile) {
    json = *r.profile;
    from = "its registry profile";
  } else {
    LogInfo("serve: " + v.label + " has no reference profile: drift is not monitored (attach one to the version, or set "
            "monitoring.models." + v.name + ".profile in forja.yaml)");
    return Status::Ok();
  }
  auto profile = monitor::ParseProfile(json);
  if (!profile.ok()) {
    if (!o.profile.empty()) return profile.status().Wrap(from);
    LogWarn("serve: " + v.label + " is not monitored: " + profile.status().message());
    return Status::Ok();
  }
  std::vector<std::string> notes;
  auto m = VersionMonitor::Create(std::move(*profile), v.inputs, v.outputs, o, o.profile.empty() ? r.profile_target : "",
                                  Clock::now(), &notes);
  if (!m.ok()) {
    LogWarn("serve: " + v.label + " is not monitored against " + from + ": " + m.status().message());
    return Status::Ok();
  }
  for (const std::string& n : notes) LogWarn("serve: monitoring " + v.label + ": " + n);
  char buf[160];
  std::snprintf(buf, sizeof buf, " (%zu columns; window %gs in %zu buckets of %gs; drift every %gs)",
                (*m)->profile().columns.size(), o.window_s, (*m)->buckets(), (*m)->bucket_seconds(), o.interval_s);
  LogInfo("serve: monitoring " + v.label + " against " + from + buf);
  v.monitor = std::move(*m);
  return Status::Ok();
}

// Quality from feedback (quality.h), with or without a profile (it helps to tell a classifier).
void ModelServer::Impl::AttachQuality(Version& v, const Resolved& r) {
  const MonitorOptions& o = cfg.monitoring.For(v.name);
  std::string note;
  v.quality = QualityTracker::Create(v.outputs, v.monitor ? &v.monitor->profile() : nullptr,
                                     o.profile.empty() ? r.profile_target : "", o, Clock::now(), &note);
  if (!v.quality) {
    LogInfo("serve: " + v.label + ": quality from feedback is not tracked (" + note + ")");
    return;
  }
  LogInfo("serve: " + v.label + ": quality from feedback as a " + v.quality->kind() + " model");
}

std::vector<std::shared_ptr<Version>> ModelServer::Impl::VersionsOf(const Served& s) {
  std::vector<std::shared_ptr<Version>> versions;
  auto add = [&](std::shared_ptr<Version> v) {
    // A completed rollout's candidate is the route's version and its canary for a poll: once.
    if (v && std::find(versions.begin(), versions.end(), v) == versions.end()) versions.push_back(std::move(v));
  };
  for (auto& r : s.routes) {
    add(r->Get());
    if (auto c = r->GetCanary()) add(c->version);
  }
  if (s.shadow) add(s.shadow->Get());
  return versions;
}

std::vector<std::shared_ptr<Version>> ModelServer::Impl::Current() {
  std::vector<std::shared_ptr<Version>> versions;
  for (const std::string& n : names)
    for (auto& v : VersionsOf(*served[n])) versions.push_back(std::move(v));
  return versions;
}

// The monitoring collector: wakes at the shortest interval (at most every second) and
// collects each monitored version whose interval has passed.
void ModelServer::Impl::Collect() {
  double tick = std::min(1.0, cfg.monitoring.defaults.interval_s);
  for (const auto& [name, o] : cfg.monitoring.models) tick = std::min(tick, o.interval_s);
  // The registry is read again every poll_interval (at least 1 s; 0: never) for staleness facts.
  const auto facts_every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(1.0, cfg.poll_interval_s)));
  auto facts_due = Clock::now() + facts_every;
  std::unique_lock<std::mutex> lock(poll_mu);
  for (;;) {
    poll_cv.wait_for(lock, std::chrono::duration<double>(tick), [&] { return stop_poll; });
    if (stop_poll) return;
    lock.unlock();
    auto now = Clock::now();
    for (auto& v : Current()) {
      if (v->monitor && v->monitor->Due(now)) v->monitor->Collect(now);
      if (v->quality && v->quality->Due(now)) v->quality->Collect(now);
    }
    if (cfg.poll_interval_s > 0 && now >= facts_due) {
      RefreshStaleness();
      facts_due = Clock::now() + facts_every;
    }
    lock.lock();
  }
}

// The staleness facts of the loaded registry versions, read again: a run that ended since it
// loaded, a promotion that did not change the served version (the same version promoted again,
// or an alias moved away and back between two polls). Facts that cannot be read keep the old.
void ModelServer::Impl::RefreshStaleness() {
  for (auto& v : Current()) {
    if (!v->staleness.load()) continue;  // a package folder, or none could be read at load
    Resolved r;
    r.name = v->name;
    r.version = v->version;
    if (auto facts = resolver->Staleness(v->ref, r)) v->staleness.store(std::move(facts));
  }
}

Status ModelServer::Impl::Init() {
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

namespace {

// A Weyl sequence (the n-th multiple of the golden ratio, mod 1) spreads the turns
// evenly: 90/10 interleaves instead of sending 90 in a row to one version.
double Weyl(uint64_t n) { return static_cast<double>((n * 0x9E3779B97F4A7C15ull) >> 11) * 0x1p-53; }

}  // namespace

std::shared_ptr<Version> Slot::Route() {
  std::shared_ptr<const Canary> c;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!canary) return current;
    c = canary;
  }
  if (c->weight >= 100) return c->version;
  double frac = Weyl(canary_turn.fetch_add(1, std::memory_order_relaxed));
  return frac * 100 < c->weight ? c->version : Get();
}

std::shared_ptr<Version> ModelServer::Impl::Pick(Served& s, const std::string& version) {
  if (!version.empty()) {
    // An explicit version: a route's, its rollout candidate's, or the shadow's.
    for (auto& v : VersionsOf(s))
      if (v->version == version) return v;
    return nullptr;
  }
  if (s.routes.size() == 1) return s.routes[0]->Route();
  double frac = Weyl(s.turn.fetch_add(1, std::memory_order_relaxed));
  uint64_t t = static_cast<uint64_t>(frac * static_cast<double>(s.total_weight));
  for (auto& r : s.routes) {
    uint64_t w = static_cast<uint64_t>(r->target.weight);
    if (t < w) return r->Route();
    t -= w;
  }
  return s.routes.back()->Route();
}

void ModelServer::Impl::Shutdown() {
  if (shut) return;
  shut = true;
  ready = false;
  {
    std::lock_guard<std::mutex> lock(poll_mu);
    stop_poll = true;
  }
  poll_cv.notify_all();
  if (poller.joinable()) poller.join();
  if (collector.joinable()) collector.join();
  if (reporter.joinable()) reporter.join();
  // Both front ends drain at once (within drain_ms), while the batchers still answer.
  std::thread grpc_drain;
  if (grpc) grpc_drain = std::thread([this] { grpc->Shutdown(cfg.drain_ms); });
  if (http) http->Shutdown(cfg.drain_ms);
  if (grpc_drain.joinable()) grpc_drain.join();
  for (auto& [n, s] : served)
    for (auto& v : VersionsOf(*s)) v->batcher->Stop();
}

ModelServer::ModelServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelServer::~ModelServer() { Shutdown(); }
int ModelServer::port() const { return impl_->http->port(); }
int ModelServer::grpc_port() const { return impl_->grpc ? impl_->grpc->port() : -1; }
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
  if (impl->cfg.grpc_port >= 0) {
    ASSIGN_OR_RETURN(impl->grpc, StartGrpc(raw));
  }
  impl->ready = true;
  if (impl->cfg.poll_interval_s > 0) {
    bool any = false;
    for (auto& [n, s] : impl->served) {
      for (auto& r : s->routes) any |= r->moving;
      if (s->shadow) any |= s->shadow->moving;
    }
    if (any) impl->poller = std::thread([raw] { raw->Poll(); });
  }
  impl->collector = std::thread([raw] { raw->Collect(); });
  if (impl->cfg.report && impl->cfg.report_interval_s > 0) impl->reporter = std::thread([raw] { raw->Report(); });
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

}  // namespace forja::serve
