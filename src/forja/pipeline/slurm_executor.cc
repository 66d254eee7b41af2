#include "forja/pipeline/slurm_executor.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>

#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/subprocess.h"

namespace forja::pipeline {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Calls f with each line of a command's output, trimmed, empty lines skipped.
template <typename F>
void ForEachLine(std::string_view out, F f) {
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string_view::npos) nl = out.size();
    std::string_view line = Trim(out.substr(pos, nl - pos));
    pos = nl + 1;
    if (!line.empty()) f(line);
  }
}

std::optional<long long> Digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// 'text' for /bin/sh: single quotes, each ' written as '\''.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// The first line of a command's complaint, for a one-line message.
std::string FirstLine(const std::string& s) {
  std::string_view t = Trim(s);
  size_t nl = t.find('\n');
  std::string line(t.substr(0, nl));
  for (char& c : line)
    if (static_cast<unsigned char>(c) < ' ') c = ' ';
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// The last lines of a log (up to 20 lines / 4 KiB), as the local executor keeps them.
std::string Tail(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return "";
  std::string t = text->size() > 4096 ? text->substr(text->size() - 4096) : *text;
  size_t lines = 0, pos = t.size();
  while (pos > 0) {
    size_t nl = t.rfind('\n', pos - 1);
    if (nl == std::string::npos) break;
    if (nl + 1 < t.size() && ++lines > 20) return t.substr(nl + 1);
    if (nl == 0) break;
    pos = nl;
  }
  return t;
}

using Clock = std::chrono::steady_clock;

// -r lists every task of an array on its own line.
constexpr const char* kSqueueFormat = "JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|";
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

SlurmFate MapSlurmState(std::string_view state) {
  state = Trim(state);
  size_t sp = state.find(' ');  // "CANCELLED by 1000"
  if (sp != std::string_view::npos) state = state.substr(0, sp);
  if (state == "COMPLETED") return SlurmFate::kSucceeded;
  if (state == "FAILED" || state == "OUT_OF_MEMORY" || state == "DEADLINE" || state == "BOOT_FAIL" ||
      state == "SPECIAL_EXIT" || state == "REVOKED")
    return SlurmFate::kFailed;
  if (state == "CANCELLED") return SlurmFate::kCancelled;
  if (state == "TIMEOUT") return SlurmFate::kTimedOut;
  if (state == "NODE_FAIL" || state == "PREEMPTED") return SlurmFate::kLost;
  if (state == "PENDING" || state == "RUNNING" || state == "COMPLETING" || state == "CONFIGURING" ||
      state == "SUSPENDED" || state == "REQUEUED" || state == "REQUEUE_HOLD" || state == "REQUEUE_FED" ||
      state == "RESIZING" || state == "SIGNALING" || state == "STAGE_OUT" || state == "STOPPED" ||
      state == "RESV_DEL_HOLD")
    return SlurmFate::kInFlight;
  return SlurmFate::kUnknown;
}

std::optional<long long> ParseSbatchJobId(std::string_view out) {
  out = Trim(out);
  // Warnings may come first on their own lines; the id is the last line.
  size_t nl = out.rfind('\n');
  if (nl != std::string_view::npos) out = Trim(out.substr(nl + 1));
  size_t semi = out.find(';');
  if (semi != std::string_view::npos) out = out.substr(0, semi);
  auto id = Digits(out);
  if (!id || *id == 0) return std::nullopt;
  return id;
}

std::optional<std::string> SlurmQueryId(std::string_view array_job, std::string_view task) {
  auto a = Digits(array_job);
  if (!a || *a == 0) return std::nullopt;
  if (task == "N/A" || task.empty()) return std::to_string(*a);
  auto t = Digits(task);
  if (!t || *t > 10000000) return std::nullopt;  // "[2-5]" (tasks not listed one by one) and the like
  return std::to_string(*a) + "_" + std::to_string(*t);
}

// "12" or "12_3" (how sacct and the journal write a job) as SlurmQueryId's form.
std::optional<std::string> SlurmQueryIdOf(std::string_view job) {
  size_t us = job.find('_');
  return us == std::string_view::npos ? SlurmQueryId(job, "N/A") : SlurmQueryId(job.substr(0, us), job.substr(us + 1));
}

std::map<std::string, SlurmJobState> ParseSqueue(std::string_view out, int* skipped) {
  std::map<std::string, SlurmJobState> jobs;
  int bad = 0;
  ForEachLine(out, [&](std::string_view line) {
    std::vector<std::string_view> f;
    size_t start = 0;
    while (f.size() < 8) {
      size_t bar = line.find('|', start);
      f.push_back(Trim(line.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start)));
      if (bar == std::string_view::npos) break;
      start = bar + 1;
    }
    // JobID | ArrayJobID | ArrayTaskID | State | Reason | exit_code
    auto id = f.size() >= 4 && Digits(f[0]) ? SlurmQueryId(f[1], f[2]) : std::nullopt;
    if (!id || f[3].empty()) {
      bad++;
      return;
    }
    SlurmJobState s;
    s.state = std::string(f[3]);
    if (f.size() > 4) s.reason = std::string(f[4]);
    if (f.size() > 5) {
      // squeue prints the wait status: exit code in the high byte, a signal in the low 7 bits.
      if (auto raw = Digits(f[5]); raw && *raw < (1 << 16)) {
        int v = static_cast<int>(*raw);
        s.exit_code = (v & 0x7f) ? -(v & 0x7f) : (v >> 8) & 0xff;
      }
    }
    jobs[*id] = std::move(s);
  });
  if (skipped) *skipped = bad;
  return jobs;
}

