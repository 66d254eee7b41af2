#include "forja/data/dvc_import.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "forja/cas/walk.h"
#include "forja/config/node.h"
#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/core/strings.h"
#include "forja/data/data.h"
#include "forja/data/dvc_formats.h"
#include "forja/data/dvc_sync.h"
#include "forja/data/lockfile.h"
#include "forja/remote/local_remote.h"

namespace forja {

namespace {

// Every "*.dvc" file of the repository (not in .git, .dvc or .forja); with `locks`, also
// every dvc.lock below the root.
Status FindDvcFiles(const std::string& root, const std::string& rel, std::vector<std::string>* out,
                    std::vector<std::string>* locks = nullptr) {
  std::string abs = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(abs.c_str());
  if (!d) return Status::FromErrno("cannot read folder " + abs, errno);
  std::vector<std::string> dirs;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (rel.empty() && (n == ".git" || n == ".dvc" || n == ".forja")) continue;
    struct stat st;
    if (::lstat((abs + "/" + n).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) dirs.push_back(n);
    else if (S_ISREG(st.st_mode) && n.size() > 4 && n.ends_with(".dvc")) out->push_back(JoinPath(rel, n));
    else if (S_ISREG(st.st_mode) && n == "dvc.lock" && !rel.empty() && locks) locks->push_back(JoinPath(rel, n));
  }
  ::closedir(d);
  for (const auto& n : dirs) RETURN_IF_ERROR(FindDvcFiles(root, JoinPath(rel, n), out, locks));
  return Status::Ok();
}

// A path from the repository as a message shows it: control characters escaped, so that
// the error stays one line.
std::string Shown(const std::string& s) {
  std::string out;
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f) out.push_back(static_cast<char>(c));
    else out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
  }
  return out;
}

// DVC 3's .dir listing of `entries` (path, md5) as dvc-data writes it:
// json.dumps(sorted by path components, sort_keys=True). nullopt for a name json.dumps
// would escape (not printable ASCII): such a folder is not matched this way.
std::optional<std::string> DvcDirListing(std::vector<std::pair<std::string, std::string>> entries) {
  auto parts = [](const std::string& p) {
    std::vector<std::string_view> v;
    std::string_view s = p;
    for (size_t slash; (slash = s.find('/')) != std::string_view::npos; s.remove_prefix(slash + 1))
      v.push_back(s.substr(0, slash));
    v.push_back(s);
    return v;
  };
  std::sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) { return parts(a.first) < parts(b.first); });
  std::string out = "[";
  for (const auto& [path, md5] : entries) {
    for (unsigned char c : path)
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return std::nullopt;
    if (out.size() > 1) out += ", ";
    out += "{\"md5\": \"" + md5 + "\", \"relpath\": \"" + path + "\"}";
  }
  return out + "]";
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A DVC remote as a forja remote; `skipped` says why not when it cannot be one.
RemoteConfig ConvertRemote(const DvcRemote& r, DvcImportedRemote* info, std::vector<std::string>* warnings) {
  RemoteConfig rc;
  rc.name = r.name;
  info->name = r.name;
  const std::string& url = r.url;
  if (url.empty()) {
    info->skipped = "it has no url";
    return rc;
  }
  if (url.starts_with("s3://")) {
    rc.url = url;
    for (const auto& [k, v] : r.options) {
      if (k == "endpointurl") rc.options["endpoint"] = v;
      else if (k == "region" || k == "profile") rc.options[k] = v;
      else if (k == "access_key_id" || k == "secret_access_key" || k == "session_token") {
        rc.local_options[k] = v;
        info->local_keys.push_back(k);
      } else {
        warnings->push_back(r.origin + ": remote '" + r.name + "': option '" + k + "' has no forja equivalent; ignored");
      }
    }
  } else if (url.find("://") != std::string::npos || url.starts_with("remote:")) {
    info->skipped = "forja reads only folder and s3:// remotes, not '" + url.substr(0, url.find(':')) + ":'";
    return rc;
  } else {
    // DVC resolves a relative path against the config file's folder, .dvc/; forja
    // against the repository root.
    if (url[0] == '/') rc.url = url;
    else rc.url = url.starts_with("../") ? url.substr(3) : ".dvc/" + url;
    if (rc.url.empty()) rc.url = ".";
    for (const auto& [k, v] : r.options)
      warnings->push_back(r.origin + ": remote '" + r.name + "': option '" + k + "' has no forja equivalent; ignored");
  }
  info->url = rc.url;
  return rc;
}

