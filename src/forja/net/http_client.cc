#include "forja/net/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace forja {

namespace {

// Owns this thread's easy handle. curl_easy_reset between requests keeps its
// connection and DNS caches, which is the point of keeping it.
class ThreadHandle {
 public:
  ThreadHandle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    h_ = curl_easy_init();
  }
  ~ThreadHandle() {
    if (h_) curl_easy_cleanup(h_);
  }
  ThreadHandle(const ThreadHandle&) = delete;
  ThreadHandle& operator=(const ThreadHandle&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_ = nullptr;
};

CURL* ThisThreadHandle() {
  thread_local ThreadHandle handle;
  return handle.get();
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

// State the callbacks share during one exchange.
struct Transfer {
  const HttpRequest* req;
  HttpResponse* resp;
  CURL* h;
  uint64_t sent = 0;
  int read_errno = 0;
  int write_errno = 0;
};

bool SinkThisResponse(const Transfer* t) {
  if (t->req->sink_fd < 0) return false;
  long code = 0;
  curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
  return code >= 200 && code < 300;
}

size_t OnWrite(char* p, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  size_t len = size * n;
  if (!SinkThisResponse(t)) {
    t->resp->body.append(p, len);
    return len;
  }
  size_t done = 0;
  while (done < len) {
    ssize_t w = ::write(t->req->sink_fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      t->write_errno = errno;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    done += static_cast<size_t>(w);
  }
  return len;
}

size_t OnRead(char* p, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  const HttpRequest& r = *t->req;
  uint64_t total = r.body_fd >= 0 ? r.body_size : r.body.size();
  size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, total - t->sent));
  if (want == 0) return 0;
  if (r.body_fd < 0) {
    std::memcpy(p, r.body.data() + t->sent, want);
    t->sent += want;
    return want;
  }
  ssize_t got;
  do {
    got = ::pread(r.body_fd, p, want, static_cast<off_t>(r.body_offset + t->sent));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    // A file that shrank under us must not be sent short: abort instead.
    t->read_errno = got < 0 ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  t->sent += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

// curl rewinds the body when it must resend it (e.g. a reused connection died).
int OnSeek(void* ud, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(ud);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t OnHeader(char* p, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  size_t len = size * n;
  std::string line(p, len);
  // A new status line (after "100 Continue") starts a new set of headers.
  if (line.starts_with("HTTP/")) {
    t->resp->headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return len;
  std::string name = line.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t b = line.find_first_not_of(" \t", colon + 1);
  size_t e = line.find_last_not_of(" \t\r\n");
  std::string value = (b == std::string::npos || e < b) ? "" : line.substr(b, e - b + 1);
  t->resp->headers.emplace_back(std::move(name), std::move(value));
  return len;
}

bool Retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

void SetMethod(CURL* h, const HttpRequest& req) {
  uint64_t size = req.body_fd >= 0 ? req.body_size : req.body.size();
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
}

void SetOptions(CURL* h, const HttpRequest& req, Transfer* t, curl_slist* headers,
                char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // Signed URLs must go out byte for byte: no "/../" squashing, no redirects.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(h, CURLOPT_READDATA, t);
  curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, OnSeek);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
  if (!req.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, req.ca_bundle.c_str());
  SetMethod(h, req);
}

// curl's one-line explanation; its error buffer has more detail for TLS trouble.
std::string Explain(CURLcode c, const char* errbuf) {
  bool tls = c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR ||
             c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CERTPROBLEM;
  if (tls && errbuf[0] != '\0') return errbuf;
  return curl_easy_strerror(c);
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

HttpResponse HttpPerform(const HttpRequest& req) {
  HttpResponse resp;
  CURL* h = ThisThreadHandle();
  if (!h) {
    resp.error = "cannot initialize libcurl";
    return resp;
  }
  curl_easy_reset(h);
  Slist headers;
  for (const auto& [k, v] : req.headers) {
    // Appending returns the list's head: the first call creates it.
    curl_slist* head = curl_slist_append(headers.get(), (k + ": " + v).c_str());
    if (head && !headers) headers.reset(head);
  }
  Transfer t{&req, &resp, h};
  char errbuf[CURL_ERROR_SIZE] = {0};
  SetOptions(h, req, &t, headers.get(), errbuf);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // errbuf dies with this frame
  if (t.write_errno || t.read_errno) {
    resp.local_io_error = true;
    resp.error = std::strerror(t.write_errno ? t.write_errno : t.read_errno);
    return resp;
  }
  if (rc != CURLE_OK) {
    resp.retryable = Retryable(rc);
    resp.error = Explain(rc, errbuf);
    return resp;
  }
  resp.transport_ok = true;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

}  // namespace forja
