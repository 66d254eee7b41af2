// The web UI's files, answered from the table the build embedded (ui_assets.h). Nothing
// here reads the disk or the store: the bytes are in the binary, so the UI works
// air-gapped and matches the server's version exactly.
#include "forja/api/ui_routes.h"

#include <algorithm>
#include <string_view>

#include "forja/api/ui_assets.h"

namespace forja::api {

const char kUiContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

// Vite names every file under /assets/ by a hash of its content: a new build is a new name,
// so a browser may keep these for good. Other files (index.html names the current assets)
// are revalidated on every load, which the ETag makes a 304.
constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kRevalidate = "no-cache";

void AddSecurityHeaders(net::Response* r) {
  r->headers.push_back({"Content-Security-Policy", kUiContentSecurityPolicy});
  r->headers.push_back({"X-Content-Type-Options", "nosniff"});
  r->headers.push_back({"Referrer-Policy", "no-referrer"});
  r->headers.push_back({"X-Frame-Options", "DENY"});  // frame-ancestors for browsers before CSP 2
  r->headers.push_back({"Cross-Origin-Opener-Policy", "same-origin"});
}

const UiAsset* Find(std::string_view path) {
  std::span<const UiAsset> all = UiAssets();
  auto it = std::lower_bound(all.begin(), all.end(), path,
                             [](const UiAsset& a, std::string_view p) { return a.path < p; });
  return it != all.end() && it->path == path ? &*it : nullptr;
}

// If-None-Match holds the asset's ETag: "*" or a comma-separated list of tags, weak ones
// (W/"...") compared weakly as RFC 9110 asks for this header.
bool NotModified(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

net::Response NotFound(std::string message) {
  net::Response r;
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(message);
  r.headers.push_back({"Cache-Control", kRevalidate});
  AddSecurityHeaders(&r);
  return r;
}

}  // namespace

bool IsUiRequest(const net::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  const std::string& p = req.path;
  if (p.empty() || p.front() != '/') return false;
  if (p.starts_with("/api/") || p == "/api" || p.starts_with("/ajax-api/") || p == "/ajax-api") return false;
  return p != "/health" && p != "/ping" && p != "/version" && p != "/metrics";
}

net::Response UiResponse(const net::Request& req) {
  if (UiAssets().empty())
    return NotFound("this forja was built without its web UI (FORJA_UI=OFF); the API is under /api/2.0/mlflow/\n");
  std::string_view path = req.path;
  const UiAsset* a = Find(path == "/" ? "/index.html" : path);
  if (!a && path.starts_with(kAssetsPrefix))  // a stale page asking for an old build's file
    return NotFound("no UI file " + std::string(path) + " in this forja's build: reload the page\n");
  if (!a) a = Find("/index.html");  // a client route: the app reads the rest of the URL
  if (!a) return NotFound("the web UI has no index.html\n");

  net::Response r;
  std::string etag = "\"" + std::string(a->sha256) + "\"";
  r.headers.push_back({"ETag", etag});
  r.headers.push_back({"Cache-Control", a->path.starts_with(kAssetsPrefix) ? kImmutable : kRevalidate});
  AddSecurityHeaders(&r);
  if (NotModified(req.Header("if-none-match"), etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->data);
  return r;
}

}  // namespace forja::api
