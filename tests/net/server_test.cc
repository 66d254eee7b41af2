// The HTTP server over real loopback sockets, with a tiny blocking client.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "forja/net/http_server.h"

namespace forja::net {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Resp {
  int status = 0;  // 0: no response (EOF or timeout)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& lower) const {
    for (const auto& [k, v] : headers)
      if (k == lower) return v;
    return "";
  }
  bool Has(const std::string& lower) const {
    for (const auto& [k, v] : headers)
      if (k == lower) return true;
    return false;
  }
};

class Client {
 public:
  explicit Client(int port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Close() {
    ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One response; no body for HEAD, 1xx, 204 and 304.
  Resp Read(bool head_request = false) {
    Resp r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return r;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t lf = head.find("\r\n");
    std::string line = head.substr(0, lf);
    if (line.rfind("HTTP/1.1 ", 0) != 0) return r;
    int status = std::atoi(line.c_str() + 9);
    size_t pos = lf == std::string::npos ? head.size() : lf + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string h = head.substr(pos, next - pos);
      size_t colon = h.find(':');
      std::string name = h.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(name, value);
      pos = next + 2;
    }
    bool no_body = head_request || status < 200 || status == 204 || status == 304;
    size_t length = no_body ? 0 : std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
    while (buf_.size() < length)
      if (!Fill()) return r;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.status = status;
    return r;
  }

  Resp Get(const std::string& target, const std::string& extra = "") {
    Send("GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n");
    return Read();
  }
  Resp Post(const std::string& target, const std::string& body) {
    Send("POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
    return Read();
  }

  // True when the server closes the connection (EOF or reset) within the receive timeout.
  bool ClosedByPeer() {
    char c;
    while (true) {
      ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
  bool Readable(int ms) {
    if (!buf_.empty()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// Runs the routes below; answers of /slow come from threads joined at the end.
class ServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Shutdown(2000);
    server_.reset();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : threads_) t.join();
  }

  void Start(ServerOptions opts = {}) {
    if (opts.io_threads == 0) opts.io_threads = 2;
    auto s = Server::Start(std::move(opts), [this](Request& req, Responder res) { Route(req, std::move(res)); });
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    port_ = server_->port();
  }

  void Route(Request& req, Responder res) {
    Response r;
    if (req.path == "/hello") {
      r.body = "{\"hello\": \"world\"}";
    } else if (req.path == "/echo") {
      r.content_type = "application/octet-stream";
      r.body = req.body;
      r.headers.emplace_back("X-Method", req.method);
    } else if (req.path == "/slow") {
      int ms = std::atoi(req.Param("ms").c_str());
      std::string tag = req.Param("tag");
      std::lock_guard<std::mutex> lock(mu_);
      threads_.emplace_back([ms, tag, res = std::move(res)]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        Response r;
        r.body = "slow " + tag;
        res.Send(std::move(r));
      });
      return;
    } else if (req.path == "/block") {  // blocks the calling thread (pool tests)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(req.Param("ms").c_str())));
      r.body = "blocked";
    } else if (req.path == "/drop") {
      return;  // the Responder dies here: 500
    } else if (req.path == "/throw") {
      throw std::runtime_error("boom");
    } else if (req.path == "/big") {
      r.body.assign(std::strtoull(req.Param("n").c_str(), nullptr, 10), 'x');
      for (size_t i = 0; i < r.body.size(); i += 997) r.body[i] = static_cast<char>('a' + i % 26);
    } else if (req.path == "/status") {
      r.status = std::atoi(req.Param("code").c_str());
      r.body = "s";
    } else if (req.path == "/id") {
      r.body = req.request_id;
    } else if (req.path == "/peer") {
      r.body = req.peer;
    } else if (req.path == "/file") {
      int fd = ::open(req.Param("path").c_str(), O_RDONLY | O_CLOEXEC);
      r.file_fd = fd;
      r.file_size = std::strtoull(req.Param("size").c_str(), nullptr, 10);
    } else if (req.path == "/badheader") {
      r.headers.emplace_back("X-Ok", "1");
      r.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
      r.headers.emplace_back("Content-Length", "999");
      r.body = "b";
    } else {
      r.status = 404;
      r.body = "{}";
    }
    res.Send(std::move(r));
  }

  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, KeepAliveSeveralRequests) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  std::string last_id;
  for (int i = 0; i < 5; i++) {
    Resp r = c.Get("/hello");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"hello\": \"world\"}");
    EXPECT_EQ(r.Header("server"), "forja");
    EXPECT_EQ(r.Header("content-type"), "application/json");
    EXPECT_FALSE(r.Has("connection"));
    EXPECT_NE(r.Header("x-request-id"), last_id);
    last_id = r.Header("x-request-id");
  }
  Resp e = c.Post("/echo", "payload");
  EXPECT_EQ(e.body, "payload");
  EXPECT_EQ(e.Header("x-method"), "POST");
  EXPECT_EQ(c.Get("/peer").body.rfind("127.0.0.1:", 0), 0u);
}

TEST_F(ServerTest, RequestIdPassedThrough) {
  Start();
  Client c(port_);
  Resp r = c.Get("/id", "X-Request-Id: trace-42\r\n");
  EXPECT_EQ(r.body, "trace-42");
  EXPECT_EQ(r.Header("x-request-id"), "trace-42");
  Resp g = c.Get("/id", "X-Request-Id: bad id\r\n");
  EXPECT_NE(g.body, "bad id");
  EXPECT_FALSE(g.body.empty());
  EXPECT_EQ(g.Header("x-request-id"), g.body);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  Start();
  Client c(port_);
  std::string batch;
  batch += "GET /slow?ms=80&tag=0 HTTP/1.1\r\n\r\n";
  for (int i = 1; i < 10; i++) {
    std::string body = "body" + std::to_string(i);
    batch += "POST /echo HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  batch += "GET /slow?ms=20&tag=10 HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(c.Send(batch));
  EXPECT_EQ(c.Read().body, "slow 0");
  for (int i = 1; i < 10; i++) EXPECT_EQ(c.Read().body, "body" + std::to_string(i));
  EXPECT_EQ(c.Read().body, "slow 10");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(ServerTest, ExpectContinue) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto t = Clock::now();
  Resp cont = c.Read();
  EXPECT_EQ(cont.status, 100);
  EXPECT_LT(SecondsSince(t), 0.5);
  ASSERT_TRUE(c.Send("hello"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  // The next request on the connection is unaffected.
  EXPECT_EQ(c.Get("/hello").status, 200);
}

TEST_F(ServerTest, ExpectContinueOverTheLimitIs413Directly) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, BigContentLengthIs413WithoutSendingTheBody) {
  ServerOptions o;
  o.max_body_bytes = 1 << 20;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.ClosedByPeer());
}

// A head check that wants "Authorization: ok" (and counts its calls), for the tests below.
HeadCheck WantsAuth(std::atomic<int>* calls, uint64_t max_body = 0) {
  return [calls, max_body](const Request& req) {
    calls->fetch_add(1);
    HeadDecision d;
    d.max_body_bytes = max_body;
    if (req.Header("authorization") == "throw") throw std::runtime_error("check failed");
    if (req.Header("authorization") != "ok") {
      Response r;
      r.status = 401;
      r.body = "{\"error\": \"no token\"}";
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      d.refuse = std::move(r);
    }
    return d;
  };
}

// The check runs on the head, before the body is sent: a refusal is the only answer (no
// "100 Continue"), and the connection closes. On the loop and on the pool alike.
TEST_F(ServerTest, HeadCheckAnswersBeforeTheBody) {
  for (int pool : {0, 2}) {
    SCOPED_TRACE(pool);
    std::atomic<int> calls{0};
    ServerOptions o;
    o.handler_threads = pool;
    o.max_body_bytes = uint64_t{1} << 31;
    o.on_head = WantsAuth(&calls);
    Start(o);
    {
      Client c(port_);
      ASSERT_TRUE(c.Send("PUT /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n"));
      Resp r = c.Read();
      EXPECT_EQ(r.status, 401);
      EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
      EXPECT_EQ(r.Header("connection"), "close");
      EXPECT_TRUE(c.ClosedByPeer());
      // Allowed: 100, then the body, then the answer; the connection goes on.
      Client ok(port_);
      ASSERT_TRUE(ok.Send("PUT /echo HTTP/1.1\r\nAuthorization: ok\r\nExpect: 100-continue\r\n"
                          "Content-Length: 5\r\n\r\n"));
      EXPECT_EQ(ok.Read().status, 100);
      ASSERT_TRUE(ok.Send("hello"));
      Resp e = ok.Read();
      EXPECT_EQ(e.status, 200);
      EXPECT_EQ(e.body, "hello");
      int before = calls.load();
      // No body, or the whole body with the head: nothing to decide early, the handler sees it.
      EXPECT_EQ(ok.Get("/hello").status, 200);
      EXPECT_EQ(ok.Post("/echo", "small").body, "small");
      EXPECT_EQ(calls.load(), before);
      // A check that throws is a 500.
      Client t(port_);
      ASSERT_TRUE(t.Send("PUT /echo HTTP/1.1\r\nAuthorization: throw\r\nContent-Length: 10\r\n\r\n"));
      EXPECT_EQ(t.Read().status, 500);
    }
    server_->Shutdown(2000);
    server_.reset();
  }
}

TEST_F(ServerTest, HeadCheckLowersTheBodyLimit) {
  std::atomic<int> calls{0};
  ServerOptions o;
  o.on_head = WantsAuth(&calls, /*max_body=*/10);
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nAuthorization: ok\r\nContent-Length: 11\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 413);
  Client chunked(port_);
  ASSERT_TRUE(chunked.Send("POST /echo HTTP/1.1\r\nAuthorization: ok\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(chunked.Send("8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.Read().status, 413);
}

// Bodies in memory are counted server-wide: one that does not fit is refused (503) on its
// head; the room comes back when the first is answered.
TEST_F(ServerTest, BodyBudgetIs503BeforeTheBody) {
  ServerOptions o;
  o.max_body_bytes_in_flight = 1 << 20;
  Start(o);
  std::string big(800 << 10, 'b');
  std::string head = "POST /echo HTTP/1.1\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n";
  Client a(port_);
  ASSERT_TRUE(a.Send(head + big.substr(0, 1000)));  // admitted, and held unfinished
  ASSERT_FALSE(a.Readable(200));
  Client b(port_);
  ASSERT_TRUE(b.Send(head));
  Resp refused = b.Read();
  EXPECT_EQ(refused.status, 503);
  EXPECT_TRUE(b.ClosedByPeer());
  ASSERT_TRUE(a.Send(big.substr(1000)));
  EXPECT_EQ(a.Read().body.size(), big.size());
  Client again(port_);
  ASSERT_TRUE(again.Send(head + big));
  EXPECT_EQ(again.Read().status, 200);
  // Small bodies are not counted at all.
  EXPECT_EQ(a.Post("/echo", "tiny").status, 200);
}

TEST_F(ServerTest, ChunkedUpload) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string big(100000, 'z');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", big.size());
  ASSERT_TRUE(c.Send(std::string(size) + ";ext=1\r\n" + big + "\r\n0\r\nTrailer: x\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello" + big);
}

TEST_F(ServerTest, LargeBodies) {
  Start();
  Client c(port_);
  std::string body(3 << 20, 'q');
  for (size_t i = 0; i < body.size(); i += 4093) body[i] = static_cast<char>(i % 251);
  Resp r = c.Post("/echo", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == body);
  Resp big = c.Get("/big?n=5000000");
  EXPECT_EQ(big.body.size(), 5000000u);
  EXPECT_EQ(big.body[997], static_cast<char>('a' + 997 % 26));
}

TEST_F(ServerTest, HugeHeadersAre431) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, LongRequestLineIs414) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /" + std::string(20000, 'u') + " HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 414);
}

