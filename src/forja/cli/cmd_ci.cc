// forja ci report: the pull-request report. It gathers what the other commands
// already compute — params and metrics diffs (forja params/metrics diff), the
// plots diff (forja plots diff), the stages that would run (forja status
// --pipeline) — by running this same binary with --json, so that the report
// and those commands can never disagree; it adds what changed in versioned data
// (pointer files at the base and in the workspace, folders through their
// manifests) and a gate preview (registry/gates.h) of the workspace's metrics
// against the version that holds production now.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "forja/cas/cache.h"
#include "forja/cas/manifest.h"
#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/config/node.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/subprocess.h"
#include "forja/data/pointer.h"
#include "forja/data/workspace.h"
#include "forja/net/http_client.h"
#include "forja/pipeline/metric_files.h"
#include "forja/pipeline/project.h"
#include "forja/registry/gates.h"

namespace forja {

namespace {

using json = nlohmann::ordered_json;

struct Args {
  std::string base = "HEAD";
  std::string md_out;     // "" = stdout
  std::string plots_dir;  // "" = the Markdown file's folder, else ci-plots
  std::string store;
  bool as_json = false;
  bool fail_on_gates = false;
  bool no_plots = false;
  bool post = false;
  std::string pr;  // --pr: the pull/merge request number, else from the CI's environment
};

std::string AbsolutePath(const std::string& p) { return p.starts_with("/") ? p : CurrentDir() + "/" + p; }

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("forja");
}

// Runs `forja ARGS... --json` and parses what it prints. `ok_codes` are the exit
// codes that still mean an answer (status --pipeline exits 1 when stages changed).
Result<json> RunSelfJson(const std::vector<std::string>& args, std::set<int> ok_codes = {0}) {
  std::vector<std::string> argv{SelfExe(), "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv));
  std::string what = "forja";
  for (const auto& a : args) what += " " + a;
  if (!ok_codes.count(r.exit_code)) {
    std::string err = r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
    if (err.rfind("forja: error: ", 0) == 0) err = err.substr(14);
    return Status::User(what + ": " + (err.empty() ? "exit code " + std::to_string(r.exit_code) : err));
  }
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Internal(what + " printed no JSON");
  return j;
}

std::string Cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return FormatNumber(v.get<double>());
  return v.dump();
}

std::string Delta(const json& change) {
  if (change.is_null()) return "";
  double d = change.get<double>();
  std::string s = FormatNumber(d);
  return d > 0 ? "+" + s : s;
}

std::string Pipe(std::string s) {  // a Markdown table cell
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

// --- versioned data ----------------------------------------------------------

struct DataSide {
  std::optional<Pointer> pointer;
  std::map<std::string, Oid> files;  // a folder's files (from its manifest), or the file itself
  bool listed = false;                // files known (a folder whose manifest is not in the cache is not)
};

void ListFiles(const Cache* cache, DataSide* side) {
  if (!side->pointer) return;
  const Pointer& p = *side->pointer;
  if (!p.is_dir) {
    side->files[p.path] = p.oid;
    side->listed = true;
    return;
  }
  if (!cache || !p.has_oid) return;
  auto text = cache->Read(p.oid);
  if (!text.ok()) return;
  auto entries = ParseManifest(*text, p.path);
  if (!entries.ok()) return;
  for (const auto& e : *entries) side->files[e.path] = e.oid;
  side->listed = true;
}

Result<std::vector<std::string>> GitLines(const std::string& root, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, root));
  if (r.exit_code != 0) return Status::User("git " + args[0] + " failed: " + r.err);
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (l.size() > kPointerSuffix.size() && l.ends_with(kPointerSuffix)) lines.push_back(l);
  return lines;
}

std::string TrackedName(const std::string& pointer_file) {
  return pointer_file.substr(0, pointer_file.size() - kPointerSuffix.size());
}

