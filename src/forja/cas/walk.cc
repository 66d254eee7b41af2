#include "forja/cas/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace forja {

namespace {

Status WalkDir(int dirfd, const std::string& rel, const std::string& shown,
               std::vector<WalkEntry>* out, std::vector<std::string>* temps) {
  DIR* d = ::fdopendir(dirfd);
  if (!d) {
    ::close(dirfd);
    return Status::FromErrno("cannot read folder " + shown, errno);
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  std::vector<std::string> subdirs;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    const char* name = e->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    std::string child = rel.empty() ? std::string(name) : rel + "/" + name;
    if (IsTempName(name)) {
      if (temps) temps->push_back(child);
      continue;
    }
    if (e->d_type == DT_DIR) {
      subdirs.push_back(name);
      continue;
    }
    struct stat st;
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Status::FromErrno("cannot stat " + JoinPath(shown, child), errno);
    if (S_ISDIR(st.st_mode)) {
      subdirs.push_back(name);
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
      return Status::User(JoinPath(shown, child) +
                          ": not a regular file (sockets, fifos and devices cannot be tracked)");
    out->push_back({child, FileStat::From(st), S_ISLNK(st.st_mode)});
  }
  for (const auto& name : subdirs) {
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (fd < 0) return Status::FromErrno("cannot open folder " + JoinPath(shown, child), errno);
    RETURN_IF_ERROR(WalkDir(fd, child, shown, out, temps));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<WalkEntry>> WalkTree(const std::string& dir, std::vector<std::string>* temps) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open folder " + dir, errno);
  std::vector<WalkEntry> out;
  RETURN_IF_ERROR(WalkDir(fd, "", dir, &out, temps));
  std::sort(out.begin(), out.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace forja
