// The HTTP server's HTTP/2 mode (ServerOptions::http2, net/h2_session.h) over loopback sockets,
// with a raw frame client: HPACK literals out, frame types and DATA payloads in (the answers'
// header blocks are not decoded; the gRPC tests in tests/serve check them with real clients).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "forja/net/http_server.h"

namespace forja::net {
namespace {

constexpr uint8_t kData = 0, kHeaders = 1, kRst = 3, kSettings = 4, kGoaway = 7;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4;
const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload = "") {
  std::string f;
  uint32_t n = static_cast<uint32_t>(payload.size());
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) f += static_cast<char>(stream >> shift);
  return f + payload;
}

// A request's header block as HPACK literals without indexing (names and values < 127 bytes).
std::string Head(const std::string& path, std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<std::pair<std::string, std::string>> fields{
      {":method", "POST"}, {":scheme", "http"}, {":path", path}, {":authority", "t"}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  std::string b;
  for (auto [k, v] : fields) {
    b += '\0';
    b += static_cast<char>(k.size());
    b += k;
    b += static_cast<char>(v.size());
    b += v;
  }
  return b;
}

struct In {
  uint8_t type, flags;
  uint32_t stream;
  std::string payload;
};

class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{3, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Conn() { ::close(fd_); }
  void Send(const std::string& s) { ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
  void Open() { Send(kPreface + Frame(kSettings, 0, 0)); }
  // Frames until `done` says so, the server closes (closed = true) or 3 s pass.
  template <typename Done>
  std::vector<In> Read(Done done) {
    std::vector<In> frames;
    while (!done(frames)) {
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = n == 0 || errno == ECONNRESET;
        break;
      }
      pending_.append(buf, static_cast<size_t>(n));
      while (pending_.size() >= 9) {
        auto* p = reinterpret_cast<const unsigned char*>(pending_.data());
        size_t len = (size_t{p[0]} << 16) | (size_t{p[1]} << 8) | p[2];
        if (pending_.size() < 9 + len) break;
        uint32_t sid = ((uint32_t{p[5]} << 24) | (uint32_t{p[6]} << 16) | (uint32_t{p[7]} << 8) | p[8]) & 0x7fffffff;
        frames.push_back(In{p[3], p[4], sid, pending_.substr(9, len)});
        pending_.erase(0, 9 + len);
      }
    }
    return frames;
  }
  bool closed = false;

 private:
  int fd_ = -1;
  std::string pending_;
};

// The streams whose answer has ended, by id, with their DATA.
std::map<uint32_t, std::string> Ended(const std::vector<In>& frames) {
  std::map<uint32_t, std::string> data, ended;
  for (const In& f : frames) {
    if (f.type == kData) data[f.stream] += f.payload;
    if ((f.type == kData || f.type == kHeaders) && (f.flags & kEndStream)) ended[f.stream] = data[f.stream];
  }
  return ended;
}

bool Has(const std::vector<In>& frames, uint8_t type) {
  for (const In& f : frames)
    if (f.type == type) return true;
  return false;
}

// A server whose handler keeps every Responder for the test to answer.
struct Held {
  std::mutex mu;
  std::vector<std::pair<std::string, Responder>> calls;  // (path + body, responder)
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return calls.size();
  }
};

