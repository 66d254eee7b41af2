// The event loops, connections and the handler pool of forja_net (the design is described
// at the top of http_server.h). One idea, one file although it is long: the life of a
// connection from accept to close is a single state machine (read, parse, admit, dispatch,
// answer from any thread, flush, linger, time out), and each transition must see the state
// the others leave; split across files, its invariants would be harder to check, not easier.
// Notes on the less obvious choices:
//
//  - Edge-triggered epoll means "tell me when something new arrives", so each connection
//    remembers whether its socket may still hold unread bytes (`readable`): reading stops
//    when the input buffer is full (a handler is busy and pipelined requests pile up), and
//    must resume on its own when room appears, because no new edge will come. A read shorter
//    than the room offered means the socket is drained, which saves the read() that would
//    return EAGAIN — except after a hang-up, where the EOF must still be read.
//  - A connection is freed only after the current batch of epoll events, so that an event
//    later in the batch never touches freed memory; exchanges find their connection again by
//    (fd, id), so a reused fd never receives an old answer.
//  - Answers from other threads go through a mutex-protected list and an eventfd that is
//    written only when the list was empty: a burst of answers costs one wakeup.
//  - Closing after an error response shuts down the write side and reads until the client
//    closes (for at most a second): closing with unread bytes would send a reset, and the
//    client could lose the response before reading it (the "lingering close" of nginx).
//  - SIGPIPE: sendmsg uses MSG_NOSIGNAL; sendfile cannot, so loop threads block SIGPIPE and
//    consume a pending one after EPIPE.
#include "forja/core/strings.h"
#include "forja/net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "forja/core/json.h"
#include "forja/core/log.h"
#include "forja/net/body_budget.h"
#include "forja/net/buffers.h"
#include "forja/net/h2_session.h"

namespace forja::net {


namespace detail {

class Loop;
struct Mailbox;

// One request and its answer: owned by the connection while parsing, by the Responder
// while the handler works, by a mailbox while travelling back.
struct Exchange {
  Request req;
  Response resp;
  std::shared_ptr<Mailbox> box;
  uint64_t conn_id = 0;
  int conn_fd = -1;
  bool dropped = false;  // the Responder was destroyed without Send (or the head check threw)
  bool head_check = false;  // travelling to the pool for ServerOptions::on_head, not the handler
  HeadDecision decision;    // the head check's answer
  uint64_t charged = 0;     // body bytes counted against the BodyBudget
  int32_t stream = 0;       // HTTP/2: the stream this answers
  std::chrono::steady_clock::time_point start;
  Exchange* next = nullptr;
};

// The way back to a loop from other threads. Shared (Exchange::box) so that a Responder that
// outlives the server still finds a valid, closed mailbox.
struct Mailbox {
  struct Incoming {
    int fd;
    sockaddr_storage addr;
  };
  std::mutex mu;
  Exchange* head = nullptr;         // newest first
  std::vector<Incoming> incoming;   // connections handed over by the accepting loop
  bool closed = false;
  int efd = -1;
  Loop* loop = nullptr;  // dereferenced only on the loop's own thread
  std::shared_ptr<BodyBudget> budget;
  ~Mailbox() {
    if (efd >= 0) ::close(efd);
  }
};

// A body the budget does not count is kept for the connection's next request; a larger one
// is freed as soon as it has been answered.
void ReleaseBody(Exchange* ex) {
  if (ex->box && ex->box->budget) ex->box->budget->Release(&ex->charged);
  ex->charged = 0;
  if (ex->req.body.capacity() > kUncountedBody) std::string().swap(ex->req.body);
}

// Exchanges back from handlers a connection keeps for its next requests (each keeps its last
// request's buffers): HTTP/1.1 has one request at a time; an HTTP/2 connection keeps enough for
// a client's burst of multiplexed calls without holding much.
constexpr size_t kSpareExchanges = 1, kH2SpareExchanges = 9;

void DestroyExchange(Exchange* ex) {
  if (ex->resp.file_fd >= 0) ::close(ex->resp.file_fd);
  ReleaseBody(ex);
  delete ex;
}

thread_local Exchange* tls_dispatching = nullptr;  // the exchange whose handler runs here
thread_local Exchange* tls_stashed = nullptr;      // it was answered before returning
thread_local Mailbox* tls_box = nullptr;           // the mailbox of the loop on this thread

void Post(Exchange* ex) {
  std::shared_ptr<Mailbox> box = ex->box;  // the eventfd must outlive the write below
  bool wake = false, closed = false;
  {
    std::lock_guard<std::mutex> lock(box->mu);
    closed = box->closed;
    if (!closed) {
      wake = box->head == nullptr && box->incoming.empty();
      ex->next = box->head;
      box->head = ex;
    }
  }
  if (closed) {
    DestroyExchange(ex);
    return;
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(box->efd, &one, sizeof one);
  }
}

void Deliver(Exchange* ex);

}  // namespace detail

// ---------------------------------------------------------------------------------------

namespace {

using detail::Exchange;
using detail::InBuf;
using detail::OutBuf;

constexpr size_t kMaxOutPending = 1 << 20;  // stop handling pipelined requests beyond this
constexpr int kLingerMs = 1000;
constexpr int kMaxEvents = 256;

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
  }
}

void AppendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// A handler's extra header is written only if it cannot break the framing.
bool SafeHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == 0) return false;
  return !EqualsNoCase(name, "content-length") && !EqualsNoCase(name, "transfer-encoding") &&
         !EqualsNoCase(name, "connection");
}

struct Head {
  int status = 200;
  std::string_view content_type;
  uint64_t length = 0;
  bool has_body = true;  // false for 1xx, 204, 304: no Content-Length, no body
  std::string_view request_id;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  bool close = false;
  bool keep_alive_header = false;  // an HTTP/1.0 client must be told the connection stays
};

