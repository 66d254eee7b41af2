// File-system primitives. Every write that must survive a crash goes through
// WriteFileAtomic or PublishFile: a temp file in the destination's folder, fsync,
// rename. Readers therefore see either the old bytes or the new ones, never a mix.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"

namespace forja {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.Release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// What forja remembers of a file to know it has not changed since it was hashed.
struct FileStat {
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint32_t mode = 0;
  uint32_t nlink = 0;  // not part of the stamp: a hardlink into the cache shows as >= 2

  static FileStat From(const struct stat& st);
  bool SameContentStamp(const FileStat& o) const {
    return ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
};

Result<Fd> OpenRead(const std::string& path);
Result<std::string> ReadFile(const std::string& path);
bool Exists(const std::string& path);  // lstat succeeds
bool IsDir(const std::string& path);   // a folder, or a symlink to one
bool IsFile(const std::string& path);  // a regular file, or a symlink to one

// Writes `data` to `path` atomically and durably (temp + fsync + rename + fsync dir).
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// A uniquely named temp file next to `final_path`; removed on destruction unless
// Publish() renamed it into place.
class TempFile {
 public:
  static Result<TempFile> CreateBeside(const std::string& final_path, mode_t mode = 0644);
  TempFile(TempFile&&) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  Status Write(std::string_view data);
  // fsync (when `durable`), close, rename over final_path. The file was created
  // with its final mode (less the umask).
  Status Publish(bool durable = true);

 private:
  TempFile(std::string path, std::string final_path, Fd fd)
      : path_(std::move(path)), final_(std::move(final_path)), fd_(std::move(fd)) {}
  std::string path_, final_;
  Fd fd_;
  bool done_ = false;
};

// The temp-file name used beside `final_path`: dir/.name.tmp-<pid>-<counter>.
std::string TempNameBeside(const std::string& final_path);
bool IsTempName(std::string_view filename);

Status MakeDirs(const std::string& path, mode_t mode = 0755);
Status FsyncDir(const std::string& dir);
Status RemoveFile(const std::string& path);  // ENOENT is fine
Status RemoveTree(const std::string& path);  // ENOENT is fine
// Writing into the workspace never follows a symlink in a parent component: a
// repository may commit `d -> /elsewhere`, and d/x must then not reach /elsewhere/x.
// OpenDirNoFollow opens folder `rel` (relative to `root`; normalized: no "", "."
// or ".." component) with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where
// the kernel has it, else one openat(O_NOFOLLOW | O_DIRECTORY) per component.
// `root` itself is opened normally. With `create`, missing folders are made
// (0755). A symlink or a file on the way is a user error naming it; a missing
// folder without `create` is NotFound. The *At functions then work in that folder.
Result<Fd> OpenDirNoFollow(const std::string& root, std::string_view rel, bool create);
// unlinkat; ENOENT is fine. `shown` names the file in errors.
Status RemoveFileAt(int dirfd, const std::string& name, const std::string& shown);
// Removes `name` (a file, a symlink — never what it points to — or a folder and
// everything in it) from `dirfd`, without following any symlink. ENOENT is fine.
Status RemoveTreeAt(int dirfd, const std::string& name, const std::string& shown);

// Makes every write of the file system holding `path` durable (one syscall for a batch).
Status SyncFilesystem(const std::string& path);

// Copies the bytes of `src_fd` (from offset 0) into `dst_fd`, in the kernel when it can.
Status CopyFd(int src_fd, int dst_fd, const std::string& what);
// Clones src into dst (a fresh file) sharing extents; fails on file systems without reflink.
Status Reflink(int src_fd, int dst_fd);

std::string Dirname(std::string_view path);
std::string Basename(std::string_view path);
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace forja
