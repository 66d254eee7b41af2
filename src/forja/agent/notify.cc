#include "forja/agent/notify.h"

#include <nlohmann/json.hpp>

#include "forja/core/redact.h"
#include "forja/net/http_client.h"

namespace forja::agent {

std::string WebhookBody(const std::string& text) {
  return nlohmann::json{{"text", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status PostWebhook(const std::string& url, const std::string& text) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = WebhookBody(text);
  HttpResponse resp = HttpPerform(req);
  if (!resp.transport_ok) return Status::Unavailable("webhook " + RedactUri(url) + ": " + resp.error);
  if (resp.status < 200 || resp.status >= 300)
    return Status::Unavailable("webhook " + RedactUri(url) + " answered HTTP " + std::to_string(resp.status));
  return Status::Ok();
}

}  // namespace forja::agent
