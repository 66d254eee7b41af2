// forja models register / list / show / versions / history / promote / download.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <optional>
#include <dirent.h>
#include <pwd.h>
#include <cstring>
#include <unistd.h>

#include "forja/api/codec.h"
#include "forja/api/rest_store.h"
#include "forja/cas/cache.h"
#include "forja/cli/cli.h"
#include "forja/cli/package_cache.h"
#include "forja/cli/reference_data.h"
#include "forja/cli/store.h"
#include "forja/cli/table.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/data.h"
#include "forja/data/workspace.h"
#include "forja/monitor/profile.h"
#include "forja/registry/profile_store.h"
#include "forja/registry/registry.h"
#include "forja/registry/roles.h"
#include "forja/serve/monitoring_config.h"
#include "forja/serve/source.h"

namespace forja {

namespace {

using api::Json;

bool EmptyDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool empty = true;
  while (struct dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  ::closedir(d);
  return empty;
}

std::string LocalUser() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (struct passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "unknown";
}

Result<registry::Policies> WorkspacePolicies(const StoreContext& ctx) {
  if (ctx.root.empty()) return registry::Policies{};
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(ctx.root));
  return registry::ParsePolicies(doc.Section("models"), doc.file);
}

std::string StageSummary(const meta::RegisteredModel& m, const std::string& stage) {
  for (const auto& v : m.latest_versions)
    if (v.current_stage == stage) return "v" + std::to_string(v.version);
  return "-";
}

std::string Aliases(const std::vector<std::string>& aliases) {
  std::string out;
  for (const auto& a : aliases) out += (out.empty() ? "@" : ", @") + a;
  return out.empty() ? "-" : out;
}

// ---- register ----

struct RegisterArgs {
  std::string store, name, dir, path, run, description;
  std::vector<std::string> tags;
  bool no_push = false, no_profile = false, quiet = false;
  bool as_json = false;
};

// The new version's reference profile (reference_data.h), when its data can be found: what
// was done, "" when nothing asked for one. Data named in forja.yaml that cannot be profiled is
// an error; data found through lineage that cannot be is a warning (the version stands).
Result<std::string> ProfileAtRegister(const RegisterArgs& a, const StoreContext& ctx, meta::MetaStore& store,
                                      Cache& cache, const meta::ModelVersion& v) {
  if (a.no_profile) return std::string();
  serve::MonitoringConfig cfg;
  if (!ctx.root.empty()) {
    ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(ctx.root));
    RETURN_IF_ERROR(serve::MonitoringConfigOf(doc, &cfg));
  }
  const std::string label = v.name + "/" + std::to_string(v.version);
  std::string why;
  auto data = FindReferenceData(ctx.root, cfg, store, cache, v.name, a.run, v.package_hash, &why);
  if (!data.ok()) return data.status().Wrap("registered " + label + ", but its reference profile");
  if (!*data) {
    if (!why.empty()) LogWarn(label + " has no reference profile: " + why);
    return std::string();
  }
  auto done = ProfileRegisteredVersion(a.store, label, **data, a.quiet);
  if (done.ok()) return done;
  const std::string what = "registered " + label + ", but profiling " + (*data)->shown + " failed: " +
                           done.status().message() + " (forja monitor profile " + label + " --data FILE retries)";
  if ((*data)->configured) return Status::User(what);
  LogWarn(what);
  return std::string();
}

