#include "forja/core/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace forja {

Result<FileLock> FileLock::Acquire(const std::string& path, const std::string& what, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot open lock " + path, errno);
  Fd guard(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::FromErrno("cannot lock " + path, errno);
    if (!wait) {
      char buf[512];
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "another process";
      while (!holder.empty() && holder.back() == '\n') holder.pop_back();
      return Status::Conflict("the repository is locked by " + holder +
                              "; wait for it to finish, or rerun with --wait");
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Status::FromErrno("cannot lock " + path, errno);
    }
  }
  std::string info = "pid " + std::to_string(::getpid()) + " (" + what + ")\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, info.data(), info.size(), 0);
    (void)ignored;
  }
  return FileLock(std::move(guard));
}

}  // namespace forja
