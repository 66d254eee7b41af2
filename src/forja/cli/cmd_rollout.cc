// forja rollout NAME --to VERSION ...: a progressive rollout with automatic rollback
// (rollout/controller.h does the steps); forja rollout status NAME; forja rollout abort NAME.
// Docs: docs/rollout.md.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "forja/api/codec.h"
#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/data/workspace.h"
#include "forja/registry/gates.h"
#include "forja/registry/roles.h"
#include "forja/rollout/controller.h"

namespace forja {

namespace {

using api::Json;

struct RolloutArgs {
  std::string store, name, to, stage, alias, steps = "5,25,50,100", interval = "60s", apply_timeout = "30s";
  std::string max_error_rate, max_p99_ms, min_quality, max_drift, prometheus;
  std::vector<std::string> servers;
  int64_t min_requests = 1;
  bool quiet = false, as_json = false;
};

std::string User() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (struct passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "unknown";
}

// The target as the store keeps it ("Production", "@champion") and as a user reads it.
Result<std::string> Target(const RolloutArgs& a) {
  if (!a.stage.empty() && !a.alias.empty()) return Status::Usage("--stage and --alias: give one (the default is --stage production)");
  if (!a.alias.empty()) {
    std::string alias = a.alias[0] == '@' ? a.alias.substr(1) : a.alias;
    RETURN_IF_ERROR(meta::CheckAliasName(alias));
    return "@" + alias;
  }
  std::string stage = meta::CanonicalStage(a.stage.empty() ? "production" : a.stage);
  if (stage != "Production" && stage != "Staging")
    return Status::Usage("--stage '" + rollout::ShownInput(a.stage) + "': a rollout moves the traffic of production or staging (or --alias A)");
  return stage;
}

Result<rollout::Options> ReadOptions(const RolloutArgs& a) {
  rollout::Options o;
  o.name = a.name;
  ASSIGN_OR_RETURN(o.target, Target(a));
  if (a.to.empty() || a.to.size() > 18 || a.to.find_first_not_of("0123456789") != std::string::npos || std::stoll(a.to) < 1)
    return Status::Usage("--to '" + rollout::ShownInput(a.to) + "': a version number, e.g. --to 3");
  o.to_version = std::stoll(a.to);
  ASSIGN_OR_RETURN(o.steps, rollout::ParseSteps(a.steps));
  ASSIGN_OR_RETURN(o.interval_ms, rollout::ParseDurationMs(a.interval, "--interval"));
  ASSIGN_OR_RETURN(o.apply_timeout_ms, rollout::ParseDurationMs(a.apply_timeout, "--apply-timeout"));
  if (!a.max_error_rate.empty()) {
    ASSIGN_OR_RETURN(o.thresholds.max_error_rate, rollout::ParseShare(a.max_error_rate, "--max-error-rate"));
  }
  if (!a.max_drift.empty()) {
    ASSIGN_OR_RETURN(o.thresholds.max_drift, rollout::ParseShare(a.max_drift, "--max-drift"));
  }
  if (!a.max_p99_ms.empty()) {
    char* end = nullptr;
    double v = std::strtod(a.max_p99_ms.c_str(), &end);
    if (a.max_p99_ms.size() > 32 || end != a.max_p99_ms.c_str() + a.max_p99_ms.size() || !(v > 0) || v > 1e9)
      return Status::Usage("--max-p99-ms '" + rollout::ShownInput(a.max_p99_ms) + "': a positive number of milliseconds, e.g. --max-p99-ms 250");
    o.thresholds.max_p99_ms = v;
  }
  if (!a.min_quality.empty()) {
    ASSIGN_OR_RETURN(o.thresholds.min_quality, rollout::ParseQualityMin(a.min_quality));
  }
  if (a.min_requests < 1) return Status::Usage("--min-requests " + std::to_string(a.min_requests) + ": at least 1");
  o.thresholds.min_requests = a.min_requests;
  if (a.servers.empty() == a.prometheus.empty())
    return Status::Usage("give the servers to watch: --server URL (once per forja serve replica) or --prometheus URL");
  for (const std::string& s : a.servers) {
    ASSIGN_OR_RETURN(std::string u, rollout::ParseBaseUrl(s, "--server"));
    o.servers.push_back(u);
  }
  if (!a.prometheus.empty()) {
    ASSIGN_OR_RETURN(o.prometheus, rollout::ParseBaseUrl(a.prometheus, "--prometheus"));
  }
  return o;
}

// The version holding the target now (0: none).
Result<int64_t> Holder(meta::MetaStore& store, const std::string& name, const std::string& target) {
  if (target[0] == '@') {
    auto v = store.GetVersionByAlias(name, target.substr(1));
    if (v.status().code() == Code::kNotFound) return int64_t{0};
    if (!v.ok()) return v.status();
    return v->version;
  }
  ASSIGN_OR_RETURN(meta::RegisteredModel m, store.GetRegisteredModel(name));
  int64_t holder = 0;
  for (const auto& v : m.latest_versions)
    if (v.current_stage == target) holder = std::max(holder, v.version);
  return holder;
}

Result<registry::Policies> Policies(const StoreContext& ctx) {
  if (ctx.root.empty()) return registry::Policies{};
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(ctx.root));
  return registry::ParsePolicies(doc.Section("models"), doc.file);
}

std::string Where(const std::string& target) { return target[0] == '@' ? target : "in " + target; }

std::atomic<int> g_signal{0};
extern "C" void OnSignal(int sig) { g_signal.store(sig); }

void CatchStops() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int DoRollout(const RolloutArgs& a) {
  auto opts = ReadOptions(a);
  if (!opts.ok()) return Fail(opts.status());
  const rollout::Options& o = *opts;
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  meta::MetaStore& st = **store;
  auto candidate = st.GetModelVersion(o.name, o.to_version);
  if (!candidate.ok()) {
    if (candidate.status().code() != Code::kNotFound) return Fail(candidate.status());
    return Fail(Status::User("model '" + o.name + "' has no version " + std::to_string(o.to_version) +
                             "; see forja models versions " + o.name));
  }
  auto holder = Holder(st, o.name, o.target);
  if (!holder.ok()) return Fail(holder.status());
  if (*holder == o.to_version)
    return Fail(Status::User("version " + std::to_string(o.to_version) + " of '" + o.name + "' is already " + Where(o.target) +
                             "; nothing to roll out"));
  auto policies = Policies(ctx);
  if (!policies.ok()) return Fail(policies.status());
  if (Status allowed = registry::Authorize("forja models promote", registry::LocalStoreRole()); !allowed.ok())
    return Fail(allowed);
  meta::Rollout begin;
  begin.name = o.name;
  begin.target = o.target;
  begin.to_version = o.to_version;
  begin.steps = rollout::StepsText(o.steps);
  begin.user = User();
  begin.message = "started: steps " + begin.steps;
  auto begun = st.BeginRollout(begin);
  if (!begun.ok()) return Fail(begun.status());
  CatchStops();
  bool show = !a.quiet && ::isatty(STDERR_FILENO);
  std::string id = std::to_string(begun->id), version = std::to_string(o.to_version);
  auto source = o.prometheus.empty() ? rollout::ScrapeServers(o.servers, o.name, version, id)
                                     : rollout::QueryPrometheus(o.prometheus, o.name, version, id);
  rollout::Hooks hooks;
  hooks.progress = [&](const std::string& line) {
    if (show) std::fprintf(stderr, "rollout %s of %s: %s\n", id.c_str(), o.name.c_str(), line.c_str());
  };
  hooks.stop = []() -> std::string {
    int s = g_signal.load();
    return s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "";
  };
  hooks.promote = [&]() -> Status {
    meta::Promotion p{o.name, o.to_version, o.target, o.target[0] != '@', User(), "forja rollout " + id, false};
    return registry::Promote(st, *policies, p, registry::LocalStoreRole()).status();
  };
  if (show) {
    std::string plan;
    for (int w : o.steps) plan += (plan.empty() ? "" : ", ") + std::to_string(w) + "%";
    std::string now = begun->from_version ? "v" + std::to_string(begun->from_version) : "none";
    hooks.progress("version " + version + " (now " + now + ") -> " + o.target + " in steps of " + plan + ", " + a.interval +
                   " each");
  }
  meta::Rollout end = rollout::Run(st, o, *begun, *source, hooks);
  if (a.as_json) OutJson(Json{{"rollout", api::ToJson(end)}});
  if (end.state == "completed") {
    if (!a.as_json) Out("rollout " + id + " of " + o.name + " completed: " + end.message);
    return 0;
  }
  std::string verb = end.state == "rolled_back" ? "rolled back" : end.state;
  return Fail(Status::User("rollout " + id + " of " + o.name + " " + verb + ": " + end.message));
}

// ---- status, abort ----

struct NameArgs {
  std::string store, name;
  bool as_json = false;
};

int DoStatus(const NameArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto r = (*store)->GetRollout(a.name);
  if (!r.ok()) {
    if (r.status().code() != Code::kNotFound) return Fail(r.status());
    return Fail(Status::NotFound("model '" + a.name + "' never had a rollout; start one with forja rollout " + a.name +
                                 " --to VERSION ..."));
  }
  auto hist = (*store)->History(a.name, r->to_version);
  if (!hist.ok()) return Fail(hist.status());
  std::vector<meta::Transition> steps;
  for (const auto& t : *hist)
    if (t.kind == "rollout" && t.time >= r->started) steps.push_back(t);
  if (a.as_json) {
    OutJson(Json{{"rollout", api::ToJson(*r)}, {"history", api::ListToJson(steps)}});
    return 0;
  }
  Out("rollout " + std::to_string(r->id) + " of " + r->name + ": version " +
      (r->from_version ? std::to_string(r->from_version) : "none") + " -> " + std::to_string(r->to_version) + " " +
      Where(r->target));
  Out("state:    " + r->state + (r->state == "running" ? ", weight " + std::to_string(r->weight) + "%" : ""));
  Out("steps:    " + r->steps);
  Out("started:  " + FormatTime(r->started) + " by " + r->user);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  Out("updated:  " + FormatTime(r->updated) +
      (meta::RolloutStale(*r, now) ? "  (stale: its forja rollout is gone, and servers send the candidate no "
                                     "traffic; end it with forja rollout abort " + r->name + ")"
                                   : ""));
  Out("message:  " + r->message);
  Out("history:");
  for (const auto& t : steps)
    Out("  " + FormatTime(t.time) + "  " + (t.from.empty() ? "begin" : t.from) + " -> " + t.to + "  " + t.user +
        (t.comment.empty() ? "" : "  " + t.comment));
  return 0;
}

int DoAbort(const NameArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  auto r = (*store)->GetRollout(a.name);
  if (!r.ok() && r.status().code() != Code::kNotFound) return Fail(r.status());
  if (!r.ok() || r->state != "running")
    return Fail(Status::User("model '" + a.name + "' has no running rollout" +
                             (r.ok() ? " (the last, " + std::to_string(r->id) + ", is " + r->state + ")" : "")));
  meta::Rollout end = *r;
  end.weight = 0;
  end.state = "aborted";
  end.user = User();
  end.message = "aborted by " + end.user + " (forja rollout abort) at " + std::to_string(r->weight) + "%; route restored";
  auto done = (*store)->UpdateRollout(end);
  if (!done.ok()) return Fail(done.status());
  if (a.as_json) {
    OutJson(Json{{"rollout", api::ToJson(*done)}});
    return 0;
  }
  Out("rollout " + std::to_string(done->id) + " of " + a.name + " aborted at " + std::to_string(r->weight) +
      "%: every forja serve following " + a.name + (r->target[0] == '@' ? "" : "@") +
      (r->target[0] == '@' ? r->target : meta::CanonicalStage(r->target)) + " drops version " +
      std::to_string(r->to_version) + "; its controller ends with the rollout aborted");
  return 0;
}

}  // namespace

void RegisterRolloutCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  auto* c = app.add_subcommand("rollout", "Progressive rollout of a model version with automatic rollback (docs/rollout.md)");
  auto a = std::make_shared<RolloutArgs>();
  AddStoreOption(c, &a->store);
  c->add_option("name", a->name, "The registered model")->type_name("NAME");
  c->add_option("--to", a->to, "The candidate version")->type_name("VERSION");
  c->add_option("--stage", a->stage, "What it takes at the end: production (default) or staging")->type_name("STAGE");
  c->add_option("--alias", a->alias, "Or an alias it takes at the end (serve follows NAME@ALIAS)")->type_name("A");
  c->add_option("--steps", a->steps, "The candidate's traffic percent at each step (default 5,25,50,100)")->type_name("LIST");
  c->add_option("--interval", a->interval, "How long each step is watched (default 60s; ms, s, m, h)")->type_name("DURATION");
  c->add_option("--max-error-rate", a->max_error_rate, "Roll back when the candidate's 5xx share exceeds it (1% or 0.01)")
      ->type_name("RATE");
  c->add_option("--max-p99-ms", a->max_p99_ms, "Roll back when the candidate's p99 latency exceeds N ms")->type_name("N");
  c->add_option("--min-quality", a->min_quality, "Roll back when its quality from feedback is below X (accuracy>=0.9)")
      ->type_name("METRIC>=X");
  c->add_option("--max-drift", a->max_drift, "Roll back when its drifted column share exceeds X (0.3 or 30%)")->type_name("X");
  c->add_option("--server", a->servers, "A forja serve replica's base URL, its /metrics read (repeat for each)")
      ->type_name("URL");
  c->add_option("--prometheus", a->prometheus, "Or a Prometheus that scrapes the replicas (its /api/v1/query)")
      ->type_name("URL");
  c->add_option("--apply-timeout", a->apply_timeout, "How long every server may take to apply a step (default 30s)")
      ->type_name("DURATION");
  c->add_option("--min-requests", a->min_requests, "Candidate requests a step needs to pass (default 1)")->type_name("N");
  c->add_flag("--json", a->as_json, "Print the final rollout record as JSON");
  c->footer(std::string(
                "\nEach step writes the weight to the registry; every forja serve that follows NAME@stage (or\n"
                "NAME@alias) sends that share of the traffic to the candidate and shows it on /metrics\n"
                "(forja_serve_rollout_weight). forja rollout waits until every server shows the step, watches\n"
                "--interval, then checks the candidate's numbers of that interval: too few requests\n"
                "(--min-requests), error rate, p99, quality, drift. A failed check sets the weight to 0\n"
                "(rolled_back); unreachable servers, SIGINT/SIGTERM or forja rollout abort end it aborted at\n"
                "weight 0. After the last step the version is promoted through forja.yaml's gates, as\n"
                "forja models promote does (a stage archives its previous holder); a failing gate rolls back.\n"
                "Exit 0 only when the rollout completed.\n"
                "Examples:\n"
                "  forja rollout churn --to 3 --steps 5,25,50,100 --interval 60s --max-error-rate 1% \\\n"
                "      --server http://10.0.0.5:8080 --server http://10.0.0.6:8080\n"
                "  forja rollout status churn\n"
                "  forja rollout abort churn\n\n") +
            kExitCodesHelp);
  auto* status = c->add_subcommand("status", "The model's last rollout: state, weight, steps, message and its history");
  auto sa = std::make_shared<NameArgs>();
  AddStoreOption(status, &sa->store);
  status->add_option("name", sa->name, "The registered model")->required()->type_name("NAME");
  status->add_flag("--json", sa->as_json, "Print JSON: {rollout, history}");
  status->callback([sa, action] { *action = [sa] { return DoStatus(*sa); }; });
  auto* abort = c->add_subcommand("abort", "Abort the model's running rollout: weight 0, state aborted");
  auto aa = std::make_shared<NameArgs>();
  AddStoreOption(abort, &aa->store);
  abort->add_option("name", aa->name, "The registered model")->required()->type_name("NAME");
  abort->add_flag("--json", aa->as_json, "Print the rollout record as JSON");
  abort->callback([aa, action] { *action = [aa] { return DoAbort(*aa); }; });
  c->callback([c, a, &g, action] {
    if (!c->get_subcommands().empty()) return;  // status or abort chose the action
    a->quiet = g.quiet;
    *action = [a] {
      if (a->name.empty()) return Fail(Status::Usage("forja rollout: the model is missing: forja rollout NAME --to VERSION ..."));
      if (a->to.empty()) return Fail(Status::Usage("forja rollout " + a->name + ": --to VERSION is missing"));
      return DoRollout(*a);
    };
  });
}

}  // namespace forja