void AppendHead(std::string& o, const Head& h) {
  if (h.status == 200) {
    o.append("HTTP/1.1 200 OK\r\nServer: forja\r\n");
  } else {
    o.append("HTTP/1.1 ");
    AppendNumber(o, static_cast<uint64_t>(h.status));
    o.push_back(' ');
    o.append(Reason(h.status));
    o.append("\r\nServer: forja\r\n");
  }
  if (!h.content_type.empty()) {
    o.append("Content-Type: ");
    o.append(h.content_type);
    o.append("\r\n");
  }
  if (h.has_body) {
    o.append("Content-Length: ");
    AppendNumber(o, h.length);
    o.append("\r\n");
  }
  o.append("X-Request-Id: ");
  o.append(h.request_id);
  o.append("\r\n");
  if (h.headers != nullptr) {
    for (const auto& [k, v] : *h.headers) {
      if (!SafeHeader(k, v)) continue;
      o.append(k);
      o.append(": ");
      o.append(v);
      o.append("\r\n");
    }
  }
  if (h.close) {
    o.append("Connection: close\r\n");
  } else if (h.keep_alive_header) {
    o.append("Connection: keep-alive\r\n");
  }
  o.append("\r\n");
}

std::string DefaultErrorBody(int /*status*/, std::string_view message) {
  return "{\"error\": " + JsonQuote(message) + "}";
}

std::string HostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string PeerName(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    port = ntohs(a->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  }
  return "[" + std::string(ip) + "]:" + std::to_string(port);
}

void ConsumeSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  timespec zero{};
  while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

namespace detail {

class Pool;

struct Conn {
  int fd = -1;
  uint64_t id = 0;
  size_t index = 0;  // in Loop::conns_
  InBuf in;
  OutBuf out;
  RequestParser parser;
  Exchange* cur = nullptr;    // the request being parsed
  std::vector<Exchange*> spares;  // back from handlers, for the next requests (KeepSpare)
  std::string peer;
  int64_t phase_start = 0;  // when the current request's head (or body) started
  int64_t last_active = 0;
  int64_t deadline = 0;     // 0: none
  int64_t linger_until = 0;
  bool readable = false;    // the socket may hold unread bytes
  bool hup = false;         // the peer hung up: read to EOF, no short-read shortcut
  bool peer_eof = false;
  bool awaiting = false;    // a handler has the current request
  bool closing = false;     // close once the output is written
  bool lingering = false;
  bool dead = false;
  bool head_started = false, body_started = false, continue_sent = false;
  std::unique_ptr<H2Session> h2;  // an HTTP/2 connection (ServerOptions::http2)
  size_t inflight = 0;            // HTTP/2: requests a handler has
  bool drive_queued = false;  // HTTP/2: in resume_, to send this loop turn's answers at once

  explicit Conn(ParserLimits limits) : parser(limits) {}
  ~Conn() {
    if (cur != nullptr) DestroyExchange(cur);
    for (Exchange* ex : spares) DestroyExchange(ex);
  }
};

// Runs a handler with the stash armed: an answer sent before the handler returns is kept
// for the caller (returned), so a synchronous handler costs no locking and no wakeup.
Exchange* RunHandler(const Handler& handler, Exchange* ex) {
  Exchange* outer_dispatching = tls_dispatching;
  Exchange* outer_stashed = tls_stashed;
  tls_dispatching = ex;
  tls_stashed = nullptr;
  try {
    handler(ex->req, Responder(ex));
  } catch (const std::exception& e) {
    LogError("http handler for " + ex->req.method + " " + ex->req.path + " threw: " + e.what());
  } catch (...) {
    LogError("http handler for " + ex->req.method + " " + ex->req.path + " threw");
  }
  Exchange* answered = tls_stashed == ex ? ex : nullptr;
  tls_dispatching = outer_dispatching;
  tls_stashed = outer_stashed;
  return answered;
}

// Runs ServerOptions::on_head; a check that throws makes the request a 500 (ex->dropped).
void RunHeadCheck(const HeadCheck& check, Exchange* ex) {
  ex->dropped = false;
  try {
    ex->decision = check(ex->req);
  } catch (const std::exception& e) {
    LogError("http head check for " + ex->req.method + " " + ex->req.path + " threw: " + e.what());
    ex->dropped = true;
  } catch (...) {
    LogError("http head check for " + ex->req.method + " " + ex->req.path + " threw");
    ex->dropped = true;
  }
}

// Handler threads, for blocking handlers.
class Pool {
 public:
  Pool(int threads, const Handler* handler, const HeadCheck* head_check) : handler_(handler), head_check_(head_check) {
    for (int i = 0; i < threads; i++) threads_.emplace_back([this] { Work(); });
  }
  ~Pool() { Stop(); }

  void Submit(Exchange* ex) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(ex);
    }
    cv_.notify_one();
  }

  // Joins the threads (waiting for handlers that run); drops what was not started.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    for (Exchange* ex : queue_) DestroyExchange(ex);
    queue_.clear();
  }

 private:
  void Work() {
    while (true) {
      Exchange* ex;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        ex = queue_.front();
        queue_.pop_front();
      }
      if (ex->head_check) {
        RunHeadCheck(*head_check_, ex);
        Post(ex);
      } else if (Exchange* done = RunHandler(*handler_, ex)) {
        Post(done);
      }
    }
  }

  const Handler* handler_;
  const HeadCheck* head_check_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Exchange*> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

class Loop {
 public:
  Loop(Server::Impl* srv, int index, int listen_fd);
  ~Loop();
  Status Init();
  void Run();
  void RequestShutdown(int drain_ms);
  void PushReady(Exchange* ex);  // an answer sent on this loop's thread, outside its handler
  void PostConnection(int fd, const sockaddr_storage& addr);  // from the accepting loop

 private:
  void OnAccept();
  void Adopt(int fd, const sockaddr_storage& addr);
  Loop* LeastLoaded();
  void Unload();
  void RejectBusy(int fd);
  bool RejectWithReserve();
  void OnWake();
  void OnEvent(Conn* c, uint32_t events);
  void Drive(Conn* c);
  void DriveH2(Conn* c);
  void DispatchH2(Conn* c);
  void FinishH2(Conn* c, Exchange* ex);
  Response StreamError(int status, std::string_view message) const;
  bool ReadInput(Conn* c);
  void Process(Conn* c);
  bool OnHead(Conn* c);
  bool ApplyHead(Conn* c);
  bool Admit(Conn* c);
  bool Charge(Conn* c, uint64_t bytes, bool refuse);
  void Refuse(Conn* c, Response r);
  void Dispatch(Conn* c, Exchange* ex);
  void Complete(Exchange* ex);
  void Finish(Conn* c, Exchange* ex);
  void QueueResponse(Conn* c, Exchange* ex);
  void QueueError(Conn* c, int status, std::string_view message);
  bool Flush(Conn* c);
  void FinishClose(Conn* c);
  void Discard(Conn* c);
  void Close(Conn* c);
  bool Idle(const Conn* c) const;
  void UpdateDeadline(Conn* c);
  void OnTimeout(Conn* c);
  void Sweep();
  void BeginDrain();
  void RunReady();
  Conn* Find(int fd, uint64_t id) const;
  Exchange* NewExchange();
  Exchange* TakeSpare(Conn* c);
  void NewRequestId(std::string* out);
  void Teardown();