std::string AbsUrl(const std::string& root, const RemoteConfig& rc) {
  if (rc.url.find("://") == std::string::npos && !rc.url.empty() && rc.url[0] != '/')
    return NormalizeAbsolute(root + "/" + rc.url);
  return rc.url;
}

// dvc.yaml's flags for a stage's out: cache, metric, plot (defaults when not found).
struct OutFlags {
  bool cache = true, metric = false, plot = false, push = true;
  std::string remote, origin;  // origin: where remote: is, for messages
};
OutFlags FlagsOf(const config::Node* dvc_yaml, const std::string& stage, const std::string& path) {
  OutFlags f;
  if (!dvc_yaml) return f;
  const config::Node* stages = dvc_yaml->Find("stages");
  const config::Node* s = stages && stages->is_map() ? stages->Find(stage) : nullptr;
  if (!s || !s->is_map()) return f;
  for (const char* kind : {"outs", "metrics", "plots"}) {
    const config::Node* list = s->Find(kind);
    if (!list || !list->is_list()) continue;
    for (const auto& item : list->items()) {
      const config::Node* opts = nullptr;
      if (item.is_string() && item.as_string() == path) {
      } else if (item.is_map() && item.entries().size() == 1 && item.entries()[0].first == path) {
        opts = &item.entries()[0].second;
      } else {
        continue;
      }
      f.metric = std::string(kind) == "metrics";
      f.plot = std::string(kind) == "plots";
      if (opts && opts->is_map()) {
        if (const config::Node* c = opts->Find("cache"); c && c->kind() == config::Node::Kind::kBool) f.cache = c->as_bool();
        if (const config::Node* c = opts->Find("push"); c && c->kind() == config::Node::Kind::kBool) f.push = c->as_bool();
        if (const config::Node* c = opts->Find("remote"); c && c->is_string() && IsRemoteName(c->as_string())) {
          f.remote = c->as_string();
          f.origin = c->origin();
        }
      }
      return f;
    }
  }
  return f;
}

// The repository path of a .dvc file's out, checked.
Result<std::string> OutRel(const std::string& dvc_file, const DvcOut& o) {
  std::string dir = Dirname(dvc_file);
  std::string rel = JoinPath(dir == "." ? "" : dir, o.path);
  if (Status bad = CheckUntrustedPath(rel); !bad.ok())
    return Status::User(dvc_file + ":" + std::to_string(o.line) + ": outs: path '" + o.path + "': " + bad.message());
  return rel;
}

// A dvc.lock path (relative to the stage's wdir) as a repository path, checked.
Result<std::string> InWdir(const std::string& wdir, const std::string& p, int line, const std::string& field) {
  std::string rel = JoinRelative(wdir, p);
  Status bad = rel.empty() ? Status::User("it leaves the repository") : CheckUntrustedPath(rel);
  if (!bad.ok())
    return Status::User("dvc.lock:" + std::to_string(line) + ": " + field + ": path '" + p + "'" +
                        (wdir.empty() ? "" : " (in wdir '" + wdir + "')") + ": " + bad.message() + "; forja refuses it");
  return rel;
}

// Every path of dvc.lock's stage `s`, joined with its wdir, checked (before anything is written).
Status CheckLockPaths(const DvcLockStage& s, const std::string& wdir) {
  for (size_t i = 0; i < s.params.size(); i++)
    RETURN_IF_ERROR(InWdir(wdir, s.params[i].source, s.params_lines[i], "stage '" + s.name + "': params").status());
  for (const auto* list : {&s.deps, &s.outs})
    for (const auto& o : *list)
      RETURN_IF_ERROR(
          InWdir(wdir, o.path, o.line, "stage '" + s.name + "': " + (list == &s.deps ? "deps" : "outs")).status());
  return Status::Ok();
}

}  // namespace

