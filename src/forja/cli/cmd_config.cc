// forja config show|groups|explain: Hydra-style composition of conf/.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "forja/cli/cli.h"
#include "forja/config/compose.h"
#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/project.h"

namespace forja {

namespace {

using json = nlohmann::ordered_json;
using config::ComposeOptions;
using config::Composed;
using config::Node;

struct ConfigArgs {
  std::string config_dir;   // --config-dir
  std::string config_name;  // --config-name
  std::vector<std::string> overrides;
};

// `abs` as the user would type it from the current folder.
std::string Display(const std::string& abs, const std::string& cwd) {
  if (abs == cwd) return ".";
  if (abs.size() > cwd.size() && abs.starts_with(cwd) && (cwd == "/" || abs[cwd.size()] == '/'))
    return abs.substr(cwd == "/" ? 1 : cwd.size() + 1);
  return abs;
}

// The config folder and primary config: --config-dir / --config-name, else
// `config: {root, name}` in forja.yaml (root relative to the workspace), else
// conf/ of the workspace, else ./conf; the name defaults to "config".
Status ResolveConfigLocation(const ConfigArgs& a, ComposeOptions* opts) {
  std::string cwd = CurrentDir();
  std::string root_abs, name;
  auto found = pipeline::FindWorkspaceRoot(cwd);
  std::string ws = found.ok() ? *found : "";
  if (!ws.empty() && IsFile(ws + "/forja.yaml")) {
    std::string manifest = ws + "/forja.yaml";
    std::string shown = Display(manifest, cwd);
    ASSIGN_OR_RETURN(std::string text, ReadFile(manifest));
    ASSIGN_OR_RETURN(ForjaYaml forja_yaml, ParseForjaYaml(text, shown));
    const Node& doc = forja_yaml.root;
    if (const Node* c = doc.is_map() ? doc.Find("config") : nullptr) {
      if (!c->is_map() && !c->is_null())
        return Status::User(c->origin() + ": config must be a mapping; write config: {root: conf, name: config}");
      if (c->is_map()) {
        for (const auto& [k, v] : c->entries()) {
          if (k != "root" && k != "name")
            return Status::User(v.origin() + ": unknown key config." + k + " (known: root, name)");
          if (!v.is_string() || v.as_string().empty())
            return Status::User(v.origin() + ": config." + k + " must be a non-empty string");
        }
        if (const Node* r = c->Find("root"))
          root_abs = r->as_string()[0] == '/' ? r->as_string() : ws + "/" + r->as_string();
        if (const Node* n = c->Find("name")) name = n->as_string();
      }
    }
  }
  if (!a.config_dir.empty()) root_abs = a.config_dir[0] == '/' ? a.config_dir : cwd + "/" + a.config_dir;
  if (root_abs.empty()) root_abs = (ws.empty() ? cwd : ws) + "/conf";
  if (!a.config_name.empty()) name = a.config_name;
  if (name.empty()) name = "config";
  opts->config_dir = Display(NormalizeAbsolute(root_abs), cwd);
  opts->config_name = name;
  opts->overrides = a.overrides;
  return Status::Ok();
}

void AddLocationOptions(CLI::App* c, ConfigArgs& a) {
  c->add_option("--config-dir", a.config_dir,
                "The config folder (default: config.root in forja.yaml, else conf/ of the workspace, else ./conf)")
      ->type_name("DIR");
  c->add_option("--config-name", a.config_name,
                "The primary config, without .yaml (default: config.name in forja.yaml, else config)")
      ->type_name("NAME");
}


// Hidden --repeat N: time N compositions in this process (bench/config).
void ReportTimes(std::vector<double> us, const std::string& what) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double x : us) sum += x;
  char buf[200];
  std::snprintf(buf, sizeof buf, "repeat: %s n=%zu mean_us=%.1f median_us=%.1f min_us=%.1f", what.c_str(),
                us.size(), sum / static_cast<double>(us.size()), us[us.size() / 2], us.front());
  std::fprintf(stderr, "%s\n", buf);
}

template <typename F>
auto Timed(int repeat, const std::string& what, F f) -> decltype(f()) {
  std::vector<double> us;
  for (int i = 1; i < repeat; i++) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = f();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (!r.ok()) return r;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = f();
  us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  if (repeat > 0) ReportTimes(us, what);
  return r;
}