  Server::Impl* srv_;
  const ServerOptions& opts_;
  int listen_fd_;  // -1: connections arrive through the mailbox (kBalanced)
  size_t next_loop_ = 0;  // kBalanced: where the search for the least loaded loop starts
  std::atomic<int> load_{0};  // connections assigned to this loop and not closed
  int ep_ = -1;
  int reserve_fd_ = -1;  // an fd to give up when accept fails with EMFILE
  int64_t last_fd_warning_ = -100000;
  std::shared_ptr<Mailbox> box_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> drain_ms_{0};
  bool draining_ = false;
  int64_t drain_deadline_ = 0;
  int64_t now_ = 0;
  int64_t last_sweep_ = 0;
  int tick_ms_ = 100;
  size_t max_input_ = 64 * 1024;
  std::vector<Conn*> conns_;
  std::vector<Conn*> by_fd_;
  std::vector<Conn*> graveyard_;
  std::vector<std::pair<int, uint64_t>> resume_;  // (fd, id): drive again next iteration
  Exchange* ready_head_ = nullptr;
  Exchange* ready_tail_ = nullptr;
  uint64_t next_conn_id_ = 1;
  uint64_t next_request_ = 0;
  char id_prefix_[8];
  Request error_req_;  // what on_complete sees for errors the server answers itself
  char listen_tag_ = 0, wake_tag_ = 0;  // epoll data for the non-connection fds
};

}  // namespace detail

struct Server::Impl {
  ServerOptions opts;
  Handler handler;
  int port = 0;
  std::vector<int> listen_fds;
  std::vector<std::unique_ptr<detail::Loop>> loops;
  std::vector<std::thread> threads;
  std::unique_ptr<detail::Pool> pool;
  std::atomic<int> connections{0};
  std::shared_ptr<detail::BodyBudget> budget = std::make_shared<detail::BodyBudget>();
  std::string busy_response;  // the canned 503 for connections over max_connections
  uint32_t id_seed = 0;
  std::mutex shutdown_mu;
  bool stopped = false;

  std::string ErrorBody(int status, std::string_view message) const {
    return opts.error_body ? opts.error_body(status, message) : DefaultErrorBody(status, message);
  }
  ~Impl() {
    for (int fd : listen_fds) ::close(fd);
  }
};

namespace detail {

void Deliver(Exchange* ex) {
  if (ex == tls_dispatching) {
    tls_stashed = ex;
    return;
  }
  if (ex->box.get() == tls_box) {
    ex->box->loop->PushReady(ex);
    return;
  }
  Post(ex);
}

Loop::Loop(Server::Impl* srv, int index, int listen_fd)
    : srv_(srv), opts_(srv->opts), listen_fd_(listen_fd) {
  int shortest = 2000;  // timeouts <= 0 are off
  for (int ms : {opts_.header_timeout_ms, opts_.body_timeout_ms, opts_.idle_timeout_ms})
    if (ms > 0) shortest = std::min(shortest, ms);
  tick_ms_ = std::clamp(shortest / 8, 5, 250);
  max_input_ = std::max<size_t>(64 * 1024, opts_.max_header_bytes + 1);
  uint32_t prefix = srv->id_seed ^ (static_cast<uint32_t>(index) * 0x9e3779b9u);
  static const char kHex[] = "0123456789abcdef";
  for (int i = 7; i >= 0; i--, prefix >>= 4) id_prefix_[i] = kHex[prefix & 15];
}

Loop::~Loop() {
  if (ep_ >= 0) ::close(ep_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

Status Loop::Init() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return Status::FromErrno("epoll_create1", errno);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  box_ = std::make_shared<Mailbox>();
  box_->loop = this;
  box_->budget = srv_->budget;
  box_->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (box_->efd < 0) return Status::FromErrno("eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_tag_;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, box_->efd, &ev) < 0) return Status::FromErrno("epoll_ctl", errno);
  if (listen_fd_ < 0) return Status::Ok();
  // A listener shared by the loops wakes one of them per connection (EPOLLEXCLUSIVE).
  bool shared = opts_.accept_mode == AcceptMode::kShared;
  ev.events = EPOLLIN | (shared ? static_cast<uint32_t>(EPOLLEXCLUSIVE) : 0u);
  ev.data.ptr = &listen_tag_;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) < 0) return Status::FromErrno("epoll_ctl", errno);
  return Status::Ok();
}

void Loop::RequestShutdown(int drain_ms) {
  drain_ms_.store(drain_ms);
  stop_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(box_->efd, &one, sizeof one);
}

void Loop::Run() {
  tls_box = box_.get();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  epoll_event events[kMaxEvents];
  now_ = last_sweep_ = NowMs();
  while (true) {
    int timeout = -1;
    if (!resume_.empty() || ready_head_ != nullptr) {
      timeout = 0;
    } else if (!conns_.empty() || draining_) {
      timeout = tick_ms_;
    }
    int n = epoll_wait(ep_, events, kMaxEvents, timeout);
    now_ = NowMs();
    for (int i = 0; i < n; i++) {
      void* tag = events[i].data.ptr;
      if (tag == &listen_tag_) {
        if (!draining_) OnAccept();
      } else if (tag == &wake_tag_) {
        OnWake();
      } else {
        OnEvent(static_cast<Conn*>(tag), events[i].events);
      }
    }
    RunReady();
    if (now_ - last_sweep_ >= tick_ms_) Sweep();
    for (Conn* c : graveyard_) delete c;
    graveyard_.clear();
    if (draining_ && (conns_.empty() || now_ >= drain_deadline_)) break;
  }
  Teardown();
}

void Loop::Teardown() {
  Exchange* pending;
  std::vector<Mailbox::Incoming> incoming;
  {
    std::lock_guard<std::mutex> lock(box_->mu);
    box_->closed = true;
    pending = std::exchange(box_->head, nullptr);
    incoming.swap(box_->incoming);
  }
  for (const auto& in : incoming) {
    ::close(in.fd);
    srv_->connections.fetch_sub(1);
    Unload();
  }
  while (pending != nullptr) DestroyExchange(std::exchange(pending, pending->next));
  while (ready_head_ != nullptr) DestroyExchange(std::exchange(ready_head_, ready_head_->next));
  while (!conns_.empty()) Close(conns_.back());
  for (Conn* c : graveyard_) delete c;
  graveyard_.clear();
  tls_box = nullptr;
}

void Loop::OnAccept() {
  // Shared listener: take one connection per wakeup, so the loops share a burst of
  // connects instead of the first awake taking them all.
  const int batch = opts_.accept_mode == AcceptMode::kShared ? 1 : 64;
  for (int i = 0; i < batch; i++) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && RejectWithReserve()) continue;
      return;
    }
    if (srv_->connections.fetch_add(1) >= opts_.max_connections) {
      srv_->connections.fetch_sub(1);
      RejectBusy(fd);
      continue;
    }
    Loop* to = opts_.accept_mode == AcceptMode::kBalanced ? LeastLoaded() : this;
    to->load_.fetch_add(1, std::memory_order_relaxed);
    if (to == this) {
      Adopt(fd, addr);
    } else {
      to->PostConnection(fd, addr);
    }
  }
}

