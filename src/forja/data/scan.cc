#include "forja/data/scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <chrono>

#include "forja/cas/walk.h"
#include "forja/core/parallel.h"
#include "forja/core/path.h"

namespace forja {

int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Oid> HashFileStable(const std::string& path, FileStat* stat_out, Progress* progress) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == EACCES) return Status::User("cannot read " + path + ": permission denied");
    return Status::FromErrno("cannot open " + path, errno);
  }
  Fd guard(fd);
  struct stat before, after;
  if (::fstat(fd, &before) != 0) return Status::FromErrno("stat " + path, errno);
  if (!S_ISREG(before.st_mode)) return Status::User(path + ": not a regular file");
  ASSIGN_OR_RETURN(Oid oid, HashFd(
                                fd, path,
                                [&](size_t n) {
                                  if (progress) progress->Add(0, n);
                                },
                                before.st_size));
  if (::fstat(fd, &after) != 0) return Status::FromErrno("stat " + path, errno);
  FileStat b = FileStat::From(before), a = FileStat::From(after);
  if (a.size != b.size || a.mtime_ns != b.mtime_ns)
    return Status::Conflict(path + " changed while it was being hashed; retry when nothing writes to it");
  *stat_out = b;
  return oid;
}

namespace {

struct Item {
  std::string path;  // relative to the tracked path
  FileStat stat;     // lstat, or stat of the target for an in-repo symlink
};

// Resolves walk entries: in-repository symlinks to regular files are followed;
// any other symlink is refused.
Status ResolveItems(Workspace& ws, const std::string& rel, std::vector<WalkEntry>& walk,
                    std::vector<Item>* items) {
  items->reserve(walk.size());
  for (auto& w : walk) {
    // A .git inside data (say .git/config with core.fsmonitor) would run
    // commands the next time someone runs git there: refused, as git does.
    if (Status bad = CheckUntrustedPath(w.path, PathBase::kFolder); !bad.ok())
      return Status::User(JoinPath(rel, w.path) + ": " + bad.message() +
                          "; forja does not track it: move it out of " + rel);
    if (w.symlink) {
      std::string full = JoinPath(rel, w.path);
      RETURN_IF_ERROR(ResolveInRepo(ws.root(), ws.root(), full).status());
      struct stat st;
      if (::stat(ws.Abs(full).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return Status::User(full + ": symlink to something that is not a regular file");
      w.stat = FileStat::From(st);
    }
    items->push_back({std::move(w.path), w.stat});
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<ScanResult>> ScanPath(Workspace& ws, const std::string& rel,
                                           const std::optional<Snapshot>& snap, int jobs,
                                           Progress* progress, bool cheap_only, bool find_temps) {
  ScanResult res;
  std::string abs = ws.Abs(rel);
  struct stat st;
  // A tracked file's temp files sit beside it: .<name>.tmp-<pid>-<n>.
  if (!rel.empty() && find_temps) {
    std::string parent = Dirname(abs), prefix = "." + Basename(abs) + ".tmp-";
    if (DIR* d = ::opendir(parent.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n.substr(0, prefix.size()) == prefix && IsTempName(n))
          res.stale_temps.push_back(JoinPath(Dirname(rel), n));
      }
      ::closedir(d);
    }
  }
  if (::stat(abs.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<ScanResult>(res);
    return Status::FromErrno("cannot stat " + abs, errno);
  }
  res.exists = true;
  std::vector<Item> items;
  if (S_ISDIR(st.st_mode)) {
    res.is_dir = true;
    std::vector<std::string> temps;
    ASSIGN_OR_RETURN(auto walk, WalkTree(abs, &temps));
    for (auto& t : temps) res.stale_temps.push_back(rel + "/" + t);
    RETURN_IF_ERROR(ResolveItems(ws, rel, walk, &items));
  } else if (S_ISREG(st.st_mode)) {
    items.push_back({"", FileStat::From(st)});
  } else {
    return Status::User(rel + ": not a regular file or folder");
  }

  size_t n = items.size();
  res.entries.resize(n);
  res.stamps.resize(n);
  std::vector<size_t> to_hash;
  for (size_t i = 0; i < n; i++) {
    const Item& it = items[i];
    res.entries[i].path = it.path;
    res.entries[i].size = it.stat.size;
    // Only the executable bit is versioned (as in git): hardlinked files are read-only
    // in the workspace, and that must not read as a change.
    res.entries[i].mode = (it.stat.mode & 0111) ? 0755 : 0644;
    res.stamps[i].path = it.path;
    res.stamps[i].stat = it.stat;
    const StampedFile* known = snap ? snap->Find(it.path) : nullptr;
    if (known && snap->Trusts(*known, it.stat)) {
      res.entries[i].oid = known->oid;
      res.stamps[i].oid = known->oid;
    } else {
      if (cheap_only) return std::optional<ScanResult>();
      to_hash.push_back(i);
    }
    res.bytes += it.stat.size;
  }
  if (progress) progress->AddTotal(to_hash.size());
  RETURN_IF_ERROR(ParallelFor(to_hash.size(), jobs, [&](size_t k) {
    size_t i = to_hash[k];
    std::string path = res.is_dir ? abs + "/" + items[i].path : abs;
    FileStat fs;
    ASSIGN_OR_RETURN(Oid oid, HashFileStable(path, &fs, progress));
    res.entries[i].oid = oid;
    res.stamps[i].oid = oid;
    res.stamps[i].stat = fs;
    if (progress) progress->Add(1);
    return Status::Ok();
  }));
  res.hashed_files = to_hash.size();
  if (to_hash.empty() && snap && snap->files.size() == n && snap->oid != Oid{}) {
    // Every file matched the snapshot and the sets are equal (paths are unique), so
    // the tree is the snapshot's: skip re-serializing a manifest of n entries.
    res.oid = snap->oid;
    return std::optional<ScanResult>(std::move(res));
  }
  if (res.is_dir) {
    res.manifest_text = SerializeManifest(res.entries);
    res.oid = Sha256::Of(res.manifest_text);
  } else {
    res.oid = res.entries[0].oid;
  }
  return std::optional<ScanResult>(std::move(res));
}

Status RemoveStaleTemps(Workspace& ws, const ScanResult& scan) {
  for (const auto& t : scan.stale_temps) {
    // Never through a symlink: the folder may be a repository's.
    auto dir = OpenDirNoFollow(ws.root(), Dirname(t), /*create=*/false);
    if (!dir.ok()) return dir.status().code() == Code::kNotFound ? Status::Ok() : dir.status();
    RETURN_IF_ERROR(RemoveFileAt(dir->get(), Basename(t), t));
  }
  return Status::Ok();
}

Status SaveSnapshot(Workspace& ws, const std::string& rel, const ScanResult& scan, int jobs,
                    bool same_mtime) {
  Snapshot snap;
  snap.oid = scan.oid;
  snap.files = scan.stamps;
  std::string abs = ws.Abs(rel);
  std::vector<char> keep(snap.files.size(), 0);
  // Taken before the stats are read: the conservative end of the racy window.
  snap.taken_ns = WallClockNs();
  RETURN_IF_ERROR(ParallelFor(snap.files.size(), jobs, [&](size_t i) {
    StampedFile& f = snap.files[i];
    std::string path = scan.is_dir ? abs + "/" + f.path : abs;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::Ok();  // gone: not remembered
    FileStat now = FileStat::From(st);
    keep[i] = now.size == f.stat.size && (!same_mtime || now.mtime_ns == f.stat.mtime_ns);
    f.stat = now;
    return Status::Ok();
  }));
  size_t w = 0;
  for (size_t i = 0; i < snap.files.size(); i++)
    if (keep[i]) {
      if (w != i) snap.files[w] = std::move(snap.files[i]);  // never self-move: it empties
      w++;
    }
  // A snapshot missing files no longer describes the whole tree: void its oid.
  if (w != snap.files.size()) snap.oid = Oid{};
  snap.files.resize(w);
  ASSIGN_OR_RETURN(StateDb * db, ws.state());
  return db->Put(rel, snap);
}

}  // namespace forja
