// A scripted HTTP/1.1 server on 127.0.0.1 for the failures a real S3 server
// will not produce on demand: 503 SlowDown, a connection cut mid-body, a
// signature refused, a redirect to another region. Each connection gets a
// thread; a handler chooses the reply to each request and every request is
// recorded for the test to inspect.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace forja::testing {

struct FakeRequest {
  std::string method;
  std::string target;  // path?query, as sent
  std::map<std::string, std::string> headers;  // names lower-case
  size_t body_size = 0;
};

struct FakeReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool cut = false;  // announce twice the body, send it, then close the connection
};

class FakeS3 {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&, int index)>;

  explicit FakeS3(Handler handler) : handler_(std::move(handler)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_, 16);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeS3() {
    stop_ = true;
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : open_) ::close(fd);
    ::close(listen_);
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<FakeRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  static FakeReply Error(int status, const std::string& code, const std::string& message) {
    return {status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                        "</Code><Message>" + message + "</Message></Error>"};
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      open_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool SendAll(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one request head into `req`; false when the client went away.
  static bool ReadHead(int fd, std::string* buf, FakeRequest* req) {
    size_t end;
    while ((end = buf->find("\r\n\r\n")) == std::string::npos) {
      char chunk[65536];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf->append(chunk, static_cast<size_t>(n));
    }
    std::string head = buf->substr(0, end);
    buf->erase(0, end + 4);
    size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    req->method = head.substr(0, sp1);
    req->target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                                          : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        req->headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next;
    }
    return true;
  }

  static bool SkipBody(int fd, std::string* buf, size_t size) {
    while (buf->size() < size) {
      char chunk[65536];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf->append(chunk, static_cast<size_t>(n));
    }
    buf->erase(0, size);
    return true;
  }

  static std::string Head(const FakeRequest& req, const FakeReply& r, bool close) {
    std::string s = "HTTP/1.1 " + std::to_string(r.status) + " Fake\r\n";
    size_t announced = r.cut ? r.body.size() * 2 + 10 : r.body.size();
    s += "Content-Length: " + std::to_string(announced) + "\r\n";
    for (const auto& [k, v] : r.headers) s += k + ": " + v + "\r\n";
    if (close) s += "Connection: close\r\n";
    s += "\r\n";
    if (req.method != "HEAD") s += r.body;
    return s;
  }

  void Serve(int fd) {
    std::string buf;
    FakeRequest req;
    while (!stop_ && ReadHead(fd, &buf, &req)) {
      auto cl = req.headers.find("content-length");
      req.body_size = cl == req.headers.end() ? 0 : std::stoul(cl->second);
      int index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = static_cast<int>(requests_.size());
        requests_.push_back(req);
      }
      FakeReply reply = handler_(req, index);
      bool expect = req.headers.count("expect") > 0;
      // Refusing before the body arrives, as S3 does, means the body never
      // comes: answer and close instead of reading it.
      if (expect && reply.status >= 300) {
        SendAll(fd, Head(req, reply, true));
        break;
      }
      if (expect && !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
      if (!SkipBody(fd, &buf, req.body_size)) break;
      if (!SendAll(fd, Head(req, reply, reply.cut)) || reply.cut) break;
      req = FakeRequest();
    }
    ::shutdown(fd, SHUT_RDWR);
  }

  Handler handler_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
  std::vector<FakeRequest> requests_;
};

}  // namespace forja::testing
