// GET /metrics: the model server's atomic counts (metrics.h), the loaded versions,
// reloads and the prediction log, then the drift gauges of the monitored versions
// (monitoring.h), as Prometheus text (exposition format 0.0.4).
#include <cstdio>

#include "forja/core/prometheus.h"
#include "forja/meta/store.h"
#include "forja/serve/server_impl.h"
#include "forja/serve/staleness.h"

namespace forja::serve {

namespace {

constexpr auto Label = &PromRegistry::Label;  // key="value", escaped; takes no lock

}  // namespace

void Hist::Render(std::string* out, const std::string& name, const std::string& labels) const {
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

// The rollouts the routes follow now (reload.cc): the candidate's share while it is applied,
// and the candidate a route refused (it failed to load), until another rollout comes.
void ModelServer::Impl::RenderRollouts(std::string* o) {
  std::string weights, refused;
  for (const std::string& n : names)
    for (auto& r : served[n]->routes) {
      std::shared_ptr<const Canary> c, bad;
      std::string model;
      {
        std::lock_guard<std::mutex> lock(r->mu);
        c = r->canary;
        bad = r->refused;
        model = r->current->name;
      }
      auto labels = [&](const Canary& x) {
        return Label("model", model) + "," + Label("version", x.to) + "," + Label("rollout", std::to_string(x.rollout));
      };
      if (c) weights += "forja_serve_rollout_weight{" + labels(*c) + "} " + std::to_string(c->weight) + "\n";
      if (bad) refused += "forja_serve_rollout_refused{" + labels(*bad) + "} 1\n";
    }
  *o += "# HELP forja_serve_rollout_weight Percent of a route's requests a running rollout's candidate answers now.\n";
  *o += "# TYPE forja_serve_rollout_weight gauge\n" + weights;
  *o += "# HELP forja_serve_rollout_refused A rollout's candidate this server failed to load (value 1): its route kept its version.\n";
  *o += "# TYPE forja_serve_rollout_refused gauge\n" + refused;
}

std::string ModelServer::Impl::RenderMetrics() {
  std::string o;
  o += "# HELP forja_serve_requests_total Inference requests answered, by model, version and status code.\n";
  o += "# TYPE forja_serve_requests_total counter\n";
  std::vector<std::shared_ptr<Version>> versions = Current();
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
         Label("role", v->shadow ? "shadow" : v->canary ? "canary" : "primary") + "} 1\n";
  o += "# HELP forja_serve_http_responses_total Every HTTP response, by status code (including the server's own 408/413/431).\n";
  o += "# TYPE forja_serve_http_responses_total counter\n";
  for (size_t i = 0; i < kNumCodes; i++)
    if (uint64_t n = http_codes[i].load())
      o += "forja_serve_http_responses_total{" + Label("code", std::to_string(kCodes[i])) + "} " + std::to_string(n) + "\n";
  if (grpc) {  // the gRPC front end's answers (ModelInfer's also count in forja_serve_requests_total)
    o += "# HELP forja_serve_grpc_responses_total Every gRPC answer (all methods), by status code.\n";
    o += "# TYPE forja_serve_grpc_responses_total counter\n";
    for (int i = 0; i < kGrpcCodes; i++)
      if (uint64_t n = grpc_codes[i].load())
        o += "forja_serve_grpc_responses_total{" + Label("code", GrpcCodeName(i)) + "} " + std::to_string(n) + "\n";
  }
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
  RenderRollouts(&o);
  o += "# HELP forja_serve_prediction_log_lines_total Prediction log lines written, and dropped when the writer fell behind.\n";
  o += "# TYPE forja_serve_prediction_log_lines_total counter\n";
  o += "forja_serve_prediction_log_lines_total{outcome=\"written\"} " + std::to_string(log.written()) + "\n";
  o += "forja_serve_prediction_log_lines_total{outcome=\"dropped\"} " + std::to_string(log.dropped()) + "\n";
  std::vector<MonitoredVersion> monitored;
  for (auto& v : versions)
    if (v->monitor) monitored.push_back({v->name, v->version, v->monitor->Snapshot()});
  RenderMonitorMetrics(monitored, &o);
  std::vector<QualityVersion> quality;
  for (auto& v : versions)
    if (v->quality) quality.push_back({v->name, v->version, v->quality.get(), v->quality->Snapshot()});
  std::vector<std::pair<std::string, uint64_t>> unknown;
  for (const std::string& n : names) unknown.emplace_back(n, served[n]->feedback_unknown.load(std::memory_order_relaxed));
  RenderQualityMetrics(quality, unknown, &o);
  std::vector<StaleVersion> stale;
  for (auto& v : versions)
    stale.push_back({v->name, v->version, v->staleness.load(), v->monitor ? v->monitor->Snapshot() : nullptr,
                     v->quality ? QualityBelowGates(*v->quality->Snapshot(), v->name, cfg.monitoring.quality_gates,
                                                    cfg.monitoring.alerts.quality_min_labels)
                                : std::nullopt,  // the quality hook: the production gates on quality metrics
                     cfg.monitoring.For(v->name).staleness});
  RenderStalenessMetrics(stale, meta::NowMs(), Clock::now(), &o);
  return o;
}

}  // namespace forja::serve
