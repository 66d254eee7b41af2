// forja server's web UI: the files of ui/ (embedded by the build, ui_assets.h) served at /.
// Internal to forja server's files.
#pragma once

#include <string>

#include "forja/net/http_server.h"

namespace forja::api {

// A request the UI answers: GET or HEAD of a path outside the API (/api/, /ajax-api/) and
// the server's own endpoints (/health, /ping, /version, /metrics). Public: the files hold
// no data, and the page asks for a token when the API answers 401.
bool IsUiRequest(const net::Request& req);

// The answer to a UI request: the file at the path (/ is index.html); under /assets/ (hashed
// names, never change) a 404 for an unknown file; elsewhere index.html, so the client's
// routes load the app. Strong ETags (the SHA-256 of the bytes) answer If-None-Match with 304.
// Every answer, 304 and 404 too, carries the CSP below, nosniff and a no-referrer policy.
net::Response UiResponse(const net::Request& req);

// The Content-Security-Policy every UI answer carries: the page's own origin only, no inline
// style, no framing, and no inline script but index.html's own (allowed by their SHA-256,
// read from the embedded file: the runs page's early fetch).
const std::string& UiContentSecurityPolicy();

}  // namespace forja::api
