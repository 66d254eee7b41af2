#include "forja/core/strings.h"
#include "forja/net/http_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace forja::net {
namespace {

// RFC 9110 tchar: the characters of a token (methods, header names).
struct TcharTable {
  bool is[256] = {};
  constexpr TcharTable() {
    for (int c = '0'; c <= '9'; c++) is[c] = true;
    for (int c = 'a'; c <= 'z'; c++) is[c] = is[c - 32] = true;
    for (const char* p = "!#$%&'*+-.^_`|~"; *p; p++) is[static_cast<unsigned char>(*p)] = true;
  }
};
constexpr TcharTable kTchar;
bool IsTchar(unsigned char c) { return kTchar.is[c]; }

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Calls f(token) for each comma-separated, trimmed, non-empty element.
template <typename F>
void ForEachToken(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view t = Trim(list.substr(0, comma), " \t");
    if (!t.empty()) f(t);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// A Content-Length value: digits, or a list of identical digit strings ("5, 5", which RFC 9110
// lets a recipient accept). Returns false when malformed; *too_big when it overflows.
bool ParseContentLength(std::string_view v, uint64_t* out, bool* too_big) {
  bool any = false, ok = true;
  uint64_t first = 0;
  ForEachToken(v, [&](std::string_view t) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (p != t.data() + t.size() || t.front() == '-' || t.front() == '+') {
      ok = false;
    } else if (ec == std::errc::result_out_of_range) {
      *too_big = true;
    } else if (ec != std::errc()) {
      ok = false;
    } else if (any && n != first) {
      ok = false;
    }
    if (!any) first = n;
    any = true;
  });
  // A list with an empty element ("5,,5") is trimmed away above; an all-empty one is not a value.
  for (char c : v)
    if (c != ',' && c != ' ' && c != '\t' && (c < '0' || c > '9')) ok = false;
  *out = first;
  return ok && any;
}

bool SaneRequestId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (unsigned char c : v)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// A ".." segment in a decoded path ("/../", or "/.." at the end).
bool HasDotDot(std::string_view path) {
  for (size_t i = path.find("/.."); i != std::string_view::npos; i = path.find("/..", i + 1)) {
    size_t end = i + 3;
    if (end == path.size() || path[end] == '/') return true;
  }
  return false;
}

// Splits the head into lines: *line is the next one without its LF (and the CR before it).
bool NextLine(std::string_view* rest, std::string_view* line) {
  if (rest->empty()) return false;
  size_t lf = rest->find('\n');
  std::string_view l = rest->substr(0, lf);
  rest->remove_prefix(lf == std::string_view::npos ? rest->size() : lf + 1);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  *line = l;
  return true;
}

// Calls f(key, value) (both raw) for each &-separated query element.
template <typename F>
void ForEachParam(std::string_view query, F f) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string_view k = kv.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
      if (!f(k, v)) return;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

std::string DecodeParam(std::string_view s) {
  std::string out;
  if (!PercentDecode(s, true, &out)) {
    // A stray '%' is taken literally, as browsers and Python's parse_qs do.
    out.clear();
    for (char c : s) out += c == '+' ? ' ' : c;
  }
  return out;
}

bool ParamIs(std::string_view raw_key, std::string_view name) {
  if (raw_key.find_first_of("%+") == std::string_view::npos) return raw_key == name;
  return DecodeParam(raw_key) == name;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return true;
}

std::string_view Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

std::string Request::Param(std::string_view name) const {
  std::string value;
  ForEachParam(query, [&](std::string_view k, std::string_view v) {
    if (!ParamIs(k, name)) return true;
    value = DecodeParam(v);
    return false;
  });
  return value;
}

std::vector<std::string> Request::Params(std::string_view name) const {
  std::vector<std::string> values;
  ForEachParam(query, [&](std::string_view k, std::string_view v) {
    if (ParamIs(k, name)) values.push_back(DecodeParam(v));
    return true;
  });
  return values;
}

bool Request::HasParam(std::string_view name) const {
  bool found = false;
  ForEachParam(query, [&](std::string_view k, std::string_view) {
    found = ParamIs(k, name);
    return !found;
  });
  return found;
}

void RequestParser::Reset() {
  ParserLimits limits = limits_;
  bool pause = pause_after_head_;
  *this = RequestParser(limits);
  pause_after_head_ = pause;
}

ParseResult RequestParser::LimitBody(uint64_t max_body) {
  if (phase_ == Phase::kError) return Fail(error_status_, error_message_);
  max_body_ = std::min<uint64_t>(max_body, limits_.max_body_bytes);
  if (phase_ == Phase::kBody && remaining_ > max_body_)
    return Fail(413, "request body of " + std::to_string(remaining_) + " bytes is larger than this request's limit of " +
                         std::to_string(max_body_) + " bytes");
  return {};
}

ParseResult RequestParser::Fail(int status, std::string message) {
  phase_ = Phase::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  ParseResult r;
  r.status = ParseStatus::kError;
  r.http_status = status;
  r.message = error_message_;
  return r;
}

ParseResult RequestParser::Parse(std::string_view data, Request& req) {
  if (phase_ == Phase::kError) return Fail(error_status_, error_message_);
  if (phase_ == Phase::kDone) Reset();
  if (phase_ == Phase::kHead) return ScanHead(data, req);
  return ParseBody(data, 0, req);
}

// Finds the blank line that ends the head, resuming where the last call stopped; nothing is
// consumed until it is found.
ParseResult RequestParser::ScanHead(std::string_view data, Request& req) {
  const size_t limit = std::min(data.size(), limits_.max_header_bytes);
  while (scan_ < limit) {
    const void* p = std::memchr(data.data() + scan_, '\n', limit - scan_);
    if (p == nullptr) {
      scan_ = limit;
      break;
    }
    size_t lf = static_cast<const char*>(p) - data.data();
    size_t len = lf - line_start_;
    bool empty = len == 0 || (len == 1 && data[line_start_] == '\r');
    scan_ = line_start_ = lf + 1;
    if (!empty) {
      have_request_line_ = true;
      continue;
    }
    if (!have_request_line_) {  // empty lines before a request (RFC 9112 2.2) are skipped
      request_start_ = lf + 1;
      continue;
    }
    ParseResult r = ParseHead(data.substr(request_start_, lf + 1 - request_start_), req);
    if (r.status == ParseStatus::kError) return r;
    if (pause_after_head_) {
      r.status = ParseStatus::kHead;
      r.consumed = lf + 1;
      return r;
    }
    return ParseBody(data, lf + 1, req);
  }
  if (data.size() > limits_.max_header_bytes) {
    std::string n = std::to_string(limits_.max_header_bytes);
    if (!have_request_line_) return Fail(414, "request line longer than " + n + " bytes");
    return Fail(431, "request head (request line and headers) longer than " + n + " bytes");
  }
  return {};
}

ParseResult RequestParser::ParseHead(std::string_view head, Request& req) {
  if (head.find('\0') != std::string_view::npos) return Fail(400, "NUL byte in the request head");
  std::string_view rest = head, line;
  NextLine(&rest, &line);
  if (line.find('\r') != std::string_view::npos) return Fail(400, "bare CR in the request line");

  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), IsTchar))
    return Fail(400, "malformed method in the request line");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return Fail(400, "malformed HTTP version in the request line");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return Fail(505, "HTTP version " + std::string(version.substr(5)) + " is not supported");
  if (target.empty()) return Fail(400, "empty request target");
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f) return Fail(400, "invalid character in the request target");
  if (target.front() != '/') return Fail(400, "request target does not start with '/'");

  size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), false, &req.path))
    return Fail(400, "bad percent-encoding in the request path");
  if (req.path.find('\0') != std::string::npos) return Fail(400, "NUL in the request path");
  if (HasDotDot(req.path)) return Fail(400, "'..' segment in the request path");
  req.method.assign(method);
  req.target.assign(target);
  if (q == std::string_view::npos) {
    req.query.clear();
  } else {
    req.query.assign(target.substr(q + 1));
  }
  req.minor_version = version[7] - '0';
  req.headers.clear();
  req.body.clear();
  req.request_id.clear();

  bool has_length = false, has_te = false, close = false, keep_alive = false;
  uint64_t length = 0;
  std::string te;
  while (NextLine(&rest, &line)) {
    if (line.empty()) break;  // the blank line: the head's end
    if (line.find('\r') != std::string_view::npos) return Fail(400, "bare CR in a header line");
    if (line.front() == ' ' || line.front() == '\t')
      return Fail(400, "obsolete header line folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(400, "header line without ':'");
    std::string_view name = line.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTchar))
      return Fail(400, "malformed header name");
    std::string_view value = Trim(line.substr(colon + 1), " \t");
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return Fail(400, "control character in a header value");
    auto& h = req.headers.emplace_back();
    h.first.resize(name.size());
    std::transform(name.begin(), name.end(), h.first.begin(), [](char c) { return ToLowerAscii(c); });
    h.second.assign(value);
    const std::string& n = h.first;

    if (n == "content-length") {
      uint64_t v = 0;
      bool too_big = false;
      if (!ParseContentLength(value, &v, &too_big)) return Fail(400, "malformed Content-Length");
      if (too_big) return Fail(413, "request body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
      if (has_length && v != length) return Fail(400, "conflicting Content-Length headers");
      has_length = true;
      length = v;
    } else if (n == "transfer-encoding") {
      if (has_te) te += ',';
      te.append(value);
      has_te = true;
    } else if (n == "connection") {
      ForEachToken(value, [&](std::string_view t) {
        if (EqualsNoCase(t, "close")) close = true;
        if (EqualsNoCase(t, "keep-alive")) keep_alive = true;
      });
    } else if (n == "expect") {
      if (EqualsNoCase(value, "100-continue") && req.minor_version == 1) expect_continue_ = true;
    } else if (n == "x-request-id") {
      if (req.request_id.empty() && SaneRequestId(value)) req.request_id.assign(value);
    }
  }
  req.keep_alive = !close && (req.minor_version == 1 || keep_alive);

  if (has_te) {
    // Both framings at once is how requests are smuggled past a proxy (RFC 9112 6.1).
    if (has_length) return Fail(400, "both Content-Length and Transfer-Encoding");
    if (!EqualsNoCase(Trim(te, " \t"), "chunked"))
      return Fail(501, "unsupported Transfer-Encoding: " + te.substr(0, 64));
    // An HTTP/1.0 message with Transfer-Encoding: framing is suspect, close after it (6.1).
    if (req.minor_version == 0) req.keep_alive = false;
    phase_ = Phase::kChunkSize;
    return {};
  }
  if (length > limits_.max_body_bytes)
    return Fail(413, "request body of " + std::to_string(length) + " bytes is larger than " +
                         std::to_string(limits_.max_body_bytes));
  remaining_ = length;
  // Reserve up to 8 MiB at once: a client announcing 64 MiB and sending nothing must not cost
  // 64 MiB per connection; beyond, the string grows geometrically. A caller that pauses after
  // the head reserves itself, once it has admitted the body.
  if (!pause_after_head_) req.body.reserve(std::min<uint64_t>(length, 8u << 20));
  phase_ = Phase::kBody;
  return {};
}