std::map<std::string, SlurmJobState> ParseSacct(std::string_view out, int* skipped) {
  std::map<std::string, SlurmJobState> jobs;
  int bad = 0;
  ForEachLine(out, [&](std::string_view line) {
    size_t a = line.find('|'), b = a == std::string_view::npos ? a : line.find('|', a + 1);
    if (b == std::string_view::npos) {
      bad++;
      return;
    }
    std::string_view id = Trim(line.substr(0, a)), state = Trim(line.substr(a + 1, b - a - 1));
    std::string_view code = Trim(line.substr(b + 1));
    if (size_t bar = code.find('|'); bar != std::string_view::npos) code = code.substr(0, bar);
    auto qid = SlurmQueryIdOf(id);
    if (!qid || state.empty()) {
      bad++;
      return;
    }
    SlurmJobState s;
    s.state = std::string(state);
    size_t colon = code.find(':');
    auto status = Digits(code.substr(0, colon));
    auto signal = colon == std::string_view::npos ? std::optional<long long>(0) : Digits(code.substr(colon + 1));
    if (status && signal && *status < 256 && *signal < 128) s.exit_code = *signal ? -static_cast<int>(*signal) : static_cast<int>(*status);
    jobs[*qid] = std::move(s);
  });
  if (skipped) *skipped = bad;
  return jobs;
}

std::vector<std::string> SbatchArgs(const ExecutorConfig& cfg, const StageJob& job) {
  std::vector<std::string> a = {"sbatch", "--parsable", "--job-name=forja:" + job.stage,
                                "--output=" + job.spec.log_path, "--open-mode=truncate"};
  if (!job.spec.cwd.empty()) a.push_back("--chdir=" + job.spec.cwd);
  if (!cfg.partition.empty()) a.push_back("--partition=" + cfg.partition);
  if (!cfg.account.empty()) a.push_back("--account=" + cfg.account);
  if (!cfg.qos.empty()) a.push_back("--qos=" + cfg.qos);
  const Resources& r = job.resources;
  // Slurm's limit is in minutes. Without resources.time, forja's own timeout
  // (to the second) comes first and Slurm's, a minute later, is the backstop.
  double limit = r.time_s > 0 ? r.time_s : job.spec.timeout_s > 0 ? job.spec.timeout_s + 60 : 0;
  if (limit > 0) a.push_back("--time=" + std::to_string(std::max<long long>(1, std::llround(std::ceil(limit / 60)))));
  if (r.cpus > 0) a.push_back("--cpus-per-task=" + std::to_string(r.cpus));
  if (!r.mem.empty()) a.push_back("--mem=" + r.mem);
  if (r.gpus > 0) a.push_back("--gpus=" + std::to_string(r.gpus));
  if (!r.constraint.empty()) a.push_back("--constraint=" + r.constraint);
  for (const auto& e : cfg.extra_args) a.push_back(e);
  return a;
}