// What `forja config show` says about the run (the hydra node, --hydra).
struct HydraShowArgs {
  bool show = false;      // --hydra: print the hydra node too, as Hydra's --cfg all
  std::string job_name;   // --job-name
  int64_t job_num = -1;   // --job-num: a multirun's job
  int64_t now = -1;       // --now: the time ${now:...} formats (a multirun's jobs share one)
};

int DoShow(const ConfigArgs& a, bool as_json, bool resolve, const std::string& package, bool multirun,
           bool check, int repeat, const HydraShowArgs& h) {
  ComposeOptions opts;
  if (Status st = ResolveConfigLocation(a, &opts); !st.ok()) return Fail(st);
  opts.resolve = resolve;
  opts.hydra_run.job_name = h.job_name;
  if (h.job_num >= 0) {
    opts.hydra_run.multirun = true;
    opts.hydra_run.job_num = h.job_num;
  }
  if (h.now >= 0) opts.resolve_options.now = std::chrono::system_clock::from_time_t(static_cast<time_t>(h.now));
  if (multirun) {
    // Compose the base (sweeps left out) first, as a multirun does: a bad group
    // or key fails here instead of in every job.
    ComposeOptions base = opts;
    base.multirun = true;
    base.resolve = false;
    auto composed = config::Compose(base);
    if (!composed.ok()) return Fail(composed.status());
    auto sweep = Timed(repeat, "sweep", [&] { return config::ExpandSweepJobs(opts.overrides, opts.config_dir); });
    if (!sweep.ok()) return Fail(sweep.status());
    if (check) {
      // As Hydra's BasicSweeper does before launching: every job must compose.
      ComposeOptions job = opts;
      job.resolve = false;
      for (size_t j = 0; j < sweep->count; j++) {
        job.overrides = sweep->Job(j);
        if (auto r = config::Compose(job); !r.ok()) return Fail(r.status());
      }
    }
    std::string out;
    if (as_json) {
      out += "[";
      for (size_t j = 0; j < sweep->count; j++) {
        out += j ? ",\n  [" : "\n  [";
        const uint32_t* row = sweep->Row(j);
        for (size_t k = 0; k < sweep->width; k++) {
          if (k) out += ", ";
          AppendJsonString(&out, sweep->texts[row[k]]);
        }
        out += "]";
      }
      out += sweep->count ? "\n]\n" : "]\n";
    } else {
      for (size_t j = 0; j < sweep->count; j++) {
        const uint32_t* row = sweep->Row(j);
        for (size_t k = 0; k < sweep->width; k++) {
          if (k) out += ' ';
          out += sweep->texts[row[k]];
        }
        out += '\n';
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    LogVerbose(std::to_string(sweep->count) + " jobs");
    return 0;
  }
  auto composed = Timed(repeat, "compose", [&] { return config::Compose(opts); });
  if (!composed.ok()) return Fail(composed.status());
  if (h.show) {  // the hydra node first, as Hydra's --cfg all prints it
    Node all = Node::Map({{"hydra", composed->hydra}});
    for (auto& [k, v] : composed->config.entries()) all.Set(k, v);
    composed->config = std::move(all);
  }
  const Node* n = &composed->config;
  bool header = false;
  if (!package.empty() && package != "_global_") {
    n = composed->config.Select(package);
    if (!n)
      return Fail(Status::User("--package " + package + ": no such key in the composed config; forja config show "
                               "prints the whole config"));
    header = true;
  }
  if (as_json) {
    Out(config::ToJson(*n, 2));
  } else if (n->is_scalar()) {
    Out(config::ScalarToString(*n));
  } else {
    std::string text = (header ? "# @package " + package + "\n" : "") + config::ToYaml(*n);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

int DoGroups(const ConfigArgs& a, bool as_json) {
  ComposeOptions opts;
  if (Status st = ResolveConfigLocation(a, &opts); !st.ok()) return Fail(st);
  auto groups = config::ListGroups(opts.config_dir);
  if (!groups.ok()) return Fail(groups.status());
  // The choices of the primary config, when it composes.
  std::vector<config::Choice> choices;
  opts.resolve = false;
  opts.multirun = true;  // a group left at ??? is not an error here
  if (auto c = config::Compose(opts); c.ok()) {
    choices = c->choices;
  } else {
    LogVerbose("choices unknown: " + c.status().message());
  }
  auto chosen_in = [&](const std::string& group) {
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    for (const auto& ch : choices) {
      std::string g = ch.key.substr(0, ch.key.find('@'));
      if (g == group) out.emplace_back(ch.key, ch.option);
    }
    return out;
  };
  if (as_json) {
    json j = json::array();
    for (const auto& g : *groups) {
      json chosen = json::object();
      for (const auto& [k, v] : chosen_in(g.group)) chosen[k] = v ? json(*v) : json(nullptr);
      j.push_back(json{{"group", g.group}, {"options", g.options}, {"chosen", chosen}});
    }
    OutJson(j);
    return 0;
  }
  if (groups->empty()) {
    LogInfo("No config groups in " + opts.config_dir + " (a group is a folder of .yaml files)");
    return 0;
  }
  for (const auto& g : *groups) {
    std::string line = g.group + ":";
    std::string opts_list;
    for (size_t i = 0; i < g.options.size(); i++) opts_list += (i ? ", " : " ") + g.options[i];
    line += opts_list.empty() ? " (no options)" : opts_list;
    auto chosen = chosen_in(g.group);
    if (!chosen.empty()) {
      std::string c;
      for (const auto& [k, v] : chosen) c += (c.empty() ? "" : ", ") + k + "=" + v.value_or("null");
      line += "  [" + c + "]";
    }
    Out(line);
  }
  return 0;
}

std::string OneLine(const Node& n) { return config::ToJson(n, 0); }

int DoExplain(const ConfigArgs& a, const std::string& key, bool as_json) {
  ComposeOptions opts;
  if (Status st = ResolveConfigLocation(a, &opts); !st.ok()) return Fail(st);
  opts.resolve = false;
  opts.explain_key = key;
  auto composed = config::Compose(opts);
  if (!composed.ok()) return Fail(composed.status());
  const Node* raw = composed->config.Select(key);
  if (!raw)
    return Fail(Status::User("'" + key + "' is not in the composed config; forja config show lists the keys"));
  auto value = config::ResolveValue(composed->config, key, composed->HydraResolveOptions());
  if (!value.ok()) return Fail(Status::User((raw->origin().empty() ? key : raw->origin()) + ": " +
                                            value.status().message()));
  bool interpolated = !(*raw == *value);
  if (as_json) {
    json steps = json::array();
    for (const auto& s : composed->history) {
      json js{{"where", s.where}, {"what", s.what}};
      js["value"] = s.value ? json::parse(config::ToJson(*s.value, 0)) : json(nullptr);
      steps.push_back(js);
    }
    json j{{"key", key}, {"value", json::parse(config::ToJson(*value, 0))}, {"origin", raw->origin()}};
    if (interpolated) j["unresolved"] = json::parse(config::ToJson(*raw, 0));
    j["steps"] = steps;
    OutJson(j);
    return 0;
  }
  Out(key + ": " + OneLine(*value) + (interpolated ? "  (from " + OneLine(*raw) + ")" : ""));
  Out("  final value set at " + raw->origin());
  if (!composed->history.empty()) Out("  history, first to last:");
  size_t width = 0;
  for (const auto& s : composed->history) width = std::max(width, s.where.size());
  for (const auto& s : composed->history) {
    std::string line = "    " + s.where + std::string(width - s.where.size() + 2, ' ') + s.what;
    if (s.value) line += ": " + OneLine(*s.value);
    Out(line);
  }
  return 0;
}

const char* const kOverridesHelp =
    "OVERRIDES use Hydra's grammar: key=value (change), +key=value (add), ++key=value (add or\n"
    "change), ~key or ~key=value (delete), group=option, group@package=option, +group=option,\n"
    "~group. Values: null, true/false, 1, 1.5, inf, nan, 'quoted', [a,b], {a:1}, ${interpolation}.\n"
    "Sweeps (only with -m): a=1,2,3, choice(a,b), range(0,10,2), glob(*), with sort(), shuffle().\n";

}  // namespace

void RegisterConfigCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* cfg = app.add_subcommand("config", "Compose configuration from conf/ the way Hydra does");
  cfg->require_subcommand(1);
  cfg->footer(std::string(
      "The config folder holds a primary config (config.yaml) whose defaults list picks options\n"
      "from config groups (folders: conf/db/mysql.yaml is option mysql of group db). Composition\n"
      "follows Hydra 1.3 (version_base=\"1.3\"): defaults lists, _self_, packages, overrides,\n"
      "interpolation. The folder is config.root in forja.yaml (config: {root: conf, name: config}),\n"
      "else conf/ at the top of the workspace, else ./conf.\n\n") + kExitCodesHelp);
  {
    auto* c = cfg->add_subcommand("show", "Print the composed config (YAML, or JSON with --json)");
    auto a = std::make_shared<ConfigArgs>();
    auto as_json = std::make_shared<bool>(false);
    auto resolve = std::make_shared<bool>(true);
    auto package = std::make_shared<std::string>();
    auto multirun = std::make_shared<bool>(false);
    auto check = std::make_shared<bool>(true);
    auto repeat = std::make_shared<int>(0);
    auto hydra = std::make_shared<HydraShowArgs>();
    c->add_option("overrides", a->overrides, "Overrides, e.g. db=postgresql db.port=5433 +extra.key=1")
        ->type_name("OVERRIDE");
    c->add_flag("-m,--multirun", *multirun,
                "List the jobs of a sweep (a=1,2 b=range(3)): one line of overrides per job");
    c->add_flag("--check,!--no-check", *check,
                "With -m: compose every job to check it (default), or only list the jobs with --no-check");
    c->add_flag("--json", *as_json, "Print JSON (with -m: an array of override lists)");
    c->add_flag("--resolve,!--no-resolve", *resolve,
                "Resolve interpolations (default), or print them as written with --no-resolve");
    c->add_option("-p,--package", *package, "Print only the config at this key (e.g. db)")->type_name("KEY");
    c->add_flag("--hydra", hydra->show,
                "Print Hydra's runtime config too, under the key hydra (what ${hydra:KEY} reads), as "
                "Hydra's --cfg all does");
    c->add_option("--job-name", hydra->job_name,
                  "hydra.job.name (default: the config's hydra.job.name, else the config name)")
        ->type_name("NAME");
    c->add_option("--job-num", hydra->job_num,
                  "Compose job N of a multirun: hydra.mode=MULTIRUN, hydra.job.num=N, the output folder "
                  "hydra.sweep.dir/hydra.sweep.subdir")
        ->type_name("N")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--now", hydra->now,
                  "The time ${now:...} formats, in seconds since 1970 (default: now); the jobs of a "
                  "multirun pass the same, so they share hydra.sweep.dir")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber);
    AddLocationOptions(c, *a);
    c->add_option("--repeat", *repeat, "Compose N times and print timings to stderr (benchmarks)")->group("");
    c->footer(std::string(kOverridesHelp) +
              "Keys keep the order Hydra gives them; values are typed as OmegaConf types them.\n\n" +
              kExitCodesHelp);
    c->callback([=] {
      *action = [=] { return DoShow(*a, *as_json, *resolve, *package, *multirun, *check, *repeat, *hydra); };
    });
  }
  {
    auto* c = cfg->add_subcommand("groups", "List the config groups and their options");
    auto a = std::make_shared<ConfigArgs>();
    auto as_json = std::make_shared<bool>(false);
    c->add_flag("--json", *as_json, "Print a JSON array: group, options, chosen (the primary config's choices)");
    AddLocationOptions(c, *a);
    c->footer(std::string(
        "Every folder under the config folder is a group (nested folders are nested groups, e.g.\n"
        "db/mysql); its .yaml files are its options. In brackets: what the primary config chooses.\n\n") +
        kExitCodesHelp);
    c->callback([=] { *action = [=] { return DoGroups(*a, *as_json); }; });
  }
  {
    auto* c = cfg->add_subcommand("explain", "Say which file:line and which overrides set a key's value");
    auto a = std::make_shared<ConfigArgs>();
    auto key = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    c->add_option("key", *key, "A dotted key of the composed config, e.g. db.port")->required()->type_name("KEY");
    c->add_option("overrides", a->overrides, "Overrides, as for forja config show")->type_name("OVERRIDE");
    c->add_flag("--json", *as_json, "Print JSON: key, value, origin, steps");
    AddLocationOptions(c, *a);
    c->footer(std::string(
        "Lists, in merge order, every config of the defaults list and every override that set the\n"
        "key (or replaced a parent of it), and where its final value comes from.\n\n") +
        kOverridesHelp + "\n" + kExitCodesHelp);
    c->callback([=] { *action = [=] { return DoExplain(*a, *key, *as_json); }; });
  }
}

}  // namespace forja
