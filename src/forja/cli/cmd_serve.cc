// forja serve: the model server (serve/serve.h) on the command line.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "forja/cas/cache.h"
#include "forja/cli/cli.h"
#include "forja/cli/model_resolver.h"
#include "forja/cli/store.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/user_dirs.h"
#include "forja/data/workspace.h"
#include "forja/runtime/model.h"
#include "forja/serve/serve.h"
#include "forja/serve/source.h"

namespace forja {

namespace {

struct ServeArgs {
  std::vector<std::string> refs, routes, shadows;
  std::string host = "127.0.0.1", store;
  int port = 8080, threads = 0;
  int grpc_port = -1;
  double poll_interval = -1, log_sample = -1;
  int max_batch_size = -1, max_queue_delay_us = -1, max_queue = -1, workers = -1;
  int64_t max_rows = -1;
  double max_body_mb = -1;
  int client_timeout_ms = -1;
  bool access_log = false;
  double report_interval = 15;
  std::string instance_id;
};


// "churn@production=90,churn@staging=10" -> targets with weights.
Status ParseRoute(const std::string& text, std::vector<serve::Target>* out) {
  for (size_t s = 0; s <= text.size();) {
    size_t e = text.find(',', s);
    if (e == std::string::npos) e = text.size();
    std::string part = text.substr(s, e - s);
    size_t eq = part.rfind('=');
    if (eq == std::string::npos || eq == 0)
      return Status::Usage("--route takes REF=WEIGHT,REF=WEIGHT (e.g. churn@production=90,churn@staging=10), not '" + text + "'");
    char* end = nullptr;
    long w = std::strtol(part.c_str() + eq + 1, &end, 10);
    if (*end != '\0' || w <= 0 || w > 1000000)
      return Status::Usage("--route: the weight of " + part.substr(0, eq) + " must be a positive whole number");
    out->push_back({part.substr(0, eq), static_cast<int>(w), false});
    s = e + 1;
  }
  return Status::Ok();
}

Status Overrides(const ServeArgs& a, serve::ServeConfig* cfg) {
  cfg->host = a.host;
  cfg->port = a.port;
  cfg->grpc_port = a.grpc_port;
  cfg->io_threads = a.threads;
  cfg->access_log = a.access_log;
  auto batching = [&](serve::BatchOptions* b) {
    if (a.max_batch_size > 0) b->max_batch_size = a.max_batch_size;
    if (a.max_queue_delay_us >= 0) b->max_queue_delay_us = a.max_queue_delay_us;
    if (a.max_queue > 0) b->max_queue = a.max_queue;
    if (a.workers > 0) b->workers = a.workers;
  };
  batching(&cfg->batching);
  for (auto& [name, b] : cfg->models) batching(&b);
  if (a.poll_interval >= 0) cfg->poll_interval_s = a.poll_interval;
  if (a.log_sample >= 0) cfg->log.sample = a.log_sample;
  if (a.max_rows > 0) cfg->max_rows = a.max_rows;
  if (a.max_body_mb > 0) cfg->max_body_bytes = static_cast<size_t>(a.max_body_mb * (1 << 20));
  if (a.client_timeout_ms > 0) cfg->header_timeout_ms = cfg->body_timeout_ms = a.client_timeout_ms;
  for (const auto& r : a.routes) RETURN_IF_ERROR(ParseRoute(r, &cfg->targets));
  // A REF also named in a route is served by the route.
  for (const auto& r : a.refs) {
    bool routed = false;
    for (const auto& t : cfg->targets) routed |= t.ref == r;
    if (!routed) cfg->targets.push_back({r, 100, false});
  }
  for (const auto& s : a.shadows) cfg->targets.push_back({s, 100, true});
  if (cfg->targets.empty()) return Status::Usage("name a model to serve: forja serve REF (a package or MLflow model folder, NAME/VERSION, NAME@ALIAS, models:/NAME@ALIAS, runs:/RUN/PATH)");
  return Status::Ok();
}

int DoServe(const ServeArgs& a) {
  // A broken forja.yaml is reported, not mistaken for "outside a workspace".
  auto ws = Workspace::OpenIfAny(CurrentDir());
  if (!ws.ok()) return Fail(ws.status());
  std::string root = *ws ? (*ws)->root() : "";
  serve::ServeConfig cfg;
  if (!root.empty()) {
    auto doc = ReadForjaYaml(root);
    if (!doc.ok()) return Fail(doc.status());
    Status st = serve::ServingConfigOf(*doc, &cfg);
    if (!st.ok()) return Fail(st);
    cfg.monitoring.base_dir = root;  // monitoring profile paths are the workspace's
  }
  // Outside a workspace the log goes to the user's cache folder: a .forja/ made in the
  // current folder would turn it into a workspace root for every later command.
  if (!root.empty()) {
    cfg.log.dir = root + "/.forja/predictions";
  } else {
    auto dir = UserCacheDir();
    if (!dir.ok()) return Fail(dir.status());
    cfg.log.dir = *dir + "/predictions";
  }
  Status st = Overrides(a, &cfg);
  if (!st.ok()) return Fail(st);
  ModelResolverContext rc;
  bool registry = false;
  for (const auto& t : cfg.targets) registry |= !serve::IsPackageFolder(t.ref);
  auto resolver = OpenModelResolver(a.store, registry, root, &rc);
  if (!resolver.ok()) return Fail(resolver.status());
  // The signals are waited for here; every thread the server starts inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // The serving report (serve/report.cc) goes to the registry that is followed, through a
  // store of its own: a forja server URL posts it (forja/serving/report), a SQLite or PostgreSQL
  // store keeps it directly; the web UI's serving page lists it.
  std::unique_ptr<meta::MetaStore> report_store;
  if (registry && a.report_interval > 0) {
    auto rs = OpenStore(a.store);
    if (!rs.ok()) return Fail(rs.status());
    report_store = std::move(*rs);
    cfg.report_interval_s = a.report_interval;
    cfg.instance = a.instance_id;
    meta::MetaStore* sink = report_store.get();
    cfg.report = [sink](const std::string& instance, const std::string& json) -> Status {
      Status st = sink->PutServingReport({instance, 0, json});
      // Serving needs only a read token; say what reporting needs instead of a bare 403.
      if (st.code() == Code::kDenied)
        return Status::Denied(st.message() + "; reports need a write token (FORJA_TRACKING_TOKEN), or turn them off "
                                             "with --report-interval 0");
      return st;
    };
  }
  serve::ServeConfig shown = cfg;
  auto server = serve::ModelServer::Start(std::move(cfg), std::move(*resolver), runtime::LoadModel);
  if (!server.ok()) return Fail(server.status());
  for (const auto& line : (*server)->Loaded()) LogInfo("serving " + line);
  LogInfo("forja serve on http://" + a.host + ":" + std::to_string((*server)->port()) + " (max_batch_size " +
          std::to_string(shown.batching.max_batch_size) + ", max_queue_delay_us " + std::to_string(shown.batching.max_queue_delay_us) +
          (shown.log.sample > 0 ? ", logging " + std::to_string(static_cast<int>(shown.log.sample * 100)) + "% of predictions to " + shown.log.dir : "") +
          ")" + ((*server)->grpc_port() >= 0 ? "; gRPC (Open Inference Protocol) on " + a.host + ":" + std::to_string((*server)->grpc_port()) : "") +
          "; Ctrl-C stops it");
  int sig = 0;
  sigwait(&sigs, &sig);
  LogInfo("stopping: finishing the requests in flight");
  (*server)->Shutdown();
  return 0;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* c = app.add_subcommand("serve", "Serve models over the Open Inference Protocol v2 and MLflow's /invocations");
  auto a = std::make_shared<ServeArgs>();
  c->add_option("ref", a->refs, "A package or MLflow model folder, NAME/VERSION, NAME@ALIAS, NAME@production, models:/NAME/VERSION, models:/NAME@ALIAS, models:/m-ID or runs:/RUN/PATH (repeatable)")->type_name("REF...");
  c->add_option("--host", a->host, "Address to listen on (default 127.0.0.1)")->type_name("HOST");
  c->add_option("-p,--port", a->port, "Port (default 8080; 0 picks a free one)")->type_name("PORT")->check(CLI::Range(0, 65535));
  c->add_option("--grpc-port", a->grpc_port,
                "Also serve the Open Inference Protocol over gRPC (KServe v2's GRPCInferenceService, as tritonclient.grpc "
                "speaks it) on this port (0 picks a free one; default: off)")
      ->type_name("PORT")->check(CLI::Range(0, 65535));
  c->add_option("--threads", a->threads, "Network threads (default: one per core)")->type_name("N")->check(CLI::Range(0, 256));
  c->add_option("--route", a->routes, "Split a model's traffic: REF=WEIGHT,REF=WEIGHT (e.g. churn@production=90,churn@staging=10)")
      ->type_name("SPLIT");
  c->add_option("--shadow", a->shadows, "A challenger that gets a copy of the traffic; its predictions are only logged")
      ->type_name("REF");
  c->add_option("--poll-interval", a->poll_interval, "Seconds between registry checks for moved aliases and stages (default 10; 0: never)")
      ->type_name("S")->check(CLI::Range(0.0, 86400.0));
  AddStoreOption(c, &a->store);
  c->add_option("--max-batch-size", a->max_batch_size, "Rows per predict call when batching requests (default 64)")->type_name("N")->check(CLI::Range(1, 1 << 20));
  c->add_option("--max-queue-delay-us", a->max_queue_delay_us, "How long a request may wait for others to batch with (default 0: batch what queued during the previous predict)")
      ->type_name("US")->check(CLI::Range(0, 10000000));
  c->add_option("--max-queue", a->max_queue, "Rows waiting per model version; beyond, 503 (default 8192)")->type_name("N")->check(CLI::Range(1, 1 << 30));
  c->add_option("--workers", a->workers, "Threads calling predict per model version (default 1)")->type_name("N")->check(CLI::Range(1, 256));
  c->add_option("--max-rows", a->max_rows, "Rows per request; beyond, 413 (default 65536)")->type_name("N");
  c->add_option("--max-body-mb", a->max_body_mb, "Largest request body; beyond, 413 (default 64)")->type_name("MB");
  c->add_option("--client-timeout-ms", a->client_timeout_ms,
                "A request's head, and then its body, must arrive within this; slower clients get 408 (default 10000 and 30000)")
      ->type_name("MS")->check(CLI::Range(1, 3600000));
  c->add_option("--log-sample", a->log_sample, "Share of predictions written to .forja/predictions/ (0..1; default 0)")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  c->add_flag("--access-log", a->access_log, "One line per request (with its id) on standard error");
  c->add_option("--report-interval", a->report_interval,
                "Seconds between reports of what is served (traffic, latency, drift) to the registry followed, for "
                "forja server's web UI (default 15; 0: never)")
      ->type_name("S")->check(CLI::Range(0.0, 86400.0));
  c->add_option("--instance-id", a->instance_id, "This server's name in those reports (default HOSTNAME:PORT)")
      ->type_name("ID");
  c->footer(std::string(
      "\nEndpoints (Open Inference Protocol v2, as KServe and Triton; tritonclient.http works as is):\n"
      "  GET  /v2/health/live, /v2/health/ready, /v2 (server metadata)\n"
      "  GET  /v2/models/NAME[/versions/V][/ready]        model metadata, readiness\n"
      "  POST /v2/models/NAME[/versions/V]/infer          JSON tensors or binary (Inference-Header-Content-Length)\n"
      "  POST /v2/models/NAME/feedback                    {\"request_id\": ..., \"label\": ...} or a list: ground truth,\n"
      "                                                   joined by X-Request-Id to the predictions (quality on /metrics)\n"
      "MLflow's scoring protocol:\n"
      "  POST /invocations[?model=NAME]  {\"dataframe_split\"|\"dataframe_records\"|\"instances\"|\"inputs\": ...} or text/csv\n"
      "  GET  /ping, /health, /version\n"
      "And GET /metrics (Prometheus). Every answer carries X-Request-Id and forja-model-version (NAME/VERSION).\n"
      "With --grpc-port, the same over gRPC (inference.GRPCInferenceService: ServerLive, ServerReady, ModelReady,\n"
      "ServerMetadata, ModelMetadata, ModelInfer); x-request-id and forja-model-version come as metadata.\n\n"
      "A reference to an alias or a stage is followed: when it moves, the new version is loaded and\n"
      "warmed beside the old one, then takes the traffic; the old finishes what it queued. A version\n"
      "that fails to load or to predict is refused and the old one keeps serving.\n\n"
      "forja.yaml's serving section sets batching per model and the prediction log; flags override it:\n"
      "  serving:\n"
      "    max_batch_size: 64\n"
      "    max_queue_delay_us: 500\n"
      "    max_queue: 8192\n"
      "    poll_interval: 10\n"
      "    models: {churn: {max_batch_size: 128, workers: 2}}\n"
      "    prediction_log: {sample: 0.1, shadow_sample: 1, rotate_mb: 64}\n"
      "Predictions and feedback are JSON lines under .forja/predictions/ (rotated by size; outside a\n"
      "workspace under $XDG_CACHE_HOME/forja/predictions/, else ~/.cache/forja/..., else\n"
      "$TMPDIR/forja-<uid>/...: a 0700 folder of this user's, checked before use).\n"
      "SIGTERM or Ctrl-C stops accepting, answers the requests in flight, then exits.\n\n") +
      kExitCodesHelp);
  c->callback([a, action] { *action = [a] { return DoServe(*a); }; });
}

}  // namespace forja
