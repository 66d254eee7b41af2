#include "forja/remote/local_remote.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "forja/core/fs.h"
#include "forja/core/parallel.h"

namespace forja {

namespace {

class LocalRemote : public Remote {
 public:
  explicit LocalRemote(std::string root) : root_(std::move(root)) {}

  std::string Describe() const override { return root_; }

  Result<std::vector<bool>> Has(const std::vector<Oid>& oids, int jobs) override {
    // Many objects: one listing (256 readdirs) is cheaper than a stat per object.
    if (oids.size() > 4096) {
      ASSIGN_OR_RETURN(auto listed, List());
      std::unordered_set<Oid, OidHash> present(listed.begin(), listed.end());
      std::vector<bool> has(oids.size());
      for (size_t i = 0; i < oids.size(); i++) has[i] = present.count(oids[i]) > 0;
      return has;
    }
    std::vector<bool> has(oids.size());
    std::vector<char> tmp(oids.size());  // vector<bool> is not thread-safe per element
    RETURN_IF_ERROR(ParallelFor(oids.size(), jobs, [&](size_t i) {
      struct stat st;
      tmp[i] = ::stat(PathOf(oids[i]).c_str(), &st) == 0;
      return Status::Ok();
    }));
    for (size_t i = 0; i < oids.size(); i++) has[i] = tmp[i];
    return has;
  }

  Status Put(const Oid& oid, const std::string& path, uint64_t) override {
    std::string dst = PathOf(oid);
    RETURN_IF_ERROR(PrepareFolders());
    ASSIGN_OR_RETURN(Fd src, OpenRead(path));
    ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(dst, 0444));
    RETURN_IF_ERROR(CopyFd(src.get(), tmp.fd(), dst));
    // Durability comes from one syncfs per batch (Sync), not an fsync per object.
    return tmp.Publish(/*durable=*/false);
  }

  Status Get(const Oid& oid, int fd) override { return GetPath(PathOf(oid), ObjectKey(oid), fd); }

  Status GetKey(const std::string& key, int fd) override { return GetPath(JoinPath(root_, key), key, fd); }

  Status GetPath(const std::string& src_path, const std::string& key, int fd) {
    int src = ::open(src_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(key + " is not on remote " + root_);
      return Status::FromErrno("cannot open " + src_path, errno);
    }
    Fd guard(src);
    if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0)
      return Status::FromErrno("truncating download", errno);
    return CopyFd(src, fd, "the download of " + src_path);
  }

  Result<std::vector<Oid>> List() override { return ListObjects(root_); }

  Status Flush() override {
    if (!Exists(root_)) return Status::Ok();
    return SyncFilesystem(root_);
  }

  Status Remove(const Oid& oid) override { return RemoveFile(PathOf(oid)); }

  Status Quarantine(const Oid& oid) override {
    std::string dir = JoinPath(root_, "quarantine");
    RETURN_IF_ERROR(MakeDirs(dir));
    std::string dst = JoinPath(dir, oid.Hex());
    if (::rename(PathOf(oid).c_str(), dst.c_str()) != 0)
      return Status::FromErrno("cannot quarantine " + PathOf(oid), errno);
    return Status::Ok();
  }

 private:
  std::string PathOf(const Oid& oid) const { return JoinPath(root_, ObjectKey(oid)); }

  // sha256/00..ff, made once per process instead of a mkdir per object.
  Status PrepareFolders() {
    std::call_once(prepared_, [this] {
      prepare_status_ = MakeDirs(JoinPath(root_, "sha256"));
      static const char kHex[] = "0123456789abcdef";
      for (int i = 0; i < 256 && prepare_status_.ok(); i++) {
        std::string d = JoinPath(root_, std::string("sha256/") + kHex[i >> 4] + kHex[i & 15]);
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
          prepare_status_ = Status::FromErrno("cannot create " + d, errno);
      }
    });
    return prepare_status_;
  }

  std::string root_;
  std::once_flag prepared_;
  Status prepare_status_;
};

}  // namespace

Result<std::unique_ptr<Remote>> OpenLocalRemote(const RemoteConfig& cfg, const std::string& path) {
  if (path.empty() || path[0] != '/')
    return Status::User("remote '" + cfg.name + "': path '" + path + "' must be absolute");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return Status::User("remote '" + cfg.name + "': " + path + " is not a folder");
  return std::unique_ptr<Remote>(new LocalRemote(path));
}

}  // namespace forja
