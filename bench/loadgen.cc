// forja_loadgen: the one load generator bench/serving drives both of forja serve's protocols
// with, so that a gRPC-against-REST ratio measures the server and not two clients of unequal
// cost (wrk and h2load differ by almost 2x in CPU per request, on the cores the server uses).
//
// A closed loop over N connections, as wrk runs: HTTP/1.1 keep-alive with one request in flight
// per connection, or HTTP/2 with M gRPC calls in flight per connection (M = 1: one call at a
// time, wrk's shape; M > 1: calls multiplexed, a gRPC channel's shape). A request's bytes are
// built once; an answer costs no allocation. Every answer is checked: HTTP/1.1 status 200 and
// Content-Length framing; gRPC :status 200 and grpc-status 0 in the trailers (HTTP/2 frames
// parsed here, header blocks through nghttp2's HPACK inflater; SETTINGS and PING answered, the
// connection's receive window topped up). Prints one JSON object: answers in the timed window,
// req/s, mean, p50, p99 and max latency (ms, from a log-linear histogram) and errors.
//
//   forja_loadgen (--http1 | --grpc) --port P --path /x --body FILE [--header 'name: value']...
//                 [--conns N] [--streams M] [--threads T] [--duration S] [--warmup S]

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "forja/core/fs.h"

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Latencies in nanoseconds, 32 buckets per power of two (about 3% wide): fixed memory, no
// allocation per sample, mergeable across threads.
class Histogram {
 public:
  void Add(int64_t ns) {
    uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
    buckets_[Index(v)]++;
    count_++;
    sum_ += v;
    max_ = std::max(max_, v);
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < buckets_.size(); i++) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t count() const { return count_; }
  double MeanNs() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  uint64_t MaxNs() const { return max_; }
  // The middle of the bucket holding the q-th sample.
  double QuantileNs(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * (count_ - 1)) + 1, seen = 0;
    for (size_t i = 0; i < buckets_.size(); i++) {
      seen += buckets_[i];
      if (seen >= rank) return Middle(i);
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr int kBits = 5;
  static constexpr uint64_t kSub = 1 << kBits;
  static size_t Index(uint64_t v) {
    if (v < kSub) return v;
    int e = 63 - std::countl_zero(v);
    return (e - kBits + 1) * kSub + ((v >> (e - kBits)) & (kSub - 1));
  }
  static double Middle(size_t i) {
    if (i < kSub) return static_cast<double>(i);
    int e = static_cast<int>(i / kSub) + kBits - 1;
    uint64_t width = uint64_t{1} << (e - kBits);
    return static_cast<double>((kSub + i % kSub) * width) + width / 2.0;
  }
  std::array<uint64_t, 64 * kSub> buckets_{};
  uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

struct Options {
  bool grpc = false;
  int port = 0;
  std::string path = "/";
  std::string body_file;
  std::vector<std::string> headers;  // "name: value"
  int conns = 1, streams = 1, threads = 2;
  double duration = 10, warmup = 0;
};

// HTTP/2 frame types and flags used here (RFC 9113 section 6).
enum : uint8_t { kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6, kGoaway = 7,
                 kWindowUpdate = 8, kContinuation = 9 };
enum : uint8_t { kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4, kPadded = 0x8, kPriority = 0x20 };
constexpr uint32_t kMaxWindow = 0x7fffffff;
constexpr size_t kFrameHead = 9;

void PutFrameHead(std::string& out, size_t len, uint8_t type, uint8_t flags, uint32_t stream) {
  char h[kFrameHead] = {static_cast<char>(len >> 16), static_cast<char>(len >> 8), static_cast<char>(len),
                        static_cast<char>(type), static_cast<char>(flags),
                        static_cast<char>(stream >> 24), static_cast<char>(stream >> 16),
                        static_cast<char>(stream >> 8), static_cast<char>(stream)};
  out.append(h, sizeof h);
}

void PutU32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t GetU32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// HPACK integer with an N-bit prefix (RFC 7541 section 5.1).
void PutHpackInt(std::string& out, uint8_t first, int prefix_bits, size_t v) {
  size_t max = (size_t{1} << prefix_bits) - 1;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return;
  }
  out.push_back(static_cast<char>(first | max));
  for (v -= max; v >= 128; v /= 128) out.push_back(static_cast<char>(v % 128 + 128));
  out.push_back(static_cast<char>(v));
}

// A literal header field with a literal name, added to the server's HPACK table (RFC 7541
// section 6.2.1).
void PutHpackLiteral(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(0x40);
  PutHpackInt(out, 0, 7, name.size());
  out.append(name);
  PutHpackInt(out, 0, 7, value.size());
  out.append(value);
}

// One request's bytes, and for HTTP/2 where its stream id goes in each frame head.
struct Request {
  std::string bytes;
  std::vector<size_t> stream_id_at;
  size_t body_size = 0;
};

Request BuildHttp1(const Options& o, const std::string& body) {
  Request r;
  r.bytes = "POST " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) + "\r\n";
  for (const std::string& h : o.headers) r.bytes += h + "\r\n";
  r.bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  r.body_size = body.size();
  return r;
}