// Counted when assigned, not when adopted, so a burst of connects spreads before the other
// loops have woken up.
Loop* Loop::LeastLoaded() {
  const auto& loops = srv_->loops;
  Loop* best = nullptr;
  int best_load = 0;
  for (size_t i = 0; i < loops.size(); i++) {
    Loop* l = loops[(next_loop_ + i) % loops.size()].get();
    int load = l->load_.load(std::memory_order_relaxed);
    if (best == nullptr || load < best_load) {
      best = l;
      best_load = load;
    }
  }
  next_loop_++;
  return best;
}

void Loop::Unload() { load_.fetch_sub(1, std::memory_order_relaxed); }

void Loop::PostConnection(int fd, const sockaddr_storage& addr) {
  bool wake = false, closed = false;
  {
    std::lock_guard<std::mutex> lock(box_->mu);
    closed = box_->closed;
    if (!closed) {
      wake = box_->head == nullptr && box_->incoming.empty();
      box_->incoming.push_back({fd, addr});
    }
  }
  if (closed) {
    ::close(fd);
    srv_->connections.fetch_sub(1);
    Unload();
  } else if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(box_->efd, &one, sizeof one);
  }
}

// Makes an accepted socket a connection of this loop.
void Loop::Adopt(int fd, const sockaddr_storage& addr) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Conn* c = new Conn(ParserLimits{opts_.max_header_bytes, opts_.max_body_bytes});
  c->parser.set_pause_after_head(true);  // the head is decided on (OnHead) before the body is read
  c->fd = fd;
  c->id = next_conn_id_++;
  c->peer = PeerName(addr);
  c->last_active = now_;
  c->index = conns_.size();
  conns_.push_back(c);
  if (by_fd_.size() <= static_cast<size_t>(fd)) by_fd_.resize(static_cast<size_t>(fd) + 64, nullptr);
  by_fd_[static_cast<size_t>(fd)] = c;
  if (opts_.http2) {
    H2Limits limits{opts_.max_header_bytes, opts_.max_body_bytes, opts_.max_concurrent_streams, srv_->budget.get()};
    c->h2 = std::make_unique<H2Session>(limits, opts_.on_head,
                                        [this](int status, std::string_view m) { return StreamError(status, m); });
    c->h2->Send(&c->out.Tail());  // the server's SETTINGS, sent when the socket first says it is writable
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = c;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    Close(c);
    return;
  }
  UpdateDeadline(c);
}

// Out of file descriptors, the pending connection would wake the (level-triggered) listener
// again and again: the reserve fd makes room to accept it, answer 503 and close it.
bool Loop::RejectWithReserve() {
  if (reserve_fd_ < 0) return false;
  ::close(reserve_fd_);
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) RejectBusy(fd);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (now_ - last_fd_warning_ >= 10000) {
    last_fd_warning_ = now_;
    LogWarn("http server: out of file descriptors; refusing connections (raise ulimit -n?)");
  }
  return fd >= 0;
}

