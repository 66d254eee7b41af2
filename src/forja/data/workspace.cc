#include "forja/data/workspace.h"

#include "forja/data/lockfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/subprocess.h"

namespace forja {

namespace {

constexpr char kManifestName[] = "forja.yaml";

constexpr char kManifestTemplate[] = R"(# forja.yaml: the project manifest. Version it in git.

cache:
  # How a workspace file shares bytes with its cached copy, first that works:
  #   reflink  - a copy-on-write clone (btrfs, xfs): free, and editable
  #   hardlink - the same inode: free, and read-only so an edit cannot corrupt the cache
  #   copy     - a full copy: costs space, always works
  link: [reflink, hardlink, copy]

# Where `forja push` sends objects and `forja pull` fetches them. Managed with
# `forja remote add|remove|default`; each remote is a folder or an S3 bucket:
#   store: {url: /mnt/shared/forja}
#   s3:    {url: s3://bucket/prefix, endpoint: http://127.0.0.1:9000, region: us-east-1}
remotes: {}
default_remote: ""
)";

// Top-level keys that later parts of forja.yaml use; accepted and ignored here.
const std::set<std::string> kOtherSections = {"config", "stages", "models", "tracking",
                                              "serve", "monitor", "params"};

const std::set<std::string> kGitignoreEntries = {"/.forja/"};

std::string QuoteYaml(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Status YamlError(const std::string& name, const YAML::Node& node, const std::string& what) {
  int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  return Status::User(name + ":" + std::to_string(line) + ": " + what);
}

Result<std::string> ScalarOf(const std::string& name, const YAML::Node& node,
                             const std::string& field) {
  if (!node.IsScalar()) return YamlError(name, node, field + ": must be a single value");
  return node.Scalar();
}

// A mapping key; yaml-cpp allows lists and mappings as keys, forja.yaml does not.
Result<std::string> KeyOf(const std::string& name, const YAML::Node& key, const std::string& where) {
  if (!key.IsScalar()) return YamlError(name, key, where + "keys must be plain names");
  return key.Scalar();
}

}  // namespace

const RemoteConfig* ProjectConfig::FindRemote(const std::string& name) const {
  for (const auto& r : remotes)
    if (r.name == name) return &r;
  return nullptr;
}

Result<ProjectConfig> ParseProjectConfig(const std::string& text, const std::string& name) {
  ProjectConfig cfg;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::User(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  }
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return YamlError(name, root, "the manifest must be a mapping of sections");
  for (const auto& kv : root) {
    ASSIGN_OR_RETURN(std::string key, KeyOf(name, kv.first, ""));
    const YAML::Node& v = kv.second;
    if (key == "cache") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) return YamlError(name, v, "cache: must be a mapping");
      for (const auto& c : v) {
        ASSIGN_OR_RETURN(std::string ck, KeyOf(name, c.first, "cache: "));
        if (ck != "link") return YamlError(name, c.first, "cache." + ck + ": unknown field (known: link)");
        std::string joined;
        if (c.second.IsSequence()) {
          for (const auto& item : c.second) {
            ASSIGN_OR_RETURN(std::string s, ScalarOf(name, item, "cache.link"));
            joined += (joined.empty() ? "" : ",") + s;
          }
        } else {
          ASSIGN_OR_RETURN(joined, ScalarOf(name, c.second, "cache.link"));
        }
        auto types = ParseLinkTypes(joined);
        if (!types.ok()) return YamlError(name, c.second, "cache.link: " + types.status().message());
        cfg.link_types = *types;
      }
    } else if (key == "remotes") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) return YamlError(name, v, "remotes: must be a mapping of name to settings");
      for (const auto& r : v) {
        RemoteConfig rc;
        ASSIGN_OR_RETURN(rc.name, KeyOf(name, r.first, "remotes: "));
        if (cfg.FindRemote(rc.name))
          return YamlError(name, r.first, "remotes." + rc.name + ": defined twice");
        if (!r.second.IsMap())
          return YamlError(name, r.second, "remotes." + rc.name + ": must be a mapping with url");
        for (const auto& o : r.second) {
          ASSIGN_OR_RETURN(std::string ok, KeyOf(name, o.first, "remotes." + rc.name + ": "));
          ASSIGN_OR_RETURN(std::string val, ScalarOf(name, o.second, "remotes." + rc.name + "." + ok));
          if (ok == "url") rc.url = val;
          else rc.options[ok] = val;
        }
        if (rc.url.empty())
          return YamlError(name, r.second, "remotes." + rc.name + ": missing field 'url'");
        cfg.remotes.push_back(std::move(rc));
      }
    } else if (key == "default_remote") {
      ASSIGN_OR_RETURN(cfg.default_remote, ScalarOf(name, v, "default_remote"));
    } else if (!kOtherSections.count(key)) {
      return YamlError(name, kv.first, key + ": unknown section");
    }
  }
  if (!cfg.default_remote.empty() && !cfg.FindRemote(cfg.default_remote))
    return Status::User(name + ": default_remote '" + cfg.default_remote +
                        "' is not one of the remotes; run forja remote default NAME");
  return cfg;
}

