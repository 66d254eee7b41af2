// forja's HTTP/1.1 server: the transport under the tracking server (MLflow REST; handlers
// block on a database) and the model server (Open Inference Protocol; must come close to
// nginx's throughput). Linux only: epoll, eventfd, sendfile. With ServerOptions::http2 the
// same loops speak HTTP/2 instead (h2_session.h), which carries the model server's gRPC.
//
// Design, and why:
//  - N event loops (io_threads, default one per core), each a thread with its own epoll set.
//    A connection stays on its loop. By default the first loop accepts and hands each
//    connection to the least loaded loop (one eventfd wakeup per connection, even loads); an
//    SO_REUSEPORT listener per loop (no hand-off, the kernel's hash decides) and one shared
//    listener are the alternatives: bench/http measured them equal in throughput here, with a
//    lower p99 for the balanced hand-off at 16 connections.
//  - Sockets are registered once, edge-triggered, for both reading and writing: no epoll_ctl
//    per request. A response is written as soon as it is queued; only a full socket buffer
//    waits for EPOLLOUT. Pipelined requests handled synchronously have their responses
//    gathered and sent with one sendmsg.
//  - A connection handles one request at a time, in order: the next is parsed only after the
//    previous response was queued. That keeps pipelining correct without per-request queues.
//  - The Responder decouples answering from the handler's call: a handler may answer at once
//    (the common case, no locking, no wakeup), or hand the Responder to another thread
//    (a batching thread in the model server), which posts the answer to the owning loop's
//    mailbox and wakes it through an eventfd. With handler_threads > 0, handlers run on a
//    pool so blocking database work does not stall a loop.
//  - The head is decided on before the body is read (ServerOptions::on_head): a server
//    refuses a caller (401) or a size (413) without taking the body in, and bodies in memory
//    are counted against a server-wide budget (503 beyond), so memory does not scale with
//    what clients announce or push.
//  - The request object lives in a per-connection "exchange" that the Responder owns while
//    the handler works on it and that returns to the connection afterwards: no allocation
//    per request in steady state, and a connection that dies while a handler holds its
//    request frees nothing the handler still uses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/core/status.h"
#include "forja/net/http_parser.h"

namespace forja::net {

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header
  std::string body;
  // Extra headers. Content-Length, Transfer-Encoding and Connection are the server's to set
  // and are dropped here, as is any header with CR, LF or NUL in it.
  std::vector<std::pair<std::string, std::string>> headers;
  // A file body streamed with sendfile (large artifact downloads): when file_fd >= 0 the
  // server sends file_size bytes from offset 0, then closes the fd (in every case: also when
  // the request was HEAD or the client went away).
  int file_fd = -1;
  uint64_t file_size = 0;
  // HTTP/2 only (ServerOptions::http2): header fields sent after the body, such as gRPC's
  // grpc-status; with an empty body they are sent in the response's own header block.
  std::vector<std::pair<std::string, std::string>> trailers;
};

namespace detail {
struct Exchange;
}

// Completes one request. Move-only. Send() may be called once, from any thread, at any
// later time. A Responder destroyed without Send() answers 500. Sending after the
// connection died (or the server stopped) is a harmless no-op.
class Responder {
 public:
  Responder() = default;
  explicit Responder(detail::Exchange* ex) : ex_(ex) {}
  Responder(Responder&& o) noexcept : ex_(std::exchange(o.ex_, nullptr)) {}
  Responder& operator=(Responder&& o) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void Send(Response r);
  bool valid() const { return ex_ != nullptr; }

 private:
  detail::Exchange* ex_ = nullptr;
};

// The request is valid until the handler returns (not until Send: copy what a deferred
// answer needs).
using Handler = std::function<void(Request& req, Responder res)>;

// Body of the errors the server itself produces (400, 408, 413, 414, 431, 501, 503, 505, and
// 500 for a dropped Responder). Default: {"error": "<message>"} as JSON.
using ErrorBody = std::function<std::string(int status, std::string_view message)>;

