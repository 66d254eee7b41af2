#include "forja/core/user_dirs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "forja/core/fs.h"

namespace forja {

namespace {

std::string Octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Another user's folder (or a symlink to one) would hand them what forja stores
// and, worse, let them plant what forja reads back.
Status CheckPrivate(const std::string& dir, bool shared_parent) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return Status::FromErrno("cannot use the cache folder " + dir, errno);
  const std::string fix = "; remove it, or set XDG_CACHE_HOME to a folder of yours";
  if (S_ISLNK(st.st_mode)) return Status::User("the cache folder " + dir + " is a symlink, refused" + fix);
  if (!S_ISDIR(st.st_mode)) return Status::User("the cache folder " + dir + " is not a folder" + fix);
  if (st.st_uid != ::geteuid())
    return Status::User("the cache folder " + dir + " belongs to uid " + std::to_string(st.st_uid) +
                        ", not to you (uid " + std::to_string(::geteuid()) + "), refused" + fix);
  mode_t open_bits = shared_parent ? 077 : 022;
  if (st.st_mode & open_bits)
    return Status::User("the cache folder " + dir + " has mode " + Octal(st.st_mode) + ": others can " +
                        ((st.st_mode & 022) ? "write" : "read") + " it, refused; run chmod 700 " + dir +
                        " (or remove it)");
  return Status::Ok();
}

}  // namespace

Result<std::string> UserCacheDir() {
  // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
  std::string base;
  bool shared = false;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && x[0] == '/') {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h && h[0] == '/') {
    base = std::string(h) + "/.cache";
  } else {
    const char* t = std::getenv("TMPDIR");
    base = t && t[0] == '/' ? t : "/tmp";
    shared = true;
  }
  std::string dir = shared ? base + "/forja-" + std::to_string(::geteuid()) : base + "/forja";
  if (!shared) RETURN_IF_ERROR(MakeDirs(base, 0700));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::FromErrno("cannot create the cache folder " + dir, errno);
  RETURN_IF_ERROR(CheckPrivate(dir, shared));
  return dir;
}

}  // namespace forja
