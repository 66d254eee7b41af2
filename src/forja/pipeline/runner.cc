#include "forja/pipeline/runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "forja/config/compose.h"
#include "forja/config/hydra_output.h"
#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/process_pool.h"
#include "forja/data/data.h"
#include "forja/data/lockfile.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/executor.h"
#include "forja/pipeline/params.h"
#include "forja/pipeline/project.h"
#include "forja/pipeline/run_cache.h"
#include "forja/pipeline/slurm_executor.h"

namespace forja::pipeline {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kUpToDate: return "up to date";
    case Outcome::kRan: return "ran";
    case Outcome::kRestored: return "restored";
    case Outcome::kWouldRun: return "would run";
    case Outcome::kFailed: return "failed";
    case Outcome::kSkipped: return "skipped";
    case Outcome::kInterrupted: return "interrupted";
  }
  return "?";
}

bool RunSummary::failed() const {
  for (const auto& s : stages)
    if (s.outcome == Outcome::kFailed || s.outcome == Outcome::kInterrupted) return true;
  return interrupted_by != 0;
}

size_t RunSummary::Count(Outcome o) const {
  size_t n = 0;
  for (const auto& s : stages) n += s.outcome == o;
  return n;
}

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

LockFile ToLockFile(const std::string& path, const Pointer& v) {
  LockFile f;
  f.path = path;
  f.is_dir = v.is_dir;
  f.oid = v.oid;
  f.size = v.size;
  f.files = v.files;
  return f;
}

bool SameVersion(const LockFile& a, const LockFile& b) { return a.oid == b.oid && a.is_dir == b.is_dir; }

// "0.5 s", "2 s", "1.25 s".
std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3g s", s);
  return buf;
}

std::string NewRunId() {
  char stamp[32];
  time_t now = ::time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
  return std::string(stamp) + "-" + suffix;
}

// Splits a command without shell syntax into argv (NeedsShell said it has none).
std::vector<std::string> SplitWords(const std::string& cmd) {
  std::vector<std::string> argv;
  size_t i = 0;
  while (i < cmd.size()) {
    while (i < cmd.size() && (cmd[i] == ' ' || cmd[i] == '\t')) i++;
    size_t j = i;
    while (j < cmd.size() && cmd[j] != ' ' && cmd[j] != '\t') j++;
    if (j > i) argv.push_back(cmd.substr(i, j - i));
    i = j;
  }
  return argv;
}

class Runner {
 public:
  Runner(Workspace& ws, const Project& project, const RunOptions& opts)
      : ws_(ws), proj_(project), dag_(project.dag), opts_(opts), params_(project) {}
  ~Runner() { StopPreparingCache(); }

  Result<RunSummary> Run();

 private:
  enum class Phase { kWaiting, kReady, kRunning, kDelayed, kDone };
  struct State {
    Phase phase = Phase::kWaiting;
    bool selected = false;
    int pending = 0;  // selected upstream stages not done yet
    StageResult result;
    LockStage now;  // cmd, deps and params as they are now
    Oid key;
    bool cacheable = false;
    int proc = -1;
    int lost = 0;  // times the executor lost it (node failure, preemption): resubmitted, not counted
    Clock::time_point started, retry_at;
  };

  Status Decide(int s);
  Status Examine(int s, bool* changed);
  Result<std::optional<Pointer>> Version(const std::string& rel);
  Status Start(int s);
  Status OnEnd(const JobEnd& end);
  Status Finish(int s);
  Result<bool> Restore(int s, const LockStage& hit);
  void Record(int s, std::vector<LockFile> outs);
  Status IgnoreInReadFolders(int s);
  void Done(int s, Outcome o);
  void Fail(int s, const std::string& error);
  Status MaybeWriteLock(bool final);
  // How long a finished stage may wait for forja.lock to be rewritten. A stage the
  // run cache holds is safe after a kill -9 (the next run restores it), so its entry
  // may wait longer: each rewrite creates an inode, which on a busy ext4 costs more
  // than dispatching a trivial stage.
  double LockInterval() const { return lock_urgent_ ? 0.25 : 2.0; }
  Status OpenRunCache();
  Status EnsureRunDir();
  // The cache's 256 object folders are made by a thread while the first stages run:
  // on this VM's ext4 a mkdir costs about a millisecond, as much as a trivial stage.
  void StartPreparingCache();
  void StopPreparingCache();
  std::vector<LockFile> DeclaredOuts(const Stage& st) const;
  // The -j slots a stage takes: one on a cluster (-j caps jobs in flight); locally its
  // resources.cpus (at most -j, so that it can start), since they share this machine.
  int Slots(int s, int jobs) const {
    if (!local_) return 1;
    return std::clamp(dag_.stages[s].resources.cpus, 1, jobs);
  }
  int Busy() const {
    int n = 0;
    for (const auto& [proc, s] : by_proc_) n += Slots(s, std::max(1, opts_.jobs));
    return n;
  }

