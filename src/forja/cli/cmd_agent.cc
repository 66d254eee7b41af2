// forja agent: runs the workspace's pipeline when its triggers say so (docs/agent.md).
// The decisions are agent/schedule.h's; this file carries them out: it watches data,
// git and alerts, starts `forja run` as a child process, registers and promotes what it
// made, records everything in .forja/agent/state.json and notifies a webhook.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "forja/agent/notify.h"
#include "forja/agent/schedule.h"
#include "forja/agent/state.h"
#include "forja/agent/triggers.h"
#include "forja/cli/cli.h"
#include "forja/cli/store.h"
#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/core/log.h"
#include "forja/core/sha256.h"
#include "forja/core/subprocess.h"
#include "forja/data/workspace.h"
#include "forja/meta/store.h"

namespace forja {
namespace {

using agent::AgentSettings;
using agent::AgentState;
using agent::RunRecord;
using agent::Trigger;
using agent::TriggerKind;
using agent::TriggerState;
using Json = nlohmann::json;

// FORJA_AGENT_NOW (a testing hook, docs/agent.md): the clock as epoch seconds or
// YYYY-MM-DDTHH:MM:SSZ, so a test can step time without sleeping.
Result<int64_t> Now() {
  const char* env = std::getenv("FORJA_AGENT_NOW");
  if (!env || !*env) return static_cast<int64_t>(std::time(nullptr));
  std::string s = env;
  if (s.find_first_not_of("0123456789") == std::string::npos && s.size() < 12) return std::stoll(s);
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return Status::Usage("FORJA_AGENT_NOW: '" + s + "' is not epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
  return static_cast<int64_t>(timegm(&tm));
}

std::string Stamp(int64_t t) { return t ? FormatTime(t * 1000) : "-"; }

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "forja";
  std::string path(buf, static_cast<size_t>(n));
  // The binary was replaced (an upgrade) while the agent runs: run the new one.
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
    path.resize(path.size() - deleted.size());
  return path;
}

// The child's start time in clock ticks (field 22 of /proc/PID/stat), 0 if gone.
uint64_t StartTicks(int pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return 0;
  size_t p = text->rfind(')');
  if (p == std::string::npos) return 0;
  int field = 2;
  for (size_t i = p + 1; i < text->size(); ++i)
    if ((*text)[i] == ' ' && ++field == 22) return std::strtoull(text->c_str() + i + 1, nullptr, 10);
  return 0;
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

struct AgentArgs {
  bool once = false;
  bool as_json = false;
};

Result<AgentSettings> ReadSettings(const std::string& root) {
  ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(root));
  return agent::ParseAgentSettings(doc.Section("triggers"), doc.Section("agent"), doc.file);
}

// forja.yaml's modification time and size, to notice an edit or a git pull.
std::string YamlStamp(const std::string& root) {
  struct stat st;
  if (stat((root + "/forja.yaml").c_str(), &st) != 0) return "";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "/" +
         std::to_string(st.st_size);
}

class Agent {
 public:
  Agent(std::string root, AgentSettings settings, bool once)
      : root_(std::move(root)), dir_(root_ + "/.forja/agent"), settings_(std::move(settings)), once_(once) {}

  Status Lock();
  Status Load() {
    ASSIGN_OR_RETURN(state_, agent::LoadState(dir_));
    return Status::Ok();
  }
  int Run();

 private:
  Status Save() { return agent::SaveState(dir_, state_); }
  void Recover();
  void Tick(int64_t now, bool poll);
  Result<std::string> Observe(const Trigger& t);
  void StartDue(int64_t now);
  Status Start(const Trigger& t, int64_t now);
  void Reap(bool block);
  void Complete(RunRecord r, int wait_status);
  void PostRun(const Trigger& t, RunRecord* r);
  void Notify(const std::string& text);
  const Trigger* Find(const std::string& name) const {
    for (const auto& t : settings_.triggers)
      if (t.name == name) return &t;
    return nullptr;
  }
  int64_t NextWake(int64_t now) const;