// What a server decides from a request's head, before any of its body is read.
struct HeadDecision {
  // Set: answered with this at once, without reading the body and without "100 Continue";
  // the connection is then closed (write side shut, what the client still sends discarded
  // for at most a second so it reads the answer rather than a reset).
  std::optional<Response> refuse;
  // Non-zero: this request's body limit (413 over it), at most ServerOptions::max_body_bytes.
  uint64_t max_body_bytes = 0;
  // HTTP/2 only: the body is gRPC's length-prefixed message (a flag byte, a 4-byte big-endian
  // length): a length over the body limit is refused (413) as soon as the 5 bytes arrive,
  // before the message is taken in.
  bool length_prefixed = false;
};

// Called once the head of a request with a body is parsed and before the body is read, so
// that a server checks credentials and per-route limits first. Skipped when the whole body
// arrived with the head (nothing left to save; the handler still sees every request). Runs
// on the handler pool when handler_threads > 0 (it may block, e.g. on a database), else on
// the event loop. Must be thread-safe.
using HeadCheck = std::function<HeadDecision(const Request& req)>;

// How connections reach the event loops (bench/http compares them).
enum class AcceptMode {
  kReusePort,   // one SO_REUSEPORT listener per loop: the kernel hashes connections to loops
  kShared,      // one listener that every loop waits on (EPOLLEXCLUSIVE); whoever wakes takes one
  // One listener on the first loop, which hands each connection to the loop with the fewest:
  // even loads even with a handful of long-lived connections (a proxy's upstream pool), where
  // the kernel's hash easily puts 6 of 8 on one loop.
  kBalanced,
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;             // 0: pick a free port (read it back with Server::port())
  int io_threads = 0;       // event loops; 0: one per core
  // 0: handlers run on the event-loop thread and must not block; N > 0: on a pool of N
  // threads (for blocking handlers, such as database work).
  int handler_threads = 0;
  size_t max_header_bytes = 16 * 1024;       // over it: 431 (414 for the request line) and close
  size_t max_body_bytes = 64 * 1024 * 1024;  // over it: 413 and close, without reading the body
  int header_timeout_ms = 10000;  // head not complete this long after its first byte: 408
  int body_timeout_ms = 60000;    // body not complete this long after the head: 408
  int idle_timeout_ms = 60000;    // keep-alive connection idle (or not reading) this long: closed
  int max_connections = 10000;    // beyond: 503 and close
  // Server-wide budget of request-body bytes in memory (0: none). A body is charged when
  // admitted (its Content-Length, reserved at once; a chunked body as it grows) and released
  // when its response is queued; one that would exceed the budget is answered 503 before
  // it is read. Bodies up to 64 KiB are not counted (the connection's buffer bounds them).
  uint64_t max_body_bytes_in_flight = 0;
  HeadCheck on_head;  // optional
  AcceptMode accept_mode = AcceptMode::kBalanced;
  ErrorBody error_body;  // optional
  // Called for every completed request (after the response is queued), on a loop thread: for
  // access logs and metrics; must be cheap and thread-safe.
  std::function<void(const Request&, int status, double seconds)> on_complete;
  // HTTP/2 cleartext with prior knowledge instead of HTTP/1.1 (h2_session.h): each connection
  // starts with the client preface, requests are streams, many in flight on one connection,
  // each handed to the handler as a Request like HTTP/1.1's. The head check runs on the loop;
  // no request id is made up (request_id is x-request-id's or empty); file bodies are not
  // supported; max_body_bytes_in_flight counts a stream's body as it arrives (over the
  // budget: 503 and the stream reset).
  bool http2 = false;
  uint32_t max_concurrent_streams = 128;  // HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS
  // HTTP/2: the answer to a stream the server refuses itself (400, 413, 431; 500 for a
  // dropped Responder). Default: error_body's JSON with that status.
  std::function<Response(int status, std::string_view message)> stream_error;
};

class Server {
 public:
  // Binds (SO_REUSEADDR), listens and starts the threads. A port in use is a user error.
  static Result<std::unique_ptr<Server>> Start(ServerOptions opts, Handler handler);
  ~Server();  // Shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Graceful stop: stop accepting (new connections are refused), let requests in flight
  // finish for up to drain_ms, close keep-alive connections after their current response,
  // then join the threads (a pool handler still running is waited for). Idempotent. Must not
  // be called from a handler.
  void Shutdown(int drain_ms = 10000);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forja::net