void Loop::RejectBusy(int fd) {
  const std::string& r = srv_->busy_response;  // empty for HTTP/2: the connection is just closed
  if (!r.empty()) {
    [[maybe_unused]] ssize_t n = ::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

void Loop::OnWake() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(box_->efd, &count, sizeof count);
  if (stop_requested_.load() && !draining_) BeginDrain();
  Exchange* list;
  std::vector<Mailbox::Incoming> incoming;
  {
    std::lock_guard<std::mutex> lock(box_->mu);
    list = std::exchange(box_->head, nullptr);
    incoming.swap(box_->incoming);
  }
  for (const auto& in : incoming) {
    if (draining_) {
      ::close(in.fd);
      srv_->connections.fetch_sub(1);
      Unload();
    } else {
      Adopt(in.fd, in.addr);
    }
  }
  Exchange* fifo = nullptr;  // the list is newest first
  while (list != nullptr) {
    Exchange* next = list->next;
    list->next = fifo;
    fifo = list;
    list = next;
  }
  while (fifo != nullptr) Complete(std::exchange(fifo, fifo->next));
}

void Loop::PushReady(Exchange* ex) {
  ex->next = nullptr;
  if (ready_tail_ != nullptr) {
    ready_tail_->next = ex;
  } else {
    ready_head_ = ex;
  }
  ready_tail_ = ex;
}

void Loop::RunReady() {
  while (ready_head_ != nullptr) {
    Exchange* ex = ready_head_;
    ready_head_ = ex->next;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
    Complete(ex);
  }
  std::vector<std::pair<int, uint64_t>> resume;
  resume.swap(resume_);
  for (auto [fd, id] : resume)
    if (Conn* c = Find(fd, id)) Drive(c);
}

Conn* Loop::Find(int fd, uint64_t id) const {
  if (fd < 0 || static_cast<size_t>(fd) >= by_fd_.size()) return nullptr;
  Conn* c = by_fd_[static_cast<size_t>(fd)];
  return c != nullptr && c->id == id && !c->dead ? c : nullptr;
}

void Loop::OnEvent(Conn* c, uint32_t events) {
  if (c->dead) return;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->hup = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
  Drive(c);
}

// Everything a connection can do now: write what is pending (making room), read, handle
// the complete requests, write their answers.
void Loop::Drive(Conn* c) {
  c->last_active = now_;
  c->drive_queued = false;
  if (c->h2) {
    DriveH2(c);
    return;
  }
  if (c->lingering) {
    Discard(c);
    return;
  }
  if (!c->out.empty() && !Flush(c)) return;
  for (int round = 0;; round++) {
    if (c->readable && !c->peer_eof && !c->closing && !ReadInput(c)) {
      Close(c);
      return;
    }
    Process(c);
    if (c->dead) return;
    // Reading stopped for lack of room: go on if handling requests made some.
    if (!c->readable || c->peer_eof || c->closing || c->awaiting || c->out.size() >= kMaxOutPending) break;
    if (round == 8) {  // a fast uploader must not starve the other connections
      resume_.emplace_back(c->fd, c->id);
      break;
    }
  }
  if (!Flush(c)) return;
  if ((c->peer_eof && !c->awaiting && c->out.empty()) || (draining_ && Idle(c))) {
    Close(c);
    return;
  }
  UpdateDeadline(c);
}

// Reads until the socket is drained or the buffer is full. False on a connection error.
bool Loop::ReadInput(Conn* c) {
  // While a handler works, pipelined bytes wait in what the buffer has; it does not grow.
  size_t max = c->awaiting ? std::max<size_t>(c->in.capacity(), 4096) : max_input_;
  while (true) {
    size_t room;
    char* p = c->in.Prepare(max, &room);
    if (room == 0) return true;
    ssize_t n = ::read(c->fd, p, room);
    if (n > 0) {
      c->in.Commit(static_cast<size_t>(n));
      if (static_cast<size_t>(n) < room && !c->hup) {
        c->readable = false;
        return true;
      }
      continue;
    }
    if (n == 0) {
      c->peer_eof = true;
      c->readable = false;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      c->readable = false;
      return true;
    }
    return false;
  }
}

void Loop::Process(Conn* c) {
  bool after_head = false;  // parse once more even with no input: the body may be empty
  while (!c->awaiting && !c->closing && (after_head || !c->in.empty()) && c->out.size() < kMaxOutPending) {
    if (c->cur == nullptr) c->cur = TakeSpare(c);
    if (!c->head_started) {
      c->head_started = true;
      c->phase_start = now_;
    }
    ParseResult r = c->parser.Parse(c->in.view(), c->cur->req);
    c->in.Consume(r.consumed);
    after_head = r.status == ParseStatus::kHead;
    if (after_head) {
      c->body_started = true;
      c->phase_start = now_;
      if (!OnHead(c)) return;
      continue;
    }
    if (r.status == ParseStatus::kError) {
      QueueError(c, r.http_status, r.message);
      return;
    }
    // A chunked body grows as it arrives: count it as it does.
    if (!Charge(c, c->cur->req.body.capacity(), r.status == ParseStatus::kNeedMore)) return;
    if (r.status == ParseStatus::kNeedMore) return;
    c->head_started = c->body_started = c->continue_sent = false;
    Dispatch(c, std::exchange(c->cur, nullptr));
  }
}

// The head of c->cur is parsed and none of its body consumed: the server's head check
// decides now, unless the body is already here whole. False: stop processing this connection
// for now (it was answered, or the check runs on the pool and comes back through Complete).
bool Loop::OnHead(Conn* c) {
  Exchange* ex = c->cur;
  if (!opts_.on_head || c->parser.body_within(c->in.size())) return Admit(c);
  ex->req.peer = c->peer;
  if (srv_->pool) {
    c->cur = nullptr;  // the pool has it; a connection that dies meanwhile must not free it
    ex->head_check = true;
    ex->conn_fd = c->fd;
    ex->conn_id = c->id;
    c->awaiting = true;  // reading stops growing the buffer: the body waits in the socket
    srv_->pool->Submit(ex);
    return false;
  }
  RunHeadCheck(opts_.on_head, ex);
  return ApplyHead(c);
}

// Acts on c->cur's head decision. False when the request was answered.
bool Loop::ApplyHead(Conn* c) {
  Exchange* ex = c->cur;
  HeadDecision d = std::move(ex->decision);
  ex->decision = HeadDecision();
  if (d.refuse || ex->dropped) {
    Refuse(c, d.refuse ? std::move(*d.refuse) : Response());
    return false;
  }
  if (d.max_body_bytes > 0) {
    ParseResult r = c->parser.LimitBody(d.max_body_bytes);
    if (r.status == ParseStatus::kError) {
      QueueError(c, r.http_status, r.message);
      return false;
    }
  }
  return Admit(c);
}

// The body may come: count it against the budget, reserve it whole (no geometric regrowth,
// which would hold up to twice the body while copying), then ask for it if the client waits.
bool Loop::Admit(Conn* c) {
  uint64_t length = c->parser.body_remaining();
  if (!Charge(c, length, /*refuse=*/true)) return false;
  if (length > 0) c->cur->req.body.reserve(length);
  if (c->parser.expect_continue() && !c->continue_sent && !c->parser.body_within(c->in.size())) {
    c->out.Tail().append("HTTP/1.1 100 Continue\r\n\r\n");
    c->continue_sent = true;
  }
  return true;
}

// Counts `bytes` of c->cur's body against the server's budget. False when `refuse` and the
// budget is exceeded: answered 503 before more of the body is read.
bool Loop::Charge(Conn* c, uint64_t bytes, bool refuse) {
  detail::BodyBudget& b = *srv_->budget;
  if (b.Grow(&c->cur->charged, bytes) || !refuse) return true;
  QueueError(c, 503, OverBudget(b, bytes));
  return false;
}

// Answers the head check's refusal and closes: the body is never read.
void Loop::Refuse(Conn* c, Response r) {
  Exchange* ex = std::exchange(c->cur, nullptr);
  if (ex->req.request_id.empty()) NewRequestId(&ex->req.request_id);
  ex->req.keep_alive = false;
  ex->resp = std::move(r);
  if (opts_.on_complete) ex->start = std::chrono::steady_clock::now();
  c->in.Clear();
  c->head_started = c->body_started = c->continue_sent = false;
  Finish(c, ex);
}

Exchange* Loop::NewExchange() {
  auto* ex = new Exchange;
  ex->box = box_;
  return ex;
}

// A connection's spare exchange for its next request, or a new one.
Exchange* Loop::TakeSpare(Conn* c) {
  if (c->spares.empty()) return NewExchange();
  Exchange* ex = c->spares.back();
  c->spares.pop_back();
  return ex;
}

// Keeps an exchange back from its handler for the connection's next request, up to the
// connection's share (one for HTTP/1.1, more for HTTP/2's multiplexed calls).
void KeepSpare(Conn* c, Exchange* ex) {
  if (c->spares.size() < (c->h2 ? kH2SpareExchanges : kSpareExchanges)) c->spares.push_back(ex);
  else DestroyExchange(ex);
}

void Loop::NewRequestId(std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  char id[20];
  std::memcpy(id, id_prefix_, 8);
  uint64_t n = ++next_request_;
  for (int i = 19; i >= 8; i--, n >>= 4) id[i] = kHex[n & 15];
  out->assign(id, sizeof id);
}

void Loop::Dispatch(Conn* c, Exchange* ex) {
  ex->req.peer = c->peer;
  if (ex->req.request_id.empty()) NewRequestId(&ex->req.request_id);
  ex->conn_fd = c->fd;
  ex->conn_id = c->id;
  ex->dropped = false;
  if (opts_.on_complete) ex->start = std::chrono::steady_clock::now();
  c->awaiting = true;
  if (srv_->pool) {
    srv_->pool->Submit(ex);
    return;
  }
  if (Exchange* answered = RunHandler(srv_->handler, ex)) Finish(c, answered);
}

// An answer came back (from the mailbox or the ready list).
void Loop::Complete(Exchange* ex) {
  Conn* c = Find(ex->conn_fd, ex->conn_id);
  if (c == nullptr) {  // the client went away meanwhile
    DestroyExchange(ex);
    return;
  }
  if (c->h2) {
    // Calls multiplexed on a connection come back together (one batch): their frames leave
    // in one write once this loop turn's answers are all in, not in a write per stream.
    FinishH2(c, ex);
    if (!c->drive_queued) {
      c->drive_queued = true;
      resume_.emplace_back(c->fd, c->id);
    }
    return;
  }
  if (ex->head_check) {  // back from the pool's head check: the body may come now
    ex->head_check = false;
    c->awaiting = false;
    c->cur = ex;
    ApplyHead(c);
  } else {
    Finish(c, ex);
  }
  Drive(c);
}

void Loop::Finish(Conn* c, Exchange* ex) {
  c->awaiting = false;
  QueueResponse(c, ex);  // leaves no file fd in ex->resp; the rest is overwritten by the next Send
  ReleaseBody(ex);       // a large body is not kept for the connection's next request
  KeepSpare(c, ex);
}

void Loop::QueueResponse(Conn* c, Exchange* ex) {
  Response& r = ex->resp;
  const Request& req = ex->req;
  if (ex->dropped || r.status < 200 || r.status > 599) {
    std::string message = ex->dropped ? "the request was dropped without an answer"
                                      : "the handler answered with status " + std::to_string(r.status);
    if (r.file_fd >= 0) ::close(r.file_fd);
    r = Response();
    r.status = 500;
    r.body = srv_->ErrorBody(500, message);
  }
  Head h;
  h.status = r.status;
  h.content_type = r.content_type;
  h.has_body = r.status != 204 && r.status != 304;
  h.length = r.file_fd >= 0 ? r.file_size : r.body.size();
  h.request_id = req.request_id;
  h.headers = &r.headers;
  h.close = !req.keep_alive || draining_ || c->peer_eof;
  h.keep_alive_header = !h.close && req.minor_version == 0;
  AppendHead(c->out.Tail(), h);
  bool send_body = h.has_body && req.method != "HEAD";
  if (r.file_fd >= 0) {
    if (send_body && r.file_size > 0) {
      c->out.AppendFile(r.file_fd, r.file_size);
    } else {
      ::close(r.file_fd);
    }
    r.file_fd = -1;
  } else if (send_body && !r.body.empty()) {
    if (r.body.size() <= 16 * 1024) {
      c->out.Tail().append(r.body);
    } else {
      c->out.AppendOwned(std::move(r.body));
    }
  }
  if (h.close) c->closing = true;
  if (opts_.on_complete) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - ex->start;
    opts_.on_complete(req, r.status, took.count());
  }
}

