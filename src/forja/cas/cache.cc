#include "forja/cas/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace forja {

namespace {
// errno values that mean "this link type cannot work here", not "this file failed".
bool Unsupported(int err) {
  return err == EXDEV || err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == EPERM ||
         err == EMLINK || err == ENOSYS;
}
}  // namespace

std::string ObjectKey(const Oid& oid) {
  std::string hex = oid.Hex();
  return "sha256/" + hex.substr(0, 2) + "/" + hex.substr(2);
}

const char* LinkTypeName(LinkType t) {
  switch (t) {
    case LinkType::kReflink: return "reflink";
    case LinkType::kHardlink: return "hardlink";
    case LinkType::kCopy: return "copy";
  }
  return "?";
}

Result<std::vector<LinkType>> ParseLinkTypes(std::string_view list) {
  std::vector<LinkType> out;
  if (list.find_first_not_of(" ,") == std::string_view::npos)
    return Status::User("no link type given; use reflink, hardlink and/or copy");
  size_t i = 0;
  while (i <= list.size()) {
    size_t j = list.find(',', i);
    if (j == std::string_view::npos) j = list.size();
    std::string_view w = list.substr(i, j - i);
    while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
    while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
    if (w == "reflink") out.push_back(LinkType::kReflink);
    else if (w == "hardlink") out.push_back(LinkType::kHardlink);
    else if (w == "copy") out.push_back(LinkType::kCopy);
    else
      return Status::User("unknown link type '" + std::string(w) +
                          "'; use reflink, hardlink or copy");
    i = j + 1;
  }
  // Copy always works, so it is the implicit last resort.
  if (out.back() != LinkType::kCopy) out.push_back(LinkType::kCopy);
  return out;
}

Cache::Cache(std::string root, std::vector<LinkType> link_types)
    : root_(std::move(root)), link_types_(std::move(link_types)) {
  if (link_types_.empty()) link_types_.push_back(LinkType::kCopy);
}

std::string Cache::PathOf(const Oid& oid) const {
  std::string hex = oid.Hex();
  std::string p = root_;
  p += "/sha256/";
  p.append(hex, 0, 2);
  p += '/';
  p.append(hex, 2, std::string::npos);
  return p;
}

bool Cache::Has(const Oid& oid) const {
  struct stat st;
  return ::stat(PathOf(oid).c_str(), &st) == 0;
}

Status Cache::Prepare(const std::atomic<bool>* cancel) {
  std::string base = root_ + "/sha256";
  if (Exists(base + "/ff")) return Status::Ok();
  RETURN_IF_ERROR(MakeDirs(base));
  static const char kHex[] = "0123456789abcdef";
  // "ff" last: its presence tells the next command that all 256 exist.
  for (int i = 0; i < 256; i++) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return Status::Ok();
    if (made_[i].load(std::memory_order_relaxed)) continue;
    std::string d = base + "/" + kHex[i >> 4] + kHex[i & 15];
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::FromErrno("cannot create " + d, errno);
    made_[i].store(true, std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status Cache::ChooseLinkType(const std::string& workspace_dir) {
  // One probe per file system: a pipeline stores the outs of 1,000 stages.
  struct stat dir_st;
  if (::stat(workspace_dir.c_str(), &dir_st) == 0 && probed_dev_ == static_cast<int64_t>(dir_st.st_dev)) {
    type_index_ = probed_index_;
    return Status::Ok();
  }
  RETURN_IF_ERROR(MakeDirs(root_));
  ASSIGN_OR_RETURN(TempFile probe, TempFile::CreateBeside(root_ + "/probe"));
  RETURN_IF_ERROR(probe.Write("forja"));
  for (size_t i = 0; i < link_types_.size(); i++) {
    LinkType t = link_types_[i];
    bool works = t == LinkType::kCopy;
    std::string dst = TempNameBeside(workspace_dir + "/probe");
    if (t == LinkType::kHardlink) {
      works = ::link(probe.path().c_str(), dst.c_str()) == 0;
    } else if (t == LinkType::kReflink) {
      int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        Fd guard(fd);
        works = Reflink(probe.fd(), fd).ok();
      }
    }
    ::unlink(dst.c_str());
    if (works) {
      type_index_ = i;
      probed_index_ = i;
      if (::stat(workspace_dir.c_str(), &dir_st) == 0) probed_dev_ = static_cast<int64_t>(dir_st.st_dev);
      return Status::Ok();
    }
  }
  return Status::Internal("no link type works");
}

bool Cache::FallBack(size_t failed) {
  size_t expected = failed;
  if (failed + 1 >= link_types_.size()) return false;
  type_index_.compare_exchange_strong(expected, failed + 1);
  return true;
}

namespace {
bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}
}  // namespace