Workspace::Workspace(std::string root, ProjectConfig config)
    : root_(std::move(root)), config_(std::move(config)) {
  cache_ = std::make_unique<Cache>(root_ + "/.forja/cache", config_.link_types);
}

std::string Workspace::Abs(const std::string& rel) const {
  return rel.empty() ? root_ : root_ + "/" + rel;
}

Status Workspace::Init(const std::string& dir, bool no_scm, std::vector<std::string>* created) {
  if (!no_scm && !Exists(dir + "/.git"))
    return Status::User(dir + " is not the top of a git repository; run `git init` first, or use "
                        "`forja init --no-scm`");
  for (const char* sub : {"/.forja", "/.forja/cache", "/.forja/tmp"}) {
    std::string p = dir + sub;
    if (!Exists(p)) {
      RETURN_IF_ERROR(MakeDirs(p));
      created->push_back(p.substr(dir.size() + 1) + "/");
    }
  }
  std::string manifest = dir + "/" + kManifestName;
  if (!Exists(manifest)) {
    RETURN_IF_ERROR(WriteFileAtomic(manifest, kManifestTemplate));
    created->push_back(kManifestName);
  }
  std::string gi = dir + "/.gitignore";
  std::string text;
  if (Exists(gi)) {
    ASSIGN_OR_RETURN(text, ReadFile(gi));
  }
  std::string add;
  for (const auto& e : kGitignoreEntries)
    if (text.find(e) == std::string::npos) add += e + "\n";
  if (!add.empty()) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    RETURN_IF_ERROR(WriteFileAtomic(gi, text + add));
    created->push_back(".gitignore entries");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Workspace>> Workspace::Open(const std::string& start) {
  char real[PATH_MAX];
  if (::realpath(start.c_str(), real) == nullptr)
    return Status::FromErrno("cannot open " + start, errno);
  std::string dir = real;
  // The root is marked by forja.yaml (versioned, so a fresh clone has it) or .forja/.
  for (;;) {
    struct stat st;
    if (::stat((dir + "/.forja").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) break;
    if (::stat((dir + "/" + kManifestName).c_str(), &st) == 0 && S_ISREG(st.st_mode)) break;
    if (dir == "/")
      return Status::User("not inside a forja repository (no forja.yaml or .forja/ here or above " +
                          start + "); run `forja init`");
    dir = Dirname(dir);
  }
  // A fresh clone has forja.yaml but not the unversioned local state: make it.
  RETURN_IF_ERROR(MakeDirs(dir + "/.forja/cache"));
  std::string manifest = dir + "/" + kManifestName;
  ProjectConfig cfg;
  if (Exists(manifest)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(manifest));
    ASSIGN_OR_RETURN(cfg, ParseProjectConfig(text, manifest));
  }
  return std::unique_ptr<Workspace>(new Workspace(dir, std::move(cfg)));
}

Result<StateDb*> Workspace::state() {
  if (!state_) {
    ASSIGN_OR_RETURN(state_, StateDb::Open(ForjaDir() + "/state.db"));
  }
  return state_.get();
}

Result<std::string> Workspace::Resolve(const std::string& user_path) const {
  return ResolveInRepo(root_, CurrentDir(), user_path);
}

Result<FileLock> Workspace::Lock(const std::string& what, bool wait) {
  return FileLock::Acquire(ForjaDir() + "/lock", what, wait);
}

Result<Tracked> Workspace::LoadTracked(const std::string& rel) const {
  // A pointer's name is its path: a committed ".git.forja" must not make
  // checkout write (or, with --force, delete) .git.
  if (Status bad = CheckUntrustedPath(rel); !bad.ok())
    return Status::User(rel + std::string(kPointerSuffix) + ": " + bad.message() +
                        "; forja refuses this pointer file: delete it");
  Tracked t;
  t.rel = rel;
  t.pointer_path = Abs(rel) + std::string(kPointerSuffix);
  auto text = ReadFile(t.pointer_path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound)
      return Status::User(rel + " is not tracked by forja (no " + rel +
                          std::string(kPointerSuffix) + "); use forja add " + rel);
    return text.status();
  }
  std::string shown = rel + std::string(kPointerSuffix);
  ASSIGN_OR_RETURN(t.pointer, ParsePointer(*text, shown, Basename(rel)));
  return t;
}

