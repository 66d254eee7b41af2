// forja_net_echo: a small server on forja_net for the tests and bench/http.
//   GET  /hello          a fixed ~100-byte JSON body (the benchmark's request)
//   POST /echo           the request body back
//   POST /slow?ms=N      {"slept_ms": N}, sent after N ms from another thread (async answers)
//   GET  /file?path=P    the file P, streamed with sendfile
// Prints "listening on HOST:PORT" once ready; stops gracefully on SIGINT or SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "forja/core/json.h"
#include "forja/net/http_server.h"

namespace {

using forja::net::Request;
using forja::net::Responder;
using forja::net::Response;

constexpr const char kHello[] =
    "{\"name\":\"forja\",\"kind\":\"model-server\",\"version\":\"0.1.0\",\"status\":\"ready\","
    "\"message\":\"hello, world\"}\n";

// Answers deferred requests from one thread, in deadline order.
class Delayer {
 public:
  Delayer() : thread_([this] { Run(); }) {}
  ~Delayer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Add(int ms, Responder r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms),
                   Item{ms, std::move(r)});
    }
    cv_.notify_one();
  }

 private:
  struct Item {
    int ms;
    Responder r;
  };
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = due_.begin();
      if (cv_.wait_until(lock, first->first) != std::cv_status::timeout) continue;
      first = due_.begin();
      if (first == due_.end() || first->first > std::chrono::steady_clock::now()) continue;
      Item item = std::move(first->second);
      due_.erase(first);
      lock.unlock();
      Response resp;
      resp.body = "{\"slept_ms\": " + std::to_string(item.ms) + "}";
      item.r.Send(std::move(resp));
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, Item> due_;
  bool stop_ = false;
  std::thread thread_;
};

void Handle(Delayer& delayer, Request& req, Responder res) {
  Response r;
  if (req.path == "/hello" && (req.method == "GET" || req.method == "HEAD")) {
    r.body.assign(kHello, sizeof kHello - 1);
  } else if (req.path == "/echo" && req.method == "POST") {
    std::string_view type = req.Header("content-type");
    r.content_type = type.empty() ? "application/octet-stream" : std::string(type);
    r.body = std::move(req.body);
  } else if (req.path == "/slow") {
    delayer.Add(std::atoi(req.Param("ms").c_str()), std::move(res));
    return;
  } else if (req.path == "/file" && (req.method == "GET" || req.method == "HEAD")) {
    int fd = ::open(req.Param("path").c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      if (fd >= 0) ::close(fd);
      r.status = 404;
      r.body = "{\"error\": \"no such file\"}";
    } else {
      r.content_type = "application/octet-stream";
      r.file_fd = fd;
      r.file_size = static_cast<uint64_t>(st.st_size);
    }
  } else {
    r.status = 404;
    r.body = "{\"error\": " + forja::JsonQuote("no route for " + req.method + " " + req.path) + "}";
  }
  res.Send(std::move(r));
}

int Usage() {
  std::fprintf(stderr,
               "usage: forja_net_echo [--host H] [--port N] [--io-threads N] [--handler-threads N]\n"
               "                      [--accept balanced|reuseport|shared] [--max-body BYTES]\n"
               "                      [--header-timeout-ms N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  forja::net::ServerOptions opts;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if ((v = next()) == nullptr) return Usage();
    if (a == "--accept") {
      std::string m = v;
      if (m == "reuseport") {
        opts.accept_mode = forja::net::AcceptMode::kReusePort;
      } else if (m == "shared") {
        opts.accept_mode = forja::net::AcceptMode::kShared;
      } else if (m == "balanced") {
        opts.accept_mode = forja::net::AcceptMode::kBalanced;
      } else {
        return Usage();
      }
    } else if (a == "--host") {
      opts.host = v;
    } else if (a == "--port") {
      opts.port = std::atoi(v);
    } else if (a == "--io-threads") {
      opts.io_threads = std::atoi(v);
    } else if (a == "--handler-threads") {
      opts.handler_threads = std::atoi(v);
    } else if (a == "--max-body") {
      opts.max_body_bytes = std::strtoull(v, nullptr, 10);
    } else if (a == "--header-timeout-ms") {
      opts.header_timeout_ms = std::atoi(v);
    } else {
      return Usage();
    }
  }
  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Delayer delayer;
  auto server = forja::net::Server::Start(
      opts, [&delayer](Request& req, Responder res) { Handle(delayer, req, std::move(res)); });
  if (!server.ok()) {
    std::fprintf(stderr, "forja_net_echo: %s\n", server.status().message().c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", opts.host.c_str(), (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Shutdown(2000);
  return 0;
}
