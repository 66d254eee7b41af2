// The model server's HTTP routes: Open Inference Protocol v2 (server and model
// metadata, readiness, infer), MLflow's scoring server (/invocations, /ping,
// /health, /version), GET /metrics, and ground-truth feedback; plus the JSON error
// bodies every answer uses. The infer routes hand over to infer.cc.
#include <nlohmann/json.hpp>

#include "forja/core/json.h"
#include "forja/core/limits.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

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

namespace {

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

}  // namespace

void ModelServer::Impl::Handle(net::Request& req, net::Responder res) {
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
net::HeadDecision ModelServer::Impl::CheckHead(const net::Request& req) {
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

Served* ModelServer::Impl::Find(const std::string& name) {
  auto it = served.find(name);
  return it == served.end() ? nullptr : it->second.get();
}

void ModelServer::Impl::ModelRoute(net::Request& req, net::Responder res, std::string_view rest) {
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

namespace {

// A feedback item's label as quality.h takes it: one value, or a list (one per row).
std::vector<LabelValue> LabelValues(const nlohmann::json& label) {
  auto one = [](const nlohmann::json& j) {
    LabelValue v;
    if (j.is_boolean()) v = {LabelValue::Kind::kBool, j.get<bool>() ? 1.0 : 0.0};
    else if (j.is_number()) v = {LabelValue::Kind::kNumber, j.get<double>()};
    return v;
  };
  std::vector<LabelValue> out;
  if (label.is_array())
    for (const auto& j : label) out.push_back(one(j));
  else out.push_back(one(label));
  return out;
}

}  // namespace

// {"request_id": "...", "label": ...} or a list of them. Each label is joined to the predictions
// kept under its request id by every version that tracks quality (quality.h), and appended to
// the prediction log as given when the log is on. 400 when the body is malformed (nothing
// recorded); else 200 with what happened to each item.
net::Response ModelServer::Impl::Feedback(Served& s, const net::Request& req) {
  std::vector<std::shared_ptr<Version>> versions = VersionsOf(s);  // a rollout's candidate too
  bool tracked = false;
  for (auto& v : versions) tracked |= v->quality != nullptr;
  if (!log.enabled() && !tracked)
    return Json(503, ErrorJson("the prediction log is off and no version of " + s.name +
                               " tracks quality: feedback has nowhere to go"));
  // Depth first: copying or dumping a tree nested 100,000 deep would overflow the stack.
  if (Status st = limits::CheckJsonText(req.body, "the feedback"); !st.ok()) return Json(400, ErrorJson(st.message()));
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return Json(400, ErrorJson("malformed JSON"));
  std::vector<nlohmann::json> items;
  if (body.is_array()) items.assign(body.begin(), body.end());
  else items.push_back(body);
  if (items.empty()) return Json(400, ErrorJson("no feedback: send {\"request_id\": ..., \"label\": ...} or a list of them"));
  for (size_t i = 0; i < items.size(); i++) {
    auto& it = items[i];
    std::string where = items.size() > 1 ? "item " + std::to_string(i) + ": " : "";
    if (!it.is_object()) return Json(400, ErrorJson(where + "feedback must be an object"));
    if (!it.contains("request_id") || !it["request_id"].is_string() || it["request_id"].get<std::string>().empty())
      return Json(400, ErrorJson(where + "'request_id' (the X-Request-Id of the prediction) is required"));
    if (!it.contains("label")) return Json(400, ErrorJson(where + "'label' (the ground truth) is required"));
  }
  std::string out = "{\"results\":[";
  size_t joined = 0;
  for (size_t i = 0; i < items.size(); i++) {
    auto& it = items[i];
    std::string id = it["request_id"].get<std::string>();
    if (log.enabled()) {
      nlohmann::json line = {{"model", s.name}, {"feedback_request_id", req.request_id}};
      for (auto& [k, v] : it.items()) line[k] = v;
      std::string text = line.dump();
      log.AddFeedback("{\"time\":" + NowText() + "," + text.substr(1));
    }
    // Every version that kept the request's predictions (the primary and its shadow) counts the
    // label; the answer says the first one's result.
    const nlohmann::json& label = it["label"];
    std::vector<LabelValue> values = LabelValues(label);
    FeedbackResult result = FeedbackResult::kUnknownRequestId;
    std::string why;
    for (auto& v : versions) {
      if (!v->quality) continue;
      std::string w;
      FeedbackResult r = v->quality->AddLabels(id, values, label.is_array(), &w);
      if (r != FeedbackResult::kUnknownRequestId && result == FeedbackResult::kUnknownRequestId) {
        result = r;
        why = std::move(w);
      }
    }
    if (result == FeedbackResult::kUnknownRequestId) {
      if (tracked) s.feedback_unknown.fetch_add(1, std::memory_order_relaxed);
      why = tracked ? "no prediction is kept under this request id (never answered here, or older than the monitoring window)"
                    : "no version of " + s.name + " tracks quality";
    }
    joined += result == FeedbackResult::kJoined;
    if (i) out += ',';
    out += "{\"request_id\":";
    AppendJsonString(&out, id);
    out += ",\"result\":\"";
    out += FeedbackResultName(result);
    out += '"';
    if (!why.empty()) {
      out += ",\"error\":";
      AppendJsonString(&out, why);
    }
    out += '}';
  }
  out += "],\"joined\":" + std::to_string(joined) + ",\"recorded\":" + std::to_string(log.enabled() ? items.size() : 0) + "}";
  return Json(200, std::move(out));
}

}  // namespace forja::serve