std::string SbatchScript(const StageJob& job, const std::string& exit_path) {
  std::string s = "#!/bin/sh\n# forja stage " + ShellQuote(job.stage) + ", submitted by forja run --executor slurm\n";
  if (!job.spec.cwd.empty()) s += "cd " + ShellQuote(job.spec.cwd) + " || exit 1\n";
  for (const auto& [k, v] : job.spec.env) s += k + "=" + ShellQuote(v) + "; export " + k + "\n";
  std::string cmd;
  for (const auto& w : job.spec.argv) cmd += (cmd.empty() ? "" : " ") + ShellQuote(w);
  s += cmd + " </dev/null\n";
  s += "rc=$?\n";
  // The status outlives squeue's memory of the job (MinJobAge) and a restarted controller.
  s += "printf '%s\\n' \"$rc\" >" + ShellQuote(exit_path + ".tmp") + " && mv -f " + ShellQuote(exit_path + ".tmp") +
       " " + ShellQuote(exit_path) + "\n";
  s += "exit $rc\n";
  return s;
}

namespace {

class SlurmExecutor : public Executor {
 public:
  SlurmExecutor(const ExecutorConfig& cfg, bool quiet, std::string journal)
      : cfg_(cfg), quiet_(quiet), journal_(std::move(journal)), sleeper_(SleeperOptions()) {}
  ~SlurmExecutor() override {
    if (!jobs_.empty() || !pending_.empty()) CancelAll();
    if (!journal_.empty()) (void)RemoveFile(journal_);  // nothing of this run is left in flight
  }
  Earlier FindEarlier(const std::string& key, const std::string& stage, int* id) override;
  const char* name() const override { return "slurm"; }
  Result<int> Submit(const StageJob& job) override;
  size_t running() const override { return jobs_.size() + ended_.size() + pending_.size(); }
  Event Wait(double deadline_s, JobEnd* end, int* signal_number) override;
  std::vector<JobEnd> CancelAll() override;

 private:
  struct Job {
    int id = 0;
    std::string qid;  // what squeue and scancel call it: "12", or "12_3" for a task of an array
    std::string stage, log_path, exit_path, prefix;
    double timeout_s = 0;
    Clock::time_point submitted;
    std::optional<Clock::time_point> started;  // first seen RUNNING
    int missing = 0;                           // polls in a row that did not list it
    bool timeout_cancelled = false;            // forja scancelled it at its timeout
    std::string key;                           // the stage's run-cache key, for the journal
  };
  struct Pending {  // a foreach/matrix copy waiting for Flush
    Job job;
    std::string script, cwd, group;
    std::string array, noun;        // the array's name (job name forja:<array>); "stage", "experiment"
    int array_limit = 0;            // --array=...%N
    std::vector<std::string> args;  // sbatch's
  };
  void Flush();
  Status SubmitOne(Pending& p);
  Status SubmitArray(std::vector<Pending>& group);
  Result<long long> Sbatch(const std::vector<std::string>& argv, const std::string& cwd);
  std::vector<Pending> pending_;
  static ProcessPool::Options SleeperOptions() {
    ProcessPool::Options o;
    o.quiet = true;
    return o;  // runs nothing: its Wait() is a sleep that SIGINT/SIGTERM interrupt
  }
  void Poll();
  std::map<std::string, SlurmJobState> Sacct(const std::vector<std::string>& ids);
  struct Earlier_ {
    std::string qid;
    std::string exit_path, log_path;
  };
  void LoadJournal();
  void Journal(const std::string& key, const Earlier_& e);
  void Echo(const Job& j) const;
  JobEnd EndOf(const Job& j, SlurmFate fate, const SlurmJobState* s);
  Status Scancel(const std::vector<std::string>& ids);

