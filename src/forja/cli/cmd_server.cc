// forja server (MLflow's tracking and registry REST API), and its tokens.
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "forja/api/server.h"
#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/cli/table.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/redact.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/project.h"
#include "forja/registry/gates.h"
#include "forja/registry/roles.h"

namespace forja {

namespace {

struct ServerArgs {
  std::string host = "127.0.0.1";
  int port = 5000;
  std::string store, artifacts, auth = "auto";
  int io_threads = 0, threads = 16;
  bool access_log = false;
  int64_t max_upload_mb = 1024;
};

// Outside a workspace, with no --store and no FORJA_TRACKING_URI, forja server starts as
// `mlflow server` does: a SQLite file and an artifact folder in the current directory.
constexpr const char* kDefaultDb = "forja.db";
constexpr const char* kDefaultArtifacts = "forja-artifacts";

bool OutsideWorkspace() { return !pipeline::FindWorkspaceRoot(CurrentDir()).ok(); }

void RefreshStats(meta::MetaStore& store) {
  Status st = store.RefreshPlannerStats();
  if (!st.ok()) LogWarn("could not refresh the store's query statistics (searches may be slower): " + st.message());
}

int DoServer(ServerArgs a) {
  if (a.store.empty() && OutsideWorkspace()) {
    const char* env = std::getenv("FORJA_TRACKING_URI");
    if (!env || !*env) {
      a.store = CurrentDir() + "/" + kDefaultDb;
      LogInfo("no workspace here and no --store: the store is " + a.store + " (made if missing)");
    }
  }
  StoreContext ctx;
  auto store = OpenStore(a.store, &ctx);
  if (!store.ok()) return Fail(store.status());
  if ((*store)->remote())
    return Fail(Status::User("forja server needs a SQL store (sqlite:// or postgresql://), not another server"));
  api::ServerConfig cfg;
  cfg.host = a.host;
  cfg.port = a.port;
  cfg.io_threads = a.io_threads;
  cfg.handler_threads = a.threads;
  cfg.access_log = a.access_log;
  cfg.max_upload_bytes = static_cast<size_t>(a.max_upload_mb) << 20;
  cfg.auth = a.auth == "on" ? api::AuthMode::kOn : a.auth == "off" ? api::AuthMode::kOff : api::AuthMode::kAuto;
  if (!a.artifacts.empty()) {
    cfg.artifacts_dir = NormalizeAbsolute(a.artifacts[0] == '/' ? a.artifacts : CurrentDir() + "/" + a.artifacts);
  } else if (!ctx.root.empty()) {
    cfg.artifacts_dir = ctx.root + "/.forja/cache";  // one object store: gc knows what the server holds
  } else {
    cfg.artifacts_dir = CurrentDir() + "/" + kDefaultArtifacts;
    LogInfo("no workspace here and no --artifacts: artifacts go to " + cfg.artifacts_dir + "/ (made if missing)");
  }
  if (!ctx.root.empty()) {
    auto doc = ReadForjaYaml(ctx.root);
    if (!doc.ok()) return Fail(doc.status());
    auto policies = registry::ParsePolicies(doc->Section("models"), doc->file);
    if (!policies.ok()) return Fail(policies.status());
    cfg.policies = std::move(*policies);
    // The web UI's pipeline page: the answer `forja status --pipeline --json` gives, one at a
    // time (it hashes deps; two at once would only compete for the disk).
    cfg.workspace_root = ctx.root;
    auto busy = std::make_shared<std::mutex>();
    cfg.pipeline_status = [root = ctx.root, busy]() {
      std::lock_guard<std::mutex> hold(*busy);
      return PipelineStatusJson(root);
    };
  }
  // The signals are waited for here; every thread the server starts inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::string uri = RedactUri((*store)->uri());  // a postgresql:// password is never printed
  meta::MetaStore* planned = store->get();          // the server owns it until Shutdown
  RefreshStats(*planned);
  auto server = api::TrackingServer::Start(cfg, std::move(*store));
  if (!server.ok()) return Fail(server.status());
  LogInfo("forja server on http://" + a.host + ":" + std::to_string((*server)->port()) + " (store " + uri +
          ", artifacts " + cfg.artifacts_dir + ", auth " + a.auth + "); Ctrl-C stops it");
  // Hourly, the planner's statistics follow the store's growth (a store that was empty
  // at start holds 100,000 runs a day later).
  const timespec hour{3600, 0};
  while (sigtimedwait(&sigs, nullptr, &hour) < 0) RefreshStats(*planned);
  LogInfo("stopping: finishing the requests in flight");
  (*server)->Shutdown();
  return 0;
}

struct TokenArgs {
  std::string store, name, role = "write";
  bool as_json = false;
};

int DoTokenCreate(const TokenArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  if (Status allowed = registry::Authorize("forja server token create", registry::LocalStoreRole()); !allowed.ok())
    return Fail(allowed);
  std::string token = api::NewToken();
  if (token.empty()) return Fail(Status::Internal("no random bytes for a token"));
  Status st = (*store)->CreateToken(a.name, a.role, api::TokenHash(token));
  if (!st.ok()) return Fail(st);
  if (a.as_json) {
    OutJson(nlohmann::json{{"name", a.name}, {"role", a.role}, {"token", token}});
    return 0;
  }
  LogInfo("Token '" + a.name + "' (" + a.role + "); it is shown once and stored only as a hash:");
  Out(token);
  return 0;
}

int DoTokenRevoke(const TokenArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  if (Status allowed = registry::Authorize("forja server token revoke", registry::LocalStoreRole()); !allowed.ok())
    return Fail(allowed);
  Status st = (*store)->RevokeToken(a.name);
  if (!st.ok()) return Fail(st);
  LogInfo("Revoked token '" + a.name + "'");
  return 0;
}

int DoTokenList(const TokenArgs& a) {
  auto store = OpenStore(a.store);
  if (!store.ok()) return Fail(store.status());
  if (Status allowed = registry::Authorize("forja server token list", registry::LocalStoreRole()); !allowed.ok())
    return Fail(allowed);
  auto list = (*store)->ListTokens();
  if (!list.ok()) return Fail(list.status());
  if (a.as_json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : *list)
      j.push_back({{"id", t.id}, {"name", t.name}, {"role", t.role}, {"created", t.created}, {"revoked", t.revoked},
                   {"last_used", t.last_used}});
    OutJson(nlohmann::json{{"tokens", j}});
    return 0;
  }
  if (list->empty()) {
    Out("No tokens: the server needs none (with --auth auto) until one exists");
    return 0;
  }
  bool active = false;
  for (const auto& x : *list) active |= !x.revoked;
  if (!active)
    LogInfo("Every token is revoked: forja server --auth auto still requires one (this store has had tokens); "
            "forja server --auth off serves without tokens");
  Table t;
  t.header = {"Name", "Role", "Created", "Last used", "State"};
  for (const auto& x : *list)
    t.rows.push_back({x.name, x.role, FormatTime(x.created), FormatTime(x.last_used), x.revoked ? "revoked" : "active"});
  PrintText(t);
  return 0;
}

}  // namespace

void RegisterServerCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* c = app.add_subcommand("server", "Serve the tracking store and the model registry over MLflow's REST API");
  auto a = std::make_shared<ServerArgs>();
  c->add_option("--host", a->host, "Address to listen on (default 127.0.0.1)")->type_name("HOST");
  c->add_option("-p,--port", a->port, "Port (default 5000; 0 picks a free one)")->type_name("PORT")->check(CLI::Range(0, 65535));
  AddStoreOption(c, &a->store);
  c->add_option("--artifacts", a->artifacts,
                "Folder of the object store artifacts and model packages live in (default: the workspace's "
                ".forja/cache; outside a workspace ./forja-artifacts)")
      ->type_name("DIR");
  c->add_option("--auth", a->auth,
                "auto: tokens are required once the store has had one (revoking them all does not turn this "
                "off); on: always; off: never, every caller is admin (trusted networks only)")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->type_name("auto|on|off");
  c->add_option("--io-threads", a->io_threads, "Network threads (default: one per core)")->type_name("N");
  c->add_option("--threads", a->threads, "Request threads (they wait on the database; default 16)")->type_name("N");
  c->add_option("--max-upload-mb", a->max_upload_mb, "Largest artifact upload (default 1024)")->type_name("MB");
  c->add_flag("--access-log", a->access_log, "One line per request on standard error");
  c->footer(std::string(
      "\nDefaults: inside a workspace, its store (forja.yaml's tracking.uri, else .forja/forja.db) and its\n"
      "object store .forja/cache. Outside a workspace, like `mlflow server`: --store defaults to\n"
      "FORJA_TRACKING_URI, else ./forja.db (SQLite, made if missing), and --artifacts to ./forja-artifacts;\n"
      "one line on standard error says where each is.\n"
      "\nEndpoints: MLflow's /api/2.0/mlflow/... (experiments, runs, log-batch, search with MLflow's\n"
      "filter grammar, metrics history, registered models, versions, stages, aliases), the artifact\n"
      "proxy /api/2.0/mlflow-artifacts/artifacts/..., forja's /api/2.0/forja/... (lineage,\n"
      "models/promote through the gates of forja.yaml, models/history, objects by hash), /health,\n"
      "/version and /metrics (Prometheus); routes of MLflow's client that forja does not serve (tracing,\n"
      "GenAI, gateway, webhooks) answer 501 NOT_IMPLEMENTED (docs/mlflow-compat.md lists every route).\n"
      "Point MLflow clients at it: MLFLOW_TRACKING_URI=http://host:port,\n"
      "and MLFLOW_TRACKING_TOKEN=<token> when tokens are in use. Roles: read (GET and searches), write\n"
      "(logging, registering, Staging and unprotected aliases), admin (into or out of Production and\n"
      "protected aliases, --force over a failing gate, renaming a model with a policy or holding those,\n"
      "deleting a Production version or a model with one). Aliases production, staging, archived, none\n"
      "are reserved; registered packages (forja-packages/) are immutable. Once a store has had a token,\n"
      "--auth auto requires one even after the last is revoked; only --auth off opens it again.\n"
      "SIGTERM or Ctrl-C stops it after the requests in flight.\n\n") +
      kExitCodesHelp);
  auto* token = c->add_subcommand("token", "Create, revoke and list the server's bearer tokens");
  token->require_subcommand(1);
  {
    auto* t = token->add_subcommand("create", "Make a token; it is printed once and stored only as a hash");
    auto ta = std::make_shared<TokenArgs>();
    AddStoreOption(t, &ta->store);
    t->add_option("--name", ta->name, "A unique name (who or what uses it)")->required()->type_name("NAME");
    t->add_option("--role", ta->role, "read, write or admin (default write)")
        ->check(CLI::IsMember({"read", "write", "admin"}))
        ->type_name("ROLE");
    t->add_flag("--json", ta->as_json, "Print the token as JSON");
    t->footer(kExitCodesHelp);
    t->callback([ta, action] { *action = [ta] { return DoTokenCreate(*ta); }; });
  }
  {
    auto* t = token->add_subcommand("revoke", "Revoke a token by name (it stops working at once)");
    auto ta = std::make_shared<TokenArgs>();
    AddStoreOption(t, &ta->store);
    t->add_option("name", ta->name, "The token's name")->required()->type_name("NAME");
    t->footer(kExitCodesHelp);
    t->callback([ta, action] { *action = [ta] { return DoTokenRevoke(*ta); }; });
  }
  {
    auto* t = token->add_subcommand("list", "The tokens: name, role, created, last used, revoked");
    auto ta = std::make_shared<TokenArgs>();
    AddStoreOption(t, &ta->store);
    t->add_flag("--json", ta->as_json, "Print JSON");
    t->footer(kExitCodesHelp);
    t->callback([ta, action] { *action = [ta] { return DoTokenList(*ta); }; });
  }
  c->callback([a, action, c] {
    if (c->get_subcommands().empty()) *action = [a] { return DoServer(*a); };
  });
}

}  // namespace forja
