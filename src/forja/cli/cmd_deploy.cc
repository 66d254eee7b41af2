// forja deploy nginx: replicas of forja server (one PostgreSQL store) or of forja serve (one
// registry alias) behind nginx. It writes files and starts nothing: the nginx configuration
// (upstream, passive health checks, which requests nginx may retry on another replica), a
// start and a stop script, and one systemd unit per replica (docs/scaling.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "forja/cli/cli.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/pipeline/project.h"

namespace forja {

namespace {

struct DeployArgs {
  std::string kind = "server";
  int replicas = 0;
  std::vector<std::string> replica_addrs;  // --replica HOST:PORT (replicas on other machines)
  std::string listen, replica_host = "127.0.0.1";
  int base_port = 0;
  std::string store, artifacts, out = "forja-deploy", forja;
  std::vector<std::string> refs, extra;
  int64_t max_upload_mb = 1024;  // forja server's --max-upload-mb default
  double max_body_mb = 64;       // forja serve's --max-body-mb default
  double poll_interval = 2;
};

struct Addr {
  std::string host;
  int port = 0;
  std::string Text() const { return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port); }
};

// Every value that goes into a shell script, a systemd unit or nginx's configuration: no
// quoting rules to get wrong, because nothing that would need quoting is accepted.
Status CheckWord(const std::string& what, const std::string& v) {
  if (v.empty()) return Status::Usage(what + " is empty");
  for (unsigned char ch : v)
    if (!std::isalnum(ch) && std::string_view("._/@:+=,-").find(static_cast<char>(ch)) == std::string_view::npos)
      return Status::Usage(what + " '" + v.substr(0, 80) + "' has a character forja deploy does not write into scripts " +
                           "and units (letters, digits and ._/@:+=,- only)");
  return Status::Ok();
}

// "HOST:PORT", "[V6]:PORT" or "PORT" (then on 127.0.0.1).
Result<Addr> ParseAddr(const std::string& what, const std::string& text) {
  Addr a{"127.0.0.1", 0};
  std::string port = text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return Status::Usage(what + ": '" + text + "' is not [ADDRESS]:PORT");
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535)
    return Status::Usage(what + ": '" + text + "' is not HOST:PORT with a port in 1..65535");
  a.port = static_cast<int>(p);
  if (a.host.empty()) return Status::Usage(what + ": '" + text + "' has no address (e.g. 127.0.0.1:" + port + " or 0.0.0.0:" + port + ")");
  RETURN_IF_ERROR(CheckWord(what, a.host));
  return a;
}

std::string Abs(const std::string& p) { return NormalizeAbsolute(p.starts_with("/") ? p : CurrentDir() + "/" + p); }

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("forja");
}

// The POST routes of forja server that nginx may send to another replica after the first
// got the whole request (the replica died before answering, or answered 502/503/504): each
// names what it writes by the client's own keys (run id and metric key/step/timestamp, param
// key and value, tag key), so a second write of a committed request changes nothing that reads
// can see; or it writes nothing (searches). Creates (server-chosen ids, unique names),
// deletes, renames, stage moves, promotions and rollouts are not retried: the client sees the
// error and decides. docs/scaling.md explains each.
constexpr const char* kRetryablePosts =
    "runs/(log-batch|log-metric|log-parameter|set-tag|update|log-inputs|search)"
    "|experiments/(search|search-datasets|set-experiment-tag)"
    "|registered-models/(search|get-latest-versions|set-tag)"
    "|model-versions/(search|set-tag)"
    "|logged-models/search";

std::string ProxyCommon(const std::string& upstream) {
  return "        proxy_pass http://" + upstream +
         ";\n"
         "        proxy_http_version 1.1;\n"
         "        proxy_set_header Connection \"\";  # keepalive to the replicas\n"
         "        proxy_set_header Host $host;\n"
         "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
         "        proxy_set_header X-Forwarded-Proto $scheme;\n";
}