TEST_F(ServerTest, MalformedRequestIs400AndCustomErrorBody) {
  ServerOptions o;
  o.error_body = [](int status, std::string_view message) {
    return "custom " + std::to_string(status) + ": " + std::string(message);
  };
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /a/../etc/passwd HTTP/1.1\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.rfind("custom 400: ", 0), 0u) << r.body;
  EXPECT_TRUE(c.ClosedByPeer());
  Client v(port_);
  ASSERT_TRUE(v.Send("GET / HTTP/2.0\r\n\r\n"));
  EXPECT_EQ(v.Read().status, 505);
  Client t(port_);
  ASSERT_TRUE(t.Send("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"));
  EXPECT_EQ(t.Read().status, 501);
}

TEST_F(ServerTest, SlowLorisGets408) {
  ServerOptions o;
  o.header_timeout_ms = 200;
  Start(o);
  Client c(port_);
  auto t = Clock::now();
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 3; i++) {  // trickling bytes does not extend the deadline
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.Send("X");
  }
  Resp r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_GE(SecondsSince(t), 0.19);
  EXPECT_LT(SecondsSince(t), 1.5);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, SlowBodyGets408) {
  ServerOptions o;
  o.body_timeout_ms = 200;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_NE(r.body.find("body"), std::string::npos);
}