std::optional<Pointer> ParseSide(const std::optional<std::string>& text, const std::string& file) {
  if (!text) return std::nullopt;
  auto p = ParsePointer(*text, file, Basename(TrackedName(file)), /*allow_unfetched=*/true);
  if (!p.ok()) {
    LogWarn(p.status().message());
    return std::nullopt;
  }
  return *p;
}

// Each dataset whose pointer differs between the base and the workspace.
Result<json> DataChanges(const std::string& root, const pipeline::GitRevision& base) {
  ASSIGN_OR_RETURN(auto ws_files, GitLines(root, {"ls-files", "--cached", "--others", "--exclude-standard", "--", "."}));
  ASSIGN_OR_RETURN(auto base_files, GitLines(root, {"ls-tree", "-r", "--name-only", base.commit()}));
  // Pointer files only, and only paths the one validator accepts: a clone's names are hostile.
  std::set<std::string> all;
  for (const auto* list : {&ws_files, &base_files})
    for (const auto& f : *list)
      if (f.ends_with(kPointerSuffix) && CheckUntrustedPath(f).ok()) all.insert(f);
  std::vector<std::string> names(all.begin(), all.end());
  ASSIGN_OR_RETURN(auto old_texts, base.ReadFiles(names));
  std::unique_ptr<Cache> cache;
  if (Exists(root + "/.forja/cache"))
    cache = std::make_unique<Cache>(root + "/.forja/cache", std::vector<LinkType>{LinkType::kCopy});
  json out = json::array();
  for (size_t i = 0; i < names.size(); i++) {
    std::optional<std::string> now;
    if (auto t = ReadFile(root + "/" + names[i]); t.ok()) now = *t;
    DataSide was, is;
    was.pointer = ParseSide(old_texts[i], names[i]);
    is.pointer = ParseSide(now, names[i]);
    if (!was.pointer && !is.pointer) continue;
    if (was.pointer && is.pointer && was.pointer->oid == is.pointer->oid && was.pointer->has_oid == is.pointer->has_oid)
      continue;
    ListFiles(cache.get(), &was);
    ListFiles(cache.get(), &is);
    json d{{"dataset", TrackedName(names[i])},
           {"status", !was.pointer ? "added" : !is.pointer ? "removed" : "modified"}};
    if ((was.listed || !was.pointer) && (is.listed || !is.pointer)) {
      json added = json::array(), removed = json::array(), modified = json::array();
      for (const auto& [f, oid] : is.files) {
        auto it = was.files.find(f);
        if (it == was.files.end()) added.push_back(f);
        else if (!(it->second == oid)) modified.push_back(f);
      }
      for (const auto& [f, oid] : was.files)
        if (!is.files.count(f)) removed.push_back(f);
      d["added"] = std::move(added);
      d["removed"] = std::move(removed);
      d["modified"] = std::move(modified);
    } else {
      d["note"] = "a folder's listing is not in the cache; forja pull fetches it";
    }
    out.push_back(std::move(d));
  }
  return out;
}

// --- gate preview ------------------------------------------------------------

// A param that is a mapping (params: [model]) becomes dotted keys, as tracked runs record it.
void AddParam(const std::string& key, const json& v, std::map<std::string, std::string>* out) {
  if (v.is_object()) {
    for (const auto& [k, sub] : v.items()) AddParam(key + "." + k, sub, out);
    return;
  }
  if (!v.is_null()) (*out)[key] = Cell(v);
}

void AddFacts(const json& metrics, const json& params, meta::VersionFacts* f) {
  for (const auto& m : metrics)
    if (m["new"].is_number()) f->metrics[m["metric"].get<std::string>()] = m["new"].get<double>();
  for (const auto& p : params) AddParam(p["param"].get<std::string>(), p["new"], &f->params);
}

Result<meta::VersionFacts> HolderFacts(meta::MetaStore& store, const meta::ModelVersion& v) {
  meta::VersionFacts f;
  f.version = v;
  if (v.run_id.empty()) return f;
  ASSIGN_OR_RETURN(meta::Run run, store.GetRun(v.run_id));
  for (const auto& m : run.metrics) f.metrics[m.key] = m.value;
  for (const auto& p : run.params) f.params[p.key] = p.value;
  for (const auto& t : run.tags) f.tags[t.key] = t.value;
  return f;
}

