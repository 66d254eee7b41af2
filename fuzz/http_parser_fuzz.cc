// Fuzzes RequestParser, the parser of every byte a network client sends to forja's servers.
//
// Input: the bytes of one connection (any number of pipelined requests). They are parsed
// twice with two sets of limits (the defaults, and small ones so that 413/414/431 are
// reachable): once fed at once and once split at pseudo-random points (seeded by the input),
// and byte by byte when short.
//
// Invariants, beyond "no crash":
//  - every way of splitting gives the same requests, the same final state (needs more, or
//    the same error) and, unless it ended in an error, the same count of consumed bytes;
//  - an error is one of 400/413/414/431/501/505 with a one-line message;
//  - a parsed request is sane (path starts with '/', no NUL, no ".." segment; lower-case
//    token header names; values without CR/LF; body within the limit), and its
//    SerializeRequest() parses back to an equal request that consumes exactly those bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/net/http_parser.h"
#include "fuzz_check.h"

namespace {

using forja::fuzz::Show;
using forja::net::ParserLimits;
using forja::net::ParseResult;
using forja::net::ParseStatus;
using forja::net::Request;
using forja::net::RequestParser;

struct Outcome {
  std::vector<Request> requests;
  ParseStatus last = ParseStatus::kNeedMore;
  int http_status = 0;
  std::string message;
  size_t consumed = 0;
};

// Feeds `data` in pieces ending at `cuts` (ascending, the last one data.size()), keeping the
// unconsumed bytes as the server does; with `pause`, stopping after each head as the server's
// event loop does (which must not change what is parsed).
Outcome Feed(std::string_view data, const std::vector<size_t>& cuts, ParserLimits limits, bool pause = false) {
  RequestParser parser(limits);
  parser.set_pause_after_head(pause);
  Outcome out;
  std::string held;
  Request req;
  size_t fed = 0;
  for (size_t cut : cuts) {
    held.append(data.substr(fed, cut - fed));
    fed = cut;
    while (true) {
      ParseResult r = parser.Parse(held, req);
      FUZZ_CHECK(r.consumed <= held.size(), Show(held));
      held.erase(0, r.consumed);
      out.consumed += r.consumed;
      out.last = r.status;
      if (r.status == ParseStatus::kError) {
        out.http_status = r.http_status;
        out.message = r.message;
        return out;
      }
      if (r.status == ParseStatus::kNeedMore) break;
      if (r.status == ParseStatus::kHead) {
        FUZZ_CHECK(pause && parser.head_complete(), Show(held));
        continue;  // the body (possibly empty) is parsed by the next call
      }
      out.requests.push_back(req);
      if (held.empty()) break;
    }
  }
  return out;
}

bool SameRequest(const Request& a, const Request& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.headers == b.headers && a.body == b.body && a.request_id == b.request_id &&
         a.minor_version == b.minor_version && a.keep_alive == b.keep_alive;
}

std::string Describe(const Outcome& o) {
  std::string s = std::to_string(o.requests.size()) + " requests, last status " +
                  std::to_string(static_cast<int>(o.last)) + " " + std::to_string(o.http_status) + " " +
                  o.message + ", consumed " + std::to_string(o.consumed);
  for (const Request& r : o.requests) s += "; " + Show(r.method + " " + r.target + " body=" + r.body);
  return s;
}

void CheckSame(const Outcome& a, const Outcome& b, std::string_view data, const char* how) {
  std::string detail = std::string(how) + ": " + Describe(a) + " vs " + Describe(b) + " for " + Show(data);
  FUZZ_CHECK(a.requests.size() == b.requests.size(), detail);
  for (size_t i = 0; i < a.requests.size(); i++) FUZZ_CHECK(SameRequest(a.requests[i], b.requests[i]), detail);
  FUZZ_CHECK(a.last == b.last && a.http_status == b.http_status && a.message == b.message, detail);
  // After an error the connection closes: what was consumed before it does not matter.
  if (a.last != ParseStatus::kError) FUZZ_CHECK(a.consumed == b.consumed, detail);
}

bool IsLowerToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
    if (c <= 0x20 || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == '"' || c == '/') return false;
  }
  return true;
}

