// Notifications: a POST of a Slack-compatible JSON body {"text": "..."} to a webhook.
#pragma once

#include <string>

#include "forja/core/status.h"

namespace forja::agent {

// The body sent for `text`: {"text":"..."} (valid UTF-8 JSON whatever the text holds).
std::string WebhookBody(const std::string& text);

// POSTs WebhookBody(text) with Content-Type: application/json; a transport failure or a
// non-2xx answer is an Unavailable error (the agent logs it and goes on).
Status PostWebhook(const std::string& url, const std::string& text);

}  // namespace forja::agent
