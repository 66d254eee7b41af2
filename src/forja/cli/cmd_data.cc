// forja init, add, status, checkout, gc, verify.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/path.h"
#include "forja/core/progress.h"
#include "forja/core/redact.h"
#include "forja/data/data.h"

namespace forja {

namespace {

using json = nlohmann::json;

std::string Short(const Oid& oid) { return oid.Hex().substr(0, 12); }

void Print(const json& j) { OutJson(j); }

std::string Plural(uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

int DoInit(bool no_scm, const std::string& dir) {
  std::string target = dir.empty() ? CurrentDir() : NormalizeAbsolute(dir[0] == '/' ? dir : CurrentDir() + "/" + dir);
  std::vector<std::string> created;
  Status st = Workspace::Init(target, no_scm, &created);
  if (!st.ok()) return Fail(st);
  if (created.empty()) {
    LogInfo("forja is already initialized in " + target);
    return 0;
  }
  std::string list;
  for (const auto& c : created) list += (list.empty() ? "" : ", ") + c;
  LogInfo("Initialized forja in " + target + " (created " + list + ")");
  if (!no_scm) LogInfo("Next: git add forja.yaml .gitignore && git commit -m 'forja init'");
  return 0;
}

int DoAdd(GlobalOptions& g, const std::vector<std::string>& paths, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto rels = ResolveAll(*ws, paths);
  if (!rels.ok()) return Fail(rels.status());
  auto lock = ws->Lock("forja add", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  auto res = Add(*ws, *rels, g.jobs > 0 ? g.jobs : DefaultJobs());
  if (!res.ok()) return Fail(res.status());
  json j = json::array();
  std::string git_paths;
  for (const auto& r : *res) {
    const Pointer& p = r.pointer;
    j.push_back(json{{"path", r.rel}, {"kind", p.is_dir ? "dir" : "file"}, {"hash", "sha256:" + p.oid.Hex()},
                 {"size", p.size}, {"files", p.files}, {"changed", r.changed},
                 {"hashed_files", r.hashed_files}});
    LogInfo(std::string(r.changed ? "added " : "unchanged ") + r.rel + ": " +
            (p.is_dir ? Plural(p.files, "file") + ", " : "") + HumanBytes(p.size) + ", sha256:" +
            Short(p.oid));
    git_paths += " " + r.rel + std::string(kPointerSuffix);
  }
  if (as_json) Print(j);
  LogInfo("To track the change in git: git add" + git_paths + " .gitignore");
  return 0;
}

int DoStatus(GlobalOptions& g, const std::vector<std::string>& paths, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto rels = ResolveAll(*ws, paths);
  if (!rels.ok()) return Fail(rels.status());
  auto res = GetStatus(*ws, *rels, g.jobs > 0 ? g.jobs : DefaultJobs());
  if (!res.ok()) return Fail(res.status());
  bool differs = false;
  json j = json::array();
  for (const auto& s : *res) {
    if (s.state != PathState::kUnchanged) differs = true;
    j.push_back(json{{"path", s.rel}, {"kind", s.is_dir ? "dir" : "file"}, {"state", PathStateName(s.state)},
                 {"added", s.added}, {"modified", s.modified}, {"deleted", s.deleted}});
    if (as_json || (s.state == PathState::kUnchanged && !g.verbose)) continue;
    std::string line = s.rel + ": " + PathStateName(s.state);
    if (s.state == PathState::kNotFetched) line += " (on the DVC remote; forja pull)";
    if (!s.added.empty() || !s.modified.empty() || !s.deleted.empty())
      line += " (" + std::to_string(s.added.size()) + " added, " + std::to_string(s.modified.size()) +
              " modified, " + std::to_string(s.deleted.size()) + " deleted)";
    Out(line);
    if (g.verbose) {
      for (const auto& f : s.added) Out("    added:    " + s.rel + "/" + f);
      for (const auto& f : s.modified) Out("    modified: " + s.rel + "/" + f);
      for (const auto& f : s.deleted) Out("    deleted:  " + s.rel + "/" + f);
    }
  }
  if (as_json) {
    Print(j);
  } else if (res->empty()) {
    LogInfo("Nothing is tracked yet; track data with forja add PATH");
  } else if (!differs) {
    LogInfo("Data and pointer files are up to date (" + Plural(res->size(), "tracked path") + ").");
  } else {
    LogInfo("forja add PATH records a change; forja checkout PATH restores the pointer's version; "
            "forja pull fetches what is not in the cache.");
  }
  return differs ? 1 : 0;
}

int DoCheckout(GlobalOptions& g, const std::vector<std::string>& paths, bool force) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto rels = ResolveAll(*ws, paths);
  if (!rels.ok()) return Fail(rels.status());
  auto lock = ws->Lock("forja checkout", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  auto res = Checkout(*ws, *rels, force, g.jobs > 0 ? g.jobs : DefaultJobs());
  if (!res.ok()) return Fail(res.status());
  for (const auto& r : *res) {
    if (r.written == 0 && r.removed == 0) LogVerbose(r.rel + ": up to date");
    else LogInfo(r.rel + ": " + Plural(r.written, "file") + " written, " + std::to_string(r.removed) + " removed");
  }
  return 0;
}

int DoGc(GlobalOptions& g, GcOptions opts, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto lock = ws->Lock("forja gc", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  opts.jobs = g.jobs;
  // What the metadata store names (registered packages, a local server's
  // artifacts) lives in this cache (and its remote) too, and is kept.
  {
    StoreContext ctx;
    auto store = OpenStore("", &ctx);
    if (store.ok() && !(*store)->remote()) {
      auto refs = (*store)->ReferencedObjects();
      if (!refs.ok()) return Fail(refs.status().Wrap("reading what " + RedactUri(ctx.uri) + " references"));
      for (const auto& h : *refs)
        if (auto oid = Oid::FromHex(h.size() > 7 ? h.substr(7) : ""); oid) opts.keep.push_back(*oid);
    } else if (!store.ok()) {
      LogWarn("cannot read the metadata store (" + store.status().message() +
              "); objects only it references are not protected");
    }
  }
  auto res = Gc(*ws, opts);
  if (!res.ok()) return Fail(res.status());
  for (const auto& w : res->warnings) LogWarn(w);
  if (res->stale_temps)
    LogInfo(std::string(res->removed ? "Removed " : "Would remove ") + std::to_string(res->stale_temps) +
            " temp files left by interrupted commands.");
  if (as_json) {
    json objs = json::array();
    for (const auto& [oid, size] : res->garbage) objs.push_back(json{{"hash", "sha256:" + oid.Hex()}, {"size", size}});
    Print({{"where", res->where}, {"removed", res->removed}, {"kept", res->kept}, {"bytes", res->bytes},
           {"objects", objs}});
    return 0;
  }
  if (g.verbose || !res->removed)
    for (const auto& [oid, size] : res->garbage) Out(ObjectKey(oid) + (size ? "  " + HumanBytes(size) : ""));
  std::string what = Plural(res->garbage.size(), "object") + (res->bytes ? " (" + HumanBytes(res->bytes) + ")" : "");
  if (res->garbage.empty()) LogInfo("Nothing to remove from the " + res->where + " (" + std::to_string(res->kept) + " objects in use).");
  else if (res->removed) LogInfo("Removed " + what + " from the " + res->where + "; kept " + std::to_string(res->kept) + ".");
  else LogInfo("Would remove " + what + " from the " + res->where + "; rerun with --force to remove them.");
  return 0;
}

int DoVerify(GlobalOptions& g, const std::string& remote, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto lock = ws->Lock("forja verify", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  auto res = Verify(*ws, remote, g.jobs);
  if (!res.ok()) return Fail(res.status());
  if (as_json) {
    json bad = json::array();
    for (const auto& o : res->corrupt) bad.push_back("sha256:" + o.Hex());
    Print({{"where", res->where}, {"checked", res->checked}, {"bytes", res->bytes}, {"corrupt", bad},
           {"quarantine", res->quarantine}});
  } else {
    for (const auto& o : res->corrupt) Out("corrupt: " + ObjectKey(o));
    if (res->corrupt.empty())
      LogInfo("Verified " + Plural(res->checked, "object") + " (" + HumanBytes(res->bytes) + ") in the " + res->where + ": all intact.");
    else
      LogInfo(Plural(res->corrupt.size(), "corrupt object") + " in the " + res->where + " moved to " + res->quarantine +
              "; forja pull (or push, for a remote) restores good copies.");
  }
  return res->corrupt.empty() ? 0 : 1;
}

}  // namespace

void RegisterDataCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  {
    auto* c = app.add_subcommand("init", "Make this folder (the top of a git repository) a forja workspace");
    auto no_scm = std::make_shared<bool>(false);
    auto dir = std::make_shared<std::string>();
    c->add_flag("--no-scm", *no_scm, "Initialize outside a git repository");
    c->add_option("dir", *dir, "Folder to initialize (default: the current one)");
    c->footer(std::string("Creates .forja/ (cache and local state), a commented forja.yaml, and a .gitignore\n"
                          "entry for .forja/. Running it again changes nothing.\n\n") + kExitCodesHelp);
    c->callback([=] { *action = [=] { return DoInit(*no_scm, *dir); }; });
  }
  {
    auto* c = app.add_subcommand("add", "Version files or folders: hash, store in the cache, write PATH.forja");
    auto paths = std::make_shared<std::vector<std::string>>();
    auto as_json = std::make_shared<bool>(false);
    c->add_option("paths", *paths, "Files or folders to add")->required()->type_name("PATH");
    c->add_option("-j,--jobs", g.jobs, "Parallel hashing threads (default: number of cores)");
    c->add_flag("--json", *as_json, "Print what was added as JSON");
    c->footer(std::string(
        "Each PATH is hashed (SHA-256), stored in .forja/cache/sha256/ab/cdef..., and described by a\n"
        "pointer file PATH.forja to commit to git; PATH itself is added to .gitignore. The workspace\n"
        "copy becomes a link to the cached object (cache.link in forja.yaml: reflink, hardlink, copy);\n"
        "a hardlinked file is read-only so an edit cannot corrupt the cache. Adding a changed path\n"
        "stores a new version; the old one stays in the cache. Unchanged files are not rehashed.\n\n") +
        kExitCodesHelp);
    c->callback([=, &g] { *action = [=, &g] { return DoAdd(g, *paths, *as_json); }; });
  }
  {
    auto* c = app.add_subcommand("status", "Show which tracked paths differ from their pointer files");
    auto paths = std::make_shared<std::vector<std::string>>();
    auto as_json = std::make_shared<bool>(false);
    auto pipeline = std::make_shared<bool>(false);
    c->add_option("paths", *paths,
                  "Tracked paths to check (default: all); with --pipeline, stage names and config overrides")
        ->type_name("PATH");
    c->add_flag("-p,--pipeline", *pipeline,
                "Show which pipeline stages would run and why (a changed dep, param, command or out)");
    c->add_option("-j,--jobs", g.jobs, "Parallel hashing threads (default: number of cores)");
    c->add_flag("--json", *as_json, "Print a JSON array: path, kind, state, added/modified/deleted files");
    c->footer(std::string(
        "States: unchanged; modified (the data differs from the pointer: forja add or forja checkout);\n"
        "deleted (the data is missing but cached: forja checkout); not in cache (forja pull).\n"
        "Files whose inode, size, mtime and ctime match .forja/state.db are not rehashed.\n"
        "-v also lists the changed files of a folder. Exits 1 when anything differs.\n"
        "With --pipeline: one line per stage, 'up to date' or 'changed: <why>'; exits 1 when a stage\n"
        "would run.\n\n") +
        kExitCodesHelp);
    c->callback([=, &g] {
      *action = [=, &g] { return *pipeline ? DoPipelineStatus(g, *paths, *as_json) : DoStatus(g, *paths, *as_json); };
    });
  }
  {
    auto* c = app.add_subcommand("checkout", "Make the workspace match the pointer files (e.g. after git checkout)");
    auto paths = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    c->add_option("paths", *paths, "Tracked paths to restore (default: all)")->type_name("PATH");
    c->add_option("-j,--jobs", g.jobs, "Parallel threads (default: number of cores)");
    c->add_flag("-f,--force", *force, "Overwrite changes forja has not stored");
    c->footer(std::string(
        "Restores missing files, replaces changed ones, and removes files of a tracked folder that\n"
        "the pointer's version does not list. Refuses to overwrite or remove a change that is not in\n"
        "the cache unless --force.\n\n") + kExitCodesHelp);
    c->callback([=, &g] { *action = [=, &g] { return DoCheckout(g, *paths, *force); }; });
  }
  {
    auto* c = app.add_subcommand("gc", "List (or with --force remove) objects that no pointer file references");
    auto opts = std::make_shared<GcOptions>();
    auto as_json = std::make_shared<bool>(false);
    c->add_flag("--all-commits", opts->all_commits, "Keep objects referenced by any commit of the git history, too");
    c->add_flag("-f,--force", opts->force, "Remove the listed objects");
    c->add_option("-r,--remote", opts->remote, "Collect garbage on this remote instead of the cache")->type_name("NAME");
    c->add_option("-j,--jobs", g.jobs, "Parallel threads");
    c->add_flag("--json", *as_json, "Print the objects as JSON");
    c->footer(std::string(
        "Referenced means: named by a pointer file in the workspace (or, with --all-commits, in any\n"
        "commit reachable from a git ref), or listed by a referenced folder's manifest. Without\n"
        "--force nothing is removed.\n\n") + kExitCodesHelp);
    c->callback([=, &g] { *action = [=, &g] { return DoGc(g, *opts, *as_json); }; });
  }
  {
    auto* c = app.add_subcommand("verify", "Rehash stored objects; quarantine corrupted ones");
    auto remote = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    c->add_option("-r,--remote", *remote, "Verify this remote instead of the cache")->type_name("NAME");
    c->add_option("-j,--jobs", g.jobs, "Parallel threads");
    c->add_flag("--json", *as_json, "Print the result as JSON");
    c->footer(std::string(
        "Every object is read and its SHA-256 compared with its name. A corrupt object is moved to\n"
        ".forja/quarantine/ (or quarantine/ on the remote) so that pull or push can restore it.\n"
        "Exits 1 when any object was corrupt.\n\n") + kExitCodesHelp);
    c->callback([=, &g] { *action = [=, &g] { return DoVerify(g, *remote, *as_json); }; });
  }
}

}  // namespace forja