  Workspace& ws_;
  const Project& proj_;
  const Dag& dag_;
  RunOptions opts_;
  std::vector<State> st_;
  std::deque<int> ready_;
  std::vector<int> delayed_;
  std::map<int, int> by_proc_;
  std::unique_ptr<Executor> pool_;  // where commands run (executor.h)
  bool local_ = true;               // pool_ runs them on this machine
  std::unique_ptr<RunCache> run_cache_;
  Lock lock_;
  bool lock_dirty_ = false;
  Clock::time_point lock_written_ = Clock::now();
  // Set when a stage that the run cache cannot restore (persist outs, --no-run-cache)
  // finished since the last write: only forja.lock can tell the next run it is done.
  bool lock_urgent_ = false;
  std::map<std::string, std::optional<Pointer>> versions_;  // this run's view of paths
  ParamReader params_;
  std::vector<std::string> ignore_;  // outs to add to .gitignore at the end
  std::set<std::string> dep_paths_;  // every stage's deps (IgnoreInReadFolders)
  bool dep_paths_known_ = false;
  std::string run_id_, run_dir_;
  config::HydraOutput hydra_out_;  // the config uses ${hydra:...}: its output folder
  std::thread prepare_;
  std::atomic<bool> prepare_cancel_{false};
  bool batching_ = false;  // state.db writes are in a transaction
  bool stop_ = false;  // a failure without keep_going: start nothing new
  std::mt19937_64 rng_{std::random_device{}()};
};

Result<std::optional<Pointer>> Runner::Version(const std::string& rel) {
  auto it = versions_.find(rel);
  if (it != versions_.end()) return it->second;
  ASSIGN_OR_RETURN(auto v, HashPath(ws_, rel, 0));
  versions_[rel] = v;
  return v;
}

std::vector<LockFile> Runner::DeclaredOuts(const Stage& st) const {
  std::vector<LockFile> outs;
  for (const Out& o : st.outs) {
    LockFile f;
    f.path = o.path;
    f.cache = o.cache;
    f.metric = o.kind == OutKind::kMetrics;
    f.plot = o.kind == OutKind::kPlots;
    f.push = o.push;
    f.remote = o.remote;
    outs.push_back(std::move(f));
  }
  return outs;
}