// A connection's first call adds its header fields to the server's HPACK table; the later
// calls name them by index, a byte each, as gRPC clients and h2load do (fields sent as
// literals every time would cost the server a decode and a copy of each).
Request BuildGrpc(const Options& o, const std::string& body, bool first) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {":method", "POST"}, {":scheme", "http"}, {":path", o.path}, {":authority", "127.0.0.1:" + std::to_string(o.port)}};
  for (const std::string& h : o.headers) {
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t v = h.find_first_not_of(' ', colon + 1);
    fields.emplace_back(name, v == std::string::npos ? "" : h.substr(v));
  }
  std::string block;
  for (size_t k = 0; k < fields.size(); k++) {
    // The table's newest entry is index 62 (after the 61 static ones): the first field sent
    // is the oldest.
    if (first) PutHpackLiteral(block, fields[k].first, fields[k].second);
    else PutHpackInt(block, 0x80, 7, 62 + fields.size() - 1 - k);
  }
  Request r;
  r.body_size = body.size();
  r.stream_id_at.push_back(r.bytes.size() + 5);
  PutFrameHead(r.bytes, block.size(), kHeaders, kEndHeaders | (body.empty() ? kEndStream : 0), 0);
  r.bytes += block;
  // DATA frames no larger than 16 KiB, the SETTINGS_MAX_FRAME_SIZE every peer accepts.
  for (size_t at = 0; at < body.size(); at += 16384) {
    size_t n = std::min<size_t>(16384, body.size() - at);
    r.stream_id_at.push_back(r.bytes.size() + 5);
    PutFrameHead(r.bytes, n, kData, at + n == body.size() ? kEndStream : 0, 0);
    r.bytes.append(body, at, n);
  }
  return r;
}

// One gRPC call in flight on an HTTP/2 connection.
struct Call {
  uint32_t stream = 0;  // 0: the slot is free
  int64_t sent_ns = 0;
  bool status_200 = false, grpc_ok = false;
};

struct Conn {
  int fd = -1;
  bool writing = false;  // EPOLLOUT armed: the socket took less than we had
  std::vector<uint8_t> in;
  size_t in_len = 0;
  std::string out;
  size_t out_off = 0;
  // HTTP/1.1
  bool busy = false;
  int64_t sent_ns = 0;
  // HTTP/2
  nghttp2_hd_inflater* inflater = nullptr;
  std::vector<Call> calls;
  int in_flight = 0;
  uint32_t next_stream = 1;
  int64_t send_window = 65535;         // the server's connection window for our DATA
  int64_t peer_stream_window = 65535;  // its SETTINGS_INITIAL_WINDOW_SIZE
  uint32_t peer_max_streams = kMaxWindow;
  uint64_t received = 0;  // DATA bytes not yet given back with a WINDOW_UPDATE
  std::string block;      // a header block continued in CONTINUATION frames
  uint32_t block_stream = 0;
  bool block_end_stream = false;
};

class Worker {
 public:
  // `first` is a connection's first request, `req` every later one (the same for HTTP/1.1).
  Worker(const Options& o, const Request& first, const Request& req, int conns)
      : o_(o), first_(first), req_(req), conns_(conns) {}

  // Runs until end_ns; answers from count_from_ns on are counted and timed.
  void Run(int64_t count_from_ns, int64_t end_ns) {
    count_from_ = count_from_ns;
    end_ = end_ns;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    for (auto& c : conns_) Connect(c);
    std::array<epoll_event, 64> events;
    while (NowNs() < end_) {
      int n = epoll_wait(epoll_, events.data(), events.size(), 50);
      for (int i = 0; i < n; i++) {
        Conn& c = *static_cast<Conn*>(events[i].data.ptr);
        if (c.fd < 0) continue;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(c);
        if (c.fd >= 0 && (events[i].events & EPOLLOUT)) Flush(c);
      }
    }
    for (auto& c : conns_) Close(c);
    close(epoll_);
  }

  Histogram histogram;
  uint64_t errors = 0;