Status Cache::Store(const std::string& ws_path, const Oid& oid, const FileStat& hashed) {
  std::string obj = PathOf(oid);
  dirty_ = true;
  // Its folder is made on first use, unless Prepare() made all 256 at once:
  // a pipeline storing a few outs into a fresh cache should not pay for 256 mkdirs.
  if (!made_[oid.bytes[0]].load(std::memory_order_relaxed)) {
    RETURN_IF_ERROR(MakeDirs(Dirname(obj)));
    made_[oid.bytes[0]].store(true, std::memory_order_relaxed);
  }
  for (;;) {
    size_t idx = type_index_.load();
    LinkType type = link_types_[idx];
    struct stat obj_st;

    if (type == LinkType::kHardlink && IsSymlink(ws_path)) {
      // Hardlinking would make the symlink's target read-only and part of the
      // cache: the target is not what was named. Copy its bytes instead.
      ASSIGN_OR_RETURN(Oid copied, StoreCopy(ws_path));
      if (copied != oid) return Status::Conflict(ws_path + " changed while it was being added; add it again");
      return Status::Ok();
    }
    if (type == LinkType::kHardlink) {
      // New bytes: the workspace file becomes the object, and no byte is copied.
      // Read-only first, then linked: an object must never be writable, even if
      // the process dies between the two steps (a file already read-only is left
      // alone: a chmod would move its ctime for nothing).
      if ((hashed.mode & 0222) && ::chmod(ws_path.c_str(), 0444) != 0)
        return Status::FromErrno("chmod " + ws_path, errno);
      if (::linkat(AT_FDCWD, ws_path.c_str(), AT_FDCWD, obj.c_str(), 0) == 0) {
        struct stat now;
        if (::stat(obj.c_str(), &now) != 0) return Status::FromErrno("stat " + obj, errno);
        FileStat f = FileStat::From(now);
        if (f.ino == hashed.ino && (f.size != hashed.size || f.mtime_ns != hashed.mtime_ns)) {
          ::unlink(obj.c_str());
          return Status::Conflict(ws_path + " changed while it was being added; add it again");
        }
        return Status::Ok();
      }
      int err = errno;
      if (err != EEXIST) {
        if (hashed.mode & 0222) ::chmod(ws_path.c_str(), hashed.mode & 07777);  // not stored: mode back
        if (Unsupported(err) && FallBack(idx)) continue;
        return Status::FromErrno("cannot link " + ws_path + " into the cache", err);
      }
      // The bytes are cached already (an earlier version, a twin file, another thread).
      if (::stat(obj.c_str(), &obj_st) != 0) return Status::FromErrno("stat " + obj, errno);
      struct stat ws_st;
      if (::lstat(ws_path.c_str(), &ws_st) == 0 && ws_st.st_ino == obj_st.st_ino &&
          ws_st.st_dev == obj_st.st_dev) {
        // Already the same inode; repair the mode an older crash may have left.
        if ((obj_st.st_mode & 0222) && ::chmod(obj.c_str(), 0444) != 0)
          return Status::FromErrno("chmod " + obj, errno);
        return Status::Ok();
      }
      // Same bytes already cached: point the workspace at the cached inode.
      std::string tmp = TempNameBeside(ws_path);
      if (::link(obj.c_str(), tmp.c_str()) != 0) {
        if (Unsupported(errno) && FallBack(idx)) continue;
        return Status::FromErrno("cannot link " + obj + " into the workspace", errno);
      }
      if (::rename(tmp.c_str(), ws_path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return Status::FromErrno("cannot replace " + ws_path, e);
      }
      return Status::Ok();
    }

    // reflink/copy leave the workspace file alone.
    if (::stat(obj.c_str(), &obj_st) == 0) return Status::Ok();
    ASSIGN_OR_RETURN(Fd src, OpenRead(ws_path));
    ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(obj, 0444));
    if (type == LinkType::kReflink) {
      Status st = Reflink(src.get(), tmp.fd());
      if (!st.ok()) {
        if (FallBack(idx)) continue;
        return st;
      }
    } else {
      RETURN_IF_ERROR(CopyFd(src.get(), tmp.fd(), ws_path));
    }
    struct stat after;
    if (::fstat(src.get(), &after) == 0) {
      FileStat f = FileStat::From(after);
      if (f.size != hashed.size || f.mtime_ns != hashed.mtime_ns)
        return Status::Conflict(ws_path + " changed while it was being added; add it again");
    }
    return tmp.Publish(/*durable=*/false);
  }
}