// Fills now (deps, params) and says whether the stage differs from its lock entry.
Status Runner::Examine(int s, bool* changed) {
  const Stage& stage = dag_.stages[s];
  State& x = st_[s];
  auto& why = x.result.reasons;
  x.now = LockStage{};
  x.now.name = stage.name;
  x.now.cmd = stage.lock_cmd.empty() ? stage.cmd : stage.lock_cmd;  // a new output folder is no change
  for (const Dep& d : stage.deps) {
    ASSIGN_OR_RETURN(auto v, Version(d.path));
    if (!v) {
      int producer = dag_.Producer(d.path);
      return Status::User(d.origin + ": stages." + stage.name + ".deps: '" + d.path + "' does not exist" +
                          (producer >= 0 ? " (stage '" + dag_.stages[producer].name + "' did not write it)"
                                         : "; create it or remove the dep"));
    }
    x.now.deps.push_back(ToLockFile(d.path, *v));
  }
  ASSIGN_OR_RETURN(x.now.params, params_.Values(stage));

  const LockStage* old = lock_.Find(stage.name);
  if (!old) {
    why.push_back("never ran (not in forja.lock)");
  } else {
    if (old->cmd != x.now.cmd) why.push_back("command changed");
    for (const LockFile& d : x.now.deps) {
      auto it = std::find_if(old->deps.begin(), old->deps.end(), [&](const LockFile& o) { return o.path == d.path; });
      if (it == old->deps.end()) why.push_back("new dep " + d.path);
      else if (!SameVersion(*it, d)) why.push_back("dep " + d.path + " changed");
    }
    for (const LockFile& o : old->deps)
      if (std::none_of(x.now.deps.begin(), x.now.deps.end(), [&](const LockFile& d) { return d.path == o.path; }))
        why.push_back("dep " + o.path + " removed");
    for (const LockParams& src : x.now.params) {
      auto os = std::find_if(old->params.begin(), old->params.end(),
                             [&](const LockParams& p) { return p.source == src.source; });
      for (const LockParam& v : src.values) {
        const LockParam* ov = nullptr;
        if (os != old->params.end())
          for (const auto& c : os->values)
            if (c.key == v.key) ov = &c;
        if (!ov) why.push_back("new param " + v.key);
        else if (ov->value_json != v.value_json)
          for (auto& r : DescribeParamChange(v.key, ov->value_json, v.value_json)) why.push_back(std::move(r));
      }
    }
    for (const LockParams& os : old->params)
      for (const LockParam& ov : os.values) {
        bool still = false;
        for (const auto& src : x.now.params)
          if (src.source == os.source)
            for (const auto& v : src.values) still |= v.key == ov.key;
        if (!still) why.push_back("param " + ov.key + " removed");
      }
    for (const Out& o : stage.outs) {
      auto it = std::find_if(old->outs.begin(), old->outs.end(), [&](const LockFile& f) { return f.path == o.path; });
      if (it == old->outs.end()) {
        why.push_back("new out " + o.path);
        continue;
      }
      ASSIGN_OR_RETURN(auto v, Version(o.path));
      if (!v) why.push_back("out " + o.path + " is missing");
      else if (v->oid != it->oid) why.push_back("out " + o.path + " was modified");
    }
    if (old->outs.size() != stage.outs.size() && why.empty()) why.push_back("outs changed");
  }
  if (stage.always_changed) why.push_back("always_changed is set");
  *changed = !why.empty();
  return Status::Ok();
}