Status CheckDvcRepository(const std::string& root, const DvcImportOptions* opts) {
  struct stat st;
  if (::stat((root + "/.dvc").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::User(root + " has no .dvc folder: it is not a DVC repository (run forja import dvc at its top)");
  DvcConfig cfg;
  for (const char* f : {"/.dvc/config", "/.dvc/config.local"}) {
    if (!Exists(root + f)) continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(root + f));
    RETURN_IF_ERROR(ParseDvcConfig(text, std::string(f).substr(1), &cfg));
  }
  std::vector<std::string> files, nested_locks;
  RETURN_IF_ERROR(FindDvcFiles(root, "", &files, &nested_locks));
  if (!nested_locks.empty()) {
    std::sort(nested_locks.begin(), nested_locks.end());
    std::string f = Shown(nested_locks[0]);
    std::string dir = Shown(Dirname(nested_locks[0]));
    return Status::User(f + ": forja import dvc takes over only the dvc.lock at the repository root (as forja run "
                        "reads only the root dvc.yaml); move " + dir + "/dvc.yaml's stages into the root dvc.yaml "
                        "with wdir: " + dir + ", run dvc repro, and import again");
  }
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(root + "/" + f));
    ASSIGN_OR_RETURN(auto outs, ParseDvcFile(text, f));
    for (const auto& o : outs) RETURN_IF_ERROR(OutRel(f, o).status());
  }
  if (Exists(root + "/dvc.lock")) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(root + "/dvc.lock"));
    ASSIGN_OR_RETURN(auto stages, ParseDvcLock(text, "dvc.lock"));
    for (const auto& s : stages) {
      auto layout = opts && opts->dvc_yaml ? opts->dvc_yaml->find(s.name) : std::map<std::string, DvcStageLayout>::const_iterator();
      if (opts && opts->dvc_yaml && layout != opts->dvc_yaml->end()) RETURN_IF_ERROR(CheckLockPaths(s, layout->second.wdir));
    }
  }
  return Status::Ok();
}

namespace {

class Importer {
 public:
  Importer(std::string root, Workspace* ws, const DvcImportOptions& opts)
      : root_(std::move(root)), ws_(ws), opts_(opts) {}

  Result<DvcImportResult> Run() {
    RETURN_IF_ERROR(CheckDvcRepository(root_, &opts_));
    RETURN_IF_ERROR(ImportRemotes());
    {
      std::string cache_dir = root_ + "/.dvc/cache";
      RemoteConfig rc{"dvc-cache", cache_dir, {}, {}};
      if (Exists(cache_dir)) {
        ASSIGN_OR_RETURN(dvc_cache_, OpenLocalRemote(rc, cache_dir));
      }
    }
    RETURN_IF_ERROR(ImportDvcFiles());
    RETURN_IF_ERROR(ImportLock());
    return std::move(res_);
  }