int DoRegister(const RegisterArgs& a) {
  std::string dir = !a.path.empty() ? a.path : a.dir;
  if (dir.empty()) return Fail(Status::Usage("name the package folder: forja models register NAME DIR (or --path DIR)"));
  if (!a.path.empty() && !a.dir.empty() && a.path != a.dir)
    return Fail(Status::Usage("give the package folder once: as DIR or as --path"));
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  auto* rest = dynamic_cast<api::RestStore*>(store->get());
  if (Status allowed = registry::Authorize("forja models register", registry::LocalStoreRole()); !allowed.ok())
    return Fail(allowed);
  auto pc = OpenPackageCache(ctx, rest != nullptr);
  if (!pc.ok()) return Fail(pc.status());
  registry::RegisterRequest req;
  req.name = a.name;
  req.dir = dir;
  req.run_id = a.run;
  req.description = a.description;
  req.user = LocalUser();
  // The run knows the package by its workspace path when it is in the workspace.
  std::string abs = NormalizeAbsolute(dir[0] == '/' ? dir : CurrentDir() + "/" + dir);
  req.lineage_path = !ctx.root.empty() && abs.starts_with(ctx.root + "/") ? abs.substr(ctx.root.size() + 1) : abs;
  for (const auto& t : a.tags) {
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) return Fail(Status::Usage("--tag takes KEY=VALUE, not '" + t + "'"));
    req.tags.push_back({t.substr(0, eq), t.substr(eq + 1)});
  }
  registry::ObjectUpload upload;
  if (rest) upload = [rest](Cache& c, const std::vector<Oid>& objects) { return rest->UploadObjects(c, objects); };
  auto v = registry::Register(**store, *pc->cache, req, upload);
  if (!v.ok()) return Fail(v.status());
  // A shared store is read from other machines: their copies come from the remote.
  std::string pushed;
  if (!rest && pc->ws && !a.no_push && !pc->ws->config().remotes.empty()) {
    Tracked t;
    t.rel = "model " + a.name + "/" + std::to_string(v->version);
    t.pointer.is_dir = true;
    t.pointer.oid = *Oid::FromHex(v->package_hash.substr(7));
    auto r = PushTracked(*pc->ws, {t}, "", 0);
    if (!r.ok()) return Fail(r.status().Wrap("registered version " + std::to_string(v->version) +
                                             ", but pushing its package failed (forja models register --no-push skips it)"));
    pushed = r->remote;
  }
  auto profiled = ProfileAtRegister(a, ctx, **store, *pc->cache, *v);
  if (!profiled.ok()) return Fail(profiled.status());
  if (a.as_json) {
    Json j = api::ToJson(*v);
    if (!pushed.empty()) j["pushed_to"] = pushed;
    j["profile"] = profiled->empty() ? Json(nullptr) : Json(*profiled);
    OutJson(j);
    return 0;
  }
  LogInfo("Registered " + a.name + " version " + std::to_string(v->version) + " (package " +
          v->package_hash.substr(0, 19) + "…" + (a.run.empty() ? "" : ", from run " + a.run) + ")" +
          (pushed.empty() ? "" : "; package pushed to remote '" + pushed + "'"));
  if (!profiled->empty()) LogInfo(*profiled);
  Out(a.name + "/" + std::to_string(v->version));
  return 0;
}

// ---- list / show / versions / history ----

struct ListArgs {
  std::string store, filter, name;
  int64_t version = 0;
  bool as_json = false;
};

// Every item a search finds, page after page.
template <typename T>
Result<std::vector<T>> AllPages(meta::Query q, Result<meta::Paged<T>> (meta::MetaStore::*search)(const meta::Query&),
                                meta::MetaStore& store) {
  std::vector<T> out;
  for (;;) {
    ASSIGN_OR_RETURN(auto page, (store.*search)(q));
    out.insert(out.end(), page.items.begin(), page.items.end());
    if (page.next_page_token.empty()) return out;
    q.page.token = page.next_page_token;
  }
}

Result<std::vector<meta::RegisteredModel>> AllModels(meta::MetaStore& store, const std::string& filter) {
  meta::Query q;
  q.filter = filter;
  q.page.max_results = 1000;
  return AllPages(q, &meta::MetaStore::SearchRegisteredModels, store);
}

Result<std::vector<meta::ModelVersion>> AllVersions(meta::MetaStore& store, const std::string& name) {
  meta::Query q;
  std::string quoted;
  for (char c : name) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  q.filter = "name = '" + quoted + "'";
  q.order_by = {"version_number DESC"};
  q.page.max_results = 10000;
  return AllPages(q, &meta::MetaStore::SearchModelVersions, store);
}

// A transition's gate report, a line per gate ("PASS ..." or "FAIL ...").
std::vector<std::string> GateLines(const std::string& gates) {
  std::vector<std::string> lines;
  for (size_t s = 0; s < gates.size();) {
    size_t e = gates.find('\n', s);
    if (e == std::string::npos) e = gates.size();
    lines.push_back(gates.substr(s, e - s));
    s = e + 1;
  }
  return lines;
}