// Parses the body from data[pos] (pos = the head's length when the head was found in this
// call, else 0). Consumes everything it reads.
ParseResult RequestParser::ParseBody(std::string_view data, size_t pos, Request& req) {
  auto done = [&](size_t at) {
    phase_ = Phase::kDone;
    ParseResult r;
    r.status = ParseStatus::kDone;
    r.consumed = at;
    return r;
  };
  auto more = [&](size_t at) {
    ParseResult r;
    r.consumed = at;
    return r;
  };
  const uint64_t max_body = max_body_;
  while (true) {
    if (phase_ == Phase::kBody || phase_ == Phase::kChunkData) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
      req.body.append(data.data() + pos, take);
      pos += take;
      remaining_ -= take;
      if (remaining_ > 0) return more(pos);
      if (phase_ == Phase::kBody) return done(pos);
      phase_ = Phase::kChunkDataCr;
      continue;
    }
    if (pos == data.size()) return more(pos);
    bool line_end = false;
    ParseResult r = Step(static_cast<unsigned char>(data[pos++]), &line_end);
    if (r.status == ParseStatus::kError) return r;
    if (phase_ == Phase::kDone) return done(pos);
    if (!line_end) continue;
    if (chunk_size_ == 0) {
      phase_ = Phase::kTrailer;
      continue;
    }
    if (req.body.size() + chunk_size_ > max_body)
      return Fail(413, "request body larger than " + std::to_string(max_body) + " bytes");
    remaining_ = chunk_size_;
    chunk_size_ = 0;
    chunk_digits_ = false;
    ext_bytes_ = 0;
    phase_ = Phase::kChunkData;
  }
}

