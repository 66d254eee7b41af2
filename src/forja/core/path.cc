#include "forja/core/path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/strings.h"

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

namespace {

// The length of an HFS+ ignorable code point encoded in UTF-8 at s[i], or 0.
size_t HfsIgnorableAt(std::string_view s, size_t i) {
  if (i + 3 > s.size()) return 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b(0) == 0xe2 && b(1) == 0x80 && ((b(2) >= 0x8c && b(2) <= 0x8f) || (b(2) >= 0xaa && b(2) <= 0xae)))
    return 3;  // U+200C..U+200F, U+202A..U+202E
  if (b(0) == 0xe2 && b(1) == 0x81 && b(2) >= 0xaa && b(2) <= 0xaf) return 3;  // U+206A..U+206F
  if (b(0) == 0xef && b(1) == 0xbb && b(2) == 0xbf) return 3;                  // U+FEFF
  return 0;
}

// The first component of a repository-relative path.
std::string_view FirstComponent(std::string_view rel) { return rel.substr(0, rel.find('/')); }

}  // namespace

bool IsGitReservedName(std::string_view name) {
  if (name.size() < 4) return false;  // hot: called for every file of a scanned folder
  // HFS+ ignores some code points when comparing names: drop them first.
  std::string folded;
  std::string_view n = name;
  if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    for (size_t i = 0; i < name.size();) {
      if (size_t k = HfsIgnorableAt(name, i)) {
        i += k;
        continue;
      }
      folded.push_back(name[i++]);
    }
    n = folded;
  }
  // NTFS: "name:stream" is the file "name"; "\\" separates folders there.
  n = n.substr(0, std::min(n.find(':'), n.find('\\')));
  // NTFS drops trailing dots and spaces.
  while (!n.empty() && (n.back() == '.' || n.back() == ' ')) n.remove_suffix(1);
  return EqualsNoCase(n, ".git") || EqualsNoCase(n, "git~1");
}

bool IsReservedPath(std::string_view rel) {
  if (EqualsNoCase(FirstComponent(rel), ".forja")) return true;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = std::min(rel.find('/', i), rel.size());
    if (IsGitReservedName(rel.substr(i, j - i))) return true;
    i = j + 1;
  }
  return false;
}

Status CheckUntrustedPath(std::string_view rel, PathBase base) {
  auto quoted = [&] { return "'" + std::string(rel) + "'"; };
  if (rel.empty()) return Status::User("the path is empty");
  if (rel.find('\0') != std::string_view::npos) return Status::User(quoted() + " contains a NUL byte");
  if (rel[0] == '/') return Status::User(quoted() + " is an absolute path; only paths inside the repository are allowed");
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = std::min(rel.find('/', i), rel.size());
    std::string_view part = rel.substr(i, j - i);
    if (part.empty()) return Status::User(quoted() + " has an empty component (a leading, doubled or trailing '/')");
    if (part == "." || part == "..")
      return Status::User(quoted() + " has a '" + std::string(part) + "' component; only normalized paths are allowed");
    if (IsGitReservedName(part)) {
      if (part == ".git") return Status::User(quoted() + " is inside .git, which belongs to git");
      return Status::User(quoted() + " has the component '" + std::string(part) +
                          "', which git refuses in a tree (it names .git on some file systems)");
    }
    i = j + 1;
  }
  if (base == PathBase::kRepository && EqualsNoCase(FirstComponent(rel), ".forja"))
    return Status::User(quoted() + " is inside .forja, which belongs to forja");
  return Status::Ok();
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
  if (!abs.starts_with(prefix)) return false;
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
    return Status::User(user_path + ": " + CheckUntrustedPath(rel).message() + "; forja does not track it");

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