std::unique_ptr<Server> Start(Held* held, ServerOptions o = {}) {
  o.http2 = true;
  o.io_threads = 1;
  auto s = Server::Start(o, [held](Request& req, Responder res) {
    std::lock_guard<std::mutex> lock(held->mu);
    held->calls.emplace_back(req.path + ":" + req.body, std::move(res));
  });
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

bool WaitFor(Held& h, size_t n) {
  for (int i = 0; i < 300 && h.Count() < n; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return h.Count() >= n;
}

Response Answer(const std::string& body) {
  Response r;
  r.content_type = "application/grpc";
  r.body = body;
  r.trailers.emplace_back("grpc-status", "0");
  return r;
}

// The session's own refusals answer Trailers-Only; the last one's status lands in *refused.
void RecordRefusals(ServerOptions* o, std::atomic<int>* refused) {
  o->stream_error = [refused](int status, std::string_view) {
    *refused = status;
    return Answer("");
  };
}

TEST(Http2Test, StreamsOnOneConnectionAnsweredInAnyOrderFromAnotherThread) {
  Held held;
  auto server = Start(&held);
  Conn c(server->port());
  c.Open();
  for (uint32_t id : {1u, 3u, 5u})
    c.Send(Frame(kHeaders, kEndHeaders, id, Head("/s" + std::to_string(id))) + Frame(kData, kEndStream, id, "b"));
  ASSERT_TRUE(WaitFor(held, 3));
  std::thread answer([&] {
    std::lock_guard<std::mutex> lock(held.mu);
    for (auto it = held.calls.rbegin(); it != held.calls.rend(); ++it) it->second.Send(Answer(it->first));
  });
  answer.join();
  auto frames = c.Read([](const std::vector<In>& f) { return Ended(f).size() == 3; });
  auto ended = Ended(frames);
  EXPECT_EQ(ended[1], "/s1:b");
  EXPECT_EQ(ended[3], "/s3:b");
  EXPECT_EQ(ended[5], "/s5:b");
  int header_blocks = 0;
  for (const In& f : frames) header_blocks += f.type == kHeaders && f.stream == 3;
  EXPECT_EQ(header_blocks, 2) << "headers, then trailers";
}

// Streams reuse the buffers of earlier requests on the connection: nothing of an earlier
// request (query, headers, request id, body) may show in a later one.
TEST(Http2Test, ALaterStreamSeesNothingOfAnEarlierOne) {
  ServerOptions o;
  o.http2 = true;
  o.io_threads = 1;
  auto started = Server::Start(o, [](Request& req, Responder res) {
    std::string seen = req.method + " " + req.path + "?" + req.query + " id=" + req.request_id + " headers=";
    for (auto& [k, v] : req.headers) seen += k + ":" + v + ",";
    // The body's size and ends: the test client sends no WINDOW_UPDATE, so answers stay small.
    seen += " body=" + std::to_string(req.body.size()) + req.body.substr(0, 1) + req.body.substr(req.body.size() - 1);
    res.Send(Answer(seen));
  });
  ASSERT_TRUE(started.ok()) << started.status().message();
  Conn c((*started)->port());
  c.Open();
  for (uint32_t id = 1; id <= 39; id += 2) {  // more streams than the connection keeps spares
    bool full = id % 8 == 1;  // a short request gets a full one's buffers (two streams later)
    std::string head = full ? Head("/long/path/of/the/first/kind?q=1", {{"x-request-id", "abc"}, {"k", "v"}})
                            : Head("/b");
    std::string body = full ? std::string(20000, 'x') : "z";
    std::string data;
    for (size_t at = 0; at < body.size(); at += 16384)
      data += Frame(kData, at + 16384 >= body.size() ? kEndStream : 0, id, body.substr(at, 16384));
    c.Send(Frame(kHeaders, kEndHeaders, id, head) + data);
    auto ended = Ended(c.Read([id](const std::vector<In>& f) { return Ended(f).count(id) > 0; }));
    ASSERT_EQ(ended.count(id), 1u) << "stream " << id;
    if (full) {
      EXPECT_EQ(ended[id], "POST /long/path/of/the/first/kind?q=1 id=abc headers=x-request-id:abc,k:v, body=20000xx");
    } else {
      EXPECT_EQ(ended[id], "POST /b? id= headers= body=1zz") << "stream " << id;
    }
  }
}

TEST(Http2Test, APeerThatDoesNotSpeakHttp2GetsGoawayAndIsClosed) {
  Held held;
  auto server = Start(&held);
  for (std::string junk : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), kPreface + std::string(40, '\xff')}) {
    Conn c(server->port());
    c.Send(junk);
    auto frames = c.Read([](const std::vector<In>&) { return false; });
    EXPECT_TRUE(Has(frames, kGoaway));
    EXPECT_TRUE(c.closed);
  }
  EXPECT_EQ(held.Count(), 0u);
}

TEST(Http2Test, ABodyOverTheLimitIsRefusedWithoutReachingTheHandler) {
  Held held;
  ServerOptions o;
  o.max_body_bytes = 100;
  std::atomic<int> refused{0};
  RecordRefusals(&o, &refused);
  auto server = Start(&held, o);
  Conn c(server->port());
  c.Open();
  c.Send(Frame(kHeaders, kEndHeaders, 1, Head("/big")) + Frame(kData, 0, 1, std::string(1000, 'x')));
  auto frames = c.Read([](const std::vector<In>& f) { return Has(f, kRst); });
  EXPECT_EQ(Ended(frames).count(1), 1u) << "answered (Trailers-Only)";
  EXPECT_TRUE(Has(frames, kRst)) << "then told to stop sending";
  EXPECT_EQ(refused.load(), 413);
  c.Send(Frame(kHeaders, kEndHeaders, 3, Head("/small")) + Frame(kData, kEndStream, 3, "ok"));
  ASSERT_TRUE(WaitFor(held, 1));
  EXPECT_EQ(held.calls[0].first, "/small:ok");
  held.calls[0].second.Send(Answer("ok"));  // else the server's shutdown waits for it
}

