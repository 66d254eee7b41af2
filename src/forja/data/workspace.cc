#include "forja/core/strings.h"
#include "forja/data/workspace.h"

#include "forja/data/lockfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/redact.h"
#include "forja/core/path.h"
#include "forja/core/subprocess.h"

namespace forja {

namespace {

constexpr char kManifestName[] = "forja.yaml";

// The lines of `text`, without their '\n' (a last line without one counts too).
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

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

// Every top-level section of forja.yaml, and who reads it. One list: a section
// documented here and read elsewhere under another name cannot happen again.
const std::vector<std::string> kSections = {
    "cache", "remotes", "default_remote",  // ProjectConfigOf (here)
    "config", "stages", "params",          // pipeline (project.cc, stage.cc)
    "executor",                            // pipeline/executor.cc (forja run --executor)
    "tracking",                            // pipeline/tracking.cc
    "models",                              // registry/gates.cc
    "serving",                             // serve/config.cc
    "monitoring",                          // serve/config.cc
    "triggers", "agent",                   // agent/triggers.cc (forja agent)
    "plots",                               // cli/cmd_plots.cc (docs/plots.md)
};

const std::set<std::string> kGitignoreEntries = {"/.forja/"};

std::string QuoteYaml(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Status NodeError(const std::string& file, const config::Node& node, const std::string& what) {
  return Status::User((node.origin().empty() ? file : node.origin()) + ": " + what);
}

// A single value as text: strings as written, numbers and booleans as YAML spells them.
Result<std::string> ScalarOf(const std::string& file, const config::Node& node, const std::string& field) {
  switch (node.kind()) {
    case config::Node::Kind::kString: return node.as_string();
    case config::Node::Kind::kInt: return std::to_string(node.as_int());
    case config::Node::Kind::kFloat: return config::ScalarToString(node);
    case config::Node::Kind::kBool: return std::string(node.as_bool() ? "true" : "false");
    default: return NodeError(file, node, field + ": must be a single value");
  }
}

std::string Known(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// remotes: {NAME: {url: ..., KEY: VALUE}} into `out`, in file order.
Status ParseRemotes(const std::string& file, const config::Node& v, bool local, std::vector<RemoteConfig>* out) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_map()) return NodeError(file, v, "remotes: must be a mapping of name to settings");
  for (const auto& [rname, settings] : v.entries()) {
    RemoteConfig rc;
    rc.name = rname;
    if (!settings.is_map()) return NodeError(file, settings, "remotes." + rname + ": must be a mapping with url");
    for (const auto& [ok, ov] : settings.entries()) {
      ASSIGN_OR_RETURN(std::string val, ScalarOf(file, ov, "remotes." + rname + "." + ok));
      if (ok == "url" && !local) rc.url = val;
      else (local ? rc.local_options : rc.options)[ok] = val;
    }
    if (rc.url.empty() && !local) return NodeError(file, settings, "remotes." + rname + ": missing field 'url'");
    if (!local) {
      std::string line = settings.origin().empty() ? file : settings.origin();
      RETURN_IF_ERROR(RefuseVersionedCredentials(rc, line + ": "));
    }
    out->push_back(std::move(rc));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& ForjaYamlSections() { return kSections; }

const config::Node* ForjaYaml::Section(std::string_view name) const {
  const config::Node* n = root.is_map() ? root.Find(name) : nullptr;
  return n && !n->is_null() ? n : nullptr;
}

Result<ForjaYaml> ParseForjaYaml(const std::string& text, const std::string& file) {
  ForjaYaml doc;
  doc.file = file;
  ASSIGN_OR_RETURN(doc.root, config::ParseConfigYaml(text, file));
  if (doc.root.is_null()) doc.root = config::Node::Map();
  if (!doc.root.is_map()) return NodeError(file, doc.root, "the manifest must be a mapping of sections");
  for (const auto& [key, v] : doc.root.entries()) {
    if (std::find(kSections.begin(), kSections.end(), key) != kSections.end()) continue;
    return NodeError(file, v, key + ": unknown section (known: " + Known(kSections) + ")" +
                                  (key == "serve" ? "; the model server's section is serving:" : ""));
  }
  return doc;
}

Result<ForjaYaml> ReadForjaYaml(const std::string& root) {
  std::string path = root + "/" + kManifestName;
  std::string text;
  if (Exists(path)) {
    ASSIGN_OR_RETURN(text, ReadFile(path));
  }
  return ParseForjaYaml(text, kManifestName);
}

const RemoteConfig* ProjectConfig::FindRemote(const std::string& name) const {
  for (const auto& r : remotes)
    if (r.name == name) return &r;
  return nullptr;
}

Result<ProjectConfig> ProjectConfigOf(const ForjaYaml& doc) {
  ProjectConfig cfg;
  const std::string& name = doc.file;
  if (const config::Node* c = doc.Section("cache")) {
    if (!c->is_map()) return NodeError(name, *c, "cache: must be a mapping");
    for (const auto& [ck, v] : c->entries()) {
      if (ck != "link") return NodeError(name, v, "cache." + ck + ": unknown field (known: link)");
      std::string joined;
      if (v.is_list()) {
        for (const auto& item : v.items()) {
          ASSIGN_OR_RETURN(std::string s, ScalarOf(name, item, "cache.link"));
          joined += (joined.empty() ? "" : ",") + s;
        }
      } else {
        ASSIGN_OR_RETURN(joined, ScalarOf(name, v, "cache.link"));
      }
      auto types = ParseLinkTypes(joined);
      if (!types.ok()) return NodeError(name, v, "cache.link: " + types.status().message());
      cfg.link_types = *types;
    }
  }
  if (const config::Node* r = doc.Section("remotes")) RETURN_IF_ERROR(ParseRemotes(name, *r, false, &cfg.remotes));
  if (const config::Node* d = doc.Section("default_remote")) {
    ASSIGN_OR_RETURN(cfg.default_remote, ScalarOf(name, *d, "default_remote"));
  }
  if (!cfg.default_remote.empty() && !cfg.FindRemote(cfg.default_remote))
    return Status::User(name + ": default_remote '" + cfg.default_remote +
                        "' is not one of the remotes; run forja remote default NAME");
  return cfg;
}

Result<ProjectConfig> ParseProjectConfig(const std::string& text, const std::string& name) {
  ASSIGN_OR_RETURN(ForjaYaml doc, ParseForjaYaml(text, name));
  return ProjectConfigOf(doc);
}

Status MergeLocalConfig(const std::string& text, const std::string& file, ProjectConfig* cfg) {
  ASSIGN_OR_RETURN(config::Node root, config::ParseConfigYaml(text, file));
  if (root.is_null()) return Status::Ok();
  if (!root.is_map()) return NodeError(file, root, "must be a mapping with a remotes: section");
  for (const auto& [key, v] : root.entries()) {
    if (key != "remotes") return NodeError(file, v, key + ": unknown section (known: remotes)");
    std::vector<RemoteConfig> local;
    RETURN_IF_ERROR(ParseRemotes(file, v, true, &local));
    for (auto& l : local) {
      auto it = std::find_if(cfg->remotes.begin(), cfg->remotes.end(), [&](const RemoteConfig& r) { return r.name == l.name; });
      if (it == cfg->remotes.end()) cfg->other_local.push_back(std::move(l));
      else it->local_options = std::move(l.local_options);
    }
  }
  return Status::Ok();
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

namespace {

// The workspace root above `start`: the nearest folder with .forja/ or forja.yaml
// (versioned, so a fresh clone has it); empty when there is none.
Result<std::string> FindRoot(const std::string& start) {
  char real[PATH_MAX];
  if (::realpath(start.c_str(), real) == nullptr)
    return Status::FromErrno("cannot open " + start, errno);
  for (std::string dir = real;; dir = Dirname(dir)) {
    struct stat st;
    if (::stat((dir + "/.forja").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    if (::stat((dir + "/" + kManifestName).c_str(), &st) == 0 && S_ISREG(st.st_mode)) return dir;
    if (dir == "/" || dir.empty()) return std::string();
  }
}

}  // namespace

Result<std::unique_ptr<Workspace>> Workspace::OpenIfAny(const std::string& start) {
  ASSIGN_OR_RETURN(std::string dir, FindRoot(start));
  if (dir.empty()) return std::unique_ptr<Workspace>();
  return Open(dir);
}

Result<std::unique_ptr<Workspace>> Workspace::Open(const std::string& start) {
  ASSIGN_OR_RETURN(std::string dir, FindRoot(start));
  if (dir.empty())
    return Status::User("not inside a forja repository (no forja.yaml or .forja/ here or above " + start +
                        "); run `forja init`");
  // A fresh clone has forja.yaml but not the unversioned local state: make it.
  RETURN_IF_ERROR(MakeDirs(dir + "/.forja/cache"));
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(dir));
  ASSIGN_OR_RETURN(ProjectConfig cfg, ProjectConfigOf(doc));
  if (std::string local = dir + "/" + kLocalConfigName; Exists(local)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(local));
    RETURN_IF_ERROR(MergeLocalConfig(text, kLocalConfigName, &cfg));
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

Result<Tracked> Workspace::LoadTracked(const std::string& rel, bool allow_unfetched) const {
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
  ASSIGN_OR_RETURN(t.pointer, ParsePointer(*text, shown, Basename(rel), allow_unfetched));
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

Result<std::vector<Tracked>> Workspace::FindTracked(const std::vector<std::string>& rels,
                                                    bool allow_unfetched) const {
  std::vector<std::string> found;
  // Pipeline outs recorded in forja.lock (those that are cached) count as tracked.
  ASSIGN_OR_RETURN(forja::Lock lock, ReadLock(root_));
  std::vector<const LockFile*> outs;
  for (const auto& st : lock.stages)
    for (const auto& o : st.outs)
      if (o.cache) outs.push_back(&o);
  std::vector<const LockFile*> found_outs;
  auto under = [](const std::string& path, const std::string& dir) { return IsUnder(path, dir); };
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
    ASSIGN_OR_RETURN(Tracked t, LoadTracked(rel, allow_unfetched));
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
  for (const auto& r : remotes) RETURN_IF_ERROR(RefuseVersionedCredentials(r, ""));
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
  std::vector<std::string> lines = SplitLines(text);
  std::string out;
  bool wrote_remotes = false, wrote_def = false;
  for (size_t i = 0; i < lines.size(); i++) {
    const std::string& l = lines[i];
    if (l.starts_with("remotes:")) {
      out += block;
      wrote_remotes = true;
      // Skip the old block: indented lines (and indented comments) that follow.
      while (i + 1 < lines.size() && !lines[i + 1].empty() &&
             (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t'))
        i++;
      continue;
    }
    if (l.starts_with("default_remote:")) {
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

Status Workspace::SetLocalOption(const std::string& remote, const std::string& key, const std::string& value) {
  auto it = std::find_if(config_.remotes.begin(), config_.remotes.end(),
                         [&](const RemoteConfig& r) { return r.name == remote; });
  if (it == config_.remotes.end()) return Status::User("no remote named '" + remote + "'; see forja remote list");
  if (key.empty() || key == "url" || key.find_first_of(": \t\n\"'#") != std::string::npos)
    return Status::Usage("'" + key + "' cannot be set in " + std::string(kLocalConfigName) +
                         " (a remote's option name, e.g. secret_access_key)");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return Status::Usage("the value of " + key + " may not hold control characters");
  RemoteConfig next = *it;
  if (value.empty()) next.local_options.erase(key);
  else next.local_options[key] = value;
  RemoteConfig check = next;
  if (check.url.find("://") == std::string::npos && !check.url.empty() && check.url[0] != '/')
    check.url = NormalizeAbsolute(root_ + "/" + check.url);
  RETURN_IF_ERROR(ValidateRemoteConfig(check));
  it->local_options = std::move(next.local_options);
  return WriteLocalConfig();
}

Status Workspace::DropLocalOptions(const std::string& remote) {
  bool had = false;
  for (auto& r : config_.remotes)
    if (r.name == remote && !r.local_options.empty()) {
      r.local_options.clear();
      had = true;
    }
  return had ? WriteLocalConfig() : Status::Ok();
}

Status Workspace::WriteLocalConfig() const {
  // The whole file is rewritten from what forja knows: it is forja's, not hand-edited.
  std::string out = "# .forja/config.local: this clone's settings and credentials; never versioned.\n"
                    "# Managed with forja remote modify --local NAME KEY VALUE.\n";
  std::string block;
  std::vector<const RemoteConfig*> all;
  for (const auto& r : config_.remotes) all.push_back(&r);
  for (const auto& r : config_.other_local) all.push_back(&r);
  for (const RemoteConfig* rp : all) {
    const RemoteConfig& r = *rp;
    if (r.local_options.empty()) continue;
    block += "  " + r.name + ":\n";
    for (const auto& [k, v] : r.local_options) block += "    " + k + ": " + QuoteYaml(v) + "\n";
  }
  out += block.empty() ? "remotes: {}\n" : "remotes:\n" + block;
  std::string path = root_ + "/" + kLocalConfigName;
  // Readable by its owner only: it holds secrets.
  RETURN_IF_ERROR(WriteFileAtomic(path, out, 0600));
  if (::chmod(path.c_str(), 0600) != 0) return Status::FromErrno("chmod " + path, errno);
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
    std::vector<std::string> lines = SplitLines(text);
    std::set<std::string> have(lines.begin(), lines.end());
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
