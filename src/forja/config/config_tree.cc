#include "forja/config/config_tree.h"

#include "forja/config/yaml_fast.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "forja/core/fs.h"

namespace forja::config {

namespace {

constexpr std::string_view kYaml = ".yaml";

// A path made of plain names: no empty, "." or ".." components. Such paths can
// be answered from folder listings; anything else is asked of the file system.
bool IsPlain(std::string_view p) {
  if (p.empty()) return true;
  size_t start = 0;
  for (;;) {
    size_t slash = p.find('/', start);
    std::string_view c = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (c.empty() || c == "." || c == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::pair<std::string_view, std::string_view> SplitLast(std::string_view p) {
  size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), p};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

}  // namespace

ConfigTree::ConfigTree(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) root_ = ".";
}

std::string ConfigTree::Abs(std::string_view rel) const {
  if (rel.empty()) return root_;
  std::string out = root_;
  out += '/';
  out += rel;
  return out;
}

std::string ConfigTree::FileName(std::string_view config_path) const {
  std::string rel(config_path);
  if (!rel.ends_with(kYaml)) rel += kYaml;
  if (root_ == ".") return rel;
  return Abs(rel);
}

const ConfigTree::Dir& ConfigTree::List(std::string_view rel) {
  auto it = dirs_.find(std::string(rel));
  if (it != dirs_.end()) return it->second;
  Dir d;
  std::string path = Abs(rel);
  if (DIR* dir = ::opendir(path.c_str())) {
    d.exists = true;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || name == "__pycache__" || name == "__init__.py") continue;
      unsigned char type = e->d_type;
      if (type == DT_LNK || type == DT_UNKNOWN) {  // follow links, as Hydra's isdir/isfile do
        struct stat st;
        std::string full = path + "/" + std::string(name);
        if (::stat(full.c_str(), &st) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        d.groups.emplace_back(name);
      } else if (type == DT_REG && name.ends_with(kYaml)) {
        d.configs.emplace_back(name.substr(0, name.size() - kYaml.size()));
      }
    }
    ::closedir(dir);
    std::sort(d.groups.begin(), d.groups.end());
    std::sort(d.configs.begin(), d.configs.end());
  }
  return dirs_.emplace(std::string(rel), std::move(d)).first->second;
}

bool ConfigTree::RootExists() { return List("").exists; }

bool ConfigTree::IsGroup(std::string_view group_path) {
  if (group_path.empty()) return RootExists();
  if (!IsPlain(group_path)) {
    struct stat st;
    return ::stat(Abs(group_path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  auto [parent, name] = SplitLast(group_path);
  const Dir& d = List(parent);
  return std::binary_search(d.groups.begin(), d.groups.end(), name);
}

std::vector<std::string> ConfigTree::Options(std::string_view group_path) {
  if (!IsPlain(group_path)) return {};
  return List(group_path).configs;
}

std::vector<std::string> ConfigTree::Subgroups(std::string_view group_path) {
  if (!IsPlain(group_path)) return {};
  return List(group_path).groups;
}

std::vector<std::string> ConfigTree::AllGroups() {
  std::vector<std::string> out;
  std::vector<std::string> todo = {""};
  while (!todo.empty()) {
    std::string g = std::move(todo.back());
    todo.pop_back();
    if (!g.empty()) out.push_back(g);
    const Dir& d = List(g);
    for (auto it = d.groups.rbegin(); it != d.groups.rend(); ++it)
      todo.push_back(g.empty() ? *it : g + "/" + *it);
  }
  return out;
}

Result<std::optional<std::string>> ParsePackageHeader(std::string_view text, const std::string& file) {
  // Python's f.read(512) reads characters; count UTF-8 lead bytes.
  size_t end = 0, chars = 0;
  while (end < text.size() && chars < 512) {
    end++;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) end++;
    chars++;
  }
  std::string_view head = text.substr(0, end);
  std::optional<std::string> package;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find_first_of("\r\n", pos);
    std::string_view line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    if (nl != std::string_view::npos && head[nl] == '\r' && pos < head.size() && head[pos] == '\n') pos++;
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty()) continue;
    // ^\s*#\s*@
    size_t i = 0;
    if (line[i] != '#') break;
    i++;
    while (i < line.size() && is_space(line[i])) i++;
    if (i >= line.size() || line[i] != '@') break;
    // line.lstrip("#").strip(), then split on single spaces, dropping empties.
    std::string_view rest = line;
    while (!rest.empty() && rest.front() == '#') rest.remove_prefix(1);
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    std::vector<std::string_view> parts;
    size_t s = 0;
    while (s <= rest.size()) {
      size_t sp = rest.find(' ', s);
      std::string_view part = rest.substr(s, sp == std::string_view::npos ? std::string_view::npos : sp - s);
      if (!part.empty()) parts.push_back(part);
      if (sp == std::string_view::npos) break;
      s = sp + 1;
    }
    if (parts.size() < 2)
      return Status::User(file + ": expected a header of the form '# @KEY VALUE', got '" + std::string(rest) +
                          "'; write e.g. '# @package db'");
    if (parts.size() > 2)
      return Status::User(file + ": too many components in the header '" + std::string(rest) +
                          "'; write e.g. '# @package db'");
    auto trim = [&](std::string_view v) {
      while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
      while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
      return v;
    };
    std::string_view key = trim(parts[0]), val = trim(parts[1]);
    if (key == "@package") package = std::string(val);
  }
  return package;
}

Result<const ConfigFile*> ConfigTree::Load(std::string_view config_path) {
  std::string key(config_path);
  auto it = files_.find(key);
  if (it != files_.end()) return static_cast<const ConfigFile*>(it->second.get());

  std::string rel = key;
  if (!rel.ends_with(kYaml)) rel += kYaml;
  // Open directly: a missing file (or a folder) is simply not a config.
  int fd = ::open(Abs(rel).c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    ::close(fd);
    fd = -1;
    errno = ENOENT;
  }
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
      files_.emplace(key, nullptr);
      return static_cast<const ConfigFile*>(nullptr);
    }
    return Status::FromErrno("cannot read " + FileName(key), errno);
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  for (;;) {
    if (got == text.size()) text.resize(text.size() * 2 + 4096);
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("reading " + FileName(key), err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);

  auto f = std::make_unique<ConfigFile>();
  f->config_path = key;
  f->file = FileName(key);
  ASSIGN_OR_RETURN(f->package_header, ParsePackageHeader(text, f->file));
  ASSIGN_OR_RETURN(Node doc, ParseConfigYaml(text, f->file));
  if (doc.is_null()) {
    doc = Node::Map();
    doc.set_origin(f->file + ":1");
  }
  if (doc.is_map()) {
    auto& entries = doc.entries();
    for (auto e = entries.begin(); e != entries.end(); ++e) {
      if (e->first == "defaults") {
        f->has_defaults = true;
        f->defaults = std::move(e->second);
        entries.erase(e);
        break;
      }
    }
  } else if (!doc.is_list()) {
    return Status::User(doc.origin() + ": a config file must hold a mapping (got a " + doc.KindName() +
                        "); write key: value lines");
  }
  f->config = std::move(doc);
  const ConfigFile* out = f.get();
  files_[key] = std::move(f);
  return out;
}

}  // namespace forja::config

namespace forja::config {

Node ConfigTree::TakeConfig(std::string_view config_path) {
  auto it = files_.find(std::string(config_path));
  if (it == files_.end() || !it->second) return Node();
  return std::move(it->second->config);
}

}  // namespace forja::config