int DoList(const ListArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto models = AllModels(**store, a.filter);
  if (!models.ok()) return Fail(models.status());
  if (a.as_json) {
    Json list = Json::array();
    for (const auto& m : *models) list.push_back(api::ToJson(m));
    OutJson(Json{{"registered_models", list}});
    return 0;
  }
  if (models->empty()) {
    Out("No registered models (forja models register NAME DIR adds one)");
    return 0;
  }
  Table t;
  t.header = {"Model", "Latest", "Production", "Staging", "Aliases", "Updated"};
  for (const auto& m : *models) {
    int64_t latest = 0;
    for (const auto& v : m.latest_versions) latest = std::max(latest, v.version);
    std::string aliases;
    for (const auto& [alias, version] : m.aliases)
      aliases += (aliases.empty() ? "" : ", ") + ("@" + alias + "=v" + std::to_string(version));
    t.rows.push_back({m.name, latest ? "v" + std::to_string(latest) : "-", StageSummary(m, "Production"),
                      StageSummary(m, "Staging"), aliases.empty() ? "-" : aliases,
                      FormatTime(m.last_updated_timestamp)});
  }
  PrintText(t);
  return 0;
}

Table VersionsTable(const std::vector<meta::ModelVersion>& versions) {
  Table t;
  t.header = {"Version", "Stage", "Aliases", "Run", "Created", "By", "Package"};
  for (const auto& v : versions)
    t.rows.push_back({std::to_string(v.version), v.current_stage, Aliases(v.aliases), v.run_id.empty() ? "-" : v.run_id,
                      FormatTime(v.creation_timestamp), v.user_id.empty() ? "-" : v.user_id,
                      v.package_hash.empty() ? v.source : v.package_hash.substr(0, 19)});
  return t;
}

// A version's reference profile (forja monitor profile attaches one), as `models show` lists it.
struct ProfileSummary {
  std::string hash;   // "" without a profile
  uint64_t rows = 0, columns = 0;
  std::string error;  // why it could not be read
};

// The profiles of `versions`, read through the package cache (opened only if a version has one).
std::vector<ProfileSummary> ProfileSummaries(meta::MetaStore& store, const StoreContext& ctx,
                                             const std::vector<meta::ModelVersion>& versions) {
  std::vector<ProfileSummary> out(versions.size());
  std::optional<Result<PackageCache>> pc;
  ObjectTransfers transfers;
  for (size_t i = 0; i < versions.size(); ++i) {
    ProfileSummary& p = out[i];
    auto object = registry::ProfileObject(versions[i]);
    if (object.ok() && !object->has_value()) continue;
    if (!object.ok()) {
      p.hash = "?";
      p.error = object.status().message();
      continue;
    }
    p.hash = "sha256:" + (*object)->Hex();
    if (!pc) {
      pc.emplace(OpenPackageCache(ctx, dynamic_cast<api::RestStore*>(&store) != nullptr));
      if (pc->ok()) transfers = TransfersFor(store, **pc);
    }
    if (!pc->ok()) {
      p.error = pc->status().message();
      continue;
    }
    auto bytes = registry::LoadProfile(store, *(*pc)->cache, transfers.download, versions[i].name, versions[i].version);
    Result<monitor::Profile> profile = bytes.status();
    if (bytes.ok()) profile = monitor::ParseProfile(bytes->value_or(""));
    if (!profile.ok()) {
      p.error = profile.status().message();
      continue;
    }
    p.rows = profile->rows;
    p.columns = profile->columns.size();
  }
  return out;
}

