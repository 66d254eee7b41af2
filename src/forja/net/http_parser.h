// An incremental HTTP/1.1 request parser, without sockets (so a fuzz target can
// drive it): the caller feeds bytes, the parser consumes what it can and says
// whether it needs more, has a whole request, or found an error to answer.
//
// Why streaming with a "consumed" count instead of a copy into the parser: the
// server reads into one per-connection buffer and drops what the parser
// consumed, so a 60 MB upload never sits in memory twice (the raw chunked bytes
// plus the de-chunked body). The head is the exception: nothing of it is
// consumed until the blank line arrives, so the head stays contiguous in the
// caller's buffer and is parsed in one pass; only the scan for its end resumes
// where it stopped, so a head fed byte by byte costs O(n), not O(n^2).
//
// Strictness is deliberate where a lenient parser opens request smuggling
// (Content-Length with Transfer-Encoding, conflicting Content-Lengths, header
// folding, bare CR, whitespace before ':'), and lenient where real clients
// differ harmlessly (bare LF line endings, empty lines before a request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forja::net {

struct Request {
  std::string method;  // "GET"
  std::string target;  // raw request-target, e.g. "/api/2.0/x?y=1"
  // target before '?', percent-decoded; the parser rejects (400) a path that does not start
  // with '/', has a ".." segment, or decodes to a NUL.
  std::string path;
  std::string query;  // raw text after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  std::string body;  // the whole body (Content-Length or chunked, de-chunked)
  // The X-Request-Id header if present and sane (1-128 visible ASCII characters), else an id
  // the server generates (the parser leaves it empty).
  std::string request_id;
  std::string peer;       // "127.0.0.1:54321" (set by the server)
  int minor_version = 1;  // HTTP/1.<minor_version>
  bool keep_alive = true;  // whether the connection may carry another request after this one

  std::string_view Header(std::string_view lower_name) const;  // "" if absent
  // Query parameters, percent-decoded ('+' is space). Param returns the first one or "".
  std::string Param(std::string_view name) const;
  std::vector<std::string> Params(std::string_view name) const;  // all values (?a=1&a=2)
  bool HasParam(std::string_view name) const;
};

struct ParserLimits {
  size_t max_header_bytes = 16 * 1024;  // request line + headers (and, separately, trailers)
  size_t max_body_bytes = 64 * 1024 * 1024;
};

// kHead only with set_pause_after_head(true): the head is parsed (consumed) and no byte of the
// body is; the caller decides (auth, limits) before the next call reads the body.
enum class ParseStatus { kNeedMore, kDone, kError, kHead };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;  // bytes of the data used up: drop them before the next call (0 on kError)
  int http_status = 0;  // with kError: 400, 413, 414, 431, 501 or 505
  std::string message;  // with kError: one line saying what was wrong
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {}) : limits_(limits), max_body_(limits.max_body_bytes) {}

  // `data` is what the caller holds of the connection after dropping every byte consumed so
  // far, plus whatever arrived since. Fill `req` across calls with the same object until
  // kDone or kError. After kDone the next call starts a new request (into the same or
  // another Request, which is cleared); after kError every call returns the same error.
  ParseResult Parse(std::string_view data, Request& req);
  void Reset();

  bool head_complete() const { return phase_ != Phase::kHead; }
  // Stop after each head with kHead (kept across requests and Reset).
  void set_pause_after_head(bool on) { pause_after_head_ = on; }
  // After the head: whether the body is chunked, and the Content-Length bytes still due.
  bool chunked() const { return phase_ >= Phase::kChunkSize && phase_ <= Phase::kTrailerLf; }
  uint64_t body_remaining() const { return phase_ == Phase::kBody ? remaining_ : 0; }
  // Whether `buffered` bytes after the head hold the whole body (never known for chunked).
  bool body_within(size_t buffered) const { return phase_ == Phase::kDone || (phase_ == Phase::kBody && remaining_ <= buffered); }
  // Lowers the current request's body limit (after kHead; the next request gets limits()
  // again). A Content-Length above it is an error now (413), a chunked body when it gets there.
  ParseResult LimitBody(uint64_t max_body);
  // The head asked for "100-continue" and the body has not all arrived yet.
  bool expect_continue() const { return expect_continue_ && phase_ != Phase::kDone; }
  const ParserLimits& limits() const { return limits_; }

 private:
  enum class Phase : uint8_t {
    kHead,
    kBody,          // Content-Length bytes
    kChunkSize,     // hex digits
    kChunkExt,      // after the size, up to the end of the line
    kChunkSizeLf,   // CR seen after the size line
    kChunkData,
    kChunkDataCr,   // expecting CR (or LF) after the chunk's data
    kChunkDataLf,
    kTrailer,       // trailer lines up to an empty one
    kTrailerLf,
    kDone,
    kError,
  };

  ParseResult ScanHead(std::string_view data, Request& req);
  ParseResult ParseHead(std::string_view head, Request& req);
  ParseResult ParseBody(std::string_view data, size_t pos, Request& req);
  ParseResult Step(unsigned char c, bool* size_line_end);
  ParseResult StepTrailer(unsigned char c);
  ParseResult Fail(int status, std::string message);

  ParserLimits limits_;
  Phase phase_ = Phase::kHead;
  // Head scan state: offsets into the data, which starts at the request's first byte.
  size_t scan_ = 0;           // searched for the end of the head up to here
  size_t line_start_ = 0;     // start of the line being scanned
  size_t request_start_ = 0;  // after leading empty lines
  bool have_request_line_ = false;
  bool expect_continue_ = false;
  bool pause_after_head_ = false;
  uint64_t max_body_ = 0;     // this request's limit (limits_.max_body_bytes unless lowered)
  uint64_t remaining_ = 0;    // body bytes still due (Content-Length, or of this chunk)
  uint64_t chunk_size_ = 0;
  bool chunk_digits_ = false;
  size_t ext_bytes_ = 0;      // chunk-extension bytes on this size line
  size_t trailer_bytes_ = 0;
  size_t trailer_line_ = 0;   // bytes in the current trailer line
  int error_status_ = 0;
  std::string error_message_;
};

// Percent-decodes `in` ('+' stays '+' unless plus_is_space). Returns false on a '%' not
// followed by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// The request as bytes that parse back to an equal Request: its head with a Content-Length
// of the body (Transfer-Encoding and Content-Length headers are replaced), then the body.
std::string SerializeRequest(const Request& req);

}  // namespace forja::net