// The http-level part (upstream and server): what goes into /etc/nginx/conf.d/.
std::string NginxSite(const DeployArgs& a, const Addr& listen, const std::vector<Addr>& replicas) {
  bool server = a.kind == "server";
  std::string up = server ? "forja_server" : "forja_serve";
  int tries = static_cast<int>(std::min<size_t>(replicas.size(), 3));
  std::string s = "# Written by forja deploy nginx --kind " + a.kind + " (docs/scaling.md). nginx open source checks\n"
                  "# replicas passively: max_fails errors within fail_timeout take one out for fail_timeout.\n";
  if (!server)
    s += "# The request id nginx makes (or the client's X-Request-Id) picks the replica: feedback sent with\n"
         "# the prediction's id in X-Request-Id reaches the replica that keeps that prediction.\n"
         "map $http_x_request_id $forja_request_id {\n    \"\"      $request_id;\n    default $http_x_request_id;\n}\n\n";
  s += "upstream " + up + " {\n";
  if (!server) s += "    hash $forja_request_id consistent;\n";
  for (const Addr& r : replicas) s += "    server " + r.Text() + " max_fails=2 fail_timeout=5s;\n";
  s += "    keepalive 32;\n    keepalive_timeout 50s;  # under the replicas' 60s idle timeout: nginx never reuses a closed one\n}\n\n";
  s += "server {\n    listen " + listen.Text() + ";\n";
  s += "    proxy_connect_timeout 2s;  # a dead host fails fast and the next replica gets the request\n";
  s += "    proxy_next_upstream_tries " + std::to_string(tries) + ";\n    proxy_next_upstream_timeout 30s;\n";
  // Bodies and answers up to these sizes stay in memory: a log-batch or an inference written to
  // a temp file on every request would cost a disk write each.
  s += "    client_body_buffer_size 1m;\n    proxy_buffer_size 32k;\n    proxy_buffers 32 32k;\n";
  if (server) {
    s += "    proxy_read_timeout 300s;  # searches over large stores\n";
    s += "    client_max_body_size 16m;  # forja server's largest API request\n\n";
    s += "    # GET, HEAD, PUT and DELETE are retried by nginx's own rule; POST only before a replica got it.\n";
    s += "    location / {\n" + ProxyCommon(up) + "        proxy_next_upstream error timeout http_502 http_503 http_504;\n    }\n\n";
    s += "    # Writes keyed by the client's own ids, and searches: safe to send again (docs/scaling.md).\n";
    s += "    location ~ ^/(api|ajax-api)/2\\.0/(preview/)?mlflow/(" + std::string(kRetryablePosts) + ")$ {\n" +
         ProxyCommon(up) + "        proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;\n    }\n\n";
    std::string upload = std::to_string(a.max_upload_mb) + "m";
    s += "    # Artifact and object uploads: as large as the replicas' --max-upload-mb, streamed to the replica.\n";
    for (const char* loc : {"/api/2.0/mlflow-artifacts/", "/api/2.0/forja/objects/"})
      s += std::string("    location ") + loc + " {\n" + ProxyCommon(up) + "        client_max_body_size " + upload +
           ";\n        proxy_request_buffering off;\n        proxy_next_upstream error timeout http_502 http_503 http_504;\n    }\n";
  } else {
    char mb[32];
    std::snprintf(mb, sizeof mb, "%lldk", static_cast<long long>(a.max_body_mb * 1024));
    s += "    proxy_read_timeout 60s;\n";
    s += "    client_max_body_size " + std::string(mb) + ";  # forja serve's --max-body-mb\n\n";
    s += "    # Inference has no side effect but the prediction log: any request may go to another replica.\n";
    s += "    location / {\n" + ProxyCommon(up) + "        proxy_set_header X-Request-Id $forja_request_id;\n" +
         "        proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;\n    }\n\n";
    s += "    # Feedback adds labels to counts: sent once; a client resends it only on a connection error.\n";
    s += "    location ~ ^/v2/models/[^/]+/feedback$ {\n" + ProxyCommon(up) +
         "        proxy_set_header X-Request-Id $forja_request_id;\n"
         "        proxy_next_upstream error timeout http_502 http_503 http_504;\n    }\n";
  }
  s += "\n    # Prometheus scrapes each replica itself (their /metrics are per process).\n";
  s += "    location = /metrics { return 404; }\n}\n";
  return s;
}