Result<Oid> Cache::StoreBytes(std::string_view data) {
  Oid oid = Sha256::Of(data);
  std::string obj = PathOf(oid);
  if (Exists(obj)) return oid;
  RETURN_IF_ERROR(MakeDirs(Dirname(obj)));
  ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(obj, 0444));
  RETURN_IF_ERROR(tmp.Write(data));
  dirty_ = true;
  RETURN_IF_ERROR(tmp.Publish(/*durable=*/false));
  return oid;
}

Result<Oid> Cache::StoreCopy(const std::string& path) {
  ASSIGN_OR_RETURN(Fd src, OpenRead(path));
  struct stat before;
  if (::fstat(src.get(), &before) != 0) return Status::FromErrno("cannot stat " + path, errno);
  ASSIGN_OR_RETURN(Oid oid, HashFd(src.get(), path));
  std::string obj = PathOf(oid);
  if (!Exists(obj)) {
    RETURN_IF_ERROR(MakeDirs(Dirname(obj)));
    ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(obj, 0444));
    if (::lseek(src.get(), 0, SEEK_SET) != 0) return Status::FromErrno("cannot rewind " + path, errno);
    RETURN_IF_ERROR(CopyFd(src.get(), tmp.fd(), path));
    // The copy must be the bytes that were hashed.
    if (::lseek(tmp.fd(), 0, SEEK_SET) != 0) return Status::FromErrno("cannot read back " + tmp.path(), errno);
    ASSIGN_OR_RETURN(Oid copied, HashFd(tmp.fd(), tmp.path()));
    if (copied != oid) return Status::User(path + " changed while it was being stored; try again");
    dirty_ = true;
    RETURN_IF_ERROR(tmp.Publish(/*durable=*/false));
  }
  struct stat after;
  if (::fstat(src.get(), &after) == 0 &&
      (after.st_size != before.st_size || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
       after.st_mtim.tv_sec != before.st_mtim.tv_sec))
    return Status::User(path + " changed while it was being stored; try again");
  return oid;
}

Status Cache::Adopt(TempFile tmp, const Oid& /*oid*/) {
  dirty_ = true;
  return tmp.Publish(/*durable=*/false);
}

Status Cache::AdoptPath(const std::string& tmp_path, const Oid& oid) {
  std::string obj = PathOf(oid);
  struct stat st;
  if (::stat(obj.c_str(), &st) == 0) return RemoveFile(tmp_path);  // cached already (a twin, another thread)
  if (!made_[oid.bytes[0]].load(std::memory_order_relaxed)) {
    if (Status st = MakeDirs(Dirname(obj)); !st.ok()) {
      ::unlink(tmp_path.c_str());  // the temp file is ours to remove on every path
      return st;
    }
    made_[oid.bytes[0]].store(true, std::memory_order_relaxed);
  }
  dirty_ = true;
  if (::rename(tmp_path.c_str(), obj.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp_path.c_str());
    return Status::FromErrno("cannot rename into " + obj, e);
  }
  return Status::Ok();
}

Status Cache::Checkout(const Oid& oid, const std::string& ws_path, uint32_t mode) {
  std::string dir = Dirname(ws_path);
  Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) return Status::FromErrno("cannot open folder " + dir, errno);
  return CheckoutAt(oid, dirfd.get(), Basename(ws_path), mode, ws_path);
}