// One byte of chunked framing (size lines, the line end after data, trailers). Sets
// *size_line_end when a chunk size line ended.
ParseResult RequestParser::Step(unsigned char c, bool* size_line_end) {
  switch (phase_) {
    case Phase::kChunkSize: {
      int v = HexValue(c);
      if (v >= 0) {
        if (chunk_size_ > (UINT64_MAX >> 4) || chunk_size_ * 16 + v > max_body_)
          return Fail(413, "request body larger than " + std::to_string(max_body_) + " bytes");
        chunk_size_ = chunk_size_ * 16 + v;
        chunk_digits_ = true;
      } else if (!chunk_digits_) {
        return Fail(400, "malformed chunk size");
      } else if (c == ';' || c == ' ' || c == '\t') {
        phase_ = Phase::kChunkExt;
      } else if (c == '\r') {
        phase_ = Phase::kChunkSizeLf;
      } else if (c == '\n') {
        *size_line_end = true;
      } else {
        return Fail(400, "malformed chunk size");
      }
      return {};
    }
    case Phase::kChunkExt:
      if (c == '\r') {
        phase_ = Phase::kChunkSizeLf;
      } else if (c == '\n') {
        *size_line_end = true;
      } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return Fail(400, "control character in a chunk extension");
      } else if (++ext_bytes_ > 4096) {
        return Fail(400, "chunk extension longer than 4096 bytes");
      }
      return {};
    case Phase::kChunkSizeLf:
      if (c != '\n') return Fail(400, "bare CR in a chunk size line");
      *size_line_end = true;
      return {};
    case Phase::kChunkDataCr:
      if (c == '\r') {
        phase_ = Phase::kChunkDataLf;
      } else if (c == '\n') {
        phase_ = Phase::kChunkSize;
      } else {
        return Fail(400, "chunk data not followed by a line end");
      }
      return {};
    case Phase::kChunkDataLf:
      if (c != '\n') return Fail(400, "chunk data not followed by a line end");
      phase_ = Phase::kChunkSize;
      return {};
    case Phase::kTrailer:
    case Phase::kTrailerLf:
      return StepTrailer(c);
    default:
      return Fail(500, "parser in an impossible state");
  }
}