 private:
  Status ImportRemotes() {
    DvcConfig cfg;
    for (const char* f : {"/.dvc/config", "/.dvc/config.local"}) {
      std::string path = root_ + f;
      if (!Exists(path)) continue;
      ASSIGN_OR_RETURN(std::string text, ReadFile(path));
      RETURN_IF_ERROR(ParseDvcConfig(text, std::string(f).substr(1), &cfg));
    }
    std::vector<RemoteConfig> remotes = ws_ ? ws_->config().remotes : std::vector<RemoteConfig>{};
    std::string def = ws_ ? ws_->config().default_remote : "";
    std::vector<RemoteConfig> added;
    for (const auto& r : cfg.remotes) {
      DvcImportedRemote info;
      RemoteConfig rc = ConvertRemote(r, &info, &res_.warnings);
      info.is_default = r.name == cfg.default_remote && info.skipped.empty();
      if (info.skipped.empty()) {
        RemoteConfig check = rc;
        check.url = AbsUrl(root_, rc);
        if (Status v = ValidateRemoteConfig(check); !v.ok()) info.skipped = v.message();
      }
      if (info.skipped.empty()) {
        auto it = std::find_if(remotes.begin(), remotes.end(), [&](const RemoteConfig& x) { return x.name == rc.name; });
        if (it != remotes.end() && (it->url != rc.url || it->options != rc.options))
          return Status::User(r.origin + ": remote '" + rc.name + "' is in forja.yaml already with another url or "
                              "options; remove or rename one (forja remote remove " + rc.name + ") and import again");
        if (it == remotes.end()) remotes.push_back(rc);
        added.push_back(rc);
        taken_[rc.name] = rc;
        if (info.is_default) {
          def = rc.name;
          dvc_default_ = rc;
        }
      } else {
        res_.warnings.push_back(r.origin + ": remote '" + r.name + "' not taken over: " + info.skipped);
      }
      res_.remotes.push_back(std::move(info));
    }
    if (!dvc_default_ && added.size() == 1) dvc_default_ = added[0];
    if (def.empty() && !added.empty()) def = added[0].name;
    if (opts_.dry_run || added.empty()) return Status::Ok();
    RETURN_IF_ERROR(ws_->SaveRemotes(remotes, def));
    for (const auto& rc : added)
      for (const auto& [k, v] : rc.local_options) RETURN_IF_ERROR(ws_->SetLocalOption(rc.name, k, v));
    return Status::Ok();
  }

  // The DVC remote an out is on (for dvc.lock outs missing locally), opened once: its own
  // `remote:` when that one was taken over, else the default. *name says which.
  Result<Remote*> OpenDvcRemote(const std::string& own, std::string* name) {
    const RemoteConfig* rc = nullptr;
    if (auto it = taken_.find(own); !own.empty() && it != taken_.end()) rc = &it->second;
    else if (dvc_default_) rc = &*dvc_default_;
    if (!rc) return static_cast<Remote*>(nullptr);
    *name = rc->name;
    std::unique_ptr<Remote>& open = dvc_remotes_[rc->name];
    if (!open) {
      RemoteConfig abs = *rc;
      abs.url = AbsUrl(root_, abs);
      ASSIGN_OR_RETURN(open, OpenRemote(abs));
    }
    return open.get();
  }

  // An out's `remote:` as the pointer or forja.lock keeps it: only a remote taken over
  // (pull would not find another); else one warning line naming where it is.
  std::string OwnRemote(const std::string& remote, const std::string& where, const std::string& rel) {
    if (remote.empty() || taken_.count(remote)) return remote;
    res_.warnings.push_back(where + ": '" + rel + "' has remote: " + remote + ", a remote not taken over from " +
                            ".dvc/config; forja pull and push use the default remote for it");
    return "";
  }

  // Whether the workspace copy of `rel` is exactly DVC's version `md5`.
  Result<bool> WorkspaceMatches(const std::string& rel, const std::string& md5, bool is_dir) {
    std::string abs = root_ + "/" + rel;
    if (!is_dir) {
      if (!IsRegularFile(abs)) return false;
      ASSIGN_OR_RETURN(std::string got, Md5OfFile(abs));
      return got == md5;
    }
    if (!IsDir(abs)) return false;
    // The folder's listing from DVC's cache to compare with; DVC keeps none for a folder
    // that is only a dep (models/ whose files are other stages' outs): then the listing
    // the workspace would have is built and its md5 compared.
    std::string listing_path = root_ + "/.dvc/cache/" + DvcObjectKey(md5, true);
    if (!IsRegularFile(listing_path)) listing_path = root_ + "/.dvc/cache/" + DvcLegacyKey(md5, true);
    if (!IsRegularFile(listing_path)) {
      ASSIGN_OR_RETURN(auto walked, WalkTree(abs));
      std::vector<std::pair<std::string, std::string>> have;
      for (const auto& w : walked) {
        if (w.symlink) return false;
        ASSIGN_OR_RETURN(std::string got, Md5OfFile(abs + "/" + w.path));
        have.emplace_back(w.path, got);
      }
      auto listing = DvcDirListing(std::move(have));
      return listing && Md5Of(*listing) == md5;
    }
    ASSIGN_OR_RETURN(std::string listing, ReadFile(listing_path));
    if (Md5Of(listing) != md5) return false;
    ASSIGN_OR_RETURN(auto entries, ParseDvcDir(listing, DvcObjectKey(md5, true)));
    ASSIGN_OR_RETURN(auto walked, WalkTree(abs));
    if (walked.size() != entries.size()) return false;
    std::map<std::string, std::string> want;
    for (const auto& e : entries) want[e.relpath] = e.md5;
    for (const auto& w : walked) {
      auto it = want.find(w.path);
      if (it == want.end() || w.symlink) return false;
      ASSIGN_OR_RETURN(std::string got, Md5OfFile(abs + "/" + w.path));
      if (got != it->second) return false;
    }
    return true;
  }