int DoShow(const ListArgs& a) {
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  auto m = (*store)->GetRegisteredModel(a.name);
  if (!m.ok()) return Fail(m.status());
  auto versions = AllVersions(**store, a.name);
  if (!versions.ok()) return Fail(versions.status());
  std::vector<ProfileSummary> profiles = ProfileSummaries(**store, ctx, *versions);
  if (a.as_json) {
    Json j = api::ToJson(*m);
    Json vs = Json::array();
    for (size_t i = 0; i < versions->size(); ++i) {
      Json v = api::ToJson((*versions)[i]);
      const ProfileSummary& p = profiles[i];
      if (p.hash.empty()) v["profile"] = nullptr;
      else if (!p.error.empty()) v["profile"] = Json{{"hash", p.hash}, {"error", p.error}};
      else v["profile"] = Json{{"hash", p.hash}, {"rows", p.rows}, {"columns", p.columns}};
      vs.push_back(v);
    }
    j["versions"] = vs;
    OutJson(j);
    return 0;
  }
  Out("Model " + m->name + (m->description.empty() ? "" : ": " + m->description));
  Out("  created " + FormatTime(m->creation_timestamp) + ", updated " + FormatTime(m->last_updated_timestamp) + ", " +
      std::to_string(versions->size()) + " version" + (versions->size() == 1 ? "" : "s"));
  Out("  production " + StageSummary(*m, "Production") + ", staging " + StageSummary(*m, "Staging"));
  for (const auto& [alias, version] : m->aliases) Out("  @" + alias + " -> v" + std::to_string(version));
  for (const auto& t : m->tags) Out("  tag " + t.key + "=" + t.value);
  if (!versions->empty()) {
    Out("");
    Table t = VersionsTable(*versions);
    t.header.push_back("Profile");
    for (size_t i = 0; i < versions->size(); ++i) {
      const ProfileSummary& p = profiles[i];
      t.rows[i].push_back(p.hash.empty()      ? "-"
                          : !p.error.empty() ? "unreadable"
                                             : std::to_string(p.rows) + " rows, " + std::to_string(p.columns) + " columns");
      if (!p.error.empty()) LogWarn("the profile of version " + std::to_string((*versions)[i].version) + ": " + p.error);
    }
    PrintText(t);
  }
  return 0;
}

int DoVersions(const ListArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto m = (*store)->GetRegisteredModel(a.name);
  if (!m.ok()) return Fail(m.status());
  auto versions = AllVersions(**store, a.name);
  if (!versions.ok()) return Fail(versions.status());
  if (a.as_json) {
    Json vs = Json::array();
    for (const auto& v : *versions) vs.push_back(api::ToJson(v));
    OutJson(Json{{"model_versions", vs}});
    return 0;
  }
  if (versions->empty()) {
    Out("No versions of " + a.name);
    return 0;
  }
  PrintText(VersionsTable(*versions));
  return 0;
}

std::string Change(const meta::Transition& t) {
  if (t.kind == "registered") return "registered";
  if (t.kind == "stage") return t.from + " -> " + t.to;
  if (t.kind == "alias") return t.to + (t.from.empty() ? " set" : " moved from v" + t.from);
  if (t.kind == "alias_removed") return t.from + " removed";
  if (t.kind == "deleted") return t.version ? "version deleted" : "model deleted";
  if (t.kind == "renamed") return "renamed from " + t.from;
  // A rollout's steps: its weight while running ("5%"), else how it ended.
  if (t.kind == "rollout") return "rollout " + (t.from.empty() ? "started at " + t.to : t.from + " -> " + t.to);
  return t.kind;
}

int DoHistory(const ListArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto h = (*store)->History(a.name, a.version);
  if (!h.ok()) return Fail(h.status());
  if (a.as_json) {
    Json list = Json::array();
    for (const auto& t : *h) list.push_back(api::ToJson(t));
    OutJson(Json{{"transitions", list}});
    return 0;
  }
  Table t;
  t.header = {"Time", "Version", "Change", "By", "Gates", "Comment"};
  for (const auto& x : *h) {
    std::string gates = "-";
    if (!x.gates.empty()) {
      std::vector<std::string> lines = GateLines(x.gates);
      size_t failed = 0, total = lines.size();
      for (const std::string& l : lines) failed += l.starts_with("FAIL ");
      gates = failed ? std::to_string(failed) + " of " + std::to_string(total) + " failed" : std::to_string(total) + " passed";
      if (x.forced) gates += ", forced";
    }
    t.rows.push_back({FormatTime(x.time), x.version ? "v" + std::to_string(x.version) : "-", Change(x),
                      x.user.empty() ? "-" : x.user, gates, x.comment.empty() ? "-" : x.comment});
  }
  PrintText(t);
  return 0;
}

// ---- alerts ----

struct AlertsArgs {
  std::string store, name;
  int64_t version = 0;
  int max = 50;
  bool as_json = false;
};