  ExecutorConfig cfg_;
  bool quiet_;
  std::string journal_;
  ProcessPool sleeper_;
  std::vector<Job> jobs_;  // in flight
  std::deque<JobEnd> ended_;
  int next_id_ = 1;
  double interval_ = 0.2;  // between polls: short after a change, up to 2 s when nothing moves
  Clock::time_point next_poll_ = Clock::now();
  bool outage_reported_ = false;
  bool sacct_off_ = false;  // the cluster keeps no accounting (sacct says so): never asked again
  bool journal_loaded_ = false;
  std::map<std::string, Earlier_> earlier_;  // by key, from the journal
  std::string journal_keep_;                 // its lines, rewritten first (a run adopting jobs may be killed too)
};

// Lines: key TAB job id TAB exit path TAB log path. A line it cannot read is skipped.
void SlurmExecutor::LoadJournal() {
  if (journal_loaded_ || journal_.empty()) return;
  journal_loaded_ = true;
  auto text = ReadFile(journal_);
  if (!text.ok()) return;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) break;  // a torn last line
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      f.push_back(line.substr(start, tab - start));
    f.push_back(line.substr(start));
    auto id = f.size() == 4 ? SlurmQueryIdOf(f[1]) : std::nullopt;
    if (!id || f[0].empty() || f[2].empty() || f[2][0] != '/' || f[3].empty()) continue;
    earlier_[f[0]] = Earlier_{*id, f[2], f[3]};
    journal_keep_ += line + "\n";
  }
}

void SlurmExecutor::Journal(const std::string& key, const Earlier_& e) {
  if (journal_.empty() || key.empty()) return;
  LoadJournal();
  journal_keep_ += key + "\t" + e.qid + "\t" + e.exit_path + "\t" + e.log_path + "\n";
  // Rewritten whole (small: one line per job of the last runs); losing it costs only a rerun.
  if (auto st = WriteFileAtomic(journal_, journal_keep_); !st.ok())
    LogWarn("cannot record the Slurm job in " + journal_ + ": " + st.message());
}

Executor::Earlier SlurmExecutor::FindEarlier(const std::string& key, const std::string& stage, int* id) {
  LoadJournal();
  auto it = earlier_.find(key);
  if (it == earlier_.end()) return Earlier::kNone;
  Earlier_ e = it->second;
  earlier_.erase(it);
  auto status = ReadFile(e.exit_path);
  if (status.ok() && Trim(*status) == "0") {
    LogInfo("Stage '" + stage + "' finished as Slurm job " + e.qid +
            " after an earlier forja run stopped; recording its outputs instead of running it again");
    return Earlier::kFinished;
  }
  if (status.ok()) return Earlier::kNone;  // it failed: run it again
  auto r = RunProcess({"squeue", "-h", "-r", "--states=all", "-O", kSqueueFormat, "--jobs=" + e.qid});
  if (!r.ok() || r->exit_code != 0) return Earlier::kNone;
  auto seen = ParseSqueue(r->out);
  auto s = seen.find(e.qid);
  if (s == seen.end() || MapSlurmState(s->second.state) != SlurmFate::kInFlight) return Earlier::kNone;
  Job j;
  j.id = next_id_++;
  j.qid = e.qid;
  j.stage = stage;
  j.log_path = e.log_path;
  j.exit_path = e.exit_path;
  j.prefix = "[" + stage + "] ";
  j.submitted = Clock::now();
  if (Trim(s->second.state) == "RUNNING") j.started = Clock::now();
  LogInfo("Stage '" + stage + "' is still running as Slurm job " + e.qid +
          " from an earlier forja run; watching it instead of submitting it again");
  Journal(key, e);
  jobs_.push_back(std::move(j));
  *id = jobs_.back().id;
  return Earlier::kAdopted;
}