// An error the server answers itself; the connection closes after it.
void Loop::QueueError(Conn* c, int status, std::string_view message) {
  Request& req = error_req_;
  req.method.clear();
  req.target.clear();
  req.path.clear();
  req.query.clear();
  req.headers.clear();
  req.body.clear();
  req.peer = c->peer;
  NewRequestId(&req.request_id);
  if (c->cur != nullptr) ReleaseBody(c->cur);
  std::string body = srv_->ErrorBody(status, message);
  Head h;
  h.status = status;
  h.content_type = "application/json";
  h.length = body.size();
  h.request_id = req.request_id;
  h.close = true;
  std::string& out = c->out.Tail();
  AppendHead(out, h);
  out.append(body);
  c->closing = true;
  c->in.Clear();
  if (opts_.on_complete) opts_.on_complete(req, status, 0.0);
}

// Writes what is pending. False when the connection was closed (or is lingering).
bool Loop::Flush(Conn* c) {
  if (!c->out.empty()) {
    bool blocked = false;
    uint64_t written = 0;
    if (!c->out.WriteTo(c->fd, &blocked, &written)) {
      if (errno == EPIPE) ConsumeSigpipe();
      Close(c);
      return false;
    }
    if (written > 0) c->last_active = now_;
    if (blocked) return true;
  }
  if (c->closing && !c->awaiting) {
    FinishClose(c);
    return false;
  }
  return true;
}

void Loop::FinishClose(Conn* c) {
  if (c->peer_eof || draining_) {
    Close(c);
    return;
  }
  ::shutdown(c->fd, SHUT_WR);
  c->lingering = true;
  c->linger_until = now_ + kLingerMs;
  c->readable = true;  // bytes may be waiting already; no new edge would announce them
  Discard(c);
}