// One entry per model with production gates: {model, production, gates: [{gate, pass, detail}], pass, note}.
Result<json> GatePreview(const std::string& root, const Args& a, const json& metrics_all, const json& params_all,
                         bool* any_failed) {
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(root));
  ASSIGN_OR_RETURN(registry::Policies policies, registry::ParsePolicies(doc.Section("models"), doc.file));
  json out = json::array();
  std::unique_ptr<meta::MetaStore> store;
  std::string store_note;
  bool store_tried = false;
  for (const auto& [model, policy] : policies.models) {
    if (model == "*") continue;
    auto gates = policies.GatesFor(model, "Production");
    if (gates.empty()) continue;
    if (!store_tried) {
      store_tried = true;
      auto s = OpenStore(a.store);
      if (s.ok()) store = std::move(*s);
      else store_note = "no tracking store (" + s.status().message() + ")";
    }
    meta::PromotionFacts facts;
    AddFacts(metrics_all, params_all, &facts.candidate);
    json entry{{"model", model}, {"production", nullptr}};
    std::string note = store_note;
    if (store) {
      auto held = store->GetLatestVersions(model, {"Production"});
      if (!held.ok() || held->empty()) {
        note = held.ok() ? "no version of '" + model + "' is in production" : "'" + model + "' is not registered";
      } else {
        auto f = HolderFacts(*store, held->front());
        if (!f.ok()) return f.status();
        facts.holders["Production"] = *f;
        facts.holders["production"] = *f;
        entry["production"] = held->front().version;
      }
    }
    std::string report;
    bool pass = registry::EvaluateGates(gates, facts, &report);
    *any_failed |= !pass;
    json list = json::array();
    std::istringstream lines(report);
    for (std::string line; std::getline(lines, line);) {
      bool ok = line.rfind("pass ", 0) == 0;
      std::string rest = line.substr(5);
      std::string detail;
      if (auto p = rest.rfind(" ("); p != std::string::npos && rest.back() == ')') {
        detail = rest.substr(p + 2, rest.size() - p - 3);
        rest = rest.substr(0, p);
      }
      list.push_back(json{{"gate", rest}, {"pass", ok}, {"detail", detail}});
    }
    entry["gates"] = std::move(list);
    entry["pass"] = pass;
    if (!note.empty()) entry["note"] = note;
    out.push_back(std::move(entry));
  }
  return out;
}

// --- the report --------------------------------------------------------------

