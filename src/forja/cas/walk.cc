#include "forja/cas/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "forja/core/parallel.h"

namespace forja {

namespace {

// One folder's files, still to be stat'ed: names[begin, end) of folder `dir`.
struct Batch {
  size_t dir;
  size_t begin, end;  // into Listing::names
  size_t out;         // first slot in the output
};

struct Listing {
  std::vector<std::string> dirs;   // relative paths ("" for the top)
  std::vector<std::string> names;  // file names, grouped by folder
  std::vector<Batch> batches;
};

// Phase 1, serial: readdir every folder. d_type tells folders apart without a stat.
Status ListDir(const std::string& top, const std::string& rel, Listing* l,
               std::vector<std::string>* temps) {
  std::string path = rel.empty() ? top : top + "/" + rel;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (rel.empty() ? 0 : O_NOFOLLOW));
  if (fd < 0) return Status::FromErrno("cannot open folder " + path, errno);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return Status::FromErrno("cannot read folder " + path, errno);
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  size_t dir_index = l->dirs.size();
  l->dirs.push_back(rel);
  size_t first = l->names.size();
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    const char* name = e->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    if (IsTempName(name)) {
      if (temps) temps->push_back(rel.empty() ? std::string(name) : rel + "/" + name);
      continue;
    }
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) subdirs.push_back(name);
    else l->names.push_back(name);
  }
  // Batches of at most 2048 names so a single huge folder still spreads over threads.
  for (size_t b = first; b < l->names.size(); b += 2048)
    l->batches.push_back({dir_index, b, std::min(b + 2048, l->names.size()), b});
  for (const auto& s : subdirs) RETURN_IF_ERROR(ListDir(top, rel.empty() ? s : rel + "/" + s, l, temps));
  return Status::Ok();
}

}  // namespace

Result<std::vector<WalkEntry>> WalkTree(const std::string& dir, std::vector<std::string>* temps) {
  Listing l;
  RETURN_IF_ERROR(ListDir(dir, "", &l, temps));
  // Phase 2, parallel: stat every file (most of the time of a status lies here).
  std::vector<WalkEntry> out(l.names.size());
  RETURN_IF_ERROR(ParallelFor(l.batches.size(), DefaultJobs(), [&](size_t k) {
    const Batch& b = l.batches[k];
    const std::string& rel = l.dirs[b.dir];
    std::string path = rel.empty() ? dir : dir + "/" + rel;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("cannot open folder " + path, errno);
    Fd guard(fd);
    for (size_t i = b.begin; i < b.end; i++) {
      const std::string& name = l.names[i];
      WalkEntry& e = out[b.out + (i - b.begin)];
      e.path = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return Status::FromErrno("cannot stat " + JoinPath(dir, e.path), errno);
      if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return Status::User(JoinPath(dir, e.path) +
                            ": not a regular file (sockets, fifos and devices cannot be tracked)");
      e.stat = FileStat::From(st);
      e.symlink = S_ISLNK(st.st_mode);
    }
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace forja