// Lingering: reads and drops input until the client closes.
void Loop::Discard(Conn* c) {
  char scratch[16384];
  while (true) {
    ssize_t n = ::read(c->fd, scratch, sizeof scratch);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    Close(c);  // EOF or an error
    return;
  }
  c->in.Clear();
  UpdateDeadline(c);
}

void Loop::Close(Conn* c) {
  if (c->dead) return;
  c->dead = true;
  ::close(c->fd);
  by_fd_[static_cast<size_t>(c->fd)] = nullptr;
  Conn* last = conns_.back();
  conns_[c->index] = last;
  last->index = c->index;
  conns_.pop_back();
  c->out.Clear();
  srv_->connections.fetch_sub(1);
  Unload();
  graveyard_.push_back(c);
}

bool Loop::Idle(const Conn* c) const {
  if (c->h2) return c->inflight == 0 && c->h2->Receiving() == 0 && c->out.empty() && !c->lingering;
  return !c->awaiting && !c->head_started && c->in.empty() && c->out.empty() && !c->lingering;
}

void Loop::UpdateDeadline(Conn* c) {
  auto after = [&](int64_t from, int ms) { return ms > 0 ? from + ms : 0; };
  if (c->h2 && !c->lingering && c->out.empty()) {
    // Streams with handlers: no deadline; a request still arriving: the body timeout since
    // the last bytes; else idle.
    if (c->inflight > 0) {
      c->deadline = 0;
    } else if (c->h2->Receiving() > 0) {
      c->deadline = after(c->last_active, opts_.body_timeout_ms);
    } else {
      c->deadline = after(c->last_active, opts_.idle_timeout_ms);
    }
    return;
  }
  if (c->lingering) {
    c->deadline = c->linger_until;
  } else if (!c->out.empty()) {
    c->deadline = after(c->last_active, opts_.idle_timeout_ms);  // not reading what we send
  } else if (c->awaiting) {
    c->deadline = 0;
  } else if (c->body_started) {
    c->deadline = after(c->phase_start, opts_.body_timeout_ms);
  } else if (c->head_started) {
    c->deadline = after(c->phase_start, opts_.header_timeout_ms);
  } else {
    c->deadline = after(c->last_active, opts_.idle_timeout_ms);
  }
}

void Loop::OnTimeout(Conn* c) {
  if (c->h2 && !c->lingering && c->out.empty()) {  // idle or stalled mid-request: GOAWAY, then close
    c->h2->GoAway();
    c->h2->Send(&c->out.Tail());
    c->closing = true;
    if (Flush(c)) UpdateDeadline(c);
    return;
  }
  if (c->lingering || !c->out.empty() || (!c->head_started && !c->body_started)) {
    Close(c);  // lingered enough, not reading, or idle: silently
    return;
  }
  bool body = c->body_started;
  int ms = body ? opts_.body_timeout_ms : opts_.header_timeout_ms;
  QueueError(c, 408, std::string(body ? "request body" : "request head") + " not received within " +
                         std::to_string(ms) + " ms");
  if (Flush(c)) UpdateDeadline(c);
}

void Loop::Sweep() {
  last_sweep_ = now_;
  std::vector<std::pair<int, uint64_t>> expired;
  for (Conn* c : conns_)
    if (c->deadline != 0 && now_ >= c->deadline && !c->awaiting) expired.emplace_back(c->fd, c->id);
  for (auto [fd, id] : expired)
    if (Conn* c = Find(fd, id)) OnTimeout(c);
}

void Loop::BeginDrain() {
  draining_ = true;
  drain_deadline_ = now_ + std::max(0, drain_ms_.load());
  if (listen_fd_ >= 0) epoll_ctl(ep_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  std::vector<Conn*> idle, busy_h2;
  for (Conn* c : conns_) {
    if (Idle(c)) {
      idle.push_back(c);
    } else if (c->h2) {
      busy_h2.push_back(c);
    }
  }
  for (Conn* c : idle) Close(c);
  // HTTP/2 clients are told no new stream will be taken; those begun are answered.
  for (Conn* c : busy_h2) {
    c->h2->GoAway();
    Drive(c);
  }
}

// ---- HTTP/2 connections (h2_session.h): many requests at once, answers in any order ----

// Reads and hands the bytes to the session, runs the requests that completed, writes what
// the session has to send.
void Loop::DriveH2(Conn* c) {
  if (c->lingering) {
    Discard(c);
    return;
  }
  H2Session& h2 = *c->h2;
  if (!c->out.empty() && !Flush(c)) return;
  for (int round = 0; c->readable && !c->peer_eof && !c->closing && c->out.size() < kMaxOutPending; round++) {
    if (round == 8) {  // a fast sender must not starve the other connections
      resume_.emplace_back(c->fd, c->id);
      break;
    }
    if (!ReadInput(c)) {
      Close(c);
      return;
    }
    if (!c->in.empty() && !h2.Receive(c->in.view())) c->closing = true;  // a GOAWAY is queued
    c->in.Clear();
    DispatchH2(c);
  }
  if (!h2.Send(&c->out.Tail())) c->closing = true;
  if (!Flush(c)) return;
  if (h2.Finished() || (c->peer_eof && c->inflight == 0 && c->out.empty()) || (draining_ && Idle(c))) {
    Close(c);
    return;
  }
  UpdateDeadline(c);
}

void Loop::DispatchH2(Conn* c) {
  for (H2Request& r : c->h2->TakeReady()) {
    Exchange* ex = TakeSpare(c);
    std::swap(ex->req, r.req);
    c->h2->Recycle(std::move(r.req));  // the exchange's last request: buffers for a next stream
    ex->req.peer = c->peer;
    ex->stream = r.stream;
    ex->charged = std::exchange(r.charged, 0);  // released with the answer (ReleaseBody)
    ex->conn_fd = c->fd;
    ex->conn_id = c->id;
    ex->dropped = false;
    if (opts_.on_complete) ex->start = std::chrono::steady_clock::now();
    c->inflight++;
    if (srv_->pool) {
      srv_->pool->Submit(ex);
    } else if (Exchange* answered = RunHandler(srv_->handler, ex)) {
      FinishH2(c, answered);
    }
  }
}

void Loop::FinishH2(Conn* c, Exchange* ex) {
  c->inflight--;
  Response& r = ex->resp;
  if (ex->dropped || r.status < 200 || r.status > 599 || r.file_fd >= 0) {
    std::string message = ex->dropped ? "the request was dropped without an answer"
                          : r.file_fd >= 0 ? "file bodies are not served over HTTP/2"
                                           : "the handler answered with status " + std::to_string(r.status);
    if (r.file_fd >= 0) ::close(r.file_fd);
    r = StreamError(500, message);
  }
  int status = r.status;
  c->h2->Respond(ex->stream, r);
  if (opts_.on_complete) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - ex->start;
    opts_.on_complete(ex->req, status, took.count());
  }
  ReleaseBody(ex);
  KeepSpare(c, ex);
}