std::string Markdown(const json& r) {
  std::string md = "## forja report: workspace vs " + r["base"].get<std::string>() + "\n\n";
  md += "### Params\n\n";
  if (r["params"].empty()) md += "No param changed.\n\n";
  else {
    md += "| Path | Param | " + r["base"].get<std::string>() + " | workspace |\n|---|---|---|---|\n";
    for (const auto& p : r["params"])
      md += "| " + Pipe(Cell(p["path"])) + " | " + Pipe(Cell(p["param"])) + " | " + Pipe(Cell(p["old"])) + " | " +
            Pipe(Cell(p["new"])) + " |\n";
    md += "\n";
  }
  md += "### Metrics\n\n";
  if (r["metrics"].empty()) md += "No metric changed.\n\n";
  else {
    md += "| Path | Metric | " + r["base"].get<std::string>() + " | workspace | Change |\n|---|---|---|---|---|\n";
    for (const auto& m : r["metrics"])
      md += "| " + Pipe(Cell(m["path"])) + " | " + Pipe(Cell(m["metric"])) + " | " + Pipe(Cell(m["old"])) + " | " +
            Pipe(Cell(m["new"])) + " | " + Delta(m["change"]) + " |\n";
    md += "\n";
  }
  if (r.contains("plots")) {
    md += "### Plots\n\n";
    if (r["plots"].empty()) md += "No plots.\n\n";
    for (const auto& p : r["plots"])
      md += "![" + Pipe(p["id"].get<std::string>()) + "](" + p["link"].get<std::string>() + ")\n\n";
  }
  md += "### Versioned data\n\n";
  if (r["data"].empty()) md += "No tracked dataset changed.\n\n";
  for (const auto& d : r["data"]) {
    md += "- `" + d["dataset"].get<std::string>() + "` " + d["status"].get<std::string>();
    if (d.contains("note")) md += " (" + d["note"].get<std::string>() + ")";
    else
      md += ": " + std::to_string(d["added"].size()) + " added, " + std::to_string(d["removed"].size()) +
            " removed, " + std::to_string(d["modified"].size()) + " modified";
    md += "\n";
    for (const char* k : {"added", "removed", "modified"})
      if (d.contains(k))
        for (const auto& f : d[k]) md += "  - " + std::string(k) + ": `" + f.get<std::string>() + "`\n";
  }
  if (!r["data"].empty()) md += "\n";
  md += "### Stages that would run\n\n";
  bool any = false;
  for (const auto& s : r["stages"]) {
    if (s["outcome"] != "would run") continue;
    std::string why;
    for (const auto& x : s["reasons"]) why += (why.empty() ? "" : "; ") + x.get<std::string>();
    md += "- `" + s["stage"].get<std::string>() + "`" + (why.empty() ? "" : ": " + why) + "\n";
    any = true;
  }
  md += any ? "\n" : "Every stage is up to date.\n\n";
  md += "### Gate preview (production)\n\n";
  if (r["gates"].empty()) md += "No model has production gates in forja.yaml.\n\n";
  for (const auto& g : r["gates"]) {
    md += "**" + g["model"].get<std::string>() + "**: " + (g["pass"].get<bool>() ? "would pass" : "would FAIL") +
          (g["production"].is_null() ? "" : " against version " + g["production"].dump() + " in production") +
          (g.contains("note") ? " (" + g["note"].get<std::string>() + ")" : "") + "\n\n";
    md += "| Gate | Result | Values |\n|---|---|---|\n";
    for (const auto& x : g["gates"])
      md += "| `" + Pipe(x["gate"].get<std::string>()) + "` | " + (x["pass"].get<bool>() ? "pass" : "**FAIL**") +
            " | " + Pipe(x["detail"].get<std::string>()) + " |\n";
    md += "\n";
  }
  return md;
}

Status AppendFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return Status::User("cannot append to " + path + " ($GITHUB_STEP_SUMMARY)");
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok &= std::fclose(f) == 0;
  return ok ? Status::Ok() : Status::User("cannot write " + path + " ($GITHUB_STEP_SUMMARY)");
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool AllDigits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// Comments the report on the pull request (GitHub) or merge request (GitLab),
// with the token and coordinates the CI service puts in the environment.
Status PostComment(const Args& a, const std::string& md) {
  HttpRequest req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = json{{"body", md}}.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string where;
  if (!Env("GITLAB_TOKEN").empty() || !Env("CI_API_V4_URL").empty()) {
    std::string api = Env("CI_API_V4_URL"), project = Env("CI_PROJECT_ID"), token = Env("GITLAB_TOKEN");
    std::string mr = !a.pr.empty() ? a.pr : Env("CI_MERGE_REQUEST_IID");
    if (api.empty() || project.empty() || token.empty() || !AllDigits(mr) || !AllDigits(project))
      return Status::Usage("--post on GitLab needs GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID and a merge request "
                           "(CI_MERGE_REQUEST_IID or --pr N)");
    req.url = api + "/projects/" + project + "/merge_requests/" + mr + "/notes";
    req.headers.push_back({"PRIVATE-TOKEN", token});
    where = "merge request !" + mr;
  } else {
    std::string token = Env("GITHUB_TOKEN"), repo = Env("GITHUB_REPOSITORY");
    std::string api = Env("GITHUB_API_URL").empty() ? "https://api.github.com" : Env("GITHUB_API_URL");
    std::string pr = a.pr;
    if (std::string ref = Env("GITHUB_REF"); pr.empty() && ref.starts_with("refs/pull/")) {
      pr = ref.substr(10);
      pr = pr.substr(0, pr.find('/'));
    }
    bool repo_ok = repo.find('/') != std::string::npos &&
                   repo.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./") ==
                       std::string::npos;
    if (token.empty() || !repo_ok || !AllDigits(pr))
      return Status::Usage("--post on GitHub needs GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name) and a pull request "
                           "(GITHUB_REF refs/pull/N/merge or --pr N); on GitLab GITLAB_TOKEN and CI_API_V4_URL");
    req.url = api + "/repos/" + repo + "/issues/" + pr + "/comments";
    req.headers.push_back({"Authorization", "Bearer " + token});
    req.headers.push_back({"Accept", "application/vnd.github+json"});
    req.headers.push_back({"X-GitHub-Api-Version", "2022-11-28"});
    where = "pull request #" + pr;
  }
  HttpResponse resp = HttpPerform(req);
  if (!resp.transport_ok) return Status::Remote("--post: cannot reach " + req.url + ": " + resp.error);
  if (resp.status < 200 || resp.status >= 300) {
    std::string body = resp.body.substr(0, 200);
    for (char& c : body)
      if (c == '\n' || c == '\r') c = ' ';
    return Status::Remote("--post: " + req.url + " answered " + std::to_string(resp.status) + ": " + body);
  }
  LogInfo("Commented the report on " + where);
  return Status::Ok();
}