// A whole nginx.conf around the site: private pid, logs and temp paths under DIR, for
// `nginx -p DIR -c DIR/nginx.conf -e DIR/logs/error.log` without touching /etc/nginx.
std::string NginxMain(const std::string& dir) {
  return "# Written by forja deploy nginx: nginx -p " + dir + " -c " + dir + "/nginx.conf -e " + dir +
         "/logs/error.log\n"
         "worker_processes auto;\n"
         "worker_rlimit_nofile 16384;\n"
         "pid " + dir + "/run/nginx.pid;\n"
         "error_log " + dir + "/logs/error.log warn;\n"
         "events { worker_connections 4096; }\n"
         "http {\n"
         "    access_log " + dir + "/logs/access.log;\n"
         "    client_body_temp_path " + dir + "/tmp/body;\n"
         "    proxy_temp_path " + dir + "/tmp/proxy;\n"
         "    fastcgi_temp_path " + dir + "/tmp/fastcgi;\n"
         "    uwsgi_temp_path " + dir + "/tmp/uwsgi;\n"
         "    scgi_temp_path " + dir + "/tmp/scgi;\n"
         "    include " + dir + "/forja-site.conf;\n"
         "}\n";
}

std::vector<std::string> ReplicaArgv(const DeployArgs& a, const Addr& r, const std::string& artifacts) {
  std::vector<std::string> v{a.forja, a.kind};
  if (a.kind == "serve") v.insert(v.end(), a.refs.begin(), a.refs.end());
  v.insert(v.end(), {"--host", r.host, "--port", std::to_string(r.port)});
  if (a.kind == "server") {
    v.insert(v.end(), {"--artifacts", artifacts, "--max-upload-mb", std::to_string(a.max_upload_mb)});
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", a.poll_interval);
    v.insert(v.end(), {"--poll-interval", buf});
    std::snprintf(buf, sizeof buf, "%g", a.max_body_mb);
    v.insert(v.end(), {"--max-body-mb", buf});
  }
  v.insert(v.end(), a.extra.begin(), a.extra.end());
  return v;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::string StartScript(const DeployArgs& a, const std::string& dir, const std::string& cwd,
                        const std::vector<Addr>& local, const std::string& artifacts) {
  std::string s =
      "#!/bin/sh\n# Written by forja deploy nginx: starts the replicas on this machine, then nginx.\n"
      "# Each replica's pid is in run/replica-N.pid and its log in logs/replica-N.log.\n"
      "set -eu\ncd " + cwd + "\n"
      "if [ -f " + dir + "/forja.env ]; then set -a; . " + dir + "/forja.env; set +a; fi\n";
  for (size_t i = 0; i < local.size(); i++) {
    std::string n = std::to_string(i + 1);
    s += "nohup " + Join(ReplicaArgv(a, local[i], artifacts)) + " >>" + dir + "/logs/replica-" + n + ".log 2>&1 &\n";
    s += "echo $! >" + dir + "/run/replica-" + n + ".pid\n";
  }
  s += "exec nginx -p " + dir + " -c " + dir + "/nginx.conf -e " + dir + "/logs/error.log \"$@\"\n";
  return s;
}

std::string StopScript(const std::string& dir, size_t n) {
  std::string s = "#!/bin/sh\n# Written by forja deploy nginx: stops nginx, then the replicas (SIGTERM: they finish what is in flight).\n"
                  "nginx -p " + dir + " -c " + dir + "/nginx.conf -e " + dir + "/logs/error.log -s quit 2>/dev/null\n";
  for (size_t i = 1; i <= n; i++)
    s += "[ -f " + dir + "/run/replica-" + std::to_string(i) + ".pid ] && kill $(cat " + dir + "/run/replica-" +
         std::to_string(i) + ".pid) 2>/dev/null\n";
  s += "exit 0\n";
  return s;
}

std::string Unit(const DeployArgs& a, const std::string& dir, const std::string& cwd, const Addr& r,
                 const std::string& artifacts) {
  return "# Written by forja deploy nginx. systemctl link " + dir + "/systemd/*.service, then enable --now.\n"
         "[Unit]\nDescription=forja " + a.kind + " replica on " + r.Text() +
         "\nAfter=network-online.target\nWants=network-online.target\n\n"
         "[Service]\nWorkingDirectory=" + cwd + "\nEnvironmentFile=-" + dir + "/forja.env\nExecStart=" +
         Join(ReplicaArgv(a, r, artifacts)) +
         "\nRestart=always\nRestartSec=1\nKillSignal=SIGTERM\nTimeoutStopSec=60\n\n[Install]\nWantedBy=multi-user.target\n";
}

Status Validate(DeployArgs& a) {
  bool server = a.kind == "server";
  if (a.replica_addrs.empty() && a.replicas < 1)
    return Status::Usage("--replicas N (1..64) or --replica HOST:PORT (repeatable) is required");
  if (!a.replica_addrs.empty() && a.replicas > 0 && a.replicas != static_cast<int>(a.replica_addrs.size()))
    return Status::Usage("--replicas " + std::to_string(a.replicas) + " but " + std::to_string(a.replica_addrs.size()) +
                         " --replica addresses: give one or the other");
  if (a.store.empty())
    if (const char* env = std::getenv("FORJA_TRACKING_URI"); env && *env) a.store = env;
  if (server && !a.store.starts_with("postgresql://") && !a.store.starts_with("postgres://"))
    return Status::Usage("--store must be a postgresql:// URI for forja server replicas: they share one database "
                         "(SQLite is one machine's file; FORJA_TRACKING_URI works too)");
  if (!server && a.refs.empty())
    return Status::Usage("--kind serve needs --ref NAME@ALIAS (repeatable): the models every replica serves");
  if (server && !a.refs.empty()) return Status::Usage("--ref is for --kind serve");
  for (const auto& r : a.refs) RETURN_IF_ERROR(CheckWord("--ref", r));
  for (const auto& x : a.extra) RETURN_IF_ERROR(CheckWord("a replica argument", x));
  // forja.env is read by sh (start.sh) and by systemd (EnvironmentFile): single quotes mean the
  // same to both, so the URI is written inside them and may hold anything else ($, &, spaces).
  if (a.store.find_first_of("'\\\n\r") != std::string::npos)
    return Status::Usage("--store has a quote, a backslash or a line break: percent-encode it in the URI (' is %27, \\ is %5C)");
  if (a.max_upload_mb < 1 || a.max_body_mb <= 0) return Status::Usage("--max-upload-mb and --max-body-mb must be positive");
  return Status::Ok();
}

int DoDeployNginx(DeployArgs a) {
  if (Status st = Validate(a); !st.ok()) return Fail(st);
  bool server = a.kind == "server";
  auto listen = ParseAddr("--listen", a.listen.empty() ? (server ? "127.0.0.1:5000" : "127.0.0.1:8080") : a.listen);
  if (!listen.ok()) return Fail(listen.status());
  std::vector<Addr> replicas, local;
  for (const auto& t : a.replica_addrs) {
    auto r = ParseAddr("--replica", t);
    if (!r.ok()) return Fail(r.status());
    replicas.push_back(*r);
  }
  if (replicas.empty()) {
    if (Status st = CheckWord("--replica-host", a.replica_host); !st.ok()) return Fail(st);
    int base = a.base_port > 0 ? a.base_port : listen->port + 1;
    if (a.replicas > 64 || base + a.replicas - 1 > 65535)
      return Fail(Status::Usage("--replicas " + std::to_string(a.replicas) + " from port " + std::to_string(base) +
                                " does not fit (at most 64 replicas, ports up to 65535)"));
    for (int i = 0; i < a.replicas; i++) replicas.push_back({a.replica_host, base + i});
  }
  for (const Addr& r : replicas) {
    if (r.host == listen->host && r.port == listen->port)
      return Fail(Status::Usage("replica " + r.Text() + " is nginx's --listen address: choose another --base-port"));
    if (r.host == "127.0.0.1" || r.host == "localhost" || r.host == "::1" || r.host == a.replica_host) local.push_back(r);
  }
  std::string dir = Abs(a.out), cwd = CurrentDir();
  if (a.forja.empty()) a.forja = SelfExe();
  for (const auto& [what, v] : {std::pair<std::string, std::string>{"--out", dir}, {"the current folder", cwd}, {"--forja", a.forja}})
    if (Status st = CheckWord(what, v); !st.ok()) return Fail(st);
  // One artifact folder for every replica: on one machine a folder, across machines a shared mount.
  std::string artifacts;
  if (server) {
    auto root = pipeline::FindWorkspaceRoot(cwd);
    artifacts = !a.artifacts.empty() ? Abs(a.artifacts) : root.ok() ? *root + "/.forja/cache" : dir + "/artifacts";
    if (Status st = CheckWord("--artifacts", artifacts); !st.ok()) return Fail(st);
  }
  for (const char* sub : {"", "/run", "/logs", "/tmp", "/systemd"})
    if (Status st = MakeDirs(dir + sub); !st.ok()) return Fail(st);
  struct File {
    std::string name, text;
    mode_t mode;
  };
  std::vector<File> files{{"forja-site.conf", NginxSite(a, *listen, replicas), 0644},
                          {"nginx.conf", NginxMain(dir), 0644},
                          {"start.sh", StartScript(a, dir, cwd, local, artifacts), 0755},
                          {"stop.sh", StopScript(dir, local.size()), 0755}};
  // The store's URI may hold a password: in a file only its owner reads, never on a command line.
  if (!a.store.empty()) files.push_back({"forja.env", "FORJA_TRACKING_URI='" + a.store + "'\n", 0600});
  for (size_t i = 0; i < replicas.size(); i++)
    files.push_back({"systemd/forja-" + a.kind + "-" + std::to_string(i + 1) + ".service",
                     Unit(a, dir, cwd, replicas[i], artifacts), 0644});
  for (const File& f : files)
    if (Status st = WriteFileAtomic(dir + "/" + f.name, f.text, f.mode); !st.ok()) return Fail(st);
  LogInfo("wrote " + dir + "/: nginx.conf and forja-site.conf (" + std::to_string(replicas.size()) + " " + a.kind +
          " replicas behind " + listen->Text() + "), start.sh, stop.sh and systemd/*.service");
  Out("Check: nginx -t -p " + dir + " -c " + dir + "/nginx.conf -e " + dir + "/logs/error.log");
  Out("Start: " + dir + "/start.sh    Stop: " + dir + "/stop.sh");
  return 0;
}

}  // namespace

void RegisterDeployCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto* d = app.add_subcommand("deploy", "Write the configuration that runs forja's servers in production");
  d->require_subcommand(1);
  auto* c = d->add_subcommand("nginx", "Replicas of forja server or forja serve behind nginx: its configuration, "
                                       "start/stop scripts and systemd units");
  auto a = std::make_shared<DeployArgs>();
  c->add_option("--replicas", a->replicas, "How many replicas (on --replica-host, ports from --base-port)")
      ->type_name("N")->check(CLI::Range(1, 64));
  c->add_option("--kind", a->kind, "server: forja server on one PostgreSQL store; serve: forja serve following --ref (default server)")
      ->check(CLI::IsMember({"server", "serve"}))->type_name("server|serve");
  c->add_option("--listen", a->listen, "Where nginx listens (default 127.0.0.1:5000 for server, 127.0.0.1:8080 for serve)")
      ->type_name("HOST:PORT");
  c->add_option("--replica-host", a->replica_host, "Address the replicas listen on (default 127.0.0.1)")->type_name("HOST");
  c->add_option("--base-port", a->base_port, "The first replica's port; the others follow (default: --listen's port + 1)")
      ->type_name("PORT")->check(CLI::Range(1, 65535));
  c->add_option("--replica", a->replica_addrs, "A replica's address, instead of --replicas (repeatable; replicas on other "
                                              "machines are started there with the unit written for them)")
      ->type_name("HOST:PORT");
  c->add_option("--store", a->store, "The store: postgresql://... for server; for serve the registry the aliases are read "
                                     "from (default FORJA_TRACKING_URI, else the workspace's). Written to forja.env (mode 0600)")
      ->type_name("URI");
  c->add_option("--ref", a->refs, "serve: a model every replica serves and follows, e.g. churn@production (repeatable)")
      ->type_name("NAME@ALIAS");
  c->add_option("--artifacts", a->artifacts, "server: the artifact folder every replica shares (default: the workspace's "
                                             ".forja/cache, else DIR/artifacts; across machines a shared mount)")
      ->type_name("DIR");
  c->add_option("--max-upload-mb", a->max_upload_mb, "server: the largest artifact upload, for the replicas and nginx (default 1024)")
      ->type_name("MB");
  c->add_option("--max-body-mb", a->max_body_mb, "serve: the largest request body, for the replicas and nginx (default 64)")
      ->type_name("MB");
  c->add_option("--poll-interval", a->poll_interval, "serve: seconds between each replica's registry checks (default 2)")
      ->type_name("S")->check(CLI::Range(0.0, 86400.0));
  c->add_option("--forja", a->forja, "The forja program the replicas run (default: this one)")->type_name("PATH");
  c->add_option("-o,--out", a->out, "Folder to write into (default ./forja-deploy)")->type_name("DIR");
  c->add_option("args", a->extra, "After --: more arguments for every replica (e.g. -- --threads 32 --auth on)")->type_name("ARG...");
  c->footer(std::string(
      "\nWrites into DIR:\n"
      "  forja-site.conf   upstream and server blocks (include it from /etc/nginx/conf.d/, or use:)\n"
      "  nginx.conf        a whole nginx configuration with pid, logs and temp files under DIR\n"
      "  start.sh, stop.sh start the replicas on this machine and nginx; stop them (SIGTERM)\n"
      "  systemd/forja-KIND-N.service  one unit per replica (Restart=always)\n"
      "  forja.env         FORJA_TRACKING_URI=--store (mode 0600: a password stays off command lines)\n"
      "Replicas run in the current folder (its forja.yaml's gates and serving settings apply).\n\n"
      "Health: nginx takes a replica out after 2 errors within 5s (max_fails, fail_timeout) and\n"
      "passes the request to the next. It retries on another replica: every request that did not\n"
      "reach one (connection refused); GET, PUT, DELETE after error, timeout, 502, 503, 504; for\n"
      "server, the POSTs keyed by the client's own ids (runs/log-batch, log-metric, log-parameter,\n"
      "set-tag, update, log-inputs, the searches, set-tag routes) -- never a create, delete, rename,\n"
      "stage move, promotion or rollout, which clients retry themselves only on a connection error;\n"
      "for serve, every inference POST (feedback excepted). docs/scaling.md says why.\n"
      "Body limits match the replicas': 16 MB per API request and --max-upload-mb for artifacts\n"
      "(server), --max-body-mb (serve). nginx checks: nginx -t -p DIR -c DIR/nginx.conf -e DIR/logs/error.log\n\n") +
      kExitCodesHelp);
  c->callback([a, action] { *action = [a] { return DoDeployNginx(*a); }; });
}

}  // namespace forja
