#include "forja/pipeline/exp.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <cstring>
#include <random>

#include "forja/config/compose.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/core/git.h"
#include "forja/core/log.h"
#include "forja/core/process_pool.h"
#include "forja/data/data.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/executor.h"
#include "forja/pipeline/project.h"
#include "forja/pipeline/slurm_executor.h"

namespace forja::pipeline {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string ExpsDir(const std::string& root) { return root + "/.forja/exps"; }

std::string NewExpId() {
  std::random_device rd;
  char buf[16];
  snprintf(buf, sizeof buf, "exp-%06x", rd() & 0xffffff);
  return buf;
}

std::string UtcNow() {
  time_t now = ::time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FirstLine(const std::string& s) {
  std::string t = s.substr(0, s.find('\n'));
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

// The metrics of an experiment's workspace, as the lock names them.
Result<std::vector<MetricsFile>> ReadMetricsOf(const std::string& dir, const Lock& lock) {
  std::vector<std::string> paths;
  for (const MetricOut& m : LockMetricOuts(lock)) paths.push_back(m.path);
  return ReadWorkspaceMetrics(dir, paths);
}

json MetricsJson(const std::vector<MetricsFile>& files) {
  json out = json::array();
  for (const auto& f : files) {
    json values = json::object();
    for (const auto& m : f.metrics) values[m.key] = json::parse(config::ToJson(m.value, 0));
    out.push_back(json{{"path", f.path}, {"missing", f.missing}, {"metrics", values}});
  }
  return out;
}

std::vector<MetricsFile> MetricsFromJson(const json& j) {
  std::vector<MetricsFile> out;
  for (const auto& f : j) {
    MetricsFile mf;
    mf.path = f.value("path", "");
    mf.missing = f.value("missing", false);
    for (const auto& [k, v] : f["metrics"].items()) {
      auto node = config::ParseConfigYaml(v.dump(), "exp.json");
      if (node.ok()) mf.metrics.push_back({k, *node});
    }
    out.push_back(std::move(mf));
  }
  return out;
}

Status SaveExperiment(const std::string& root, const Experiment& e) {
  std::string dir = ExpsDir(root) + "/" + e.id;
  RETURN_IF_ERROR(MakeDirs(dir));
  json j{{"id", e.id},           {"created", e.created}, {"commit", e.commit}, {"overrides", e.overrides},
         {"ok", e.ok},           {"seconds", e.seconds}, {"error", e.error},   {"metrics", MetricsJson(e.metrics)}};
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/forja.lock", SerializeLock(e.lock)));
  return WriteFileAtomic(dir + "/exp.json", j.dump(2) + "\n");  // last: its presence marks a complete record
}

Result<Experiment> LoadExperiment(const std::string& root, const std::string& id) {
  std::string dir = ExpsDir(root) + "/" + id;
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/exp.json"));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::User(dir + "/exp.json is not valid JSON; remove it with forja exp remove " + id);
  Experiment e;
  e.id = j.value("id", id);
  e.created = j.value("created", "");
  e.commit = j.value("commit", "");
  if (j.contains("overrides")) e.overrides = j["overrides"].get<std::vector<std::string>>();
  e.ok = j.value("ok", false);
  e.seconds = j.value("seconds", 0.0);
  e.error = j.value("error", "");
  if (j.contains("metrics")) e.metrics = MetricsFromJson(j["metrics"]);
  ASSIGN_OR_RETURN(std::string lock, ReadFile(dir + "/forja.lock"));
  ASSIGN_OR_RETURN(e.lock, ParseLock(lock, dir + "/forja.lock"));
  return e;
}

// One experiment being set up, run, and recorded.
struct Job {
  Experiment exp;
  std::string dir;  // its worktree
  Clock::time_point started;
  int proc = -1;
  int lost = 0;  // times the cluster lost its job (node failure, preemption): resubmitted
  StageJob sub;  // what was submitted, for a resubmission
};

// "16G" -> megabytes (the forms stage.cc accepts: digits and one of K, M, G, T).
double MemMb(const std::string& m) {
  if (m.size() < 2) return 0;
  double v = strtod(m.c_str(), nullptr);
  switch (m.back()) {
    case 'K': return v / 1024;
    case 'G': return v * 1024;
    case 'T': return v * 1024 * 1024;
    default: return v;
  }
}

// What one experiment's whole `forja run` asks of a node: the most any of its stages asks
// (cpus: at least the stages it runs at once), and the sum of the stages' time limits when
// every stage has one (else none: the partition's).
Resources SweepTaskResources(const Project& p, int stage_jobs) {
  Resources r;
  r.cpus = stage_jobs > 1 ? stage_jobs : 0;
  bool all_timed = !p.dag.stages.empty();
  for (const Stage& s : p.dag.stages) {
    const Resources& q = s.resources;
    r.cpus = std::max(r.cpus, q.cpus);
    r.gpus = std::max(r.gpus, q.gpus);
    if (!q.mem.empty() && MemMb(q.mem) > MemMb(r.mem)) r.mem = q.mem;
    if (r.constraint.empty()) r.constraint = q.constraint;
    all_timed = all_timed && q.time_s > 0;
    r.time_s += q.time_s;
  }
  if (!all_timed) r.time_s = 0;
  return r;
}

// Makes the isolated workspace: a worktree of HEAD, the user's uncommitted
// changes on top, the shared cache linked in, the data checked out.
Status Prepare(Workspace& ws, Job* job) {
  const std::string& root = ws.root();
  RETURN_IF_ERROR(MakeDirs(ExpsDir(root) + "/" + job->exp.id));
  RETURN_IF_ERROR(GitOutput(root, {"worktree", "add", "--quiet", "--detach", job->dir, job->exp.commit}).status());
  ASSIGN_OR_RETURN(std::string diff, GitOutput(root, {"diff", "--binary", "HEAD"}));
  if (!diff.empty()) RETURN_IF_ERROR(GitOutput(job->dir, {"apply", "--whitespace=nowarn", "-"}, diff).status());
  ASSIGN_OR_RETURN(std::string untracked, GitOutput(root, {"ls-files", "--others", "--exclude-standard", "-z"}));
  for (size_t pos = 0; pos < untracked.size();) {
    size_t end = untracked.find('\0', pos);
    if (end == std::string::npos) end = untracked.size();
    std::string rel = untracked.substr(pos, end - pos);
    pos = end + 1;
    struct stat st;
    if (::lstat((root + "/" + rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(root + "/" + rel));
    RETURN_IF_ERROR(MakeDirs(Dirname(job->dir + "/" + rel)));
    RETURN_IF_ERROR(WriteFileAtomic(job->dir + "/" + rel, bytes, st.st_mode & 07777));
  }
  RETURN_IF_ERROR(MakeDirs(job->dir + "/.forja"));
  RETURN_IF_ERROR(MakeDirs(ws.cache().root()));
  if (::symlink(ws.cache().root().c_str(), (job->dir + "/.forja/cache").c_str()) != 0)
    return Status::FromErrno("cannot link the cache into " + job->dir, errno);
  ASSIGN_OR_RETURN(auto exp_ws, Workspace::Open(job->dir));
  auto co = Checkout(*exp_ws, {}, /*force=*/true, 0);
  if (!co.ok())
    return Status::User("cannot check out the data for the experiment: " + co.status().message());
  return Status::Ok();
}

// Keeps what the experiment produced and removes its worktree.
void Collect(Workspace& ws, Job* job, const JobEnd& end) {
  Experiment& e = job->exp;
  e.seconds = end.seconds;
  e.ok = end.exit_code == 0 && end.what.empty() && !end.timed_out;
  if (!e.ok && e.error.empty()) {
    std::string tail = end.tail;
    size_t err = tail.rfind("forja: error: ");
    e.error = err != std::string::npos ? FirstLine(tail.substr(err + 14))
              : !end.what.empty()      ? "forja run " + end.what
                                       : "forja run exited with " + std::to_string(end.exit_code);
  }
  auto lock = ReadLock(job->dir);
  if (lock.ok()) e.lock = std::move(*lock);
  auto metrics = ReadMetricsOf(job->dir, e.lock);
  if (metrics.ok()) e.metrics = std::move(*metrics);
  else if (e.error.empty()) e.error = metrics.status().message();
  std::string keep = ExpsDir(ws.root()) + "/" + e.id + "/runs";
  if (::rename((job->dir + "/.forja/runs").c_str(), keep.c_str()) != 0 && errno != ENOENT)
    LogWarn("cannot keep the logs of " + e.id + ": " + std::strerror(errno));
}

void RemoveWorktree(Workspace& ws, const Job& job) {
  auto r = GitOutput(ws.root(), {"worktree", "remove", "--force", job.dir});
  if (!r.ok()) {
    (void)RemoveTree(job.dir);
    (void)GitOutput(ws.root(), {"worktree", "prune"});
  }
}

}  // namespace

Result<std::vector<Experiment>> RunExperiments(Workspace& ws, const ExpOptions& opts) {
  const std::string& root = ws.root();
  if (!Exists(root + "/.git"))
    return Status::User("forja exp run needs a git repository (experiments start from a commit); run git init");
  auto head = GitOutput(root, {"rev-parse", "--verify", "HEAD^{commit}"});
  if (!head.ok()) return Status::User("forja exp run needs a commit to start from; commit your work first");
  std::string commit = FirstLine(*head);

  // The jobs: one per combination of the sweep, each checked by composing it.
  std::vector<std::vector<std::string>> jobs_overrides = {opts.overrides};
  if (opts.multirun) {
    ASSIGN_OR_RETURN(ForjaYaml doc, ReadForjaYaml(root));
    ASSIGN_OR_RETURN(ConfigLocation loc, FindConfig(root, doc.root));
    if (loc.dir.empty())
      return Status::User("a sweep needs a configuration to sweep over; create conf/config.yaml");
    ASSIGN_OR_RETURN(jobs_overrides, config::SweepJobTexts(opts.overrides, loc.dir));
  }
  for (const auto& o : jobs_overrides) RETURN_IF_ERROR(LoadProject(root, o).status());

  std::vector<Job> jobs(jobs_overrides.size());
  for (size_t i = 0; i < jobs.size(); i++) {
    Experiment& e = jobs[i].exp;
    e.id = NewExpId();
    e.commit = commit;
    e.overrides = jobs_overrides[i];
    jobs[i].dir = ExpsDir(root) + "/" + e.id + "/ws";
  }
  int64_t started_s = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return Status::Internal("cannot find the forja executable (/proc/self/exe)");
  self[n] = '\0';

  // Every experiment's forja run goes through an Executor: child processes here, or on
  // Slurm the tasks of one job array (all submitted at once; -j is the array's %N).
  ASSIGN_OR_RETURN(Project first, LoadProject(root, jobs_overrides.front()));
  std::string kind = opts.executor.empty() ? first.executor.kind : opts.executor;
  if (kind != "local" && kind != "slurm")
    return Status::Usage("--executor " + kind + ": write --executor local or --executor slurm");
  bool cluster = kind == "slurm";
  std::unique_ptr<Executor> pool =
      cluster ? MakeSlurmExecutor(first.executor, opts.quiet, "") : MakeLocalExecutor(opts.quiet);
  Resources task_resources = SweepTaskResources(first, opts.stage_jobs);
  std::map<int, size_t> by_proc;
  size_t next = 0;
  int max_jobs = std::max(1, opts.jobs);
  bool interrupted = false;
  auto record = [&](Job& job) -> Status {
    RemoveWorktree(ws, job);
    if (interrupted && job.exp.error.empty()) job.exp.error = "interrupted";
    RETURN_IF_ERROR(SaveExperiment(root, job.exp));
    LogInfo("Experiment " + job.exp.id + (job.exp.ok ? " done" : " failed: " + job.exp.error));
    return Status::Ok();
  };
  while (!interrupted) {
    while (next < jobs.size() && (cluster || static_cast<int>(pool->running()) < max_jobs)) {
      Job& job = jobs[next++];
      job.exp.created = UtcNow();
      std::string shown;
      for (const auto& o : job.exp.overrides) shown += " " + o;
      LogInfo("Experiment " + job.exp.id + ":" + (shown.empty() ? " (no overrides)" : shown));
      Status prep = Prepare(ws, &job);
      if (!prep.ok()) {
        job.exp.error = prep.message();
        LogError(job.exp.id + ": " + prep.message());
        RemoveWorktree(ws, job);
        RETURN_IF_ERROR(SaveExperiment(root, job.exp));
        continue;
      }
      ProcessSpec spec;
      spec.argv = {self, "-C", job.dir, "run", "-j", std::to_string(std::max(1, opts.stage_jobs))};
      // The experiment's stages run where its forja run runs (here, or on the node of its
      // array task): it never submits jobs of its own, whatever forja.yaml's executor says.
      spec.argv.insert(spec.argv.end(), {"--executor", "local"});
      spec.argv.insert(spec.argv.end(), opts.targets.begin(), opts.targets.end());
      spec.argv.insert(spec.argv.end(), job.exp.overrides.begin(), job.exp.overrides.end());
      spec.env = {{"FORJA_PROGRESS", "0"}, {"FORJA_EXP_ID", job.exp.id}};
      // Hydra's output folder in the main workspace (the worktree goes), one
      // time for all jobs; with -m each job is a multirun's: sweep.dir/subdir.
      spec.env.push_back({"FORJA_HYDRA_OUTPUT_BASE", root});
      spec.env.push_back({"FORJA_HYDRA_NOW", std::to_string(started_s)});
      if (opts.multirun) spec.env.push_back({"FORJA_HYDRA_JOB_NUM", std::to_string(&job - jobs.data())});
      if (!opts.tracking_uri.empty()) spec.env.push_back({"FORJA_TRACKING_URI", opts.tracking_uri});
      if (!opts.tracking_experiment.empty())
        spec.env.push_back({"FORJA_TRACKING_EXPERIMENT", opts.tracking_experiment});
      spec.log_path = ExpsDir(root) + "/" + job.exp.id + "/run.log";
      spec.prefix = "[" + job.exp.id + "] ";
      spec.cwd = job.dir;
      job.sub.stage = job.exp.id;
      job.sub.spec = std::move(spec);
      job.sub.resources = task_resources;
      job.sub.array = "exp";
      job.sub.array_limit = max_jobs;
      job.sub.noun = "experiment";
      auto id = pool->Submit(job.sub);
      if (!id.ok()) {
        job.exp.error = id.status().message();
        RETURN_IF_ERROR(record(job));
        continue;
      }
      by_proc[*id] = &job - jobs.data();
    }
    if (pool->running() == 0) break;
    JobEnd end;
    int sig = 0;
    auto ev = pool->Wait(-1, &end, &sig);
    std::vector<JobEnd> ended;
    if (ev == Executor::Event::kEnded) {
      ended.push_back(end);
    } else if (ev == Executor::Event::kInterrupted) {
      LogWarn("interrupted: stopping every running experiment");
      ended = pool->CancelAll();
      interrupted = true;
    }
    for (const JobEnd& e : ended) {
      auto it = by_proc.find(e.id);
      if (it == by_proc.end()) continue;
      Job& job = jobs[it->second];
      by_proc.erase(it);
      // Lost with its node or preempted: not the experiment's fault; submitted again (3 times).
      if (e.retryable && !interrupted && job.lost < 3) {
        job.lost++;
        LogWarn("experiment " + job.exp.id + " " + e.what + "; submitting it again");
        auto id = pool->Submit(job.sub);
        if (id.ok()) {
          by_proc[*id] = it->second;
          continue;
        }
        job.exp.error = id.status().message();
      }
      Collect(ws, &job, e);
      RETURN_IF_ERROR(record(job));
    }
  }
  std::vector<Experiment> out;
  for (size_t i = 0; i < next; i++) out.push_back(std::move(jobs[i].exp));
  if (interrupted) return Status::User("interrupted; " + std::to_string(out.size()) + " experiments recorded");
  return out;
}

Result<std::vector<Experiment>> ListExperiments(const std::string& root) {
  std::vector<Experiment> out;
  DIR* d = ::opendir(ExpsDir(root).c_str());
  if (!d) return out;
  std::vector<std::string> ids;
  while (dirent* e = ::readdir(d))
    if (std::string_view(e->d_name).substr(0, 4) == "exp-") ids.emplace_back(e->d_name);
  ::closedir(d);
  for (const auto& id : ids) {
    if (!Exists(ExpsDir(root) + "/" + id + "/exp.json")) continue;  // still running, or killed while setting up
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(root, id));
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const Experiment& a, const Experiment& b) {
    return a.created != b.created ? a.created < b.created : a.id < b.id;
  });
  return out;
}

Result<Experiment> FindExperiment(const std::string& root, const std::string& id) {
  if (id.empty()) return Status::User("no experiment id given; see forja exp show");
  ASSIGN_OR_RETURN(auto all, ListExperiments(root));
  std::vector<const Experiment*> hits;
  for (const auto& e : all)
    if (e.id == id || e.id.starts_with(id) || e.id.compare(4, id.size(), id) == 0) hits.push_back(&e);
  if (hits.empty()) return Status::User("no experiment '" + id + "'; see forja exp show");
  if (hits.size() > 1)
    return Status::User("'" + id + "' matches " + std::to_string(hits.size()) + " experiments (" + hits[0]->id +
                        ", " + hits[1]->id + ", ...); give more of the id");
  return *hits[0];
}

Status ApplyExperiment(Workspace& ws, const Experiment& exp, bool force) {
  if (!exp.ok) return Status::User(exp.id + " failed (" + exp.error + "); only a finished experiment can be applied");
  for (const LockStage& st : exp.lock.stages)
    for (const LockFile& o : st.outs) {
      RETURN_IF_ERROR(RestorePath(ws, o.path, PointerOf(o), force, 0).status());
    }
  RETURN_IF_ERROR(ws.cache().Sync());
  return WriteLock(ws.root(), exp.lock, /*durable=*/true);
}

Status RemoveExperiment(const std::string& root, const Experiment& exp) {
  std::string dir = ExpsDir(root) + "/" + exp.id;
  // The record goes first, so a half-removed experiment is not listed.
  RETURN_IF_ERROR(RemoveFile(dir + "/exp.json"));
  return RemoveTree(dir);
}

}  // namespace forja::pipeline