  // The forja version of DVC's `md5` at `rel`: from the workspace, DVC's cache or (with
  // `remote`) the DVC remote. nullopt when none has it. `store`: keep the bytes in the cache.
  Result<std::optional<Pointer>> Resolve(const std::string& rel, const std::string& md5, bool is_dir, bool store,
                                         Remote* remote, const std::string& remote_name, std::string* source) {
    ASSIGN_OR_RETURN(bool here, WorkspaceMatches(rel, md5, is_dir));
    if (here) {
      *source = "workspace";
      if (opts_.dry_run) return std::optional<Pointer>(Pointer{});
      Pointer p;
      if (store) {
        ASSIGN_OR_RETURN(p, StorePath(*ws_, rel, opts_.jobs));
      } else {
        ASSIGN_OR_RETURN(auto h, HashPath(*ws_, rel, opts_.jobs));
        if (!h) return std::optional<Pointer>();
        p = *h;
      }
      p.dvc_md5 = md5;
      return std::optional<Pointer>(p);
    }
    for (Remote* from : {dvc_cache_.get(), remote}) {
      if (!from) continue;
      std::string name = from == dvc_cache_.get() ? "DVC cache" : remote_name;
      if (opts_.dry_run) {
        // A dry run reads nothing from remotes: only DVC's cache is looked at.
        if (from != dvc_cache_.get()) {
          *source = "dvc remote";
          return std::optional<Pointer>(Pointer{});
        }
        if (IsRegularFile(root_ + "/.dvc/cache/" + DvcObjectKey(md5, is_dir))) {
          *source = "dvc cache";
          return std::optional<Pointer>(Pointer{});
        }
        continue;
      }
      auto got = FetchDvcObject(ws_->cache(), *from, name, md5, is_dir, rel, opts_.jobs);
      if (got.ok()) {
        *source = from == dvc_cache_.get() ? "dvc cache" : "dvc remote";
        return std::optional<Pointer>(*got);
      }
      if (got.status().code() != Code::kNotFound) return got.status();
    }
    return std::optional<Pointer>();
  }

