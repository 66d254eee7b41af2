// The serving report (docs/monitoring.md "Serving reports"): every report_interval_s the
// reporter thread builds one compact JSON document of what this server serves now, from what
// it already keeps for /metrics (metrics.h's counts and histograms, the monitors' drift
// snapshots, the quality trackers', the staleness facts), and hands it to cfg.report, which
// forja serve points at its registry (meta::MetaStore::PutServingReport). A failing sink is
// logged once per kind of failure and retried at the next report: serving never waits on it.
//
// Sizes are bounded here as forja server's route bounds them (api/serving_routes.cc): at most
// kMaxColumns drift columns per version (the rest counted in `omitted`).
#include <unistd.h>

#include <cmath>
#include <set>
#include <nlohmann/json.hpp>

#include "forja/core/log.h"
#include "forja/meta/store.h"
#include "forja/serve/server_impl.h"
#include "forja/serve/staleness.h"

namespace forja::serve {

namespace {

using Doc = nlohmann::json;  // serve::Json is the answer helper (server_impl.h)

constexpr size_t kMaxColumns = 200;

Doc Num(double v) { return std::isfinite(v) ? Doc(v) : Doc(nullptr); }

// The q-quantile of a histogram (linear within the bucket it falls in; the last finite bound
// when it falls beyond it); null without observations.
Doc Quantile(const Hist& h, double q) {
  uint64_t counts[16];
  uint64_t total = 0;
  for (size_t i = 0; i <= h.n; i++) total += counts[i] = h.counts[i].load(std::memory_order_relaxed);
  if (total == 0) return nullptr;
  double want = q * static_cast<double>(total), cum = 0;
  for (size_t i = 0; i <= h.n; i++) {
    double next = cum + static_cast<double>(counts[i]);
    if (next >= want && counts[i] > 0) {
      if (i == h.n) return h.bounds[h.n - 1];
      double lo = i == 0 ? 0 : h.bounds[i - 1], hi = h.bounds[i];
      return lo + (hi - lo) * (want - cum) / static_cast<double>(counts[i]);
    }
    cum = next;
  }
  return h.bounds[h.n - 1];
}

Doc DriftJson(const MonitorSnapshot& s) {
  Doc cols = Doc::array();
  size_t omitted = s.omitted;
  for (const auto& c : s.drift.columns) {
    if (cols.size() >= kMaxColumns) {
      omitted++;
      continue;
    }
    cols.push_back({{"name", c.name.substr(0, 256)}, {"kind", monitor::KindName(c.kind)},
                    {"method", monitor::MethodName(c.method)}, {"score", Num(c.score)}, {"threshold", Num(c.threshold)},
                    {"verdict", monitor::VerdictName(c.verdict)}, {"drifted", c.drifted()},
                    {"current_n", c.current_n}});
  }
  return {{"rows", s.rows}, {"drift", s.drift.drift}, {"share", Num(s.drift.share)}, {"tested", s.drift.tested},
          {"drifted", s.drift.drifted}, {"omitted", omitted}, {"columns", std::move(cols)}};
}

Doc Values(const monitor::QualityValues& v) {
  Doc m = Doc::object();
  for (const auto& [k, x] : v) m[k] = Num(x);
  return m;
}

Doc QualityJson(const QualitySnapshot& s) {
  Doc q = {{"task", s.task == monitor::Task::kRegression ? "regression" : "classification"},
            {"labels", s.labels}, {"metrics", Values(s.quality)}};
  if (s.estimates) {
    q["estimate_rows"] = s.estimate_rows;
    q["estimate"] = Values(s.estimate);
  }
  return q;
}

Doc Opt(const std::optional<double>& v) { return v ? Num(*v) : Doc(nullptr); }

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::string ModelServer::Impl::BuildReport() {
  const auto now = Clock::now();
  const int64_t now_ms = meta::NowMs();
  Doc models = Doc::array();
  std::set<std::string> seen;  // the versions loaded now: the rates of those unloaded are forgotten
  for (const std::string& n : names) {
    Served& s = *served[n];
    Doc routes = Doc::array();
    for (auto& r : s.routes) {
      auto c = r->GetCanary();
      Doc canary = c ? Doc{{"version", c->to}, {"weight", c->weight}, {"rollout", c->rollout}} : Doc(nullptr);
      routes.push_back({{"ref", r->target.ref}, {"weight", r->target.weight}, {"version", r->Get()->version},
                        {"canary", std::move(canary)}});
    }
    Doc shadow = s.shadow ? Doc{{"ref", s.shadow->target.ref}, {"version", s.shadow->Get()->version}} : Doc(nullptr);
    Doc versions = Doc::array();
    for (auto& v : VersionsOf(s)) {
      const char* role = v->shadow ? "shadow" : v->canary ? "canary" : "primary";
      uint64_t requests = 0, errors = 0, client_errors = 0;
      for (size_t i = 0; i < kNumCodes; i++) {
        uint64_t k = v->stats.codes[i].load(std::memory_order_relaxed);
        requests += k;
        if (kCodes[i] >= 500) errors += k;
        else if (kCodes[i] >= 400) client_errors += k;
      }
      // The rate over the time since the last report (since the start for the first).
      std::string key = v->name + "/" + v->version + "/" + role;
      seen.insert(key);
      auto [it, fresh] = reported.try_emplace(key);
      Reported& r = it->second;
      if (fresh) r.at = report_started;
      double secs = Seconds(r.at, now);
      double rate = secs > 0 && requests >= r.requests ? static_cast<double>(requests - r.requests) / secs : 0;
      r.requests = requests;
      r.at = now;
      r.traffic.emplace_back(now_ms, rate);
      while (r.traffic.size() > kTrafficPoints) r.traffic.pop_front();
      Doc traffic = Doc::array();
      for (const auto& [t, x] : r.traffic) traffic.push_back({t, x});
      Doc j = {{"version", v->version}, {"ref", v->ref}, {"role", role}, {"platform", v->platform},
                {"requests", requests}, {"errors", errors}, {"client_errors", client_errors}, {"req_per_s", rate}, {"traffic", std::move(traffic)},
                {"error_rate", requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0.0},
                {"latency_s", {{"p50", Quantile(v->stats.latency, 0.5)}, {"p95", Quantile(v->stats.latency, 0.95)},
                               {"p99", Quantile(v->stats.latency, 0.99)}}}};
      auto snap = v->monitor ? v->monitor->Snapshot() : nullptr;
      j["drift"] = snap ? DriftJson(*snap) : Doc(nullptr);
      auto qs = v->quality ? v->quality->Snapshot() : nullptr;
      j["quality"] = qs ? QualityJson(*qs) : Doc(nullptr);
      StaleVersion sv{v->name, v->version, v->staleness.load(), snap,
                      qs ? QualityBelowGates(*qs, v->name, cfg.monitoring.quality_gates,
                                             cfg.monitoring.alerts.quality_min_labels)
                         : std::nullopt,
                      cfg.monitoring.For(v->name).staleness};
      monitor::StalenessInput in = StalenessInputOf(sv, now_ms, now);
      monitor::StalenessVerdict verdict = monitor::JudgeStaleness(in, sv.thresholds);
      Doc reasons = Doc::array();
      for (size_t r = 0; r < monitor::kStaleReasons; ++r)
        if (verdict.reasons[r]) reasons.push_back(monitor::StaleReasonName(static_cast<monitor::StaleReason>(r)));
      j["staleness"] = {{"stale", verdict.stale},          {"reasons", std::move(reasons)},
                        {"model_age_s", Opt(in.model_age_s)}, {"data_age_s", Opt(in.data_age_s)},
                        {"since_promotion_s", Opt(in.since_promotion_s)}, {"drifted_for_s", Opt(in.drifted_for_s)}};
      versions.push_back(std::move(j));
    }
    models.push_back({{"name", n}, {"routes", std::move(routes)}, {"shadow", std::move(shadow)},
                      {"versions", std::move(versions)}});
  }
  std::erase_if(reported, [&](const auto& kv) { return !seen.count(kv.first); });
  Doc report = {{"address", "http://" + cfg.host + ":" + std::to_string(http ? http->port() : cfg.port)},
                 {"hostname", Hostname()},
                 {"forja_version", FORJA_VERSION},
                 {"pid", static_cast<int64_t>(getpid())},
                 {"started", now_ms - static_cast<int64_t>(Seconds(report_started, now) * 1000)},
                 {"interval_s", cfg.report_interval_s},
                 {"models", std::move(models)}};
  return report.dump(-1, ' ', false, Doc::error_handler_t::replace);
}

// The reporter: a first report as soon as the server listens, then one every interval.
void ModelServer::Impl::Report() {
  std::string last_error;
  const std::string instance =
      !cfg.instance.empty() ? cfg.instance : (Hostname().empty() ? "localhost" : Hostname()) + ":" + std::to_string(http->port());
  const auto every = std::chrono::duration<double>(cfg.report_interval_s);
  std::unique_lock<std::mutex> lock(poll_mu);
  for (;;) {
    lock.unlock();
    Status st = cfg.report(instance, BuildReport());
    if (st.ok() && !last_error.empty()) LogInfo("serving report: delivered again");
    if (!st.ok() && st.message() != last_error)
      LogWarn("serving report: " + st.message() + " (tried again every " +
              std::to_string(static_cast<int>(cfg.report_interval_s)) + " s)");
    last_error = st.ok() ? "" : st.message();
    lock.lock();
    if (poll_cv.wait_for(lock, every, [&] { return stop_poll; })) return;
  }
}

}  // namespace forja::serve
