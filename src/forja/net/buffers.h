// The two per-connection buffers of the HTTP server. Internal to forja_net.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace forja::net::detail {

// Bytes read from a socket and not yet consumed by the parser. A flat array with read and
// write offsets: consuming everything (the common case) resets both, so a keep-alive
// connection reads every request into the same first bytes.
class InBuf {
 public:
  std::string_view view() const { return {buf_.get() + r_, w_ - r_}; }
  bool empty() const { return r_ == w_; }
  size_t size() const { return w_ - r_; }
  size_t capacity() const { return cap_; }
  void Consume(size_t n) {
    r_ += n;
    if (r_ == w_) r_ = w_ = 0;
  }
  void Clear() { r_ = w_ = 0; }
  // Room to read into: compacts, or grows up to max_capacity. *n = 0 when full.
  char* Prepare(size_t max_capacity, size_t* n);
  void Commit(size_t n) { w_ += n; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, r_ = 0, w_ = 0;
};

// Bytes (and files) waiting to be written, in order. Small pieces — headers, small bodies,
// the responses of pipelined requests — are copied into one string so they leave in one
// sendmsg; a large body is moved in as its own piece and a file is sent with sendfile, so
// neither is copied.
class OutBuf {
 public:
  OutBuf() = default;
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;
  ~OutBuf() { Clear(); }

  bool empty() const { return head_ == q_.size() || (head_ + 1 == q_.size() && Left(q_[head_]) == 0); }
  uint64_t size() const;
  // The string to append small bytes to (must be appended to right away).
  std::string& Tail();
  void AppendOwned(std::string bytes);
  void AppendFile(int fd, uint64_t size);  // takes the fd
  // Writes what the socket takes. Returns false on an error (errno says which); *blocked when
  // the socket's buffer is full; *written counts the bytes sent.
  bool WriteTo(int fd, bool* blocked, uint64_t* written);
  void Clear();  // drops everything, closing files

 private:
  struct Piece {
    std::string bytes;
    size_t pos = 0;      // bytes[0, pos) are written
    bool sealed = false;  // a moved-in body: never appended to
    int fd = -1;          // a file piece when >= 0
    off_t off = 0;
    uint64_t left = 0;
  };
  static uint64_t Left(const Piece& p) { return p.fd >= 0 ? p.left : p.bytes.size() - p.pos; }
  bool SendFile(int sock, Piece& p, bool* blocked, uint64_t* written);
  void Advance(size_t n);
  void Compact();

  std::vector<Piece> q_;
  size_t head_ = 0;  // q_[head_, end) are pending
};

}  // namespace forja::net::detail