  Status ImportDvcFiles() {
    std::vector<std::string> files;
    RETURN_IF_ERROR(FindDvcFiles(root_, "", &files));
    std::sort(files.begin(), files.end());
    std::vector<DvcImportedPath> done;
    for (const auto& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(root_ + "/" + f));
      ASSIGN_OR_RETURN(auto outs, ParseDvcFile(text, f));
      for (const auto& o : outs) {
        ASSIGN_OR_RETURN(std::string rel, OutRel(f, o));
        if (!o.cache) {
          res_.warnings.push_back(f + ": '" + rel + "' has cache: false (git versions it); nothing to take over");
          continue;
        }
        DvcImportedPath ip{rel, f, o.is_dir, o.md5, "", {}};
        // A pointer already there: this version taken over before (kept, unless it still
        // waits for its bytes), or forja's own (never overwritten).
        if (std::string ptr = root_ + "/" + rel + std::string(kPointerSuffix); Exists(ptr)) {
          ASSIGN_OR_RETURN(std::string t, ReadFile(ptr));
          auto existing = ParsePointer(t, rel + std::string(kPointerSuffix), Basename(rel), /*allow_unfetched=*/true);
          if (existing.ok() && existing->dvc_md5 == o.md5 && existing->is_dir == o.is_dir && existing->has_oid) {
            imported_[rel] = *existing;
            ip.source = "already taken over";
            ip.pointer = *existing;
            res_.paths.push_back(std::move(ip));
            continue;
          }
          if (!existing.ok() || existing->dvc_md5 != o.md5) {
            res_.warnings.push_back(rel + std::string(kPointerSuffix) + " exists and is not " + f + "'s version (md5 " +
                                    o.md5 + "); kept it (delete it to take " + f + " over again)");
            continue;
          }
        }
        ASSIGN_OR_RETURN(auto v, Resolve(rel, o.md5, o.is_dir, /*store=*/true, nullptr, "", &ip.source));
        if (v) {
          ip.pointer = *v;
        } else {
          ip.source = "not fetched";
          ip.pointer.has_oid = false;
          ip.pointer.size = o.size;
          ip.pointer.files = o.is_dir ? o.nfiles : 1;
        }
        ip.pointer.path = Basename(rel);
        ip.pointer.is_dir = o.is_dir;
        ip.pointer.dvc_md5 = o.md5;
        ip.pointer.push = o.push;
        ip.pointer.remote = OwnRemote(o.remote, f + ":" + std::to_string(o.remote_line), rel);
        if (ip.pointer.has_oid && o.has_size && !opts_.dry_run && ip.pointer.size != o.size)
          return Status::User(f + ":" + std::to_string(o.line) + ": '" + rel + "' has md5 " + o.md5 + " but size " +
                              std::to_string(o.size) + ", while its bytes (md5 verified) are " +
                              std::to_string(ip.pointer.size) + "; fix the .dvc file");
        imported_[rel] = ip.pointer;
        done.push_back(std::move(ip));
      }
    }
    if (opts_.dry_run || done.empty()) {
      for (auto& d : done) res_.paths.push_back(std::move(d));
      return Status::Ok();
    }
    // Objects durable before the pointers that name them.
    RETURN_IF_ERROR(ws_->cache().Sync());
    std::vector<std::string> rels;
    for (auto& d : done) {
      RETURN_IF_ERROR(WriteFileAtomic(ws_->Abs(d.rel) + std::string(kPointerSuffix), d.pointer.Serialize()));
      rels.push_back(d.rel);
      res_.paths.push_back(std::move(d));
    }
    return ws_->IgnoreInGit(rels);
  }

  // One dep or out of dvc.lock as a forja.lock entry; `why` says why not.
  Result<std::optional<LockFile>> LockEntry(const DvcOut& o, bool is_out, const OutFlags& flags, std::string* why) {
    LockFile lf;
    lf.path = o.path;
    lf.is_dir = o.is_dir;
    lf.dvc_md5 = o.md5;
    if (is_out) {
      lf.cache = flags.cache;
      lf.metric = flags.metric;
      lf.plot = flags.plot;
      lf.push = flags.push;
      lf.remote = OwnRemote(flags.remote, flags.origin.empty() ? "dvc.yaml" : flags.origin, o.path);
    }
    // A path just taken over from a .dvc file: the same version.
    if (auto it = imported_.find(o.path); it != imported_.end() && it->second.dvc_md5 == o.md5 && it->second.has_oid) {
      lf.oid = it->second.oid;
      lf.size = it->second.size;
      lf.files = it->second.files;
      return std::optional<LockFile>(lf);
    }
    std::string remote_name;
    ASSIGN_OR_RETURN(Remote* remote, OpenDvcRemote(is_out ? lf.remote : "", &remote_name));
    std::string source;
    // The bytes of an unfetched pointer come along now: store them, so that the pointer gets
    // its hash below and pull does not fetch them a second time.
    auto unfetched = imported_.find(o.path);
    bool complete = unfetched != imported_.end() && unfetched->second.dvc_md5 == o.md5 &&
                    unfetched->second.is_dir == o.is_dir && !unfetched->second.has_oid;
    ASSIGN_OR_RETURN(auto v, Resolve(o.path, o.md5, o.is_dir, /*store=*/(is_out && lf.cache) || complete, remote,
                                     remote_name, &source));
    if (v && complete && !opts_.dry_run) {
      Pointer& p = unfetched->second;
      p.oid = v->oid;
      p.size = v->size;
      p.files = v->is_dir ? v->files : 1;
      p.has_oid = true;
      completed_.push_back(o.path);
    }
    if (!v) {
      *why = std::string(is_out ? "out" : "dep") + " '" + o.path + "' (md5 " + o.md5 +
             ") is neither in the workspace nor in DVC's cache or remote";
      return std::optional<LockFile>();
    }
    lf.oid = v->oid;
    lf.size = v->size;
    lf.files = v->is_dir ? v->files : 1;
    return std::optional<LockFile>(lf);
  }