// Trailer lines are checked for framing only and dropped: nothing downstream reads them.
ParseResult RequestParser::StepTrailer(unsigned char c) {
  if (++trailer_bytes_ > limits_.max_header_bytes)
    return Fail(431, "trailers longer than " + std::to_string(limits_.max_header_bytes) + " bytes");
  if (phase_ == Phase::kTrailerLf && c != '\n') return Fail(400, "bare CR in a trailer line");
  if (c == '\n') {
    if (trailer_line_ == 0) {
      phase_ = Phase::kDone;
      return {};
    }
    trailer_line_ = 0;
    phase_ = Phase::kTrailer;
  } else if (c == '\r') {
    phase_ = Phase::kTrailerLf;
  } else if (trailer_line_ == 0 && (c == ' ' || c == '\t')) {
    return Fail(400, "obsolete line folding in the trailers");
  } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
    return Fail(400, "control character in a trailer line");
  } else {
    trailer_line_++;
  }
  return {};
}

std::string SerializeRequest(const Request& req) {
  std::string out = req.method + " " + req.target + " HTTP/1." + std::to_string(req.minor_version) + "\r\n";
  for (const auto& [k, v] : req.headers) {
    if (k == "content-length" || k == "transfer-encoding") continue;
    out += k + ": " + v + "\r\n";
  }
  out += "content-length: " + std::to_string(req.body.size()) + "\r\n\r\n";
  out += req.body;
  return out;
}

}  // namespace forja::net