TEST(Http2Test, ALengthPrefixOverTheLimitIsRefusedBeforeTheMessage) {
  Held held;
  ServerOptions o;
  o.max_body_bytes = 105;
  std::atomic<int> refused{0};
  o.on_head = [](const Request&) {
    HeadDecision d;
    d.length_prefixed = true;
    return d;
  };
  RecordRefusals(&o, &refused);
  auto server = Start(&held, o);
  Conn c(server->port());
  c.Open();
  // 5 bytes announcing 101 bytes; none of the message follows: the refusal cannot wait for it.
  c.Send(Frame(kHeaders, kEndHeaders, 1, Head("/m")) + Frame(kData, 0, 1, std::string("\0\0\0\0\x65", 5)));
  auto frames = c.Read([](const std::vector<In>& f) { return Has(f, kRst); });
  EXPECT_EQ(Ended(frames).count(1), 1u);
  EXPECT_EQ(refused.load(), 413);
  // 100 bytes announced: within the limit, taken in whole.
  c.Send(Frame(kHeaders, kEndHeaders, 3, Head("/m")) + Frame(kData, 0, 3, std::string("\0\0\0\0\x64", 5)) +
         Frame(kData, kEndStream, 3, std::string(100, 'x')));
  ASSERT_TRUE(WaitFor(held, 1));
  EXPECT_EQ(held.calls[0].first.size(), 3 + 105u);
  held.calls[0].second.Send(Answer("ok"));
}

TEST(Http2Test, BodiesOverTheServersBudgetAreRefusedUntilItIsReleased) {
  Held held;
  ServerOptions o;
  o.max_body_bytes_in_flight = 200 * 1024;
  std::atomic<int> refused{0};
  RecordRefusals(&o, &refused);
  auto server = Start(&held, o);
  Conn c(server->port());
  c.Open();
  // The server's SETTINGS (1 MiB stream windows) acknowledged, so a stream may carry 150 KB.
  c.Read([](const std::vector<In>& f) { return Has(f, kSettings); });
  c.Send(Frame(kSettings, 1, 0));
  auto body = [](uint32_t stream, int frames) {
    std::string out;
    for (int i = 0; i < frames; i++) out += Frame(kData, 0, stream, std::string(15000, 'x'));
    return out;
  };
  // Stream 1 holds 150,000 bytes, unfinished; stream 3 takes the server to 225,000 of 204,800.
  c.Send(Frame(kHeaders, kEndHeaders, 1, Head("/a")) + body(1, 10));
  c.Send(Frame(kHeaders, kEndHeaders, 3, Head("/b")) + body(3, 5));
  auto frames = c.Read([](const std::vector<In>& f) { return Has(f, kRst); });
  EXPECT_EQ(Ended(frames).count(3), 1u) << "stream 3 answered";
  EXPECT_EQ(refused.load(), 503);
  EXPECT_EQ(held.Count(), 0u);
  // Stream 1 ends: taken in whole, and its bytes counted until it is answered.
  c.Send(Frame(kData, kEndStream, 1, "!"));
  ASSERT_TRUE(WaitFor(held, 1));
  EXPECT_EQ(held.calls[0].first.size(), 3 + 150001u);
  held.calls[0].second.Send(Answer("ok"));
  auto answered = c.Read([](const std::vector<In>& f) { return Ended(f).count(1) > 0; });
  EXPECT_EQ(Ended(answered)[1], "ok");
  // Both released (the refused stream's bytes and the answered one's): another 150,001 fits.
  refused = 0;
  c.Send(Frame(kHeaders, kEndHeaders, 5, Head("/c")) + body(5, 10) + Frame(kData, kEndStream, 5, "!"));
  ASSERT_TRUE(WaitFor(held, 2));
  EXPECT_EQ(held.calls[1].first.size(), 3 + 150001u);
  EXPECT_EQ(refused.load(), 0);
  held.calls[1].second.Send(Answer("ok"));
}

TEST(Http2Test, AnIdleConnectionGetsGoawayAndIsClosed) {
  Held held;
  ServerOptions o;
  o.idle_timeout_ms = 200;
  auto server = Start(&held, o);
  Conn c(server->port());
  c.Open();
  auto frames = c.Read([](const std::vector<In>&) { return false; });
  EXPECT_TRUE(Has(frames, kGoaway));
  EXPECT_TRUE(c.closed);
}

TEST(Http2Test, ShutdownAnswersTheStreamsInFlightAndRefusesNewOnes) {
  Held held;
  auto server = Start(&held);
  Conn c(server->port());
  c.Open();
  c.Send(Frame(kHeaders, kEndHeaders, 1, Head("/slow")) + Frame(kData, kEndStream, 1, "b"));
  ASSERT_TRUE(WaitFor(held, 1));
  std::thread stop([&] { server->Shutdown(3000); });
  auto frames = c.Read([](const std::vector<In>& f) { return Has(f, kGoaway); });
  EXPECT_TRUE(Has(frames, kGoaway)) << "told before the answer that no new stream is taken";
  {
    std::lock_guard<std::mutex> lock(held.mu);
    held.calls[0].second.Send(Answer("done"));
  }
  auto rest = c.Read([](const std::vector<In>&) { return false; });
  stop.join();
  EXPECT_EQ(Ended(rest)[1], "done");
  EXPECT_TRUE(c.closed);
}

}  // namespace
}  // namespace forja::net