// The alerts forja server recorded from Alertmanager (POST /api/2.0/forja/alerts).
int DoAlerts(const AlertsArgs& a) {
  if (a.max < 1 || a.max > 10000) return Fail(Status::Usage("--max must be between 1 and 10000"));
  if (a.version && a.name.empty()) return Fail(Status::Usage("--version needs the model's NAME"));
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto alerts = (*store)->ListAlerts(a.name, a.version ? std::to_string(a.version) : "", a.max);
  if (!alerts.ok()) return Fail(alerts.status());
  if (a.as_json) {
    Json list = Json::array();
    for (const auto& x : *alerts) list.push_back(api::ToJson(x));
    OutJson(Json{{"alerts", list}});
    return 0;
  }
  Table t;
  t.header = {"Started", "Status", "Alert", "Model", "Severity", "Summary"};
  for (const auto& x : *alerts) {
    Json ann = Json::parse(x.annotations, nullptr, false);
    std::string summary = ann.is_object() && ann.contains("summary") && ann["summary"].is_string()
                              ? ann["summary"].get<std::string>() : "-";
    std::string status = x.status == "resolved" && x.ends_at ? "resolved " + FormatTime(x.ends_at) : x.status;
    t.rows.push_back({FormatTime(x.starts_at), status, x.name,
                      x.model.empty() ? "-" : x.model + (x.version.empty() ? "" : "/" + x.version),
                      x.severity.empty() ? "-" : x.severity, summary});
  }
  PrintText(t);
  return 0;
}

// ---- promote ----

struct PromoteArgs {
  std::string store, name, to, comment;
  int64_t version = 0;
  bool force = false, archive = false, as_json = false;
};

int DoPromote(const PromoteArgs& a) {
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  auto policies = WorkspacePolicies(ctx);
  if (!policies.ok()) return Fail(policies.status());
  meta::Promotion p{a.name, a.version, a.to, a.archive, LocalUser(), a.comment, a.force};
  // On a SQL store the caller holds the file (LocalStoreRole); a server decides by token.
  Status allowed = registry::Authorize("forja models promote", registry::LocalStoreRole());
  if (!allowed.ok()) return Fail(allowed);
  auto v = registry::Promote(**store, *policies, p, registry::LocalStoreRole());
  if (!v.ok()) return Fail(v.status());
  auto hist = (*store)->History(a.name, a.version);
  std::string gates;
  bool forced = false;
  if (hist.ok() && !hist->empty()) gates = hist->back().gates, forced = hist->back().forced;
  if (a.as_json) {
    Json j = api::ToJson(*v);
    j["gates"] = gates;
    j["forced"] = forced;
    OutJson(j);
    return 0;
  }
  std::string target = registry::NormalizeTarget(a.to);
  Out(a.name + " version " + std::to_string(a.version) + (target[0] == '@' ? " is now " + target : " is now in " + target) +
      (forced ? " (gates overridden with --force)" : ""));
  for (const std::string& line : GateLines(gates)) LogInfo("  " + line);
  return 0;
}

// ---- download ----

struct DownloadArgs {
  std::string store, ref, dir, remote;
  bool as_json = false;
};

// Brings the package of `v` into `dir` (new or empty) from the cache, fetching
// what it lacks from the server (a RestStore) or the workspace's remote.
Status FetchPackageInto(const StoreContext& ctx, meta::MetaStore& store, const meta::ModelVersion& v,
                        const std::string& ref_text, const std::string& remote, const std::string& dir) {
  if (v.package_hash.empty())
    return Status::User(ref_text + " (version " + std::to_string(v.version) + ") was registered without a forja "
                        "package (source " + v.source + "); download it with an MLflow client");
  auto parsed = Oid::FromHex(v.package_hash.substr(7));
  if (!parsed) return Status::Corrupt("version " + std::to_string(v.version) + " has a bad package hash " + v.package_hash);
  Oid manifest = *parsed;
  auto* rest = dynamic_cast<api::RestStore*>(&store);
  ASSIGN_OR_RETURN(PackageCache pc, OpenPackageCache(ctx, rest != nullptr));
  Cache& cache = *pc.cache;
  if (Exists(dir) && !EmptyDir(dir)) return Status::Conflict(dir + " exists and is not empty; name a new folder");
  // Every object is rehashed before use (a bad one is dropped and fetched again): the
  // cache may hold what another process put there.
  auto need = [&]() -> Status {
    if (!serve::RehashCached(cache, manifest)) return Status::NotFound("manifest");
    ASSIGN_OR_RETURN(auto objects, registry::PackageObjects(cache, manifest));
    bool missing = false;
    for (const auto& [o, size] : objects) missing |= !serve::RehashCached(cache, o);
    return missing ? Status::NotFound("file") : Status::Ok();
  };
  if (!need().ok()) {
    if (rest) {
      RETURN_IF_ERROR(rest->DownloadObjects(cache, {manifest}));
      ASSIGN_OR_RETURN(auto objects, registry::PackageObjects(cache, manifest));
      std::vector<Oid> oids;
      for (const auto& [o, size] : objects) oids.push_back(o);
      RETURN_IF_ERROR(rest->DownloadObjects(cache, oids));
    } else if (pc.ws && !pc.ws->config().remotes.empty()) {
      Tracked t;
      t.rel = "model " + ref_text;
      t.pointer.is_dir = true;
      t.pointer.oid = manifest;
      ASSIGN_OR_RETURN(auto fetched, FetchTracked(*pc.ws, {t}, remote, 0));
      (void)fetched;
    } else {
      return Status::NotFound("the package of " + ref_text + " (" + v.package_hash.substr(0, 19) +
                              "…) is not in this cache and no remote is configured; forja remote add NAME URL, "
                              "then retry");
    }
  }
  if (!need().ok())
    return Status::Corrupt("the package of " + ref_text + " is incomplete or corrupt after fetching it; try again");
  RETURN_IF_ERROR(registry::CheckoutPackage(cache, manifest, dir));
  auto pkg = registry::LoadPackage(dir);
  if (!pkg.ok()) return pkg.status().Wrap("the downloaded package");
  return Status::Ok();
}