Status Runner::Decide(int s) {
  const Stage& stage = dag_.stages[s];
  State& x = st_[s];
  if (stage.frozen) {  // dvc.yaml's frozen: true: never run (even forced), never reported changed
    x.result.reasons.push_back("frozen");
    Done(s, Outcome::kUpToDate);
    return Status::Ok();
  }
  if (opts_.dry) {
    for (int u : dag_.upstream[s])
      if (st_[u].selected && st_[u].result.outcome == Outcome::kWouldRun) {
        x.result.reasons.push_back("upstream stage '" + dag_.stages[u].name + "' would run");
        Done(s, Outcome::kWouldRun);
        return Status::Ok();
      }
  }
  bool changed = false;
  RETURN_IF_ERROR(Examine(s, &changed));
  if (opts_.force) {
    if (!changed) x.result.reasons.push_back("forced");
  } else if (!changed) {
    Done(s, Outcome::kUpToDate);
    return Status::Ok();
  }
  bool persist = false;
  for (const Out& o : stage.outs) persist |= o.persist;
  x.cacheable = !persist && !stage.always_changed && !stage.outs.empty();
  x.key = RunCacheKey(x.now, DeclaredOuts(stage));
  if (x.cacheable && opts_.use_run_cache && !opts_.force) {
    RETURN_IF_ERROR(OpenRunCache());
    ASSIGN_OR_RETURN(auto hit, run_cache_->Get(x.key));
    if (hit) {
      if (opts_.dry) {
        x.result.reasons.push_back("would be restored from the run cache");
        Done(s, Outcome::kWouldRun);
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(bool restored, Restore(s, *hit));
      if (restored) return Status::Ok();
    }
  }
  if (opts_.dry) {
    Done(s, Outcome::kWouldRun);
    return Status::Ok();
  }
  return Start(s);
}

// Brings the outs of a run-cache hit into the workspace; false when some
// object is gone from the cache (then the stage simply runs).
Result<bool> Runner::Restore(int s, const LockStage& hit) {
  const Stage& stage = dag_.stages[s];
  std::vector<LockFile> outs = DeclaredOuts(stage);
  for (LockFile& o : outs) {
    auto it = std::find_if(hit.outs.begin(), hit.outs.end(), [&](const LockFile& f) { return f.path == o.path; });
    if (it == hit.outs.end()) return false;
    bool cache = o.cache, metric = o.metric, plot = o.plot, push = o.push;
    std::string remote = o.remote;
    o = *it;
    o.cache = cache, o.metric = metric, o.plot = plot, o.push = push, o.remote = remote;
  }
  int restored = 0;
  for (const LockFile& o : outs) {
    ASSIGN_OR_RETURN(auto cur, Version(o.path));
    if (cur && cur->oid == o.oid && cur->is_dir == o.is_dir) continue;
    auto r = RestorePath(ws_, o.path, PointerOf(o), /*force=*/true, 0);
    if (!r.ok()) {
      if (r.status().code() == Code::kUser) return false;  // not in the cache any more
      return r.status();
    }
    versions_.erase(o.path);
    restored++;
  }
  LogInfo(restored ? "Restored stage '" + stage.name + "' from the run cache"
                   : "Stage '" + stage.name + "' is already up to date in the workspace (recorded from the run cache)");
  Record(s, std::move(outs));
  RETURN_IF_ERROR(IgnoreInReadFolders(s));
  Done(s, Outcome::kRestored);
  return true;
}

Status Runner::OpenRunCache() {
  if (run_cache_) return Status::Ok();
  RETURN_IF_ERROR(MakeDirs(ws_.cache().root()));
  ASSIGN_OR_RETURN(run_cache_, RunCache::Open(ws_.cache().root() + "/runs.db"));
  return Status::Ok();
}

Status Runner::EnsureRunDir() {
  if (!run_dir_.empty()) return Status::Ok();
  run_id_ = NewRunId();
  run_dir_ = ws_.ForjaDir() + "/runs/" + run_id_;
  RETURN_IF_ERROR(MakeDirs(run_dir_));
  if (proj_.has_config) {
    ASSIGN_OR_RETURN(hydra_out_, config::PrepareHydraOutput(proj_.composed, run_dir_));
    return config::WriteRunRecord(proj_.composed, run_dir_);
  }
  return WriteFileAtomic(run_dir_ + "/config.yaml", "{}\n");
}

void Runner::StartPreparingCache() {
  if (prepare_.joinable()) return;
  prepare_ = std::thread([this] { (void)ws_.cache().Prepare(&prepare_cancel_); });
}

void Runner::StopPreparingCache() {
  if (!prepare_.joinable()) return;
  prepare_cancel_ = true;
  prepare_.join();
}

Status Runner::Start(int s) {
  const Stage& stage = dag_.stages[s];
  State& x = st_[s];
  RETURN_IF_ERROR(EnsureRunDir());
  StartPreparingCache();
  if (!batching_) {  // the stat snapshots of outs are committed with forja.lock
    ASSIGN_OR_RETURN(StateDb * state, ws_.state());
    RETURN_IF_ERROR(state->BeginBatch());
    batching_ = true;
  }
  // A job an earlier, killed forja submitted with these very inputs: its result, not a rerun.
  if (x.result.attempts == 0 && !opts_.force) {
    int id = -1;
    auto earlier = pool_->FindEarlier(x.key.Hex(), stage.name, &id);
    if (earlier != Executor::Earlier::kNone) {
      x.result.attempts = 1;
      x.started = Clock::now();
      if (earlier == Executor::Earlier::kFinished) return Finish(s);
      x.proc = id;
      x.phase = Phase::kRunning;
      by_proc_[x.proc] = s;
      return Status::Ok();
    }
  }
  if (x.result.attempts == 0) {
    std::string why;
    for (const auto& r : x.result.reasons) why += (why.empty() ? "" : "; ") + r;
    LogInfo("Running stage '" + stage.name + "' (" + why + "):\n> " + stage.Script());
  }
  // Outs are removed first, so a stage that does not write one fails instead
  // of passing off the old file as new; their folders are made.
  // Never through a symlink a repository committed (OpenDirNoFollow).
  for (const Out& o : stage.outs) {
    ASSIGN_OR_RETURN(Fd dir, OpenDirNoFollow(ws_.root(), Dirname(o.path), /*create=*/true));
    if (!o.persist) RETURN_IF_ERROR(RemoveTreeAt(dir.get(), Basename(o.path), o.path));
    versions_.erase(o.path);
  }
  ProcessSpec spec;
  if (stage.cmd.size() == 1 && !NeedsShell(stage.cmd[0])) spec.argv = SplitWords(stage.cmd[0]);
  else spec.argv = {"/bin/sh", "-c", stage.Script()};
  spec.cwd = stage.wdir.empty() ? ws_.root() : ws_.Abs(stage.wdir);
  spec.env = stage.env;
  spec.env.push_back({"FORJA_PARAMS", run_dir_ + "/config.yaml"});
  spec.env.push_back({"FORJA_STAGE", stage.name});
  spec.env.push_back({"FORJA_RUN_ID", run_id_});
  // hydra.runtime.output_dir, and the hydra node for a stage's @forja.main,
  // which moves into the folder with hydra.job.chdir=true as Hydra does (the
  // command itself starts here, so its relative paths hold).
  if (!hydra_out_.dir.empty()) {
    spec.env.push_back({"FORJA_OUTPUT_DIR", hydra_out_.dir});
    spec.env.push_back({"FORJA_HYDRA", run_dir_ + "/hydra.yaml"});
    spec.env.insert(spec.env.begin(), hydra_out_.env.begin(), hydra_out_.env.end());  // the stage's env wins
  }
  spec.log_path = run_dir_ + "/" + stage.name + ".log";
  spec.prefix = "[" + stage.name + "] ";
  spec.timeout_s = stage.timeout_s;
  x.result.log = ".forja/runs/" + run_id_ + "/" + stage.name + ".log";
  x.result.attempts++;
  x.started = Clock::now();
  StageJob job;
  job.stage = stage.name;
  job.spec = std::move(spec);
  job.resources = stage.resources;
  job.key = x.key.Hex();
  auto id = pool_->Submit(job);
  if (!id.ok()) {
    Fail(s, "stage '" + stage.name + "': " + id.status().message());
    return Status::Ok();
  }
  x.proc = *id;
  x.phase = Phase::kRunning;
  by_proc_[x.proc] = s;
  return Status::Ok();
}

Status Runner::OnEnd(const JobEnd& end) {
  auto it = by_proc_.find(end.id);
  if (it == by_proc_.end()) return Status::Internal("unknown process ended");
  int s = it->second;
  by_proc_.erase(it);
  const Stage& stage = dag_.stages[s];
  State& x = st_[s];
  x.result.seconds += end.seconds;
  if (end.exit_code == 0 && !end.timed_out && end.what.empty() && !end.retryable) return Finish(s);

  // A job the cluster lost (its node failed, it was preempted) runs again at once,
  // a few times, without counting against the stage's retries: the command did nothing wrong.
  constexpr int kMaxLost = 3;
  if (end.retryable && x.lost < kMaxLost && !stop_) {
    x.lost++;
    x.result.attempts--;
    LogWarn("stage '" + stage.name + "' " + end.what + "; submitting it again (" + std::to_string(x.lost) + " of " +
            std::to_string(kMaxLost) + " resubmissions)");
    x.phase = Phase::kDelayed;
    x.retry_at = Clock::now();
    delayed_.push_back(s);
    return Status::Ok();
  }
  std::string what = !end.what.empty() ? end.what
                     : end.timed_out ? "timed out after " + Seconds(stage.timeout_s)
                     : end.exit_code < 0 ? "was killed by signal " + std::to_string(-end.exit_code)
                     : end.exit_code == 127 ? "failed: command not found (exit 127)"
                                             : "failed (exit " + std::to_string(end.exit_code) + ")";
  if (x.result.attempts <= stage.retries.count) {
    const Retries& r = stage.retries;
    double delay = r.delay_s;
    for (int i = 1; i < x.result.attempts; i++) delay *= r.backoff;
    if (r.max_delay_s > 0) delay = std::min(delay, r.max_delay_s);
    if (r.jitter > 0) delay *= std::uniform_real_distribution<double>(1 - r.jitter, 1 + r.jitter)(rng_);
    LogWarn("stage '" + stage.name + "' " + what + "; retrying in " + Seconds(delay) + " (attempt " + std::to_string(x.result.attempts + 1) + " of " + std::to_string(r.count + 1) + ")");
    x.phase = Phase::kDelayed;
    x.retry_at = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(delay * 1e6));
    delayed_.push_back(s);
    return Status::Ok();
  }
  std::string msg = "stage '" + stage.name + "' " + what;
  if (x.result.attempts > 1) msg += " after " + std::to_string(x.result.attempts) + " attempts";
  if (end.tail.empty()) msg += " without printing anything";
  if (!end.tail.empty()) {
    msg += "; see " + x.result.log;
    msg += "; its last lines:";
    size_t pos = 0;
    std::string tail = end.tail;
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    while (pos <= tail.size()) {
      size_t nl = tail.find('\n', pos);
      if (nl == std::string::npos) nl = tail.size();
      msg += "\n  | " + tail.substr(pos, nl - pos);
      pos = nl + 1;
    }
  }
  Fail(s, msg);
  return Status::Ok();
}