int DoReport(const Args& a) {
  auto root = pipeline::FindWorkspaceRoot(CurrentDir());
  if (!root.ok()) return Fail(root.status());
  auto base = pipeline::GitRevision::Open(*root, a.base);
  if (!base.ok()) return Fail(base.status());
  json r{{"base", a.base}, {"base_commit", base->commit()}};
  auto params = RunSelfJson({"params", "diff", a.base});
  if (!params.ok()) return Fail(params.status());
  auto params_all = RunSelfJson({"params", "diff", a.base, "--all"});
  if (!params_all.ok()) return Fail(params_all.status());
  auto metrics = RunSelfJson({"metrics", "diff", a.base});
  if (!metrics.ok()) return Fail(metrics.status());
  auto metrics_all = RunSelfJson({"metrics", "diff", a.base, "--all"});
  if (!metrics_all.ok()) return Fail(metrics_all.status());
  r["params"] = *params;
  r["metrics"] = *metrics;
  if (!a.no_plots) {
    std::string dir = a.plots_dir;
    if (dir.empty()) dir = a.md_out.empty() ? "ci-plots" : Dirname(AbsolutePath(a.md_out));
    dir = AbsolutePath(dir);
    auto plots = RunSelfJson({"plots", "diff", a.base, "--svg-only", "-o", dir});
    if (!plots.ok()) return Fail(plots.status());
    std::string md_dir = a.md_out.empty() ? CurrentDir() : Dirname(AbsolutePath(a.md_out));
    json list = json::array();
    for (const auto& p : (*plots)["plots"]) {
      if (!p.contains("svg") || !p["svg"].is_string()) continue;
      std::string svg = p["svg"].get<std::string>();
      std::string link = svg.rfind(md_dir + "/", 0) == 0 ? svg.substr(md_dir.size() + 1) : svg;
      list.push_back(json{{"id", p["id"]}, {"svg", svg}, {"link", link}});
    }
    r["plots"] = std::move(list);
  }
  auto data = DataChanges(*root, *base);
  if (!data.ok()) return Fail(data.status());
  r["data"] = *data;
  auto stages = RunSelfJson({"status", "--pipeline"}, {0, 1});
  if (!stages.ok()) return Fail(stages.status());
  r["stages"] = (*stages)["stages"];
  bool failed = false;
  auto gates = GatePreview(*root, a, *metrics_all, *params_all, &failed);
  if (!gates.ok()) return Fail(gates.status());
  r["gates"] = *gates;
  r["gates_pass"] = !failed;

  std::string md = Markdown(r);
  if (!a.md_out.empty()) {
    Status w = WriteFileAtomic(a.md_out, md);
    if (!w.ok()) return Fail(w);
  }
  if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY"); summary && *summary) {
    Status w = AppendFile(summary, md);
    if (!w.ok()) return Fail(w);
  }
  if (a.post) {
    Status p = PostComment(a, md);
    if (!p.ok()) return Fail(p);
  }
  if (a.as_json) OutJson(r);
  else if (a.md_out.empty()) std::fwrite(md.data(), 1, md.size(), stdout);
  else Out(a.md_out);
  return a.fail_on_gates && failed ? 1 : 0;
}

}  // namespace