  std::string root_, dir_;
  AgentSettings settings_;
  bool once_;
  AgentState state_;
  Fd lock_fd_;
  bool stopping_ = false, cancelling_ = false;
  int failures_ = 0;
  sigset_t old_mask_{};
  int64_t next_poll_ = 0;
  std::string yaml_stamp_;

  void MaybeReload();
};

Status Agent::Lock() {
  RETURN_IF_ERROR(MakeDirs(dir_ + "/runs"));
  int fd = open((dir_ + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + dir_ + "/lock", errno);
  lock_fd_ = Fd(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    return Status::Conflict("another forja agent runs in this workspace (" + dir_ + "/lock is held); stop it first");
  return Status::Ok();
}

// Runs a killed agent left behind: its child, if it still runs, is stopped (it holds the
// workspace lock and its result has no one to receive it); the run is marked
// interrupted and is not started again: its due time was consumed when it started.
void Agent::Recover() {
  std::vector<RunRecord> left = state_.running;
  for (RunRecord r : left) {
    bool alive = r.pid > 0 && r.pid_start && StartTicks(r.pid) == r.pid_start;
    if (alive) {
      kill(-r.pid, SIGTERM);
      for (int i = 0; i < 100 && StartTicks(r.pid) == r.pid_start; ++i) usleep(100 * 1000);
      if (StartTicks(r.pid) == r.pid_start) kill(-r.pid, SIGKILL);
    }
    r.result = "interrupted";
    r.ended = r.started;
    r.detail = "the agent stopped while this run was in flight" +
               (r.pid > 0 ? " (pid " + std::to_string(r.pid) + (alive ? ", stopped now" : "") + ")" : std::string()) +
               "; not run again";
    TriggerState& ts = state_.triggers[r.trigger];
    ts.last_result = "interrupted";
    ts.last_detail = r.detail;
    LogInfo("forja agent: run " + r.id + " of trigger " + r.trigger + " was interrupted: " + r.detail);
    Notify("forja agent: run " + r.id + " (trigger " + r.trigger + ") was interrupted: " + r.detail);
    state_.Finish(r);
  }
  if (!left.empty())
    if (Status st = Save(); !st.ok()) LogWarn(st.message());
}

Result<std::string> Agent::Observe(const Trigger& t) {
  switch (t.kind) {
    case TriggerKind::kData: {
      if (!t.data_remote.empty()) {
        // The remote's objects, sorted, hashed: any push of new objects changes it.
        ASSIGN_OR_RETURN(auto ws, Workspace::Open(root_));
        std::string chosen;
        ASSIGN_OR_RETURN(auto remote, ws->OpenRemote(t.data_remote, &chosen));
        ASSIGN_OR_RETURN(std::vector<Oid> oids, remote->List());
        if (oids.empty()) return std::string();
        std::sort(oids.begin(), oids.end());
        Sha256 h;
        for (const Oid& o : oids) h.Update(o.bytes.data(), o.bytes.size());
        return h.Finish().Hex() + "/" + std::to_string(oids.size());
      }
      std::string rel = t.data_path + ".forja";
      if (!t.branch.empty()) {
        ASSIGN_OR_RETURN(ProcessResult p, RunGit(root_, {"show", t.branch + ":" + rel}));
        if (p.exit_code != 0) return std::string();  // not on that branch (yet)
        return Sha256::Of(p.out).Hex();
      }
      if (!Exists(root_ + "/" + rel)) return std::string();
      ASSIGN_OR_RETURN(std::string text, ReadFile(root_ + "/" + rel));
      return Sha256::Of(text).Hex();
    }
    case TriggerKind::kGit: {
      ASSIGN_OR_RETURN(std::string out, GitOutput(root_, {"ls-remote", t.git_remote, "refs/heads/" + t.branch}));
      return out.substr(0, out.find_first_of("\t \n"));
    }
    case TriggerKind::kAlert: {
      ASSIGN_OR_RETURN(auto store, OpenStore(""));
      ASSIGN_OR_RETURN(auto alerts, store->ListAlerts(t.alert_model, "", 200));
      std::string newest;
      int64_t at = 0;
      for (const auto& a : alerts) {
        if (a.status != "firing" || (!t.alert_name.empty() && a.name != t.alert_name)) continue;
        if (a.received >= at) {
          at = a.received;
          newest = a.fingerprint + "@" + std::to_string(a.starts_at);
        }
      }
      return newest;
    }
    default: return std::string();
  }
}

void Agent::Tick(int64_t now, bool poll) {
  for (const Trigger& t : settings_.triggers) {
    TriggerState& ts = state_.triggers[t.name];
    std::string line = agent::Advance(t, &ts, now);
    if (!line.empty()) LogInfo("forja agent: " + line);
    if (t.timed() || !poll) continue;
    auto token = Observe(t);
    if (!token.ok()) {
      LogWarn("trigger " + t.name + ": " + token.status().message());
      continue;
    }
    const char* what = t.kind == TriggerKind::kData ? (t.data_remote.empty() ? "pointer" : "objects") : t.kind == TriggerKind::kGit ? "commit" : "alert";
    line = agent::Observe(t, &ts, *token, what);
    if (!line.empty()) LogInfo("forja agent: " + line);
  }
  if (Status st = Save(); !st.ok()) LogWarn(st.message());
}

Status Agent::Start(const Trigger& t, int64_t now) {
  TriggerState& ts = state_.triggers[t.name];
  RunRecord r;
  char buf[32];
  struct tm tm {};
  time_t tt = static_cast<time_t>(now);
  gmtime_r(&tt, &tm);
  strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
  r.id = std::string(buf) + "-" + t.name;
  for (const auto& h : state_.history)
    if (h.id == r.id) r.id += "-" + std::to_string(state_.history.size());
  r.trigger = t.name;
  r.reason = ts.pending_reason;
  r.pipeline = t.action.pipeline;
  r.started = now;
  ts.pending = false;
  ts.last_start = now;
  ts.last_result = "running";
  ts.last_detail = r.reason;
  // Saved before the child exists: a crash from here on finds a run "starting" and marks
  // it interrupted rather than starting it again.
  state_.running.push_back(r);
  if (Status st = Save(); !st.ok()) {
    state_.running.pop_back();
    return st;
  }

  std::vector<std::string> argv = {"forja", "run", "--json"};
  if (t.action.force) argv.push_back("--force");
  for (const auto& x : t.action.targets) argv.push_back(x);
  for (const auto& x : t.action.overrides) argv.push_back(x);
  std::string cwd = t.action.pipeline == "." ? root_ : root_ + "/" + t.action.pipeline;
  std::string out_path = dir_ + "/runs/" + r.id + ".out", log_path = dir_ + "/runs/" + r.id + ".log";
  std::string exe = SelfExe();
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    Status st = Status::FromErrno("fork", errno);
    state_.running.pop_back();
    ts.last_result = "failed";
    ts.last_detail = "could not start forja run: " + st.message();
    (void)Save();
    return st;
  }
  if (pid == 0) {
    // The child: its own process group (so a stop reaches its stages too), the signal
    // mask the agent had, output to the run's files.
    setsid();
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0 || chdir(cwd.c_str()) != 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setenv("FORJA_AGENT_TRIGGER", t.name.c_str(), 1);
    setenv("FORJA_AGENT_RUN", r.id.c_str(), 1);
    execv(exe.c_str(), cargv.data());
    _exit(127);
  }
  state_.running.back().pid = pid;
  state_.running.back().pid_start = StartTicks(pid);
  LogInfo("forja agent: started run " + r.id + " (trigger " + t.name + ": " + r.reason + "), pid " +
          std::to_string(pid));
  return Save();
}

void Agent::StartDue(int64_t now) {
  if (stopping_) return;
  for (size_t i : agent::Startable(settings_.triggers, state_, settings_.max_concurrent)) {
    if (Status st = Start(settings_.triggers[i], now); !st.ok()) {
      LogWarn("trigger " + settings_.triggers[i].name + ": could not start: " + st.message());
      state_.triggers[settings_.triggers[i].name].pending = false;
      (void)Save();
    }
  }
}

void Agent::Notify(const std::string& text) {
  if (settings_.webhook.empty()) return;
  if (Status st = agent::PostWebhook(settings_.webhook, text); !st.ok()) LogWarn("notification not sent: " + st.message());
}

// Register the package the run wrote and promote it through the gates, each as the CLI
// command a person would type (so the gates, roles and history are the registry's).
void Agent::PostRun(const Trigger& t, RunRecord* r) {
  const agent::Action& a = t.action;
  if (a.register_model.empty()) return;
  if (r->run_id.empty()) {  // nothing ran: the package is the one registered before
    r->detail += "; nothing new to register";
    return;
  }
  std::string cwd = a.pipeline == "." ? root_ : root_ + "/" + a.pipeline;
  std::vector<std::string> reg = {SelfExe(), "-q", "models", "register", a.register_model, a.register_path,
                                  "--tag", "forja.agent.trigger=" + t.name};
  if (!r->run_id.empty()) reg.insert(reg.end(), {"--run", r->run_id});
  auto p = RunProcess(reg, cwd);
  if (!p.ok() || p->exit_code != 0) {
    r->result = "failed";
    r->detail = "register failed: " + (p.ok() ? LastLine(p->err) : p.status().message());
    return;
  }
  std::string ref = LastLine(p->out);  // NAME/VERSION
  r->version = ref.substr(ref.rfind('/') + 1);
  r->detail += (r->detail.empty() ? "" : "; ") + std::string("registered ") + ref;
  if (a.promote.to.empty()) return;
  auto q = RunProcess({SelfExe(), "-q", "models", "promote", a.register_model, r->version, "--to", a.promote.to,
                       "--comment", "forja agent: trigger " + t.name + ", run " + r->id},
                      cwd);
  if (!q.ok() || q->exit_code != 0) {
    r->result = "failed";
    r->detail += "; promotion to " + a.promote.to + " refused: " + (q.ok() ? LastLine(q->err) : q.status().message());
    return;
  }
  r->detail += "; promoted to " + a.promote.to;
  if (settings_.notify_promotion)
    Notify("forja agent: " + ref + " promoted to " + a.promote.to + " (trigger " + t.name + ", run " + r->id + ")");
}

void Agent::Complete(RunRecord r, int ws) {
  auto now = Now();
  r.ended = now.ok() ? *now : r.started;
  const Trigger* t = Find(r.trigger);
  std::string log = ".forja/agent/runs/" + r.id + ".log";
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
    r.result = "ok";
    auto out = ReadFile(dir_ + "/runs/" + r.id + ".out");
    Json j = out.ok() ? Json::parse(*out, nullptr, false) : Json();
    if (j.is_object() && j.contains("tracked_run") && j["tracked_run"].is_string())
      r.run_id = j["tracked_run"].get<std::string>();
    r.detail = r.run_id.empty() ? "pipeline up to date or not tracked" : "tracked as run " + r.run_id;
    if (t) PostRun(*t, &r);
  } else {
    r.result = cancelling_ ? "cancelled" : "failed";
    auto err = ReadFile(dir_ + "/runs/" + r.id + ".log");
    std::string why = WIFEXITED(ws) ? "forja run exited " + std::to_string(WEXITSTATUS(ws))
                                    : "forja run was killed by signal " + std::to_string(WTERMSIG(ws));
    std::string last = err.ok() ? LastLine(*err) : "";
    r.detail = why + (last.empty() ? "" : ": " + last) + " (log: " + log + ")";
  }
  bool ok = r.result == "ok";
  TriggerState& ts = state_.triggers[r.trigger];
  ts.last_end = r.ended;
  ts.last_result = r.result;
  ts.last_detail = r.detail;
  bool retry = t && r.result != "cancelled" && agent::AfterRun(*t, &ts, ok, r.ended);
  if (!ok) ++failures_;
  LogInfo("forja agent: run " + r.id + " " + r.result + ": " + r.detail +
          (retry ? "; retry at " + Stamp(ts.retry_at) : ""));
  if (!ok && settings_.notify_failure)
    Notify("forja agent: run " + r.id + " (trigger " + r.trigger + ") " + r.result + ": " + r.detail +
           (retry ? "; retry at " + Stamp(ts.retry_at) + " UTC" : ""));
  if (ok && settings_.notify_success) Notify("forja agent: run " + r.id + " (trigger " + r.trigger + ") ok: " + r.detail);
  state_.Finish(std::move(r));
  if (Status st = Save(); !st.ok()) LogWarn(st.message());
}

void Agent::Reap(bool block) {
  for (;;) {
    int ws = 0;
    pid_t pid = waitpid(-1, &ws, block ? 0 : WNOHANG);
    if (pid <= 0) return;
    for (const RunRecord& r : state_.running)
      if (r.pid == pid) {
        Complete(r, ws);
        break;
      }
    if (block) return;
  }
}

int64_t Agent::NextWake(int64_t now) const {
  int64_t wake = now + 3600;
  bool events = false;
  for (const Trigger& t : settings_.triggers) {
    auto it = state_.triggers.find(t.name);
    TriggerState ts = it == state_.triggers.end() ? TriggerState{} : it->second;
    if (ts.retry_at) wake = std::min(wake, ts.retry_at);
    if (!t.timed()) {
      events = true;
      continue;
    }
    if (auto d = agent::NextDue(t, ts, std::max(ts.last_due, now))) wake = std::min(wake, *d);
  }
  if (events) wake = std::min(wake, next_poll_);
  return std::max(wake, now + 1);
}

// A long-running agent follows forja.yaml: an edit (or a pull) takes effect at the next
// wake; a broken edit is reported and the triggers it had stay.
void Agent::MaybeReload() {
  std::string stamp = YamlStamp(root_);
  if (yaml_stamp_.empty() || stamp == yaml_stamp_) {
    yaml_stamp_ = stamp;
    return;
  }
  yaml_stamp_ = stamp;
  auto fresh = ReadSettings(root_);
  if (!fresh.ok()) {
    LogWarn("forja.yaml changed but cannot be used, keeping the triggers read before: " + fresh.status().message());
    return;
  }
  if (fresh->triggers.empty()) {
    LogWarn("forja.yaml changed and has no triggers now; keeping the triggers read before");
    return;
  }
  settings_ = std::move(*fresh);
  LogInfo("forja agent: forja.yaml changed: " + std::to_string(settings_.triggers.size()) + " trigger(s)");
}

int Agent::Run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, &old_mask_);
  Recover();
  LogInfo("forja agent: " + std::to_string(settings_.triggers.size()) + " trigger(s)" +
          (once_ ? ", running what is due" : ", pid " + std::to_string(getpid())));
  for (;;) {
    auto now = Now();
    if (!now.ok()) return Fail(now.status());
    Reap(false);
    if (!stopping_) {
      bool poll = *now >= next_poll_;
      if (poll) next_poll_ = *now + settings_.poll_s;
      MaybeReload();
      Tick(*now, poll);
      StartDue(*now);
    }
    if (once_ || stopping_) {
      if (state_.running.empty()) break;
      // Wait for a child (or a stop signal) and go round: a finished run may make
      // another pending trigger startable.
    }
    siginfo_t info;
    timespec ts{once_ || stopping_ ? 3600 : NextWake(*now) - *now, 0};
    int sig = sigtimedwait(&mask, &info, &ts);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      if (stopping_ || settings_.on_stop == agent::OnStop::kCancel) {
        cancelling_ = true;
        for (const RunRecord& r : state_.running)
          if (r.pid > 0) kill(-r.pid, SIGTERM);
      }
      if (!stopping_)
        LogInfo(std::string("forja agent: stopping") +
                (state_.running.empty() ? ""
                 : cancelling_         ? "; cancelling the running pipeline"
                                       : "; waiting for the running pipeline (signal again to cancel it)"));
      stopping_ = true;
      if (state_.running.empty()) break;
    }
  }
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  return once_ && failures_ ? 1 : 0;
}

