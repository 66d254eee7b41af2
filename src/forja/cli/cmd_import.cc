// forja import dvc: take a DVC repository over (data/dvc_import.h does the work).
#include <dirent.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "forja/cli/cli.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/dvc_import.h"
#include "forja/pipeline/dvc_yaml.h"

namespace forja {

namespace {

using json = nlohmann::json;

std::string Short(const Oid& oid) { return oid.Hex().substr(0, 12); }

// dvc.yaml's stages as forja's pipeline reads them: dvc.lock's paths are relative to each
// stage's wdir, and its outs' flags (cache, metrics, plots, push) are dvc.yaml's.
void ReadStageLayouts(const std::string& root, DvcImportOptions* opts) {
  if (!Exists(root + "/dvc.yaml")) return;
  auto dvc = pipeline::ReadDvcYaml(root);
  if (!dvc.ok()) {
    opts->dvc_yaml_error = dvc.status().message();
    return;
  }
  std::map<std::string, DvcStageLayout> layouts;
  for (const auto& st : dvc->stages) {
    DvcStageLayout& l = layouts[st.name];
    l.wdir = st.wdir;
    for (const auto& o : st.outs)
      l.outs[o.path] = {o.cache, o.kind == pipeline::OutKind::kMetrics, o.kind == pipeline::OutKind::kPlots, o.push,
                        o.remote, o.origin};
  }
  opts->dvc_yaml = std::move(layouts);
}

int DoImportDvc(GlobalOptions& g, bool dry_run, bool as_json) {
  std::string root = FindDvcRoot(CurrentDir());
  if (root.empty())
    return Fail(Status::User("no .dvc folder here or above " + CurrentDir() +
                             ": not inside a DVC repository (run forja import dvc in one)"));
  auto found = Workspace::OpenIfAny(root);
  if (!found.ok()) return Fail(found.status());
  std::unique_ptr<Workspace> ws = std::move(*found);
  if (ws && ws->root() != root)
    return Fail(Status::User("the DVC repository " + root + " is inside the forja workspace " + ws->root() +
                             "; run forja import dvc in a DVC repository at the top of its own workspace"));
  DvcImportOptions opts;
  opts.dry_run = dry_run;
  opts.jobs = g.jobs;
  ReadStageLayouts(root, &opts);
  if (Status st = CheckDvcRepository(root, &opts); !st.ok()) return Fail(st);
  if (!ws && !dry_run) {
    std::vector<std::string> created;
    Status st = Workspace::Init(root, /*no_scm=*/!Exists(root + "/.git"), &created);
    if (!st.ok()) return Fail(st);
    auto opened = Workspace::Open(root);
    if (!opened.ok()) return Fail(opened.status());
    ws = std::move(*opened);
    LogInfo("Initialized forja in " + root);
  }
  std::optional<FileLock> lock;
  if (ws) {
    auto l = ws->Lock("forja import dvc", g.wait);
    if (!l.ok()) return Fail(l.status());
    lock.emplace(std::move(*l));
  }
  auto res = ImportDvc(root, ws.get(), opts);
  if (!res.ok()) return Fail(res.status());
  for (const auto& w : res->warnings) LogWarn(w);
  const char* would = dry_run ? "would take over " : "";
  json jr = json::array(), jp = json::array(), js = json::array();
  for (const auto& r : res->remotes) {
    jr.push_back({{"name", r.name}, {"url", r.url}, {"default", r.is_default}, {"local_keys", r.local_keys},
                  {"skipped", r.skipped}});
    if (r.skipped.empty())
      LogInfo(std::string(dry_run ? "would add " : "") + "remote " + r.name + ": " + r.url +
              (r.is_default ? " (default)" : "") +
              (r.local_keys.empty() ? "" : " (credentials in .forja/config.local)"));
  }
  uint64_t unfetched = 0;
  for (const auto& p : res->paths) {
    json j = {{"path", p.rel}, {"from", p.dvc_file}, {"kind", p.is_dir ? "dir" : "file"}, {"md5", p.md5},
              {"source", p.source}};
    if (p.pointer.has_oid && !dry_run) j["hash"] = "sha256:" + p.pointer.oid.Hex();
    jp.push_back(j);
    if (!p.pointer.has_oid) unfetched++;
    if (p.dvc_file == "dvc.lock") continue;  // reported with its stage
    std::string what = !p.pointer.has_oid               ? "only on the DVC remote: forja pull fetches it"
                       : p.source == "already taken over" ? "already taken over (sha256:" + Short(p.pointer.oid) + ")"
                       : dry_run                          ? "from the " + p.source
                                          : "sha256:" + Short(p.pointer.oid) + " (from the " + p.source + ")";
    LogInfo(std::string(would) + p.rel + " (" + p.dvc_file + "): " + what);
  }
  for (const auto& s : res->stages) {
    js.push_back({{"name", s.name}, {"imported", s.imported}, {"reason", s.reason}});
    if (s.imported) LogInfo(std::string(would) + "stage " + s.name + " (dvc.lock) into forja.lock");
  }
  if (as_json) OutJson({{"dry_run", dry_run}, {"remotes", jr}, {"paths", jp}, {"stages", js}});
  if (dry_run) {
    LogInfo("Dry run: nothing was written.");
  } else {
    LogInfo("Taken over: " + std::to_string(res->paths.size()) + " paths, " + std::to_string(res->stages.size()) +
            " stages. Next: git add forja.yaml forja.lock .gitignore and the .forja pointer files, commit" +
            (unfetched ? "; forja pull fetches the data that is only on the DVC remote" : "") + ".");
  }
  return 0;
}

}  // namespace

std::string FindDvcRoot(const std::string& start) {
  std::string dir = start;
  while (true) {
    struct stat st;
    if (::stat((dir + "/.dvc").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    if (dir == "/" || dir.empty()) return "";
    dir = Dirname(dir);
  }
}

void NoteDvcNotTakenOver(const std::string& root) {
  if (!IsDir(root + "/.dvc")) return;
  DIR* d = ::opendir(root.c_str());
  if (!d) return;
  std::string found;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() <= 4 || !n.ends_with(".dvc")) continue;
    std::string data = n.substr(0, n.size() - 4);
    if ((found.empty() || n < found) && !Exists(root + "/" + data + std::string(kPointerSuffix)) &&
        IsFile(root + "/" + n))
      found = n;  // the first by name, so the note is the same on every run
  }
  ::closedir(d);
  if (!found.empty())
    LogInfo("note: " + found + " is not taken over by forja yet; forja import dvc makes the DVC files of this "
            "repository forja's (pointer files, forja.lock, remotes)");
}

void RegisterImportCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  auto* imp = app.add_subcommand("import", "Take over another tool's repository (DVC)");
  imp->require_subcommand(1);
  auto* c = imp->add_subcommand("dvc", "Take over a DVC repository: .dvc files, dvc.lock, remotes");
  auto dry_run = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  c->add_flag("-n,--dry-run", *dry_run, "Report what would be taken over; write nothing and read no remote");
  c->add_option("-j,--jobs", g.jobs, "Parallel transfers and hashing threads");
  c->add_flag("--json", *as_json, "Print remotes, paths and stages as JSON");
  c->footer(std::string(
      "Run at (or below) the top of a DVC repository; it becomes a forja workspace (forja init) if it\n"
      "is not one. In one step:\n"
      "  - each .dvc file's outs become pointer files PATH.forja: the data is rehashed to SHA-256 from\n"
      "    the workspace (when it matches DVC's md5) or DVC's cache (.dvc/cache), and DVC's md5 is kept\n"
      "    as dvc-md5. Data that is only on the DVC remote gets a pointer with dvc-md5 and no hash;\n"
      "    forja pull fetches it, verifies the md5, and writes the hash into the pointer (commit it).\n"
      "  - dvc.lock's stages become forja.lock entries (deps and outs rehashed, md5 kept; an out that is\n"
      "    not local is fetched from the DVC remote now; a stage whose data is nowhere is left out).\n"
      "  - the remotes of .dvc/config and .dvc/config.local become forja remotes (folders; s3:// with\n"
      "    endpointurl -> endpoint, region, profile; access keys -> .forja/config.local), DVC's default\n"
      "    remote is the default. The url stays the same: forja keeps its objects at sha256/... beside\n"
      "    DVC's files/md5/..., and pull fetches by md5 from DVC's layout what forja's lacks, until\n"
      "    forja push copies it there.\n"
      "Refused with the reason: a .dvc output without 'hash: md5' (DVC 2: migrate with DVC 3 first),\n"
      "another hash name, a malformed md5, a path leaving the repository, cloud-versioned outputs.\n"
      "The .dvc files, dvc.yaml and dvc.lock are left in place (forja reads dvc.yaml's stages).\n\n") +
      kExitCodesHelp);
  c->callback([=, &g] { *action = [=, &g] { return DoImportDvc(g, *dry_run, *as_json); }; });
}

}  // namespace forja
