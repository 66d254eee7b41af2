#include "forja/batch/lines.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace forja::batch {

Status PreadAll(int fd, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading", errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out->resize(got);
  return Status::Ok();
}

Result<uint64_t> NextLineStart(int fd, uint64_t from, uint64_t limit) {
  std::string buf;
  while (from < limit) {
    RETURN_IF_ERROR(PreadAll(fd, from, std::min<uint64_t>(1 << 16, limit - from), &buf));
    if (buf.empty()) break;
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) return from + nl + 1;
    from += buf.size();
  }
  return limit;
}

Result<uint64_t> CountLines(int fd, uint64_t end) {
  std::string buf;
  uint64_t n = 0;
  for (uint64_t at = 0; at < end;) {
    RETURN_IF_ERROR(PreadAll(fd, at, std::min<uint64_t>(1 << 20, end - at), &buf));
    if (buf.empty()) break;
    n += static_cast<uint64_t>(std::count(buf.begin(), buf.end(), '\n'));
    at += buf.size();
  }
  return n;
}

}  // namespace forja::batch
