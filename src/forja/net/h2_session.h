// One HTTP/2 connection's protocol state, over nghttp2, without sockets: the server's event
// loop (http_server.cc) feeds it the bytes it reads, takes whole requests out, hands them to
// the handler like HTTP/1.1 requests, gives their answers back and writes the bytes it asks
// to send. Without sockets so that the fuzz target drives it with any bytes.
//
// Cleartext with prior knowledge only (the connection starts with the client preface; no
// Upgrade from HTTP/1.1, no TLS): what gRPC clients speak on an insecure channel.
//
// Limits: SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 refuses streams beyond it), a header
// block over max_header_bytes is answered 431, a body over the limit 413 as soon as it
// crosses it, a body that takes the server over its budget of body bytes in memory
// (body_budget.h) 503 (either stream is then reset with NO_ERROR, so the client stops
// sending), a peer that breaks the protocol gets a GOAWAY and the connection closes.
// Internal to forja_net.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forja/net/body_budget.h"
#include "forja/net/http_server.h"

struct nghttp2_session;

namespace forja::net::detail {

struct H2Limits {
  size_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 64 * 1024 * 1024;
  uint32_t max_concurrent_streams = 128;
  BodyBudget* budget = nullptr;  // the server's, shared by its connections (none: not counted)
};

// A stream's request, whole: :method, :path, headers and body.
struct H2Request {
  int32_t stream = 0;
  Request req;
  uint64_t charged = 0;  // its body's bytes counted against H2Limits::budget, now the taker's to release
};

class H2Session {
 public:
  // `head_check` (may be empty) runs on each request's header block before its body is taken
  // in, as ServerOptions::on_head does for HTTP/1.1. `error` makes the answer to a request the
  // session refuses itself (status and message).
  H2Session(H2Limits limits, HeadCheck head_check, std::function<Response(int, std::string_view)> error);
  ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Takes received bytes. False: the peer broke the protocol; a GOAWAY is queued (Send it,
  // then close).
  bool Receive(std::string_view data);
  // The requests completed since the last call, in the order their last frame arrived; the
  // list stays valid until the next call (its vector is reused, not allocated per read).
  std::vector<H2Request>& TakeReady();
  // Answers a stream; nothing when the stream is gone (the client reset it). Response::trailers
  // go in a trailing header block; with an empty body they join the response's header block
  // instead (gRPC's Trailers-Only answer). file_fd is not supported here.
  void Respond(int32_t stream, Response& r);
  // No new streams after those already begun (graceful shutdown).
  void GoAway();
  // Appends the bytes the session wants to send. False on an internal error.
  bool Send(std::string* out);
  // Neither side wants anything more: close the connection.
  bool Finished() const;
  // Streams whose request is still arriving (headers or body).
  size_t Receiving() const { return receiving_; }
  // Takes back a request the server is done with (emptied here): a later stream's fields and
  // body are read into its buffers instead of allocating their own.
  void Recycle(Request&& used);

 struct Stream;  // one stream's request and answer (h2_session.cc)

 private:
  class BlockCache;  // nghttp2's memory (h2_session.cc)
  Stream* Find(int32_t id) const;
  void HeadersDone(int32_t id, Stream* s, bool end_stream);
  void Complete(int32_t id, Stream* s);
  void Refuse(int32_t id, Stream* s, int status, std::string_view message, bool end_stream);
  void FinishRefusal(Stream* s, bool end_stream);
  void Release(uint64_t* charged);  // gives back what a body counted against the budget
  friend struct H2Callbacks;

  H2Limits limits_;
  HeadCheck head_check_;
  std::function<Response(int, std::string_view)> error_;
  std::unique_ptr<BlockCache> blocks_;  // outlives session_: nghttp2_session_del frees into it
  nghttp2_session* session_ = nullptr;
  // Open streams, searched from the newest: a connection has few (at most
  // max_concurrent_streams), and a node map allocated and freed one node per call.
  struct Open {
    int32_t id;
    std::unique_ptr<Stream> stream;
  };
  std::vector<Open> streams_;
  std::vector<H2Request> ready_, taken_;
  size_t receiving_ = 0;
  // Closed streams and used requests kept for the next streams (a few: the memory an idle
  // connection keeps stays small).
  std::vector<std::unique_ptr<Stream>> spare_streams_;
  std::vector<Request> spare_requests_;
};

}  // namespace forja::net::detail