void CheckRequest(const Request& r, const ParserLimits& limits) {
  std::string where = Show(r.method + " " + r.target);
  FUZZ_CHECK(!r.path.empty() && r.path[0] == '/', where);
  FUZZ_CHECK(r.path.find('\0') == std::string::npos, where);
  FUZZ_CHECK(r.path.find("/../") == std::string::npos, where);
  FUZZ_CHECK(r.path.size() < 3 || r.path.substr(r.path.size() - 3) != "/..", where);
  FUZZ_CHECK(r.body.size() <= limits.max_body_bytes, where);
  FUZZ_CHECK(r.minor_version == 0 || r.minor_version == 1, where);
  for (const auto& [k, v] : r.headers) {
    FUZZ_CHECK(IsLowerToken(k), Show(k));
    FUZZ_CHECK(v.find_first_of("\r\n") == std::string::npos, Show(v));
    FUZZ_CHECK(v.empty() || (v.front() != ' ' && v.back() != ' '), Show(v));
  }
  FUZZ_CHECK(r.request_id.size() <= 128, Show(r.request_id));

  // Serialized and parsed again (with roomy limits: the head grew a Content-Length).
  std::string again = forja::net::SerializeRequest(r);
  ParserLimits roomy;
  roomy.max_header_bytes = 1 << 20;
  RequestParser p(roomy);
  Request back;
  ParseResult res = p.Parse(again, back);
  FUZZ_CHECK(res.status == ParseStatus::kDone, res.message + " for " + Show(again));
  FUZZ_CHECK(res.consumed == again.size(), Show(again));
  auto framing = [](const std::pair<std::string, std::string>& h) {
    return h.first == "content-length" || h.first == "transfer-encoding";
  };
  std::vector<std::pair<std::string, std::string>> want = r.headers, got = back.headers;
  std::erase_if(want, framing);
  std::erase_if(got, framing);
  FUZZ_CHECK(want == got, Show(again));
  FUZZ_CHECK(back.method == r.method && back.target == r.target && back.path == r.path &&
                 back.query == r.query && back.body == r.body && back.request_id == r.request_id &&
                 back.minor_version == r.minor_version,
             Show(again));
  // HTTP/1.0 with Transfer-Encoding closes after the request; re-framed, it need not.
  if (r.Header("transfer-encoding").empty()) FUZZ_CHECK(back.keep_alive == r.keep_alive, Show(again));
}

void Run(std::string_view data, ParserLimits limits) {
  Outcome once = Feed(data, {data.size()}, limits);
  if (once.last == ParseStatus::kError) {
    int s = once.http_status;
    FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505, Describe(once));
    FUZZ_CHECK(!once.message.empty() && once.message.find('\n') == std::string::npos, Describe(once));
  }
  for (const Request& r : once.requests) CheckRequest(r, limits);

  // Pseudo-random cuts, from a hash of the input so that a crash reproduces.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  std::vector<size_t> cuts;
  for (size_t at = 0; at < data.size();) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    at += 1 + (h >> 33) % 64;
    cuts.push_back(std::min(at, data.size()));
  }
  if (cuts.empty()) cuts.push_back(0);
  CheckSame(once, Feed(data, cuts, limits), data, "random cuts");
  CheckSame(once, Feed(data, cuts, limits, /*pause=*/true), data, "random cuts, pausing after each head");

  if (data.size() <= 4096) {
    std::vector<size_t> bytes;
    for (size_t i = 1; i <= data.size(); i++) bytes.push_back(i);
    if (bytes.empty()) bytes.push_back(0);
    CheckSame(once, Feed(data, bytes, limits), data, "byte by byte");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Run(text, ParserLimits{});
  ParserLimits small;
  small.max_header_bytes = 200;
  small.max_body_bytes = 100;
  Run(text, small);
  return 0;
}