Response Loop::StreamError(int status, std::string_view message) const {
  if (opts_.stream_error) return opts_.stream_error(status, message);
  Response r;
  r.status = status;
  r.body = srv_->ErrorBody(status, message);
  return r;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------

Responder& Responder::operator=(Responder&& o) noexcept {
  if (this != &o) {
    if (ex_ != nullptr) {
      ex_->dropped = true;
      detail::Deliver(ex_);
    }
    ex_ = std::exchange(o.ex_, nullptr);
  }
  return *this;
}

Responder::~Responder() {
  if (ex_ != nullptr) {
    ex_->dropped = true;
    detail::Deliver(std::exchange(ex_, nullptr));
  }
}

void Responder::Send(Response r) {
  if (ex_ == nullptr) return;
  detail::Exchange* ex = std::exchange(ex_, nullptr);
  ex->resp = std::move(r);
  ex->dropped = false;
  detail::Deliver(ex);
}

namespace {

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

Result<Address> Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Status::User("cannot resolve '" + host + "': " + gai_strerror(rc));
  Address a;
  std::memcpy(&a.addr, res->ai_addr, res->ai_addrlen);
  a.len = res->ai_addrlen;
  freeaddrinfo(res);
  return a;
}

void SetPort(Address* a, int port) {
  if (a->addr.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a->addr)->sin_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in6*>(&a->addr)->sin6_port = htons(static_cast<uint16_t>(port));
  }
}

int PortOf(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

// A bound socket; listening unless `probe`. The caller closes it.
Result<int> Bind(const Address& a, const std::string& host, int port, bool reuse_port, bool probe) {
  int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) < 0) {
    int err = errno;
    ::close(fd);
    std::string where = HostPort(host, port);
    if (err == EADDRINUSE)
      return Status::User(where + " is in use; stop the server that listens there or pick another port");
    if (err == EADDRNOTAVAIL) return Status::User(where + ": no such local address");
    if (err == EACCES) return Status::User(where + ": permission denied (ports below 1024 need root)");
    return Status::FromErrno("binding " + where, err);
  }
  if (!probe && ::listen(fd, 4096) < 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("listening on " + HostPort(host, port), err);
  }
  return fd;
}

// SO_REUSEPORT would let our listeners join another process's group on the same port
// silently; a probe without it fails with EADDRINUSE when anyone listens there. With port 0
// the probe also picks the port.
Status OpenListeners(Server::Impl* impl, int count) {
  const ServerOptions& o = impl->opts;
  ASSIGN_OR_RETURN(Address a, Resolve(o.host, o.port));
  bool reuse_port = o.accept_mode == AcceptMode::kReusePort;
  ASSIGN_OR_RETURN(int probe, Bind(a, o.host, o.port, /*reuse_port=*/false, /*probe=*/reuse_port));
  if (!reuse_port) {
    impl->listen_fds.push_back(probe);
    impl->port = PortOf(probe);
    return Status::Ok();
  }
  impl->port = PortOf(probe);
  ::close(probe);
  SetPort(&a, impl->port);
  for (int i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(int fd, Bind(a, o.host, impl->port, /*reuse_port=*/true, /*probe=*/false));
    impl->listen_fds.push_back(fd);
  }
  return Status::Ok();
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return impl_->port; }

Result<std::unique_ptr<Server>> Server::Start(ServerOptions opts, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(opts);
  impl->handler = std::move(handler);
  ServerOptions& o = impl->opts;
  if (o.io_threads <= 0) o.io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.port < 0 || o.port > 65535) return Status::User("port " + std::to_string(o.port) + " is out of range");
  std::random_device rd;
  impl->id_seed = rd();
  std::string busy = impl->ErrorBody(503, "too many connections");
  if (!o.http2) impl->busy_response = "HTTP/1.1 503 Service Unavailable\r\nServer: forja\r\nContent-Type: application/json\r\n"
                        "Content-Length: " + std::to_string(busy.size()) + "\r\nConnection: close\r\n\r\n" + busy;
  RETURN_IF_ERROR(OpenListeners(impl.get(), o.io_threads));
  for (int i = 0; i < o.io_threads; i++) {
    int fd = -1;
    switch (o.accept_mode) {
      case AcceptMode::kReusePort: fd = impl->listen_fds[static_cast<size_t>(i)]; break;
      case AcceptMode::kShared: fd = impl->listen_fds[0]; break;
      case AcceptMode::kBalanced: fd = i == 0 ? impl->listen_fds[0] : -1; break;
    }
    auto loop = std::make_unique<detail::Loop>(impl.get(), i, fd);
    RETURN_IF_ERROR(loop->Init());
    impl->loops.push_back(std::move(loop));
  }
  impl->budget->max = o.max_body_bytes_in_flight;
  if (o.handler_threads > 0)
    impl->pool = std::make_unique<detail::Pool>(o.handler_threads, &impl->handler, &impl->opts.on_head);
  for (auto& loop : impl->loops) impl->threads.emplace_back([l = loop.get()] { l->Run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Shutdown(int drain_ms) {
  std::lock_guard<std::mutex> lock(impl_->shutdown_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Stop listening first, so that new connections are refused while the loops drain.
  for (int fd : impl_->listen_fds) ::shutdown(fd, SHUT_RDWR);
  for (auto& loop : impl_->loops) loop->RequestShutdown(drain_ms);
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  if (impl_->pool) impl_->pool->Stop();
  impl_->loops.clear();
  for (int fd : impl_->listen_fds) ::close(fd);
  impl_->listen_fds.clear();
}

}  // namespace forja::net