  // dvc.lock's stage `s`'s wdir (repository-relative), from forja's reading of dvc.yaml;
  // nullopt with *why when it is not known.
  std::optional<std::string> WdirOf(const DvcLockStage& s, const config::Node* raw, std::string* why) {
    if (opts_.dvc_yaml) {
      auto it = opts_.dvc_yaml->find(s.name);
      if (it != opts_.dvc_yaml->end()) return it->second.wdir;
      *why = "dvc.yaml has no stage '" + s.name + "' (forja runs dvc.yaml's stages)";
      return std::nullopt;
    }
    // dvc.yaml unread: a stage is taken over only when it plainly has no wdir.
    const config::Node* stages = raw ? raw->Find("stages") : nullptr;
    const config::Node* st = stages && stages->is_map() ? stages->Find(s.name.substr(0, s.name.find('@'))) : nullptr;
    const config::Node* w = st && st->is_map() ? st->Find("wdir") : nullptr;
    if (w && !(w->is_string() && (w->as_string().empty() || w->as_string() == "."))) {
      *why = "its wdir is not known (" + (opts_.dvc_yaml_error.empty() ? "dvc.yaml unread" : opts_.dvc_yaml_error) + ")";
      return std::nullopt;
    }
    return std::string();
  }

  OutFlags FlagsFor(const std::string& stage, const std::string& rel, const std::string& lock_path,
                    const config::Node* raw) {
    if (!opts_.dvc_yaml) return FlagsOf(raw, stage, lock_path);
    OutFlags f;
    auto it = opts_.dvc_yaml->find(stage);
    if (it == opts_.dvc_yaml->end()) return f;
    auto o = it->second.outs.find(rel);
    if (o == it->second.outs.end()) return f;
    f.cache = o->second.cache;
    f.metric = o->second.metric;
    f.plot = o->second.plot;
    f.push = o->second.push;
    f.remote = o->second.remote;
    f.origin = o->second.origin;
    return f;
  }