int DoAgent(const AgentArgs& a) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto settings = ReadSettings(ws->root());
  if (!settings.ok()) return Fail(settings.status());
  if (settings->triggers.empty()) return Fail(Status::User("forja.yaml has no triggers: (see docs/agent.md)"));
  if (auto now = Now(); !now.ok()) return Fail(now.status());
  Agent agent(ws->root(), std::move(*settings), a.once);
  ws.reset();
  if (Status st = agent.Lock(); !st.ok()) return Fail(st);
  if (Status st = agent.Load(); !st.ok()) return Fail(st);
  return agent.Run();
}

Json RunJson(const RunRecord& r) {
  return {{"id", r.id},         {"trigger", r.trigger}, {"reason", r.reason}, {"pid", r.pid},
          {"started", r.started}, {"ended", r.ended},   {"result", r.result}, {"detail", r.detail},
          {"run_id", r.run_id}, {"version", r.version}};
}

int DoStatus(const AgentArgs& a) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto settings = ReadSettings(ws->root());
  if (!settings.ok()) return Fail(settings.status());
  auto state = agent::LoadState(ws->ForjaDir() + "/agent");
  if (!state.ok()) return Fail(state.status());
  auto now = Now();
  if (!now.ok()) return Fail(now.status());
  Json triggers = Json::array();
  for (const Trigger& t : settings->triggers) {
    TriggerState ts = state->triggers.count(t.name) ? state->triggers.at(t.name) : TriggerState{};
    Json j = {{"name", t.name}, {"kind", agent::KindName(t.kind)}, {"spec", t.Spec()},
              {"last_start", ts.last_start}, {"last_end", ts.last_end}, {"last_result", ts.last_result},
              {"last_detail", ts.last_detail}, {"pending", ts.pending}, {"retry_at", ts.retry_at}};
    std::optional<int64_t> next;
    if (t.timed()) next = agent::NextDue(t, ts, ts.anchor ? ts.last_due : *now);
    j["next"] = next ? Json(*next) : Json(nullptr);
    j["seen"] = ts.seen;
    triggers.push_back(j);
  }
  if (a.as_json) {
    Json running = Json::array(), history = Json::array();
    for (const auto& r : state->running) running.push_back(RunJson(r));
    for (const auto& r : state->history) history.push_back(RunJson(r));
    OutJson({{"triggers", triggers}, {"running", running}, {"history", history}});
    return 0;
  }
  for (const Json& j : triggers) {
    std::string next = j["next"].is_null() ? (j["kind"] == "cron" || j["kind"] == "interval"
                                                  ? "never"
                                                  : "on change (checked every " +
                                                        agent::FormatDuration(settings->poll_s) + ")")
                                           : Stamp(j["next"].get<int64_t>()) + " UTC";
    std::string last = j["last_start"].get<int64_t>() ? Stamp(j["last_start"].get<int64_t>()) + " UTC " +
                                                            j["last_result"].get<std::string>()
                                                      : (j["last_result"].get<std::string>().empty()
                                                             ? "never"
                                                             : j["last_result"].get<std::string>());
    Out(j["name"].get<std::string>() + ": " + j["spec"].get<std::string>());
    Out("  last: " + last + (j["last_detail"].get<std::string>().empty() ? "" : " (" + j["last_detail"].get<std::string>() + ")"));
    Out("  next: " + (j["pending"].get<bool>() ? std::string("pending now") : next));
  }
  for (const auto& r : state->running)
    Out("running: " + r.id + " (trigger " + r.trigger + ", pid " + std::to_string(r.pid) + ", since " +
        Stamp(r.started) + " UTC)");
  return 0;
}

}  // namespace

void RegisterAgentCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  (void)g;
  auto a = std::make_shared<AgentArgs>();
  auto* c = app.add_subcommand("agent", "Run the pipeline when forja.yaml's triggers say so (schedules, new data, git pushes, alerts)");
  c->footer(std::string("Long-running: SIGTERM or SIGINT stops it (agent.on_stop: wait lets the running pipeline finish, "
                        "cancel stops it). State in .forja/agent/. See docs/agent.md.\n\n") +
            kExitCodesHelp);
  c->add_flag("--once", a->once, "Run what is due now, wait for it, and exit (for cron); exit 1 if a run failed");
  auto* s = c->add_subcommand("status", "Triggers, their last and next runs, and the runs in flight");
  s->add_flag("--json", a->as_json, "Print JSON (with the run history)");
  c->callback([a, s, action] {
    if (s->parsed()) *action = [a] { return DoStatus(*a); };
    else *action = [a] { return DoAgent(*a); };
  });
}

}  // namespace forja