namespace {

// Collects "<rel>.forja" files under folder `rel`, not descending into tracked folders.
Status CollectPointers(const std::string& root, const std::string& rel,
                       std::vector<std::string>* out) {
  std::string abs = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(abs.c_str());
  if (!d) return Status::FromErrno("cannot read folder " + abs, errno);
  std::vector<std::string> names, dirs;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (rel.empty() && (n == ".git" || n == ".forja")) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::lstat((abs + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    (is_dir ? dirs : names).push_back(n);
  }
  ::closedir(d);
  std::set<std::string> files(names.begin(), names.end());
  for (const auto& n : names) {
    if (n.size() > kPointerSuffix.size() &&
        n.compare(n.size() - kPointerSuffix.size(), kPointerSuffix.size(), kPointerSuffix) == 0)
      out->push_back(JoinPath(rel, n.substr(0, n.size() - kPointerSuffix.size())));
  }
  for (const auto& n : dirs) {
    if (files.count(n + std::string(kPointerSuffix))) continue;  // tracked data: no pointers inside
    RETURN_IF_ERROR(CollectPointers(root, JoinPath(rel, n), out));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Tracked>> Workspace::FindTracked(const std::vector<std::string>& rels) const {
  std::vector<std::string> found;
  // Pipeline outs recorded in forja.lock (those that are cached) count as tracked.
  ASSIGN_OR_RETURN(forja::Lock lock, ReadLock(root_));
  std::vector<const LockFile*> outs;
  for (const auto& st : lock.stages)
    for (const auto& o : st.outs)
      if (o.cache) outs.push_back(&o);
  std::vector<const LockFile*> found_outs;
  auto under = [](const std::string& path, const std::string& dir) {
    return dir.empty() || path == dir ||
           (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
  };
  if (rels.empty()) {
    RETURN_IF_ERROR(CollectPointers(root_, "", &found));
    found_outs = outs;
  }
  for (std::string rel : rels) {
    if (rel.size() > kPointerSuffix.size() &&
        rel.compare(rel.size() - kPointerSuffix.size(), kPointerSuffix.size(), kPointerSuffix) == 0)
      rel.resize(rel.size() - kPointerSuffix.size());
    // "dir/" asks for what is inside dir only (add uses it to find tracked parts).
    bool inside_only = !rel.empty() && rel.back() == '/';
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    size_t before_outs = found_outs.size();
    for (const LockFile* o : outs)
      if (inside_only ? o->path != rel && under(o->path, rel) : under(o->path, rel) || under(rel, o->path))
        found_outs.push_back(o);
    if (!rel.empty() && !inside_only && Exists(Abs(rel) + std::string(kPointerSuffix))) {
      found.push_back(rel);
      continue;
    }
    struct stat st;
    if (::stat(Abs(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      size_t before = found.size();
      RETURN_IF_ERROR(CollectPointers(root_, rel, &found));
      if (found.size() > before) continue;
    }
    if (found_outs.size() > before_outs) continue;
    return Status::User(
        (rel.empty() ? std::string(".") : rel) + " is not tracked by forja (no " + rel +
        std::string(kPointerSuffix) + " and no pipeline output" +
        (::stat(Abs(rel).c_str(), &st) == 0 ? "); use forja add " + rel : ")"));
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<Tracked> out;
  for (const auto& rel : found) {
    ASSIGN_OR_RETURN(Tracked t, LoadTracked(rel));
    out.push_back(std::move(t));
  }
  std::sort(found_outs.begin(), found_outs.end());
  found_outs.erase(std::unique(found_outs.begin(), found_outs.end()), found_outs.end());
  for (const LockFile* o : found_outs) {
    if (std::binary_search(found.begin(), found.end(), o->path)) continue;
    Tracked t;
    t.rel = o->path;
    t.pointer_path = root_ + "/" + std::string(kLockName);
    t.pointer = PointerOf(*o);
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const Tracked& a, const Tracked& b) { return a.rel < b.rel; });
  return out;
}

Result<std::unique_ptr<Remote>> Workspace::OpenRemote(const std::string& name,
                                                      std::string* chosen) const {
  std::string n = name.empty() ? config_.default_remote : name;
  if (n.empty()) {
    if (config_.remotes.size() == 1) n = config_.remotes[0].name;
    else if (config_.remotes.empty())
      return Status::User("no remote is configured; add one with forja remote add NAME URL");
    else
      return Status::User("several remotes and no default; pass -r NAME or run forja remote default NAME");
  }
  const RemoteConfig* rc = config_.FindRemote(n);
  if (!rc) return Status::User("no remote named '" + n + "'; see forja remote list");
  RemoteConfig resolved = *rc;
  // A relative local path is relative to the repository root, so it works from any folder.
  if (resolved.url.find("://") == std::string::npos && !resolved.url.empty() &&
      resolved.url[0] != '/')
    resolved.url = NormalizeAbsolute(root_ + "/" + resolved.url);
  if (chosen) *chosen = n;
  return forja::OpenRemote(resolved);
}

Status Workspace::SaveRemotes(const std::vector<RemoteConfig>& remotes,
                              const std::string& default_remote) {
  std::string manifest = root_ + "/" + kManifestName;
  std::string text;
  if (Exists(manifest)) {
    ASSIGN_OR_RETURN(text, ReadFile(manifest));
  }
  std::string block;
  if (remotes.empty()) {
    block = "remotes: {}\n";
  } else {
    block = "remotes:\n";
    for (const auto& r : remotes) {
      block += "  " + r.name + ":\n    url: " + QuoteYaml(r.url) + "\n";
      for (const auto& [k, v] : r.options) block += "    " + k + ": " + QuoteYaml(v) + "\n";
    }
  }
  std::string def = "default_remote: " + QuoteYaml(default_remote) + "\n";

  // Replace the top-level `remotes:` block and `default_remote:` line in place.
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  bool wrote_remotes = false, wrote_def = false;
  for (size_t i = 0; i < lines.size(); i++) {
    const std::string& l = lines[i];
    if (l.rfind("remotes:", 0) == 0) {
      out += block;
      wrote_remotes = true;
      // Skip the old block: indented lines (and indented comments) that follow.
      while (i + 1 < lines.size() && !lines[i + 1].empty() &&
             (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t'))
        i++;
      continue;
    }
    if (l.rfind("default_remote:", 0) == 0) {
      out += def;
      wrote_def = true;
      continue;
    }
    out += l + "\n";
  }
  if (!wrote_remotes) out += block;
  if (!wrote_def) out += def;
  // Validate before replacing, so a bug here can never leave an unreadable manifest.
  RETURN_IF_ERROR(ParseProjectConfig(out, manifest).status());
  RETURN_IF_ERROR(WriteFileAtomic(manifest, out));
  config_.remotes = remotes;
  config_.default_remote = default_remote;
  return Status::Ok();
}

Status Workspace::IgnoreInGit(const std::string& rel) const { return IgnoreInGit(std::vector<std::string>{rel}); }

Status Workspace::IgnoreInGit(const std::vector<std::string>& rels) const {
  // One read and at most one write per .gitignore, however many entries it gets.
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const auto& rel : rels) by_dir[Dirname(Abs(rel))].push_back("/" + Basename(rel));
  for (auto& [dir, entries] : by_dir) {
    std::string gi = dir + "/.gitignore";
    std::string text;
    if (Exists(gi)) {
      ASSIGN_OR_RETURN(text, ReadFile(gi));
    }
    std::set<std::string> have;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      have.insert(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    std::string add;
    for (const auto& e : entries)
      if (have.insert(e).second) add += e + "\n";
    if (add.empty()) continue;
    if (!text.empty() && text.back() != '\n') text += '\n';
    RETURN_IF_ERROR(WriteFileAtomic(gi, text + add));
  }
  return Status::Ok();
}

}  // namespace forja