  Status ImportLock() {
    std::string path = root_ + "/dvc.lock";
    if (!Exists(path)) return Status::Ok();
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    ASSIGN_OR_RETURN(auto stages, ParseDvcLock(text, "dvc.lock"));
    std::optional<config::Node> dvc_yaml;
    if (Exists(root_ + "/dvc.yaml")) {
      ASSIGN_OR_RETURN(std::string y, ReadFile(root_ + "/dvc.yaml"));
      auto node = config::ParseYaml(y, "dvc.yaml");
      if (node.ok()) dvc_yaml = std::move(*node);
      else res_.warnings.push_back(node.status().message() + " (outs taken as cached)");
    }
    if (!opts_.dvc_yaml && !opts_.dvc_yaml_error.empty())
      res_.warnings.push_back(opts_.dvc_yaml_error + " (dvc.lock's stages with wdir are not taken over)");
    forja::Lock lock;
    if (ws_) {
      ASSIGN_OR_RETURN(lock, ReadLock(root_));
    }
    bool changed = false;
    for (const auto& s : stages) {
      DvcImportedStage info{s.name, false, ""};
      // A stage forja has run itself (an entry without dvc-md5) is forja's now: kept.
      if (const LockStage* had = lock.Find(s.name)) {
        bool own = false;
        for (const auto* list : {&had->deps, &had->outs})
          for (const auto& e : *list) own = own || e.dvc_md5.empty();
        if (own) {
          info.reason = "forja.lock has it from a forja run; kept";
          res_.warnings.push_back("dvc.lock: stage '" + s.name + "' not taken over: " + info.reason);
          res_.stages.push_back(std::move(info));
          continue;
        }
      }
      LockStage ls;
      ls.name = s.name;
      ls.cmd = s.cmd;
      ls.params = s.params;
      std::string why;
      const config::Node* raw = dvc_yaml ? &*dvc_yaml : nullptr;
      std::optional<std::string> wdir = WdirOf(s, raw, &why);
      if (wdir) {
        for (size_t i = 0; i < ls.params.size(); i++) {
          ASSIGN_OR_RETURN(ls.params[i].source, InWdir(*wdir, ls.params[i].source, s.params_lines[i],
                                                        "stage '" + s.name + "': params"));
        }
      }
      for (DvcOut d : s.deps) {
        if (!why.empty()) break;
        ASSIGN_OR_RETURN(d.path, InWdir(*wdir, d.path, d.line, "stage '" + s.name + "': deps"));
        ASSIGN_OR_RETURN(auto e, LockEntry(d, false, {}, &why));
        if (e) ls.deps.push_back(*e);
      }
      for (DvcOut o : s.outs) {
        if (!why.empty()) break;
        std::string as_written = o.path;
        ASSIGN_OR_RETURN(o.path, InWdir(*wdir, o.path, o.line, "stage '" + s.name + "': outs"));
        ASSIGN_OR_RETURN(auto e, LockEntry(o, true, FlagsFor(s.name, o.path, as_written, raw), &why));
        if (e) {
          ls.outs.push_back(*e);
          if (e->cache) res_.paths.push_back({o.path, "dvc.lock", o.is_dir, o.md5, "", PointerOf(*e)});
        }
      }
      if (!why.empty()) {
        info.reason = why + "; forja run will run the stage again";
        res_.warnings.push_back("dvc.lock: stage '" + s.name + "' not taken over: " + info.reason);
      } else {
        info.imported = true;
        lock.Put(std::move(ls));
        changed = true;
      }
      res_.stages.push_back(std::move(info));
    }
    if (opts_.dry_run || (!changed && completed_.empty())) return Status::Ok();
    RETURN_IF_ERROR(ws_->cache().Sync());
    for (const auto& rel : completed_) {
      const Pointer& p = imported_[rel];
      RETURN_IF_ERROR(WriteFileAtomic(ws_->Abs(rel) + std::string(kPointerSuffix), p.Serialize()));
      for (auto& ip : res_.paths)
        if (ip.rel == rel && ip.dvc_file != "dvc.lock") {
          ip.pointer = p;
          ip.source = "dvc remote";
        }
    }
    if (!changed) return Status::Ok();
    return WriteLock(root_, lock, /*durable=*/true);
  }

  std::string root_;
  Workspace* ws_;
  DvcImportOptions opts_;
  DvcImportResult res_;
  std::unique_ptr<Remote> dvc_cache_;
  std::optional<RemoteConfig> dvc_default_;
  std::map<std::string, std::unique_ptr<Remote>> dvc_remotes_;
  std::map<std::string, RemoteConfig> taken_;  // the remotes taken over, by name
  std::map<std::string, Pointer> imported_;
  std::vector<std::string> completed_;  // unfetched pointers whose bytes dvc.lock's import fetched
};

}  // namespace

Result<DvcImportResult> ImportDvc(const std::string& root, Workspace* ws, const DvcImportOptions& opts) {
  if (!ws && !opts.dry_run) return Status::Internal("forja import dvc needs a workspace");
  Importer imp(root, ws, opts);
  return imp.Run();
}

}  // namespace forja