Status Runner::Finish(int s) {
  const Stage& stage = dag_.stages[s];
  std::vector<LockFile> outs = DeclaredOuts(stage);
  for (LockFile& o : outs) {
    struct stat sb;
    if (::lstat(ws_.Abs(o.path).c_str(), &sb) != 0) {
      Fail(s, "stage '" + stage.name + "' did not write its output '" + o.path +
                  "'; fix its command or its outs in forja.yaml");
      return Status::Ok();
    }
    auto v = StorePath(ws_, o.path, 0);
    if (!v.ok()) {
      Fail(s, "stage '" + stage.name + "': cannot store output '" + o.path + "': " + v.status().message());
      return Status::Ok();
    }
    LockFile stored = ToLockFile(o.path, *v);
    stored.cache = o.cache, stored.metric = o.metric, stored.plot = o.plot, stored.push = o.push;
    stored.remote = o.remote;
    o = std::move(stored);
  }
  if (st_[s].cacheable && opts_.use_run_cache) {
    RETURN_IF_ERROR(OpenRunCache());
    LockStage entry = st_[s].now;
    entry.outs = outs;
    RETURN_IF_ERROR(run_cache_->Put(st_[s].key, entry));
  } else {
    lock_urgent_ = true;
  }
  Record(s, std::move(outs));
  RETURN_IF_ERROR(IgnoreInReadFolders(s));
  Done(s, Outcome::kRan);
  CrashPoint("run.stage_done");  // outs stored, forja.lock not yet written
  return MaybeWriteLock(false);
}

