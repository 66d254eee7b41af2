#include "forja/net/buffers.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace forja::net::detail {

namespace {
constexpr size_t kInitialInput = 4096;
constexpr size_t kMaxIov = 64;
constexpr size_t kKeepBuffer = 64 * 1024;  // a drained output string up to this size is reused
constexpr uint64_t kSendfileChunk = 1 << 20;  // per call, so one download cannot hog the loop
}  // namespace

char* InBuf::Prepare(size_t max_capacity, size_t* n) {
  if (w_ == cap_ && r_ > 0) {
    std::memmove(buf_.get(), buf_.get() + r_, w_ - r_);
    w_ -= r_;
    r_ = 0;
  }
  if (w_ == cap_ && cap_ < max_capacity) {
    size_t cap = std::min(max_capacity, std::max(kInitialInput, cap_ * 2));
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (w_ > r_) std::memcpy(grown.get(), buf_.get() + r_, w_ - r_);
    w_ -= r_;
    r_ = 0;
    buf_ = std::move(grown);
    cap_ = cap;
  }
  *n = cap_ - w_;
  return buf_.get() + w_;
}

uint64_t OutBuf::size() const {
  uint64_t n = 0;
  for (size_t i = head_; i < q_.size(); i++) n += Left(q_[i]);
  return n;
}

std::string& OutBuf::Tail() {
  if (q_.empty() || q_.back().sealed || q_.back().fd >= 0) {
    Compact();
    if (q_.empty() || q_.back().sealed || q_.back().fd >= 0) q_.emplace_back();
  }
  return q_.back().bytes;
}

void OutBuf::AppendOwned(std::string bytes) {
  Piece& p = q_.emplace_back();
  p.bytes = std::move(bytes);
  p.sealed = true;
}

void OutBuf::AppendFile(int fd, uint64_t size) {
  Piece& p = q_.emplace_back();
  p.fd = fd;
  p.left = size;
}

void OutBuf::Clear() {
  for (Piece& p : q_)
    if (p.fd >= 0) ::close(p.fd);
  q_.clear();
  head_ = 0;
}

// Marks n bytes of the leading byte pieces written.
void OutBuf::Advance(size_t n) {
  while (n > 0) {
    Piece& p = q_[head_];
    size_t take = std::min(n, p.bytes.size() - p.pos);
    p.pos += take;
    n -= take;
    if (p.pos == p.bytes.size()) head_++;
  }
}

// Drops written pieces, keeping one small string's capacity for the next responses.
void OutBuf::Compact() {
  if (head_ == 0) return;
  if (head_ < q_.size()) {
    if (head_ >= 16) {
      q_.erase(q_.begin(), q_.begin() + static_cast<ptrdiff_t>(head_));
      head_ = 0;
    }
    return;
  }
  if (q_.size() == 1 && !q_[0].sealed && q_[0].fd < 0 && q_[0].bytes.capacity() <= kKeepBuffer) {
    q_[0].bytes.clear();
    q_[0].pos = 0;
    head_ = 0;
    return;
  }
  std::string keep;
  for (Piece& p : q_)
    if (!p.sealed && p.fd < 0 && p.bytes.capacity() <= kKeepBuffer && p.bytes.capacity() > keep.capacity())
      keep.swap(p.bytes);
  q_.clear();
  head_ = 0;
  keep.clear();
  q_.emplace_back().bytes = std::move(keep);
}

bool OutBuf::SendFile(int sock, Piece& p, bool* blocked, uint64_t* written) {
  while (p.left > 0) {
    ssize_t n = ::sendfile(sock, p.fd, &p.off, std::min(p.left, kSendfileChunk));
    if (n > 0) {
      p.left -= static_cast<uint64_t>(n);
      *written += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {  // the file is shorter than file_size said: the response cannot be completed
      errno = EIO;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      *blocked = true;
      return true;
    }
    return false;
  }
  ::close(p.fd);
  p.fd = -1;
  head_++;
  return true;
}

bool OutBuf::WriteTo(int sock, bool* blocked, uint64_t* written) {
  *blocked = false;
  while (head_ < q_.size()) {
    Piece& first = q_[head_];
    if (first.fd >= 0) {
      if (!SendFile(sock, first, blocked, written)) return false;
      if (*blocked) return true;
      continue;
    }
    iovec iov[kMaxIov];
    size_t count = 0;
    for (size_t i = head_; i < q_.size() && count < kMaxIov && q_[i].fd < 0; i++) {
      size_t left = q_[i].bytes.size() - q_[i].pos;
      if (left == 0) continue;
      iov[count].iov_base = q_[i].bytes.data() + q_[i].pos;
      iov[count].iov_len = left;
      count++;
    }
    if (count == 0) {  // only empty byte pieces before a file (or the end)
      while (head_ < q_.size() && q_[head_].fd < 0 && Left(q_[head_]) == 0) head_++;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        *blocked = true;
        return true;
      }
      return false;
    }
    *written += static_cast<uint64_t>(n);
    // Skip the empty pieces the gather skipped, then account for what was sent.
    while (head_ < q_.size() && q_[head_].fd < 0 && Left(q_[head_]) == 0) head_++;
    Advance(static_cast<size_t>(n));
  }
  Compact();
  return true;
}

}  // namespace forja::net::detail
