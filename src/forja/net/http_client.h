// One HTTP exchange through libcurl. Each thread keeps its own easy handle, so
// connections (and TLS sessions) are reused across requests on that thread and
// any number of threads can send at once. curl stays out of this header.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace forja {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // already encoded
  std::vector<std::pair<std::string, std::string>> headers;

  // The body: `body` bytes, or `body_size` bytes of `body_fd` from `body_offset`
  // (read with pread, so several requests may share one fd).
  std::string body;
  int body_fd = -1;
  uint64_t body_offset = 0;
  uint64_t body_size = 0;

  // When >= 0, a 2xx response body is written to this fd (at its current
  // offset); other bodies (S3 error documents) always go to HttpResponse::body.
  int sink_fd = -1;

  std::string ca_bundle;  // PEM file of trusted CAs; empty for the system's
};

struct HttpResponse {
  // Transport outcome: ok when an HTTP status arrived.
  bool transport_ok = false;
  bool retryable = false;  // a timeout or connection failure worth another try
  bool local_io_error = false;  // reading the body or writing the sink failed
  std::string error;            // curl's or the file system's explanation

  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case

  std::string Header(const std::string& lower_name) const;
};

// Sends the request on this thread's handle. Timeouts: 10 s to connect, and a
// transfer slower than 1 KiB/s for 30 s is abandoned.
HttpResponse HttpPerform(const HttpRequest& req);

}  // namespace forja