 private:
  void Connect(Conn& c) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o_.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (c.fd >= 0) close(c.fd);
      c.fd = -1;
      errors++;  // a connection that cannot be made stays closed: the run shows fewer answers
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{EPOLLIN, {.ptr = &c}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    c.in.resize(64 << 10);
    c.in_len = 0;
    c.out.clear();
    c.out_off = 0;
    c.writing = false;
    c.busy = false;
    if (o_.grpc) StartHttp2(c);
    else SendHttp1(c);
    Flush(c);
  }

  void Close(Conn& c) {
    if (c.fd < 0) return;
    close(c.fd);
    c.fd = -1;
    if (c.inflater) nghttp2_hd_inflate_del(c.inflater);
    c.inflater = nullptr;
  }

  // A connection that failed: what was in flight is an error; a new connection takes its place.
  void Fail(Conn& c) {
    errors += o_.grpc ? c.in_flight : (c.busy ? 1 : 0);
    Close(c);
    if (NowNs() < end_) Connect(c);
  }

  void Answered(int64_t sent_ns, bool ok) {
    int64_t now = NowNs();
    if (!ok) errors++;
    else if (now >= count_from_ && now < end_) histogram.Add(now - sent_ns);
  }

  void Flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return Fail(c);
      c.out_off += n;
    }
    bool more = c.out_off < c.out.size();
    if (!more) {
      c.out.clear();
      c.out_off = 0;
    }
    if (more != c.writing) {
      c.writing = more;
      epoll_event ev{EPOLLIN | (more ? EPOLLOUT : 0u), {.ptr = &c}};
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  void OnReadable(Conn& c) {
    if (c.in_len == c.in.size()) c.in.resize(c.in.size() * 2);  // an answer larger than the buffer
    ssize_t n = read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return Fail(c);
    c.in_len += n;
    size_t used = o_.grpc ? ReadFrames(c) : ReadHttp1(c);
    if (c.fd < 0) return;  // failed and reconnected (or not): its buffer was reset
    std::memmove(c.in.data(), c.in.data() + used, c.in_len - used);
    c.in_len -= used;
    if (o_.grpc) StartCalls(c);
    Flush(c);  // one write for everything this read answered
  }

  // --- HTTP/1.1 ---

  void SendHttp1(Conn& c) {
    if (NowNs() >= end_) return;
    c.out.append(req_.bytes);
    c.busy = true;
    c.sent_ns = NowNs();
  }

  // Takes complete answers from the buffer; returns the bytes used. A keep-alive answer must
  // carry Content-Length (forja's do); anything else is an error and a new connection.
  size_t ReadHttp1(Conn& c) {
    size_t at = 0;
    while (c.busy) {
      const char* p = reinterpret_cast<const char*>(c.in.data()) + at;
      size_t n = c.in_len - at;
      const char* end = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
      if (!end) break;
      size_t head = end + 4 - p;
      long length = -1;
      for (const char* line = static_cast<const char*>(memchr(p, '\n', head)) + 1; line < end;) {
        if (strncasecmp(line, "content-length:", 15) == 0) length = strtol(line + 15, nullptr, 10);
        line = static_cast<const char*>(memchr(line, '\n', end + 2 - line)) + 1;
      }
      if (length < 0 || n < 12 || memcmp(p, "HTTP/1.1 ", 9) != 0) {
        Fail(c);
        return 0;
      }
      if (n < head + length) break;
      bool ok = memcmp(p + 9, "200", 3) == 0;
      at += head + length;
      c.busy = false;
      Answered(c.sent_ns, ok);
      SendHttp1(c);
    }
    return at;
  }

  // --- HTTP/2 ---

  void StartHttp2(Conn& c) {
    c.inflater = nullptr;
    nghttp2_hd_inflate_new(&c.inflater);
    c.calls.assign(o_.streams, Call{});
    c.in_flight = 0;
    c.next_stream = 1;
    c.send_window = c.peer_stream_window = 65535;
    c.peer_max_streams = kMaxWindow;
    c.received = 0;
    c.block.clear();
    c.out.append("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    // SETTINGS: no push, the largest stream window; then the connection window to its largest,
    // so the server never waits for us to read.
    PutFrameHead(c.out, 12, kSettings, 0, 0);
    char s[12] = {0, 2, 0, 0, 0, 0, 0, 4};
    PutU32(s + 8, kMaxWindow);
    c.out.append(s, sizeof s);
    PutWindowUpdate(c, kMaxWindow - 65535);
    StartCalls(c);
  }

  void PutWindowUpdate(Conn& c, uint32_t increment) {
    PutFrameHead(c.out, 4, kWindowUpdate, 0, 0);
    char v[4];
    PutU32(v, increment);
    c.out.append(v, 4);
  }

  // Fills the free call slots, as far as the server's limits and windows allow.
  void StartCalls(Conn& c) {
    int64_t now = NowNs();
    if (now >= end_) return;
    int64_t body = static_cast<int64_t>(req_.body_size);
    for (Call& call : c.calls) {
      if (call.stream != 0) continue;
      if (static_cast<uint32_t>(c.in_flight) >= c.peer_max_streams || c.send_window < body ||
          c.peer_stream_window < body)
        return;
      call = Call{c.next_stream, now, false, false};
      c.next_stream += 2;
      c.in_flight++;
      c.send_window -= body;
      const Request& r = call.stream == 1 ? first_ : req_;  // stream 1: the connection's first
      size_t base = c.out.size();
      c.out.append(r.bytes);
      for (size_t at : r.stream_id_at) PutU32(c.out.data() + base + at, call.stream);
    }
  }

  Call* FindCall(Conn& c, uint32_t stream) {
    for (Call& call : c.calls)
      if (call.stream == stream && stream != 0) return &call;
    return nullptr;
  }

  void Finish(Conn& c, Call& call, bool ok) {
    Answered(call.sent_ns, ok);
    call.stream = 0;
    c.in_flight--;
  }

  // Handles every complete frame in the buffer; returns the bytes used.
  size_t ReadFrames(Conn& c) {
    size_t at = 0;
    while (c.in_len - at >= kFrameHead) {
      const uint8_t* h = c.in.data() + at;
      size_t len = size_t{h[0]} << 16 | size_t{h[1]} << 8 | h[2];
      if (c.in_len - at < kFrameHead + len) {
        if (kFrameHead + len > c.in.size()) c.in.resize(kFrameHead + len);
        break;
      }
      if (!OnFrame(c, h[3], h[4], GetU32(h + 5) & kMaxWindow, h + kFrameHead, len)) {
        Fail(c);
        return 0;
      }
      at += kFrameHead + len;
    }
    if (c.received >= (1u << 30)) {
      PutWindowUpdate(c, static_cast<uint32_t>(c.received));
      c.received = 0;
    }
    return at;
  }

  // False: the connection cannot go on (a GOAWAY, a frame we cannot read).
  bool OnFrame(Conn& c, uint8_t type, uint8_t flags, uint32_t stream, const uint8_t* p, size_t len) {
    switch (type) {
      case kData: {
        c.received += len;
        Call* call = FindCall(c, stream);
        if (call && (flags & kEndStream)) Finish(c, *call, false);  // no trailers: no grpc-status
        return true;
      }
      case kHeaders: {
        size_t pad = 0;
        if (flags & kPadded) {
          if (len < 1) return false;
          pad = p[0];
          p++, len--;
        }
        if (flags & kPriority) {
          if (len < 5) return false;
          p += 5, len -= 5;
        }
        if (pad > len) return false;
        c.block.assign(reinterpret_cast<const char*>(p), len - pad);
        c.block_stream = stream;
        c.block_end_stream = flags & kEndStream;
        return (flags & kEndHeaders) ? OnHeaderBlock(c) : true;
      }
      case kContinuation:
        if (stream != c.block_stream) return false;
        c.block.append(reinterpret_cast<const char*>(p), len);
        return (flags & kEndHeaders) ? OnHeaderBlock(c) : true;
      case kRstStream:
        if (Call* call = FindCall(c, stream)) Finish(c, *call, false);
        return true;
      case kSettings:
        if (flags & kAck) return true;
        for (size_t i = 0; i + 6 <= len; i += 6) {
          uint16_t id = static_cast<uint16_t>(p[i] << 8 | p[i + 1]);
          uint32_t value = GetU32(p + i + 2);
          if (id == 3) c.peer_max_streams = value;
          if (id == 4) c.peer_stream_window = value;  // whole bodies go out at once: no per-stream count
        }
        PutFrameHead(c.out, 0, kSettings, kAck, 0);
        return true;
      case kPing:
        if (!(flags & kAck) && len == 8) {
          PutFrameHead(c.out, 8, kPing, kAck, 0);
          c.out.append(reinterpret_cast<const char*>(p), 8);
        }
        return true;
      case kWindowUpdate:
        if (stream == 0 && len == 4) c.send_window += GetU32(p) & kMaxWindow;
        return true;
      case kGoaway:
        return false;
      default:
        return true;  // PRIORITY, PUSH_PROMISE (we refused push), unknown types: ignored
    }
  }

  // Decodes a whole header block (always: HPACK's table is the connection's) and checks the
  // call's :status and grpc-status.
  bool OnHeaderBlock(Conn& c) {
    Call* call = FindCall(c, c.block_stream);
    auto* in = reinterpret_cast<uint8_t*>(c.block.data());
    size_t left = c.block.size();
    for (;;) {
      nghttp2_nv nv;
      int inflate_flags = 0;
      ssize_t n = nghttp2_hd_inflate_hd2(c.inflater, &nv, &inflate_flags, in, left, 1);
      if (n < 0) return false;
      in += n;
      left -= n;
      if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) && call) {
        std::string_view name(reinterpret_cast<char*>(nv.name), nv.namelen);
        std::string_view value(reinterpret_cast<char*>(nv.value), nv.valuelen);
        if (name == ":status") call->status_200 = value == "200";
        if (name == "grpc-status") call->grpc_ok = value == "0";
      }
      if (inflate_flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(c.inflater);
        break;
      }
      if (!(inflate_flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) break;
    }
    if (call && c.block_end_stream) Finish(c, *call, call->status_200 && call->grpc_ok);
    return true;
  }

  const Options& o_;
  const Request& first_;
  const Request& req_;
  std::vector<Conn> conns_;
  int epoll_ = -1;
  int64_t count_from_ = 0, end_ = 0;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "forja_loadgen: %s\nusage: forja_loadgen (--http1 | --grpc) --port P --path /x --body FILE "
               "[--header 'name: value']... [--conns N] [--streams M] [--threads T] [--duration S] "
               "[--warmup S]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  bool protocol = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--http1") o.grpc = false, protocol = true;
    else if (a == "--grpc") o.grpc = true, protocol = true;
    else if (a == "--port") o.port = std::atoi(next().c_str());
    else if (a == "--path") o.path = next();
    else if (a == "--body") o.body_file = next();
    else if (a == "--header") o.headers.push_back(next());
    else if (a == "--conns") o.conns = std::atoi(next().c_str());
    else if (a == "--streams") o.streams = std::atoi(next().c_str());
    else if (a == "--threads") o.threads = std::atoi(next().c_str());
    else if (a == "--duration") o.duration = std::atof(next().c_str());
    else if (a == "--warmup") o.warmup = std::atof(next().c_str());
    else Usage(("unknown argument " + a).c_str());
  }
  if (!protocol) Usage("say --http1 or --grpc");
  if (o.port <= 0 || o.port > 65535) Usage("--port is required");
  if (o.body_file.empty()) Usage("--body is required");
  if (o.conns < 1 || o.streams < 1 || o.threads < 1 || o.duration <= 0 || o.warmup < 0)
    Usage("--conns, --streams, --threads and --duration must be positive");
  if (!o.grpc && o.streams != 1) Usage("--streams is for --grpc (HTTP/1.1 has one request in flight)");
  for (const std::string& h : o.headers)
    if (h.find(':') == std::string::npos || h.find_first_of("\r\n") != std::string::npos)
      Usage("a --header is 'name: value' on one line");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  forja::Result<std::string> body = forja::ReadFile(o.body_file);
  if (!body.ok()) Usage(body.status().message().c_str());
  Request first = o.grpc ? BuildGrpc(o, *body, true) : BuildHttp1(o, *body);
  Request later = o.grpc ? BuildGrpc(o, *body, false) : first;

  int threads = std::min(o.threads, o.conns);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; t++)
    workers.push_back(std::make_unique<Worker>(o, first, later, o.conns / threads + (t < o.conns % threads ? 1 : 0)));
  int64_t start = NowNs();
  int64_t count_from = start + static_cast<int64_t>(o.warmup * 1e9);
  int64_t end = count_from + static_cast<int64_t>(o.duration * 1e9);
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w, count_from, end] { w->Run(count_from, end); });
  for (auto& t : running) t.join();

  Histogram all;
  uint64_t errors = 0;
  for (auto& w : workers) {
    all.Merge(w->histogram);
    errors += w->errors;
  }
  std::printf(
      "{\"answers\": %llu, \"seconds\": %.3f, \"rps\": %.1f, \"mean_ms\": %.4f, \"p50_ms\": %.4f, "
      "\"p99_ms\": %.4f, \"max_ms\": %.4f, \"errors\": %llu}\n",
      static_cast<unsigned long long>(all.count()), o.duration, all.count() / o.duration, all.MeanNs() / 1e6,
      all.QuantileNs(0.5) / 1e6, all.QuantileNs(0.99) / 1e6, all.MaxNs() / 1e6,
      static_cast<unsigned long long>(errors));
  return 0;
}