// forja ci init (cmd_ci_init.cc): registered under the same `ci` group.
void RegisterCiInitCommand(CLI::App* ci, Action* action);

void RegisterCiCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* ci = app.add_subcommand("ci", "Continuous integration: the pull-request report, the CI service's workflow files");
  ci->require_subcommand(1);
  ci->footer(std::string(kExitCodesHelp));
  RegisterCiInitCommand(ci, action);
  auto* c = ci->add_subcommand("report", "Write the pull-request report: what this change does to params, metrics, "
                                         "plots, data, stages and gates");
  auto a = std::make_shared<Args>();
  c->add_option("--base", a->base, "The commit, branch or tag the change is compared with (default: HEAD;\n"
                                   "on a pull request: origin/main)")
      ->type_name("REV");
  c->add_option("--md", a->md_out, "Write the Markdown report to FILE (default: print it); the plot SVGs go\n"
                                   "next to it and the report links them")
      ->type_name("FILE");
  c->add_option("--plots-dir", a->plots_dir,
                "The folder for the plot SVGs (default: the --md file's folder, else ./ci-plots)")
      ->type_name("DIR");
  c->add_flag("--no-plots", a->no_plots, "Leave the plots out");
  c->add_flag("--json", a->as_json,
              "Print JSON: {base, base_commit, params: [{path, param, old, new}], metrics: [{path,\n"
              "metric, old, new, change}], plots: [{id, svg, link}], data: [{dataset, status, added,\n"
              "removed, modified}], stages: [{stage, outcome, reasons}], gates: [{model, production,\n"
              "pass, note, gates: [{gate, pass, detail}]}], gates_pass}");
  c->add_flag("--fail-on-gates", a->fail_on_gates, "Exit 1 when a production gate would fail");
  c->add_flag("--post", a->post,
              "Comment the Markdown on the pull request (GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY,\n"
              "GITHUB_REF or --pr, GITHUB_API_URL) or merge request (GitLab: GITLAB_TOKEN, CI_API_V4_URL,\n"
              "CI_PROJECT_ID, CI_MERGE_REQUEST_IID or --pr)");
  c->add_option("--pr", a->pr, "The pull/merge request number for --post (default: from the CI's environment)")
      ->type_name("N");
  AddStoreOption(c, &a->store);
  c->footer(std::string(
                "Sections: params and metrics that changed (as forja params diff / forja metrics diff\n"
                "REV), the plots of forja plots diff REV as SVG files linked from the Markdown, each\n"
                "tracked dataset (PATH.forja) whose data changed with its files added, removed and\n"
                "modified, the stages forja status --pipeline says would run, and a gate preview: for\n"
                "each model with production gates in forja.yaml's models:, the workspace's metrics and\n"
                "params checked gate by gate against the version in production now (from the tracking\n"
                "store; without a store or a production version, the report says so).\n"
                "When $GITHUB_STEP_SUMMARY is set, the Markdown is appended to that file too.\n"
                "  forja ci report --base origin/main --md report/report.md\n"
                "  forja ci report --base main --json --fail-on-gates\n"
                "Details: docs/ci.md.\n\n") +
            kExitCodesHelp);
  c->callback([a, action] { *action = [a] { return DoReport(*a); }; });
}

}  // namespace forja