// Puts the stage's lock entry and this run's view of its outs.
void Runner::Record(int s, std::vector<LockFile> outs) {
  LockStage entry = st_[s].now;
  entry.outs = std::move(outs);
  for (const LockFile& o : entry.outs) {
    if (o.cache) ignore_.push_back(o.path);  // cached outs are versioned by forja.lock, not git
    // Forget what this run knew of the out, of paths inside it and of folders containing it.
    std::string prefix = o.path + "/";
    versions_.erase(versions_.lower_bound(prefix), versions_.lower_bound(o.path + "0"));  // '0' follows '/'
    for (std::string d = Dirname(o.path); d != "." && !d.empty(); d = Dirname(d)) versions_.erase(d);
    versions_[o.path] = PointerOf(o);
  }
  lock_.Put(std::move(entry));
  lock_dirty_ = true;
}

void Runner::Done(int s, Outcome o) {
  State& x = st_[s];
  x.phase = Phase::kDone;
  x.result.outcome = o;
  if (o == Outcome::kFailed) return;  // what depends on it stays waiting (reported as skipped)
  for (int d : dag_.downstream[s]) {
    State& y = st_[d];
    if (y.selected && --y.pending == 0) {
      y.phase = Phase::kReady;
      ready_.push_back(d);
    }
  }
}

