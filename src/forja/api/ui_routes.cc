// The web UI's files, answered from the table the build embedded (ui_assets.h). Nothing
// here reads the disk or the store: the bytes are in the binary, so the UI works
// air-gapped and matches the server's version exactly.
#include "forja/api/ui_routes.h"

#include <algorithm>
#include <string_view>

#include "forja/api/ui_assets.h"
#include "forja/core/sha256.h"

namespace forja::api {

namespace {

// Vite names every file under /assets/ by a hash of its content: a new build is a new name,
// so a browser may keep these for good. Other files (index.html names the current assets)
// are revalidated on every load, which the ETag makes a 304.
constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kRevalidate = "no-cache";

void AddSecurityHeaders(net::Response* r) {
  r->headers.push_back({"Content-Security-Policy", UiContentSecurityPolicy()});
  r->headers.push_back({"X-Content-Type-Options", "nosniff"});
  r->headers.push_back({"Referrer-Policy", "no-referrer"});
  r->headers.push_back({"X-Frame-Options", "DENY"});  // frame-ancestors for browsers before CSP 2
  // No Cross-Origin-Opener-Policy: a page with one is put in a new browsing context group,
  // so opening the UI in a tab (whose first, empty document has none) swaps renderer
  // processes, which cost 180 ms of every first page here (bench/ui's static-page floor, 260
  // against 443 ms with the header). What it guards against, a cross-origin page holding a
  // handle on this window, gets nothing from one: no framing (above), no ambient credentials
  // (the token is in this tab's sessionStorage, which a tab another site opens does not have),
  // no message listeners (docs/ui.md).
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

std::string Base64(const Oid& digest) {
  static const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto& b = digest.bytes;
  std::string out;
  for (size_t i = 0; i < b.size(); i += 3) {
    uint32_t n = uint32_t{b[i]} << 16;
    if (i + 1 < b.size()) n |= uint32_t{b[i + 1]} << 8;
    if (i + 2 < b.size()) n |= b[i + 2];
    out += kDigits[n >> 18 & 63];
    out += kDigits[n >> 12 & 63];
    out += i + 1 < b.size() ? kDigits[n >> 6 & 63] : '=';
    out += i + 2 < b.size() ? kDigits[n & 63] : '=';
  }
  return out;
}

// " 'sha256-...'" for each inline <script> of the embedded index.html (one without
// attributes: Vite's own tags all have a src). They are part of the build, like the bundle.
std::string InlineScriptHashes() {
  const UiAsset* index = Find("/index.html");
  if (!index) return "";
  std::string out;
  std::string_view html = index->data;
  constexpr std::string_view kOpen = "<script>", kClose = "</script>";
  for (size_t at = html.find(kOpen); at != std::string_view::npos; at = html.find(kOpen, at)) {
    size_t start = at + kOpen.size(), end = html.find(kClose, start);
    if (end == std::string_view::npos) break;
    out += " 'sha256-" + Base64(Sha256::Of(html.substr(start, end - start))) + "'";
    at = end + kClose.size();
  }
  return out;
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

const std::string& UiContentSecurityPolicy() {
  static const std::string csp = "default-src 'self'; script-src 'self'" + InlineScriptHashes() +
                                 "; style-src 'self'; img-src 'self' blob:; font-src 'self'; connect-src 'self'; "
                                 "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return csp;
}

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