Status Cache::CheckoutAt(const Oid& oid, int dirfd, const std::string& name, uint32_t mode,
                         const std::string& shown) {
  std::string obj = PathOf(oid);
  std::string tmp = TempNameBeside(name);  // a bare name: beside `name` in dirfd
  auto not_cached = [&] { return Status::NotFound(ObjectKey(oid) + " is not in the cache"); };
  for (;;) {
    size_t idx = type_index_.load();
    LinkType type = link_types_[idx];
    if (type == LinkType::kHardlink) {
      // Nothing there yet (a fresh pull): one link, atomic by itself.
      if (::linkat(AT_FDCWD, obj.c_str(), dirfd, name.c_str(), 0) == 0) return Status::Ok();
      if (errno == ENOENT) return not_cached();
      if (::linkat(AT_FDCWD, obj.c_str(), dirfd, tmp.c_str(), 0) != 0) {
        if (errno == ENOENT) return not_cached();
        if (Unsupported(errno) && FallBack(idx)) continue;
        return Status::FromErrno("cannot link " + obj + " to " + shown, errno);
      }
      // rename() replaces a symlink at `name` itself, never its target.
      if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
        int e = errno;
        ::unlinkat(dirfd, tmp.c_str(), 0);
        return Status::FromErrno("cannot replace " + shown, e);
      }
      // rename() between two links of one inode succeeds without doing anything.
      ::unlinkat(dirfd, tmp.c_str(), 0);
      return Status::Ok();
    }
    int src = ::open(obj.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) {
      if (errno == ENOENT) return not_cached();
      return Status::FromErrno("cannot open " + obj, errno);
    }
    Fd guard(src);
    // A copy is the user's to edit: writable, executable if it was.
    mode_t m = (mode & 0111) ? 0755 : 0644;
    Fd out(::openat(dirfd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m));
    if (!out.valid()) return Status::FromErrno("cannot create a temp file beside " + shown, errno);
    Status st = type == LinkType::kReflink ? Reflink(src, out.get()) : CopyFd(src, out.get(), shown);
    out.Reset();
    if (st.ok() && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0)
      st = Status::FromErrno("cannot rename into " + shown, errno);
    if (st.ok()) return st;  // the workspace is rebuildable from the cache: no fsync per file
    ::unlinkat(dirfd, tmp.c_str(), 0);
    if (type == LinkType::kReflink && FallBack(idx)) continue;
    return st;
  }
}

Result<std::string> Cache::Read(const Oid& oid) const {
  auto r = ReadFile(PathOf(oid));
  if (!r.ok() && r.status().code() == Code::kNotFound)
    return Status::NotFound(ObjectKey(oid) + " is not in the cache");
  return r;
}

Result<std::vector<Oid>> Cache::List(std::vector<std::string>* temps) const { return ListObjects(root_, temps); }

Result<std::vector<Oid>> ListObjects(const std::string& root, std::vector<std::string>* temps) {
  std::vector<Oid> out;
  std::string base = JoinPath(root, "sha256");
  DIR* d = ::opendir(base.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return Status::FromErrno("cannot list " + base, errno);
  }
  std::vector<std::string> prefixes;
  while (dirent* e = ::readdir(d))
    if (std::strlen(e->d_name) == 2) prefixes.emplace_back(e->d_name);
  ::closedir(d);
  for (const auto& p : prefixes) {
    std::string sub = JoinPath(base, p);
    DIR* sd = ::opendir(sub.c_str());
    if (!sd) continue;
    while (dirent* e = ::readdir(sd)) {
      if (auto oid = Oid::FromHex(p + e->d_name)) out.push_back(*oid);
      else if (temps && IsTempName(e->d_name)) temps->push_back(sub + "/" + e->d_name);
    }
    ::closedir(sd);
  }
  return out;
}

Status Cache::Remove(const Oid& oid) { return RemoveFile(PathOf(oid)); }

Status Cache::Quarantine(const Oid& oid, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  std::string dst = dir + "/" + oid.Hex();
  if (::rename(PathOf(oid).c_str(), dst.c_str()) != 0)
    return Status::FromErrno("cannot quarantine " + PathOf(oid), errno);
  return Status::Ok();
}

Status Cache::Sync() {
  if (!dirty_.exchange(false)) return Status::Ok();
  return SyncFilesystem(root_);
}

}  // namespace forja