void Runner::Fail(int s, const std::string& error) {
  st_[s].result.error = error;
  LogError(error);
  Done(s, Outcome::kFailed);
  if (!opts_.keep_going) stop_ = true;
}

// A cached out inside a folder that a stage reads (models/a.bin, and a dep on
// models) gets its .gitignore entry now rather than at the end: the folder the
// next stage hashes is then the folder the next run hashes, .gitignore included.
Status Runner::IgnoreInReadFolders(int s) {
  if (!dep_paths_known_) {
    for (const Stage& st : dag_.stages)
      for (const Dep& d : st.deps) dep_paths_.insert(d.path);
    dep_paths_known_ = true;
  }
  std::vector<std::string> now;
  for (const Out& o : dag_.stages[s].outs) {
    if (!o.cache) continue;
    for (std::string d = Dirname(o.path); d != "." && !d.empty(); d = Dirname(d))
      if (dep_paths_.count(d)) {
        now.push_back(o.path);
        break;
      }
  }
  if (now.empty()) return Status::Ok();
  RETURN_IF_ERROR(ws_.IgnoreInGit(now));
  for (const auto& p : now)
    for (std::string d = Dirname(p); d != "." && !d.empty(); d = Dirname(d)) versions_.erase(d);
  return Status::Ok();
}

Status Runner::MaybeWriteLock(bool final) {
  if (!lock_dirty_ || opts_.dry) return Status::Ok();
  if (!final && Since(lock_written_) < LockInterval()) return Status::Ok();
  if (final) {
    // Every selected stage's cached outs, also of stages a killed run finished (up to
    // date now, so never recorded here), sorted: the same .gitignore whatever order
    // the stages ended in.
    for (size_t s = 0; s < st_.size(); s++) {
      const LockStage* e = st_[s].selected ? lock_.Find(dag_.stages[s].name) : nullptr;
      if (!e) continue;
      for (const LockFile& o : e->outs)
        if (o.cache) ignore_.push_back(o.path);
    }
    std::sort(ignore_.begin(), ignore_.end());
    ignore_.erase(std::unique(ignore_.begin(), ignore_.end()), ignore_.end());
    RETURN_IF_ERROR(ws_.IgnoreInGit(ignore_));
    ignore_.clear();
    RETURN_IF_ERROR(ws_.cache().Sync());  // the objects before the lock that names them
  }
  RETURN_IF_ERROR(WriteLock(ws_.root(), lock_, final));
  if (batching_) {
    ASSIGN_OR_RETURN(StateDb * state, ws_.state());
    RETURN_IF_ERROR(state->CommitBatch());
    batching_ = false;
  }
  lock_written_ = Clock::now();
  lock_dirty_ = false;
  lock_urgent_ = false;
  return Status::Ok();
}