Result<int> SlurmExecutor::Submit(const StageJob& job) {
  std::string base = job.spec.log_path;
  if (base.ends_with(".log")) base.resize(base.size() - 4);
  Pending p;
  Job& j = p.job;
  j.id = next_id_++;
  j.stage = job.stage;
  j.log_path = job.spec.log_path;
  j.exit_path = base + ".exit";
  j.timeout_s = job.spec.timeout_s;
  j.prefix = job.spec.prefix;
  j.key = job.key;
  RETURN_IF_ERROR(RemoveFile(j.log_path));
  RETURN_IF_ERROR(RemoveFile(j.exit_path));
  p.script = base + ".sbatch";
  RETURN_IF_ERROR(WriteFileAtomic(p.script, SbatchScript(job, j.exit_path), 0755));
  p.args = SbatchArgs(cfg_, job);
  p.cwd = job.spec.cwd;
  p.noun = job.noun.empty() ? "stage" : job.noun;
  p.array_limit = job.array_limit;
  interval_ = 0.2;
  next_poll_ = std::min(next_poll_, Clock::now() + std::chrono::milliseconds(200));
  // The copies of a foreach/matrix stage that become ready together, or the jobs of one
  // named array (an experiment sweep), go as one job array (Flush, at the next Wait): one
  // sbatch, one scheduling decision, for all of them.
  size_t at = job.stage.find('@');
  p.array = !job.array.empty() ? job.array : at != std::string::npos ? job.stage.substr(0, at) : "";
  if (!p.array.empty()) {
    p.group = p.array;
    // Each task's script enters its own folder: the folders may differ (experiments' worktrees).
    for (const auto& a : p.args)
      if (!a.starts_with("--job-name=") && !a.starts_with("--output=") && !a.starts_with("--chdir="))
        p.group += "\n" + a;
    int id = j.id;
    pending_.push_back(std::move(p));
    return id;
  }
  RETURN_IF_ERROR(SubmitOne(p));
  return jobs_.back().id;
}

Status SlurmExecutor::SubmitOne(Pending& p) {
  Job& j = p.job;
  std::vector<std::string> argv = p.args;
  argv.push_back(p.script);
  ASSIGN_OR_RETURN(long long id, Sbatch(argv, p.cwd));
  j.qid = std::to_string(id);
  j.submitted = Clock::now();
  if (!quiet_) LogInfo("Submitted " + p.noun + " '" + j.stage + "' as Slurm job " + j.qid);
  Journal(j.key, Earlier_{j.qid, j.exit_path, j.log_path});
  jobs_.push_back(std::move(j));
  return Status::Ok();
}

Result<long long> SlurmExecutor::Sbatch(const std::vector<std::string>& argv, const std::string& cwd) {
  auto r = RunProcess(argv, cwd);
  if (!r.ok()) return Status::User("cannot run sbatch (" + r.status().message() + "); install Slurm's client commands");
  if (r->exit_code != 0)
    return Status::User("sbatch refused the job: " + FirstLine(r->err.empty() ? r->out : r->err));
  auto id = ParseSbatchJobId(r->out);
  if (!id) return Status::User("sbatch printed no job id (it said '" + FirstLine(r->out) + "')");
  return *id;
}

// One array for n >= 2 pending copies with the same sbatch options: a driver script
// runs task i's own script with its output into its own log.
Status SlurmExecutor::SubmitArray(std::vector<Pending>& group) {
  const Pending& first = group.front();
  const std::string& base = first.array;
  std::string driver = first.script.substr(0, first.script.rfind('/') + 1) + base + ".array-" +
                       std::to_string(first.job.id) + ".sbatch";
  std::string text = "#!/bin/sh\n# forja: the stages of " + ShellQuote(base) + " as one Slurm job array\n";
  text += "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (size_t i = 0; i < group.size(); i++)
    text += "  " + std::to_string(i) + ") exec /bin/sh " + ShellQuote(group[i].script) + " >" +
            ShellQuote(group[i].job.log_path) + " 2>&1 ;;\n";
  text += "esac\necho \"forja: no job for array task $SLURM_ARRAY_TASK_ID\" >&2\nexit 1\n";
  RETURN_IF_ERROR(WriteFileAtomic(driver, text, 0755));
  // The array starts in the folder all tasks' folders are in (one that outlives each of
  // them: a task pending after another's worktree is removed must still start).
  std::string common = first.cwd;
  for (const Pending& p : group) {
    while (!common.empty() && !(p.cwd == common || p.cwd.starts_with(common + "/"))) {
      size_t slash = common.rfind('/');
      common = slash == 0 || slash == std::string::npos ? "/" : common.substr(0, slash);
      if (common == "/") break;
    }
  }
  std::vector<std::string> argv;
  for (const auto& a : first.args) {
    if (a.starts_with("--job-name=")) argv.push_back("--job-name=forja:" + base);
    else if (a.starts_with("--output=")) argv.push_back("--output=/dev/null");
    else if (a.starts_with("--chdir=")) argv.push_back("--chdir=" + common);
    else argv.push_back(a);
  }
  // %N: Slurm itself keeps at most N tasks running (forja's -j), the rest pending in the array.
  std::string tasks = "0-" + std::to_string(group.size() - 1);
  bool capped = first.array_limit > 0 && static_cast<size_t>(first.array_limit) < group.size();
  argv.insert(argv.begin() + 2, "--array=" + tasks + (capped ? "%" + std::to_string(first.array_limit) : ""));
  argv.push_back(driver);
  ASSIGN_OR_RETURN(long long id, Sbatch(argv, common));
  std::string names;
  for (size_t i = 0; i < group.size(); i++) {
    Job& j = group[i].job;
    j.qid = std::to_string(id) + "_" + std::to_string(i);
    j.submitted = Clock::now();
    names += (i ? ", '" : "'") + j.stage + "'";
    Journal(j.key, Earlier_{j.qid, j.exit_path, j.log_path});
    jobs_.push_back(std::move(j));
  }
  if (!quiet_)
    LogInfo("Submitted " + first.noun + "s " + names + " as Slurm job array " + std::to_string(id) + " (tasks " + tasks +
            (capped ? ", at most " + std::to_string(first.array_limit) + " at once)" : ")"));
  return Status::Ok();
}

