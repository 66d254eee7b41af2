#include "forja/core/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace forja {

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

FileStat FileStat::From(const struct stat& st) {
  FileStat f;
  f.ino = st.st_ino;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  f.mode = st.st_mode;
  f.nlink = static_cast<uint32_t>(st.st_nlink);
  return f;
}

Result<Fd> OpenRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  return Fd(fd);
}

Result<std::string> ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
  std::string out;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Dirname(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty() || a == ".") return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

std::string TempNameBeside(const std::string& final_path) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = Dirname(final_path);
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".tmp-%d-%llu", int(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return JoinPath(dir, "." + Basename(final_path) + suffix);
}

bool IsTempName(std::string_view name) {
  // ".<name>.tmp-<pid>-<counter>", exactly as TempNameBeside makes them.
  if (name.size() < 9 || name[0] != '.') return false;
  size_t t = name.rfind(".tmp-");
  if (t == std::string_view::npos || t == 0) return false;
  std::string_view rest = name.substr(t + 5);
  size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash + 1 == rest.size()) return false;
  for (size_t i = 0; i < rest.size(); i++)
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return false;
  return true;
}

Result<TempFile> TempFile::CreateBeside(const std::string& final_path, mode_t mode) {
  std::string tmp = TempNameBeside(final_path);
  // Created with its final mode (a mode applies to later opens, not this one), so
  // publishing needs no fchmod.
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno("cannot create " + tmp, errno);
  return TempFile(tmp, final_path, Fd(fd));
}

TempFile::TempFile(TempFile&& o) noexcept
    : path_(std::move(o.path_)), final_(std::move(o.final_)), fd_(std::move(o.fd_)),
      done_(o.done_) {
  o.done_ = true;
}

TempFile::~TempFile() {
  if (!done_) ::unlink(path_.c_str());
}

Status TempFile::Write(std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("writing " + final_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status TempFile::Publish(bool durable) {
  if (durable && ::fsync(fd_.get()) != 0) return Status::FromErrno("writing " + final_, errno);
  fd_.Reset();
  if (::rename(path_.c_str(), final_.c_str()) != 0)
    return Status::FromErrno("cannot rename into " + final_, errno);
  done_ = true;
  if (durable) return FsyncDir(Dirname(final_));
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(path, mode));
  RETURN_IF_ERROR(tmp.Write(data));
  return tmp.Publish(true);
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty() || path == "." || path == "/") return Status::Ok();
  if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
  if (errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::User(path + " exists and is not a directory");
  }
  if (errno != ENOENT) return Status::FromErrno("cannot create folder " + path, errno);
  RETURN_IF_ERROR(MakeDirs(Dirname(path), mode));
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return Status::Ok();
  return Status::FromErrno("cannot create folder " + path, errno);
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open folder " + dir, errno);
  Fd guard(fd);
  if (::fsync(fd) != 0 && errno != EINVAL) return Status::FromErrno("fsync " + dir, errno);
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return Status::FromErrno("cannot remove " + path, errno);
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno("cannot stat " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) return RemoveFile(path);
  DIR* d = ::opendir(path.c_str());
  if (!d) return Status::FromErrno("cannot open folder " + path, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const auto& n : names) RETURN_IF_ERROR(RemoveTree(JoinPath(path, n)));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT)
    return Status::FromErrno("cannot remove folder " + path, errno);
  return Status::Ok();
}

namespace {

// openat2 is Linux 5.6+; an older kernel (or a seccomp filter) says ENOSYS or EPERM once.
std::atomic<bool> g_openat2_missing{false};

int OpenAt2Dir(int dirfd, const std::string& rel) {
#ifdef SYS_openat2
  if (g_openat2_missing.load(std::memory_order_relaxed)) return -1;
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how));
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) g_openat2_missing = true;
  return fd;
#else
  (void)dirfd;
  (void)rel;
  return -1;
#endif
}

Status RefuseComponent(int dirfd, const std::string& name, const std::string& shown, int err) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode))
      return Status::User(shown + " is a symlink; forja never writes through a symlink (remove it, then run "
                          "the command again)");
    if (!S_ISDIR(st.st_mode)) return Status::User(shown + " exists and is not a folder");
  }
  return Status::FromErrno("cannot open folder " + shown, err);
}

}  // namespace

Result<Fd> OpenDirNoFollow(const std::string& root, std::string_view rel, bool create) {
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::FromErrno("cannot open folder " + root, errno);
  if (rel.empty() || rel == ".") return dir;
  // Fast path: one syscall for the whole path. Any failure takes the walk below,
  // which knows which component failed and can create folders.
  int fd = OpenAt2Dir(dir.get(), std::string(rel));
  if (fd >= 0) return Fd(fd);
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = std::min(rel.find('/', i), rel.size());
    std::string name(rel.substr(i, j - i));
    std::string shown(rel.substr(0, j));
    if (name.empty() || name == "." || name == "..")
      return Status::Internal("not a normalized path: '" + std::string(rel) + "'");
    int next = ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      if (!create) return Status::NotFound(shown + " does not exist");
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        return Status::FromErrno("cannot create folder " + shown, errno);
      next = ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) return RefuseComponent(dir.get(), name, shown, errno);
    dir = Fd(next);
    i = j + 1;
  }
  return dir;
}

Status RemoveFileAt(int dirfd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return Status::Ok();
  return Status::FromErrno("cannot remove " + shown, errno);
}

Status RemoveTreeAt(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno("cannot stat " + shown, errno);
  }
  if (!S_ISDIR(st.st_mode)) return RemoveFileAt(dirfd, name, shown);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open folder " + shown, errno);
  Fd sub(fd);
  DIR* d = ::fdopendir(::dup(sub.get()));
  if (!d) return Status::FromErrno("cannot read folder " + shown, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const auto& n : names) RETURN_IF_ERROR(RemoveTreeAt(sub.get(), n, shown + "/" + n));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return Status::FromErrno("cannot remove folder " + shown, errno);
  return Status::Ok();
}

Status SyncFilesystem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  Fd guard(fd);
  if (::syncfs(fd) != 0) return Status::FromErrno("syncfs " + path, errno);
  return Status::Ok();
}

Status CopyFd(int src, int dst, const std::string& what) {
  // copy_file_range keeps the bytes in the kernel (and clones on file systems that can).
  bool kernel_copy = true;
  char buf[1 << 16];
  for (;;) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
        kernel_copy = false;
        continue;
      }
      return Status::FromErrno("copying " + what, errno);
    }
    ssize_t n = ::read(src, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + what, errno);
    }
    if (n == 0) return Status::Ok();
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(dst, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("writing " + what, errno);
      }
      off += w;
    }
  }
}

Status Reflink(int src_fd, int dst_fd) {
  if (::ioctl(dst_fd, FICLONE, src_fd) == 0) return Status::Ok();
  return Status::FromErrno("reflink", errno);
}

}  // namespace forja