Result<RunSummary> Runner::Run() {
  ASSIGN_OR_RETURN(std::vector<int> sel, SelectStages(dag_, opts_.targets, opts_.single));
  ASSIGN_OR_RETURN(lock_, ReadLock(ws_.root()));
  // Entries of stages that no longer exist are dropped when the whole pipeline runs.
  if (opts_.targets.empty() && !opts_.dry) {
    std::vector<std::string> gone;
    for (const auto& e : lock_.stages)
      if (dag_.Find(e.name) < 0) gone.push_back(e.name);
    for (const auto& g : gone) lock_.Erase(g);
    lock_dirty_ = !gone.empty();
  }
  st_.assign(dag_.stages.size(), State{});
  for (int s : sel) {
    st_[s].selected = true;
    st_[s].result.name = dag_.stages[s].name;
  }
  for (int s : sel) {
    for (int u : dag_.upstream[s]) st_[s].pending += st_[u].selected;
    if (st_[s].pending == 0) {
      st_[s].phase = Phase::kReady;
      ready_.push_back(s);
    }
  }
  std::string kind = opts_.executor.empty() ? proj_.executor.kind : opts_.executor;
  if (kind == "slurm" && !opts_.dry)
    pool_ = MakeSlurmExecutor(proj_.executor, opts_.quiet, ws_.ForjaDir() + "/slurm-jobs.tsv");
  else pool_ = MakeLocalExecutor(opts_.quiet);
  local_ = std::string(pool_->name()) == "local";
  int jobs = std::max(1, opts_.jobs);
  RunSummary summary;
  Status error;
  while (error.ok()) {
    while (!stop_ && !ready_.empty() && Busy() + Slots(ready_.front(), jobs) <= jobs) {
      int s = ready_.front();
      ready_.pop_front();
      error = Decide(s);
      if (!error.ok()) break;
    }
    if (!error.ok()) break;
    // Retries whose time has come go first.
    auto now = Clock::now();
    double wait = -1;
    for (size_t i = 0; i < delayed_.size();) {
      int s = delayed_[i];
      if (!stop_ && st_[s].retry_at <= now && Busy() + Slots(s, jobs) <= jobs) {
        delayed_.erase(delayed_.begin() + i);
        error = Start(s);
        if (!error.ok()) break;
        continue;
      }
      double left = std::chrono::duration<double>(st_[s].retry_at - now).count();
      wait = wait < 0 ? std::max(0.0, left) : std::min(wait, std::max(0.0, left));
      i++;
    }
    if (!error.ok()) break;
    if (stop_) {
      for (int s : delayed_) Fail(s, "stage '" + dag_.stages[s].name + "' was not retried: another stage failed");
      delayed_.clear();
    }
    if (pool_->running() == 0) {
      if (delayed_.empty() && (ready_.empty() || stop_)) break;
      if (!ready_.empty()) continue;
    }
    // A throttled lock write comes due even when no further stage ends soon.
    if (lock_dirty_ && !opts_.dry) {
      double due = std::max(0.0, LockInterval() - Since(lock_written_));
      wait = wait < 0 ? due : std::min(wait, due);
    }
    JobEnd end;
    int sig = 0;
    auto ev = pool_->Wait(wait, &end, &sig);
    if (ev == Executor::Event::kEnded) {
      error = OnEnd(end);
    } else if (ev == Executor::Event::kTimeout) {
      error = MaybeWriteLock(false);
    } else if (ev == Executor::Event::kInterrupted) {
      LogWarn("interrupted: stopping every running stage");
      for (const JobEnd& e : pool_->CancelAll()) {
        auto it = by_proc_.find(e.id);
        if (it == by_proc_.end()) continue;
        st_[it->second].result.error = "interrupted";
        st_[it->second].phase = Phase::kDone;
        st_[it->second].result.outcome = Outcome::kInterrupted;
      }
      by_proc_.clear();
      summary.interrupted_by = sig;
      break;
    }
  }
  if (!error.ok()) pool_->CancelAll();
  pool_.reset();
  StopPreparingCache();
  // Whatever happened, the lock keeps what finished.
  Status lock_st = MaybeWriteLock(true);
  if (!error.ok()) return error;
  RETURN_IF_ERROR(lock_st);

  summary.run_id = run_id_;
  for (int s : dag_.order) {
    if (!st_[s].selected) continue;
    StageResult r = st_[s].result;
    if (st_[s].phase != Phase::kDone) {
      r.outcome = Outcome::kSkipped;
      r.reasons = {summary.interrupted_by ? "interrupted" : "an upstream stage failed"};
      for (int u : dag_.upstream[s])
        if (st_[u].selected && st_[u].phase == Phase::kDone && st_[u].result.outcome == Outcome::kFailed)
          r.reasons = {"upstream stage '" + dag_.stages[u].name + "' failed"};
      if (stop_ && r.reasons[0] == "an upstream stage failed") r.reasons = {"not started after a failure (use --keep-going)"};
    }
    summary.stages.push_back(std::move(r));
  }
  return summary;
}

}  // namespace

Result<RunSummary> RunPipeline(Workspace& ws, const Project& project, const RunOptions& opts) {
  Runner runner(ws, project, opts);
  return runner.Run();
}

}  // namespace forja::pipeline