// Submits what Submit held back: groups of one alone, larger ones as arrays. A group that
// cannot be submitted ends at once, each stage failing with sbatch's complaint.
void SlurmExecutor::Flush() {
  if (pending_.empty()) return;
  std::vector<Pending> all = std::move(pending_);
  pending_.clear();
  std::vector<std::string> order;
  std::map<std::string, std::vector<Pending>> groups;
  for (Pending& p : all) {
    if (!groups.count(p.group)) order.push_back(p.group);
    groups[p.group].push_back(std::move(p));
  }
  for (const std::string& g : order) {
    std::vector<Pending>& group = groups[g];
    Status st = group.size() == 1 ? SubmitOne(group.front()) : SubmitArray(group);
    if (st.ok()) continue;
    for (const Pending& p : group) {
      JobEnd e;
      e.id = p.job.id;
      e.what = "could not be submitted: " + st.message();
      ended_.push_back(std::move(e));
    }
  }
}

Status SlurmExecutor::Scancel(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::Ok();
  std::vector<std::string> argv = {"scancel"};
  for (const std::string& id : ids) argv.push_back(id);
  auto r = RunProcess(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return Status::User("scancel: " + FirstLine(r->err));
  return Status::Ok();
}

JobEnd SlurmExecutor::EndOf(const Job& j, SlurmFate fate, const SlurmJobState* s) {
  JobEnd e;
  e.id = j.id;
  e.seconds = j.started ? Since(*j.started) : 0;
  e.tail = Tail(j.log_path);
  if (s) e.exit_code = s->exit_code;
  if (auto text = ReadFile(j.exit_path); text.ok()) {  // the script's own word is the most precise
    if (auto rc = Digits(Trim(*text)); rc && *rc < 256) e.exit_code = static_cast<int>(*rc);
  }
  std::string state = s ? s->state : "";
  switch (fate) {
    case SlurmFate::kSucceeded: e.exit_code = 0; break;
    case SlurmFate::kFailed:
      if (e.exit_code == 0) e.exit_code = -1;
      if (state != "FAILED") e.what = "failed on the cluster (" + state + ")";
      break;
    case SlurmFate::kCancelled:
      if (j.timeout_cancelled) e.timed_out = true;
      else e.what = "was cancelled on the cluster (" + state + "; scancel from outside forja?)";
      if (e.exit_code == 0) e.exit_code = -15;
      break;
    case SlurmFate::kTimedOut:
      e.timed_out = true;
      if (!j.timeout_cancelled) e.what = "reached its Slurm time limit (TIMEOUT)";
      break;
    case SlurmFate::kLost:
      e.retryable = true;
      e.what = state.empty() ? "vanished from the cluster's queue" : "was lost on the cluster (" + state + ")";
      break;
    default: break;
  }
  return e;
}

// What the job printed, with the stage's prefix, once it has ended (the local
// executor streams it; a cluster's log is only complete at the end). Up to 64 KiB.
void SlurmExecutor::Echo(const Job& j) const {
  auto text = ReadFile(j.log_path);
  if (!text.ok() || text->empty()) return;
  constexpr size_t kMax = 64 * 1024;
  std::string t = text->size() > kMax ? text->substr(text->size() - kMax) : *text;
  std::string out = text->size() > kMax ? j.prefix + "... (the start is in " + j.log_path + ")\n" : "";
  size_t pos = 0;
  while (pos < t.size()) {
    size_t nl = t.find('\n', pos);
    if (nl == std::string::npos) nl = t.size();
    out += j.prefix + t.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  fputs(out.c_str(), stderr);
}

void SlurmExecutor::Poll() {
  std::vector<std::string> argv = {"squeue", "-h", "-r", "--states=all", "-O", kSqueueFormat};
  std::string ids;
  for (const Job& j : jobs_) ids += (ids.empty() ? "" : ",") + j.qid;
  argv.push_back("--jobs=" + ids);
  auto r = RunProcess(argv);
  std::map<std::string, SlurmJobState> seen;
  if (!r.ok() || r->exit_code != 0) {
    std::string why = r.ok() ? FirstLine(r->err) : r.status().message();
    // Every id forgotten (MinJobAge passed, or a controller without its state):
    // squeue says so and prints nothing; any other failure is an outage.
    if (!r.ok() || why.find("Invalid job id") == std::string::npos) {
      if (!outage_reported_) LogWarn("squeue failed (" + why + "); still watching the jobs, retrying");
      outage_reported_ = true;
      interval_ = 2;
      return;
    }
  } else {
    seen = ParseSqueue(r->out);
  }
  if (outage_reported_) LogInfo("squeue answers again");
  outage_reported_ = false;
  // A job squeue no longer lists (MinJobAge passed, a controller restarted without its
  // state) is read from, in turn: the exit status its script wrote (no call at all), the
  // accounting database (one sacct for all of them, where the cluster keeps accounting),
  // and else, after three polls that list it nowhere, it counts as lost (resubmitted).
  // Not scontrol: it reads the same controller memory as squeue.
  std::vector<std::string> unlisted;
  for (const Job& j : jobs_)
    if (!seen.count(j.qid) && !IsFile(j.exit_path)) unlisted.push_back(j.qid);
  std::map<std::string, SlurmJobState> accounted = Sacct(unlisted);
  bool changed = false;
  std::vector<std::string> expired;
  for (size_t i = 0; i < jobs_.size();) {
    Job& j = jobs_[i];
    auto it = seen.find(j.qid);
    SlurmFate fate = SlurmFate::kInFlight;
    const SlurmJobState* s = nullptr;
    if (it != seen.end()) {
      s = &it->second;
      fate = MapSlurmState(s->state);
      j.missing = 0;
      if (fate == SlurmFate::kInFlight && !j.started && Trim(s->state) == "RUNNING") {
        j.started = Clock::now();
        changed = true;
      }
    } else if (IsFile(j.exit_path)) {
      auto text = ReadFile(j.exit_path);
      fate = text.ok() && Trim(*text) == "0" ? SlurmFate::kSucceeded : SlurmFate::kFailed;
    } else if (auto acc = accounted.find(j.qid); acc != accounted.end()) {
      s = &acc->second;
      fate = MapSlurmState(s->state);
      j.missing = 0;
    } else if (++j.missing >= 3) {  // listed by none of three polls, with no exit status: lost
      fate = SlurmFate::kLost;
    }
    if (fate == SlurmFate::kUnknown) fate = SlurmFate::kInFlight;
    if (fate == SlurmFate::kInFlight) {
      if (j.timeout_s > 0 && j.started && !j.timeout_cancelled && Since(*j.started) > j.timeout_s) {
        j.timeout_cancelled = true;
        expired.push_back(j.qid);
      }
      i++;
      continue;
    }
    if (!quiet_) Echo(j);
    ended_.push_back(EndOf(j, fate, s));
    jobs_.erase(jobs_.begin() + static_cast<long>(i));
    changed = true;
  }
  if (auto st = Scancel(expired); !st.ok()) LogWarn("cannot cancel a job past its timeout: " + st.message());
  interval_ = changed ? 0.2 : std::min(2.0, interval_ * 1.5);
}

std::map<std::string, SlurmJobState> SlurmExecutor::Sacct(const std::vector<std::string>& ids) {
  if (ids.empty() || sacct_off_) return {};
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ",") + id;
  auto r = RunProcess({"sacct", "-n", "-P", "-X", "--format=JobID,State,ExitCode", "--jobs=" + list});
  if (!r.ok()) {  // no sacct on this machine: the same as no accounting
    sacct_off_ = true;
    return {};
  }
  if (r->exit_code != 0) {
    // "Slurm accounting storage is disabled": asking again would never help. Any other
    // failure (slurmdbd down for a moment) is asked again at the next poll.
    std::string why = r->err + r->out;
    if (why.find("accounting storage is disabled") != std::string::npos ||
        why.find("accounting_storage/none") != std::string::npos)
      sacct_off_ = true;
    return {};
  }
  return ParseSacct(r->out);
}

Executor::Event SlurmExecutor::Wait(double deadline_s, JobEnd* end, int* signal_number) {
  Flush();
  bool has_until = deadline_s >= 0;
  Clock::time_point until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(std::max(0.0, deadline_s) * 1e6));
  for (;;) {
    if (!ended_.empty()) {
      *end = std::move(ended_.front());
      ended_.pop_front();
      return Event::kEnded;
    }
    if (jobs_.empty() && !has_until) return Event::kTimeout;  // nothing could end
    auto now = Clock::now();
    if (has_until && now >= until) return Event::kTimeout;
    auto wake = jobs_.empty() ? until : has_until ? std::min(until, next_poll_) : next_poll_;
    double sleep = std::max(0.0, std::chrono::duration<double>(wake - now).count());
    ProcessEnd unused;
    if (sleeper_.Wait(sleep, &unused, signal_number) == ProcessPool::Event::kInterrupted) return Event::kInterrupted;
    if (!jobs_.empty() && Clock::now() >= next_poll_) {
      Poll();
      next_poll_ = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(interval_ * 1e6));
    }
  }
}

