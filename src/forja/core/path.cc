#include "forja/core/path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <vector>

#include "forja/core/fs.h"

namespace forja {

std::string NormalizeAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

bool IsReservedPath(std::string_view rel) {
  for (std::string_view r : {std::string_view(".git"), std::string_view(".forja")}) {
    if (rel == r || (rel.size() > r.size() && rel.substr(0, r.size()) == r && rel[r.size()] == '/'))
      return true;
  }
  return false;
}

std::string CurrentDir() {
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr) return "/";
  return buf;
}

namespace {

// "" when `abs` is `root`, the relative rest when inside, nullopt-like "\x01" when outside.
bool RelativeTo(const std::string& root, const std::string& abs, std::string* rel) {
  if (abs == root) {
    rel->clear();
    return true;
  }
  std::string prefix = root == "/" ? "/" : root + "/";
  if (abs.compare(0, prefix.size(), prefix) != 0) return false;
  *rel = abs.substr(prefix.size());
  return true;
}

}  // namespace

Result<std::string> ResolveInRepo(const std::string& root, const std::string& cwd,
                                  const std::string& user_path) {
  if (user_path.empty()) return Status::User("empty path");
  std::string abs = NormalizeAbsolute(user_path[0] == '/' ? user_path : cwd + "/" + user_path);
  std::string rel;
  if (!RelativeTo(root, abs, &rel))
    return Status::User(user_path + ": path is outside the repository " + root);
  if (IsReservedPath(rel))
    return Status::User(user_path + ": path is inside " +
                        std::string(rel.substr(0, rel.find('/'))) +
                        ", which forja does not track");

  // Walk each component: a symlink whose target leaves the repository is refused.
  std::string cur = root;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    cur = JoinPath(cur, rel.substr(i, j - i));
    i = j + 1;
    struct stat st;
    if (::lstat(cur.c_str(), &st) != 0) break;  // missing: the caller reports it
    if (!S_ISLNK(st.st_mode)) continue;
    char real[PATH_MAX];
    if (::realpath(cur.c_str(), real) == nullptr)
      return Status::User(user_path + ": symlink " + cur + " points nowhere");
    std::string target_rel;
    if (!RelativeTo(root, real, &target_rel) || IsReservedPath(target_rel))
      return Status::User(user_path + ": symlink " + cur + " leads outside the repository (to " +
                          real + ")");
  }
  return rel;
}

}  // namespace forja