int DoDownload(const DownloadArgs& a) {
  auto ref = registry::ParseModelRef(a.ref);
  if (!ref.ok()) return Fail(ref.status());
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  auto v = registry::ResolveRef(**store, *ref);
  if (!v.ok()) return Fail(v.status());
  Status st = FetchPackageInto(ctx, **store, *v, a.ref, a.remote, a.dir);
  if (!st.ok()) return Fail(st);
  if (a.as_json) {
    Json j = api::ToJson(*v);
    j["dir"] = a.dir;
    OutJson(j);
    return 0;
  }
  LogInfo("Downloaded " + v->name + " version " + std::to_string(v->version) + " into " + a.dir);
  return 0;
}

}  // namespace

void RegisterModelsCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  const std::string footer = std::string(
      "\nA model package is a folder with model.yaml:\n"
      "  format: 1\n"
      "  flavor: xgboost              # or lightgbm (model: model.txt), onnx (model: model.onnx; signature optional),\n"
      "                               # or python (with python: {module: predict.py, function: predict})\n"
      "  model: model.json            # the file the runtime loads\n"
      "  signature:\n"
      "    inputs:  [{name: features, datatype: FP32, shape: [-1, 32]}]\n"
      "    outputs: [{name: probability, datatype: FP32, shape: [-1]}]\n"
      "Promotion gates and protected targets are declared per model in forja.yaml:\n"
      "  models: {churn: {gates: {production: [metrics.auc >= 0.85, metrics.auc >= production.metrics.auc]},\n"
      "                   protected: ['@champion']}}\n"
      "References: NAME/VERSION, NAME@ALIAS, NAME@production, NAME@staging.\n"
      "The store is --store, else FORJA_TRACKING_URI, else forja.yaml's tracking.uri, else\n"
      "the workspace's .forja/forja.db.\n\n") + kExitCodesHelp;
  auto* models = app.add_subcommand("models", "The model registry: register, list, promote and download models");
  models->require_subcommand(1);
  models->footer(footer);
  {
    auto* c = models->add_subcommand("register", "Register a model package folder as the next version of a model");
    auto a = std::make_shared<RegisterArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "The model (created if new)")->required()->type_name("NAME");
    c->add_option("dir", a->dir, "The package folder (with model.yaml)")->type_name("DIR");
    c->add_option("--path", a->path, "The package folder (the same as DIR)")->type_name("DIR");
    c->add_option("--run", a->run, "The run that made it: its lineage gets the package as an output")->type_name("RUN_ID");
    c->add_option("--description", a->description, "The version's description")->type_name("TEXT");
    c->add_option("--tag", a->tags, "A tag of the version (repeatable)")->type_name("KEY=VALUE");
    c->add_flag("--no-push", a->no_push, "Do not push the package to the workspace's default remote");
    c->add_flag("--no-profile", a->no_profile,
                "Do not profile its reference data (forja.yaml's monitoring.models.NAME.reference, else the CSV "
                "training data the --run's lineage names)");
    c->add_flag("--json", a->as_json, "Print the version as JSON");
    c->footer(footer);
    c->callback([a, &g, action] {
      a->quiet = g.quiet;
      *action = [a] { return DoRegister(*a); };
    });
  }
  {
    auto* c = models->add_subcommand("list", "Registered models, their latest version, stages and aliases");
    auto a = std::make_shared<ListArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("--filter", a->filter, "e.g. \"name LIKE 'churn%'\" or \"tags.team = 'ml'\"")->type_name("FILTER");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoList(*a); }; });
  }
  {
    auto* c = models->add_subcommand("show", "A model: description, stages, aliases, tags and versions");
    auto a = std::make_shared<ListArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "The model")->required()->type_name("NAME");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoShow(*a); }; });
  }
  {
    auto* c = models->add_subcommand("versions", "A model's versions, newest first");
    auto a = std::make_shared<ListArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "The model")->required()->type_name("NAME");
    c->add_flag("--json", a->as_json, "Print JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoVersions(*a); }; });
  }
  {
    auto* c = models->add_subcommand("history", "Every registration, stage move and alias move: who, when, gates, comment");
    auto a = std::make_shared<ListArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "The model")->required()->type_name("NAME");
    c->add_option("--version", a->version, "Only this version")->type_name("N");
    c->add_flag("--json", a->as_json, "Print JSON (with each gate's result)");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoHistory(*a); }; });
  }
  {
    auto* c = models->add_subcommand("alerts", "The alerts forja server recorded from Alertmanager, latest first");
    auto a = std::make_shared<AlertsArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "Only this model's (default: every alert)")->type_name("NAME");
    c->add_option("--version", a->version, "Only this version's")->type_name("N");
    c->add_option("--max", a->max, "At most N alerts (default 50)")->type_name("N");
    c->add_flag("--json", a->as_json, "Print JSON (with every label and annotation)");
    c->footer("\nAlertmanager's webhook posts to forja server's /api/2.0/forja/alerts (docs/monitoring.md);\n"
              "each alert is kept against the model version its labels name, updated while it fires and\n"
              "when it resolves. Read from the store: --store http://SERVER, or the server's SQL store.\n"
              "Example:\n  forja models alerts churn --version 3 --store http://localhost:5000\n\n" +
              footer);
    c->callback([a, action] { *action = [a] { return DoAlerts(*a); }; });
  }
  {
    auto* c = models->add_subcommand("promote", "Move a version to a stage or an alias, through the model's gates");
    auto a = std::make_shared<PromoteArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("name", a->name, "The model")->required()->type_name("NAME");
    c->add_option("version", a->version, "The version")->required()->type_name("VERSION");
    c->add_option("--to", a->to, "production, staging, archived, none, or @ALIAS")->required()->type_name("TARGET");
    c->add_option("--comment", a->comment, "Why (kept in the history)")->type_name("TEXT");
    c->add_flag("--archive-existing", a->archive, "Archive the versions now in the stage (MLflow's archive_existing_versions)");
    c->add_flag("--force", a->force, "Override failing gates (admin only); the override is recorded");
    c->add_flag("--json", a->as_json, "Print the version and the gates' results as JSON");
    c->footer(std::string("\nA failing gate refuses the promotion (exit 1) and names the gate and the values:\n"
                          "  forja: error: version 2 of 'churn' cannot move to Production: gate failed:\n"
                          "  metrics.auc >= 0.85 (0.81 >= 0.85); ...\n") + footer);
    c->callback([a, action] { *action = [a] { return DoPromote(*a); }; });
  }
  {
    auto* c = models->add_subcommand("download", "Write a version's package into a folder, every file verified");
    auto a = std::make_shared<DownloadArgs>();
    AddStoreOption(c, &a->store);
    c->add_option("ref", a->ref, "NAME/VERSION, NAME@ALIAS or NAME@production")->required()->type_name("REF");
    c->add_option("dir", a->dir, "A new (or empty) folder")->required()->type_name("DIR");
    c->add_option("-r,--remote", a->remote, "The remote to fetch missing objects from (default: the default remote)")
        ->type_name("NAME");
    c->add_flag("--json", a->as_json, "Print the version as JSON");
    c->footer(footer);
    c->callback([a, action] { *action = [a] { return DoDownload(*a); }; });
  }
}

}  // namespace forja