std::vector<JobEnd> SlurmExecutor::CancelAll() {
  std::vector<JobEnd> out;
  for (const Pending& p : pending_) {  // never submitted: nothing to scancel
    JobEnd e;
    e.id = p.job.id;
    e.exit_code = -15;
    e.what = "was cancelled";
    out.push_back(std::move(e));
  }
  pending_.clear();
  if (jobs_.empty()) return out;
  std::vector<std::string> ids;
  for (const Job& j : jobs_) ids.push_back(j.qid);
  LogWarn("cancelling " + std::to_string(ids.size()) + " Slurm job" + (ids.size() == 1 ? "" : "s") +
          " this run submitted");
  if (auto st = Scancel(ids); !st.ok()) LogWarn("scancel failed: " + st.message() + "; cancel them by hand");
  // Until the queue shows them ended (up to 15 s), so none is left behind when forja exits.
  auto give_up = Clock::now() + std::chrono::seconds(15);
  while (!jobs_.empty() && Clock::now() < give_up) {
    Poll();
    if (jobs_.empty()) break;
    ProcessEnd unused;
    int sig = 0;
    sleeper_.Wait(0.25, &unused, &sig);
  }
  for (JobEnd& e : ended_) out.push_back(std::move(e));
  ended_.clear();
  for (const Job& j : jobs_) {
    JobEnd e;
    e.id = j.id;
    e.exit_code = -15;
    e.what = "was cancelled";
    out.push_back(std::move(e));
  }
  jobs_.clear();
  return out;
}

}  // namespace

std::unique_ptr<Executor> MakeSlurmExecutor(const ExecutorConfig& cfg, bool quiet, const std::string& journal) {
  return std::make_unique<SlurmExecutor>(cfg, quiet, journal);
}

}  // namespace forja::pipeline
