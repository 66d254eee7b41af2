#include "forja/rollout/source.h"

#include <map>
#include <nlohmann/json.hpp>

#include "forja/core/limits.h"
#include "forja/core/strings.h"
#include "forja/net/http_client.h"

namespace forja::rollout {

namespace {

constexpr size_t kMaxBody = 64u << 20;

Result<std::string> Get(const std::string& url, const std::string& who) {
  HttpRequest req;
  req.method = "GET";
  req.url = url;
  HttpResponse res = HttpPerform(req);
  if (!res.transport_ok) return Status::Unavailable(who + " did not answer (" + res.error + ")");
  if (res.status != 200)
    return Status::Unavailable(who + " answered HTTP " + std::to_string(res.status) + " to GET " + url);
  if (res.body.size() > kMaxBody) return Status::Unavailable(who + " answered more than 64 MiB");
  return std::move(res.body);
}

class Scraper : public MetricsSource {
 public:
  Scraper(std::vector<std::string> urls, std::string model, std::string version, std::string id)
      : urls_(std::move(urls)), model_(std::move(model)), version_(std::move(version)), id_(std::move(id)) {}

  Result<std::vector<ServerView>> Read() override {
    std::vector<ServerView> out;
    for (const std::string& u : urls_) {
      ASSIGN_OR_RETURN(std::string text, Get(u + "/metrics", "server " + u));
      auto samples = ParsePromText(text, &RolloutMetric);
      if (!samples.ok()) return Status::Unavailable("server " + u + ": /metrics: " + samples.status().message());
      out.push_back({u, ExtractVersion(*samples, model_, version_), ExtractRollout(*samples, model_, version_, id_)});
    }
    return out;
  }

 private:
  std::vector<std::string> urls_;
  std::string model_, version_, id_;
};

// A PromQL label value in double quotes (the names and versions are registry-checked,
// but quote anyway).
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class Prometheus : public MetricsSource {
 public:
  Prometheus(std::string url, std::string model, std::string version, std::string id)
      : url_(std::move(url)), model_(std::move(model)), version_(std::move(version)), id_(std::move(id)) {}

  // Each series the servers export, as Prometheus scraped it last, per instance; the
  // instances are those with the model loaded (forja_serve_model_info).
  Result<std::vector<ServerView>> Read() override {
    std::string sel = "model=" + Quote(model_);
    std::string cand = sel + ",version=" + Quote(version_);
    std::map<std::string, ServerView> views;
    ASSIGN_OR_RETURN(auto info, Query("forja_serve_model_info{" + sel + "}"));
    ASSIGN_OR_RETURN(auto up, Query("up"));
    for (const Sample& s : info)
      if (const std::string* i = s.Label("instance")) views[*i].server = *i;
    for (const Sample& s : up) {
      const std::string* i = s.Label("instance");
      if (i && views.count(*i) && s.value < 1) return Status::Unavailable("server " + *i + " is down (Prometheus: up 0)");
    }
    if (views.empty()) return Status::Unavailable("Prometheus " + url_ + " knows no server that serves " + model_);
    std::vector<Sample> all;
    for (const char* name : {"forja_serve_requests_total", "forja_serve_request_duration_seconds_bucket",
                             "forja_model_quality", "forja_model_dataset_drift_share"}) {
      ASSIGN_OR_RETURN(auto part, Query(std::string(name) + "{" + cand + "}"));
      all.insert(all.end(), part.begin(), part.end());
    }
    for (const char* name : {"forja_serve_rollout_weight", "forja_serve_rollout_refused"}) {
      ASSIGN_OR_RETURN(auto part, Query(std::string(name) + "{" + cand + ",rollout=" + Quote(id_) + "}"));
      all.insert(all.end(), part.begin(), part.end());
    }
    std::map<std::string, std::vector<Sample>> by_instance;
    for (Sample& s : all)
      if (const std::string* i = s.Label("instance")) by_instance[*i].push_back(std::move(s));
    std::vector<ServerView> out;
    for (auto& [instance, view] : views) {
      const std::vector<Sample>& mine = by_instance[instance];
      view.candidate = ExtractVersion(mine, model_, version_);
      view.gauge = ExtractRollout(mine, model_, version_, id_);
      out.push_back(std::move(view));
    }
    return out;
  }

 private:
  // GET /api/v1/query: an instant vector, read hostile-input safe.
  Result<std::vector<Sample>> Query(const std::string& promql) {
    std::string who = "Prometheus " + url_;
    ASSIGN_OR_RETURN(std::string body, Get(url_ + "/api/v1/query?query=" + PercentEncode(promql), who));
    if (Status ok = limits::CheckJsonText(body, who + "'s answer"); !ok.ok()) return Status::Unavailable(ok.message());
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("status", "") != "success" || !j.contains("data") ||
        !j["data"].is_object() || j["data"].value("resultType", "") != "vector" || !j["data"].contains("result") ||
        !j["data"]["result"].is_array())
      return Status::Unavailable(who + ": not an instant vector answer to " + promql);
    std::vector<Sample> out;
    for (const auto& r : j["data"]["result"]) {
      if (!r.is_object() || !r.contains("metric") || !r["metric"].is_object() || !r.contains("value") ||
          !r["value"].is_array() || r["value"].size() != 2 || !r["value"][1].is_string())
        return Status::Unavailable(who + ": a result of " + promql + " is not {metric, value}");
      Sample s;
      for (const auto& [k, v] : r["metric"].items()) {
        if (!v.is_string()) return Status::Unavailable(who + ": label " + k + " is not a string");
        if (k == "__name__") s.name = v.get<std::string>();
        else s.labels.emplace_back(k, v.get<std::string>());
      }
      std::string value = r["value"][1].get<std::string>();
      auto parsed = ParsePromText("x " + value);
      if (!parsed.ok() || parsed->size() != 1) return Status::Unavailable(who + ": '" + value.substr(0, 40) + "' is not a number");
      s.value = (*parsed)[0].value;
      out.push_back(std::move(s));
    }
    return out;
  }

  std::string url_, model_, version_, id_;
};

}  // namespace

std::unique_ptr<MetricsSource> ScrapeServers(std::vector<std::string> urls, std::string model, std::string version,
                                             std::string rollout_id) {
  return std::make_unique<Scraper>(std::move(urls), std::move(model), std::move(version), std::move(rollout_id));
}

std::unique_ptr<MetricsSource> QueryPrometheus(std::string url, std::string model, std::string version,
                                               std::string rollout_id) {
  return std::make_unique<Prometheus>(std::move(url), std::move(model), std::move(version), std::move(rollout_id));
}

}  // namespace forja::rollout