TEST_F(ServerTest, IdleKeepAliveIsClosedSilently) {
  ServerOptions o;
  o.idle_timeout_ms = 200;
  Start(o);
  Client c(port_);
  EXPECT_EQ(c.Get("/hello").status, 200);
  auto t = Clock::now();
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_GE(SecondsSince(t), 0.15);
  EXPECT_LT(SecondsSince(t), 1.5);
}

TEST_F(ServerTest, RequestSplitByteByByte) {
  Start();
  Client c(port_);
  std::string req = "POST /echo?x=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                    "GET /hello HTTP/1.1\r\n\r\n";
  for (char ch : req) {
    ASSERT_TRUE(c.Send(std::string(1, ch)));
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  EXPECT_EQ(c.Read().body, "abc");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(ServerTest, AsyncSendFromAnotherThread) {
  Start();
  Client c(port_);
  auto t = Clock::now();
  Resp r = c.Get("/slow?ms=150&tag=late");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow late");
  EXPECT_GE(SecondsSince(t), 0.14);
  // Meanwhile the loop keeps serving other connections.
  Client a(port_);
  ASSERT_TRUE(a.Send("GET /slow?ms=300 HTTP/1.1\r\n\r\n"));
  Client b(port_);
  auto tb = Clock::now();
  EXPECT_EQ(b.Get("/hello").status, 200);
  EXPECT_LT(SecondsSince(tb), 0.2);
  EXPECT_EQ(a.Read().status, 200);
}

TEST_F(ServerTest, DroppedResponderAndThrowingHandlerAre500) {
  Start();
  Client c(port_);
  Resp r = c.Get("/drop");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  Resp t = c.Get("/throw");
  EXPECT_EQ(t.status, 500);
  EXPECT_EQ(c.Get("/hello").status, 200);  // the connection survives both
  EXPECT_EQ(c.Get("/status?code=42").status, 500);  // not a valid final status
}

TEST_F(ServerTest, HeadHasLengthButNoBody) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("HEAD /big?n=12345 HTTP/1.1\r\n\r\n"));
  Resp r = c.Read(/*head_request=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "12345");
  // If body bytes had been sent, this would read them as the next response.
  Resp next = c.Get("/hello");
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "{\"hello\": \"world\"}");
}

TEST_F(ServerTest, NoContentHasNoLength) {
  Start();
  Client c(port_);
  Resp r = c.Get("/status?code=204");
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.Has("content-length"));
  EXPECT_EQ(c.Get("/hello").status, 200);
}

TEST_F(ServerTest, HandlerHeadersCannotBreakFraming) {
  Start();
  Client c(port_);
  Resp r = c.Get("/badheader");
  EXPECT_EQ(r.Header("x-ok"), "1");
  EXPECT_FALSE(r.Has("x-evil"));
  EXPECT_FALSE(r.Has("injected"));
  EXPECT_EQ(r.Header("content-length"), "1");
  EXPECT_EQ(r.body, "b");
}

TEST_F(ServerTest, Http10) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.0\r\n\r\n"));
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
  Client k(port_);
  ASSERT_TRUE(k.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  Resp rk = k.Read();
  EXPECT_EQ(rk.Header("connection"), "keep-alive");
  EXPECT_EQ(k.Get("/hello").status, 200);
}

TEST_F(ServerTest, ConnectionCloseRequest) {
  Start();
  Client c(port_);
  Resp r = c.Get("/hello", "Connection: close\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, FileBodyWithSendfile) {
  char path[] = "/tmp/forja-net-file-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string data(3 << 20, 0);
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>((i * 7) % 256);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  Start();
  Client c(port_);
  std::string q = std::string("/file?path=") + path + "&size=" + std::to_string(data.size());
  Resp r = c.Get(q);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == data);
  ASSERT_TRUE(c.Send("HEAD " + q + " HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read(true).Header("content-length"), std::to_string(data.size()));
  EXPECT_EQ(c.Get("/hello").status, 200);
  ::unlink(path);
}

TEST_F(ServerTest, ClientDisconnectingMidResponse) {
  ServerOptions o;
  o.io_threads = 1;
  Start(o);
  for (int i = 0; i < 20; i++) {
    Client c(port_);
    ASSERT_TRUE(c.Send("GET /big?n=20000000 HTTP/1.1\r\n\r\n"));
    char buf[1000];
    EXPECT_GT(::recv(c.fd(), buf, sizeof buf, 0), 0);
    // Reset instead of FIN: the server's next write fails with ECONNRESET or EPIPE.
    linger l{1, 0};
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  Client c(port_);
  EXPECT_EQ(c.Get("/hello").status, 200);
}

TEST_F(ServerTest, ClientResettingMidFileDownload) {
  // sendfile cannot take MSG_NOSIGNAL: the SIGPIPE it raises must not kill the process.
  char path[] = "/tmp/forja-net-file-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string data(16 << 20, 'f');
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  ServerOptions o;
  o.io_threads = 1;
  Start(o);
  for (int i = 0; i < 10; i++) {
    Client c(port_);
    ASSERT_TRUE(c.Send(std::string("GET /file?path=") + path + "&size=" + std::to_string(data.size()) +
                       " HTTP/1.1\r\n\r\n"));
    char buf[1000];
    EXPECT_GT(::recv(c.fd(), buf, sizeof buf, 0), 0);
    if (i % 2) {
      linger l{1, 0};
      setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  }
  Client c(port_);
  EXPECT_EQ(c.Get("/hello").status, 200);
  ::unlink(path);
}

TEST_F(ServerTest, PipelinedConnectionCloseStopsThere) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\n\r\nGET /id HTTP/1.1\r\nConnection: close\r\n\r\n"
                     "GET /hello HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 200);
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());  // the third request is not answered
}

TEST_F(ServerTest, ShutdownWaitsForPoolHandlers) {
  ServerOptions o;
  o.handler_threads = 2;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /block?ms=300 HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread stopper([&] { server_->Shutdown(5000); });
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "blocked");
  EXPECT_EQ(r.Header("connection"), "close");
  stopper.join();
}

TEST_F(ServerTest, SlowReaderDoesNotBlockTheLoop) {
  ServerOptions o;
  o.io_threads = 1;
  o.idle_timeout_ms = 500;
  Start(o);
  Client slow(port_);
  std::string many;
  for (int i = 0; i < 20; i++) many += "GET /big?n=1000000 HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(slow.Send(many));  // and never read
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Client c(port_);
  auto t = Clock::now();
  EXPECT_EQ(c.Get("/hello").status, 200);
  EXPECT_LT(SecondsSince(t), 0.3);
  // The server drops the reader that stopped reading once idle_timeout passes.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  char buf[65536];
  ssize_t got = 0, n;
  while ((n = ::recv(slow.fd(), buf, sizeof buf, 0)) > 0) got += n;
  EXPECT_LT(got, 20 * 1000000);
}

TEST_F(ServerTest, ShutdownLetsInflightFinishAndRefusesNew) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /slow?ms=400&tag=inflight HTTP/1.1\r\n\r\n"));
  Client idle(port_);
  EXPECT_EQ(idle.Get("/hello").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t = Clock::now();
  std::thread stopper([&] { server_->Shutdown(5000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Client late(port_);
  EXPECT_FALSE(late.connected() && late.Get("/hello").status == 200);
  EXPECT_TRUE(idle.ClosedByPeer());  // idle keep-alive connections close at once
  Resp r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow inflight");
  EXPECT_EQ(r.Header("connection"), "close");
  stopper.join();
  EXPECT_LT(SecondsSince(t), 3.0);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, ShutdownDrainDeadline) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET /slow?ms=3000 HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t = Clock::now();
  server_->Shutdown(200);
  EXPECT_LT(SecondsSince(t), 1.5);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerTest, ManyConcurrentConnections) {
  Start();
  constexpr int kThreads = 200, kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kThreads; i++) {
    clients.emplace_back([&, i] {
      Client c(port_, 20000);
      for (int j = 0; j < kRequests; j++) {
        std::string body = std::to_string(i) + "-" + std::to_string(j);
        Resp r = j % 2 ? c.Post("/echo", body) : c.Get("/hello");
        if (r.status == 200 && (j % 2 == 0 || r.body == body)) ok++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST_F(ServerTest, HandlerPoolForBlockingHandlers) {
  ServerOptions o;
  o.io_threads = 1;
  o.handler_threads = 4;
  Start(o);
  auto t = Clock::now();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; i++) {
    clients.emplace_back([&] {
      Client c(port_);
      if (c.Get("/block?ms=200").body == "blocked") ok++;
      if (c.Get("/slow?ms=10").status == 200) ok++;
      if (c.Get("/drop").status == 500) ok++;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_LT(SecondsSince(t), 0.6);  // the four blocking handlers ran in parallel

  std::atomic<int> many{0};
  clients.clear();
  for (int i = 0; i < 50; i++) {
    clients.emplace_back([&] {
      Client c(port_);
      for (int j = 0; j < 20; j++) many += c.Post("/echo", "x" + std::to_string(j)).body == "x" + std::to_string(j);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(many.load(), 1000);
}

TEST_F(ServerTest, OnCompleteSeesEveryRequest) {
  std::mutex mu;
  std::vector<std::pair<std::string, int>> seen;
  ServerOptions o;
  o.on_complete = [&](const Request& req, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(req.path, status);
    EXPECT_GE(seconds, 0.0);
  };
  Start(o);
  Client c(port_);
  c.Get("/hello");
  c.Get("/slow?ms=10");
  c.Get("/missing");
  c.Get("/drop");
  Client bad(port_);
  bad.Send("NOT HTTP\r\n\r\n");
  bad.Read();
  server_->Shutdown();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0], (std::pair<std::string, int>{"/hello", 200}));
  EXPECT_EQ(seen[1], (std::pair<std::string, int>{"/slow", 200}));
  EXPECT_EQ(seen[2], (std::pair<std::string, int>{"/missing", 404}));
  EXPECT_EQ(seen[3], (std::pair<std::string, int>{"/drop", 500}));
  EXPECT_EQ(seen[4].second, 400);
}

TEST_F(ServerTest, MaxConnectionsAnswers503) {
  ServerOptions o;
  o.max_connections = 2;
  o.io_threads = 1;
  Start(o);
  Client a(port_), b(port_);
  EXPECT_EQ(a.Get("/hello").status, 200);
  EXPECT_EQ(b.Get("/hello").status, 200);
  Client c(port_);
  EXPECT_EQ(c.Read().status, 503);
  a.Send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
  a.Read();
  EXPECT_TRUE(a.ClosedByPeer());
  a.Close();  // the server lingers until the client closes too
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Client d(port_);
  EXPECT_EQ(d.Get("/hello").status, 200);
}

TEST_F(ServerTest, EveryAcceptMode) {
  for (AcceptMode mode : {AcceptMode::kReusePort, AcceptMode::kShared, AcceptMode::kBalanced}) {
    ServerOptions o;
    o.accept_mode = mode;
    o.io_threads = 3;
    Start(o);
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 20; i++)
      clients.emplace_back([&] {
        Client c(port_);
        for (int j = 0; j < 10; j++) ok += c.Get("/hello").status == 200;
        ok += c.Get("/slow?ms=5").status == 200;
      });
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 220) << static_cast<int>(mode);
    server_->Shutdown();
    Client refused(port_);
    EXPECT_FALSE(refused.connected()) << static_cast<int>(mode);
  }
}

TEST_F(ServerTest, BalancedSpreadsConnectionsEvenly) {
  ServerOptions o;
  o.io_threads = 2;
  o.accept_mode = AcceptMode::kBalanced;
  Start(o);
  std::vector<std::unique_ptr<Client>> conns;
  for (int i = 0; i < 8; i++) {
    conns.push_back(std::make_unique<Client>(port_));
    ASSERT_EQ(conns.back()->Get("/hello").status, 200);  // adopted by its loop
  }
  // An inline handler that blocks stalls its own loop only: exactly the other loop's four
  // connections answer while it sleeps.
  ASSERT_TRUE(conns[0]->Send("GET /block?ms=500 HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 1; i < 8; i++) ASSERT_TRUE(conns[i]->Send("GET /hello HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  int fast = 0;
  for (int i = 1; i < 8; i++) fast += conns[i]->Readable(0);
  EXPECT_EQ(fast, 4);
  for (auto& c : conns) EXPECT_EQ(c->Read().status, 200);
}

TEST(Server, PortInUseIsAUserError) {
  auto a = Server::Start({}, [](Request&, Responder) {});
  ASSERT_TRUE(a.ok());
  for (AcceptMode mode : {AcceptMode::kReusePort, AcceptMode::kShared, AcceptMode::kBalanced}) {
    ServerOptions o;
    o.port = (*a)->port();
    o.accept_mode = mode;
    auto b = Server::Start(o, [](Request&, Responder) {});
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), Code::kUser);
    EXPECT_NE(b.status().message().find("127.0.0.1:" + std::to_string(o.port) + " is in use"), std::string::npos)
        << b.status().message();
  }
}

TEST(Server, ResponderOutlivesTheServer) {
  std::mutex mu;
  Responder kept;
  auto s = Server::Start({}, [&](Request&, Responder res) {
    std::lock_guard<std::mutex> lock(mu);
    kept = std::move(res);
  });
  ASSERT_TRUE(s.ok());
  {
    Client c((*s)->port(), 300);
    c.Send("GET / HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 100; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::lock_guard<std::mutex> lock(mu);
      if (kept.valid()) break;
    }
  }
  (*s)->Shutdown(100);
  s = Status::Internal("gone");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(kept.valid());
  kept.Send(Response());  // a harmless no-op
  EXPECT_FALSE(kept.valid());
}

}  // namespace
}  // namespace forja::net
