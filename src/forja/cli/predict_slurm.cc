// forja predict --executor slurm --shards N (predict_slurm.h).
#include "forja/cli/predict_slurm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "forja/cli/cli.h"
#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/data/workspace.h"
#include "forja/pipeline/executor.h"
#include "forja/pipeline/slurm_executor.h"

namespace forja {

namespace {

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "forja";
}

std::string Absolute(const std::string& p) { return p.starts_with("/") ? p : JoinPath(CurrentDir(), p); }

std::string PartName(int i, const std::string& fmt) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05d.", i);
  return buf + fmt;
}

// What the parts belong to: a rerun with anything different starts afresh.
Result<std::string> Manifest(const SlurmPredictJob& job) {
  struct stat st {};
  if (::stat(job.input.c_str(), &st) != 0) return Status::User(job.input + ": " + std::strerror(errno));
  std::string m = "forja predict --executor slurm parts\nref " + job.ref + "\ninput " + Absolute(job.input) + " " +
                  std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                  std::to_string(st.st_mtim.tv_nsec) + "\nformat " + job.output_format + "\nshards " +
                  std::to_string(job.shards) + "\n";
  for (const auto& a : job.passthru) m += "arg " + a + "\n";
  return m;
}

// Parts ready from an earlier run with the same manifest; otherwise an empty folder.
Status PrepareParts(const std::string& dir, const std::string& manifest) {
  const std::string path = dir + "/manifest";
  if (auto old = ReadFile(path); old.ok() && *old == manifest) return Status::Ok();
  if (IsDir(dir)) LogInfo("Starting the shards afresh: " + dir + " holds parts of another command");
  RETURN_IF_ERROR(RemoveTree(dir));
  RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(path, manifest);
}

// Appends the parts, in shard order, into a temporary file renamed to `out` (CSV: the
// first part's header only).
Status JoinParts(const std::string& dir, const SlurmPredictJob& job) {
  const std::string tmp = TempNameBeside(job.output);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("creating " + tmp, errno);
  Fd out(fd);
  auto fail = [&](Status st) {
    out.Reset();
    (void)RemoveFile(tmp);
    return st;
  };
  for (int i = 0; i < job.shards; i++) {
    const std::string part = dir + "/" + PartName(i, job.output_format);
    auto in = OpenRead(part);
    if (!in.ok()) return fail(in.status());
    off_t skip = 0;
    if (i > 0 && job.output_format == "csv") {  // its header: the first line
      char buf[65536];
      ssize_t n = ::pread(in->get(), buf, sizeof buf, 0);
      const char* nl = n > 0 ? static_cast<const char*>(std::memchr(buf, '\n', static_cast<size_t>(n))) : nullptr;
      if (nl == nullptr) return fail(Status::Corrupt(part + ": no header line; remove " + dir + " and rerun"));
      skip = nl - buf + 1;
    }
    if (::lseek(in->get(), skip, SEEK_SET) < 0) return fail(Status::FromErrno("seeking " + part, errno));
    if (Status st = CopyFd(in->get(), out.get(), part); !st.ok()) return fail(st);
  }
  if (::fsync(out.get()) != 0) return fail(Status::FromErrno("syncing " + tmp, errno));
  out.Reset();
  if (::rename(tmp.c_str(), job.output.c_str()) != 0) {
    int err = errno;
    (void)RemoveFile(tmp);
    return Status::FromErrno("renaming " + tmp + " to " + job.output, err);
  }
  return FsyncDir(Dirname(Absolute(job.output)));
}

pipeline::StageJob ShardJob(const SlurmPredictJob& job, const std::string& dir, const std::string& exe,
                            const std::string& manifest, int i) {
  pipeline::StageJob s;
  s.stage = "predict@" + std::to_string(i);  // '@': the shards ready together go as one job array
  const std::string part = dir + "/" + PartName(i, job.output_format);  // dir is absolute: the journal needs it
  s.spec.argv = {exe, "predict", job.ref, "-i", Absolute(job.input), "-o", part,
                 "--shard", std::to_string(i) + "/" + std::to_string(job.shards), "--output-format", job.output_format};
  for (const auto& a : job.passthru) s.spec.argv.push_back(a);
  s.spec.cwd = CurrentDir();
  s.spec.env = {{"FORJA_PROGRESS", "0"}};
  char log[32];
  std::snprintf(log, sizeof log, "part-%05d.log", i);
  s.spec.log_path = dir + "/" + log;
  s.spec.prefix = "[shard " + std::to_string(i) + "] ";
  char key[32];
  std::snprintf(key, sizeof key, "%016zx-%d", std::hash<std::string>{}(manifest), i);
  s.key = key;
  return s;
}

}  // namespace

int RunSlurmPredict(const SlurmPredictJob& job, const std::string& workspace_root) {
  pipeline::ExecutorConfig cfg;
  cfg.kind = "slurm";
  if (!workspace_root.empty()) {  // forja.yaml's executor: {partition, account, ...}
    auto doc = ReadForjaYaml(workspace_root);
    if (!doc.ok()) return Fail(doc.status());
    auto parsed = pipeline::ParseExecutorConfig(doc->Section("executor"));
    if (!parsed.ok()) return Fail(parsed.status());
    cfg = *parsed;
    cfg.kind = "slurm";
  }
  auto manifest = Manifest(job);
  if (!manifest.ok()) return Fail(manifest.status());
  const std::string dir = job.output + ".parts";
  if (Status st = PrepareParts(dir, *manifest); !st.ok()) return Fail(st);
  const std::string exe = SelfExe();
  const std::string adir = Absolute(dir);  // for the jobs and the journal (dir: for messages)

  auto ex = pipeline::MakeSlurmExecutor(cfg, job.quiet, adir + "/slurm-jobs.tsv");
  std::map<int, int> shard_of;  // executor id -> shard
  std::vector<int> attempts(static_cast<size_t>(job.shards), 0);
  std::vector<int> lost(static_cast<size_t>(job.shards), 0);  // node failures, preemptions: as forja run, up to 3
  int reused = 0;
  for (int i = 0; i < job.shards; i++) {
    if (IsFile(dir + "/" + PartName(i, job.output_format))) {
      reused++;
      continue;
    }
    pipeline::StageJob s = ShardJob(job, adir, exe, *manifest, i);
    int id = 0;
    auto earlier = ex->FindEarlier(s.key, s.stage, &id);
    if (earlier == pipeline::Executor::Earlier::kFinished && IsFile(dir + "/" + PartName(i, job.output_format))) {
      reused++;
      continue;
    }
    if (earlier != pipeline::Executor::Earlier::kAdopted) {
      auto submitted = ex->Submit(s);
      if (!submitted.ok()) return Fail(submitted.status());
      id = *submitted;
      attempts[static_cast<size_t>(i)] = 1;
    }
    shard_of[id] = i;
  }
  if (reused) LogInfo("Reusing " + std::to_string(reused) + " finished part" + (reused == 1 ? "" : "s") + " in " + dir);

  Status failed;
  while (!shard_of.empty()) {
    pipeline::JobEnd end;
    int sig = 0;
    auto ev = ex->Wait(-1, &end, &sig);
    if (ev == pipeline::Executor::Event::kInterrupted) {
      ex->CancelAll();
      LogError("interrupted: cancelled the shards in flight; rerun the same command to finish (finished parts in " +
               dir + " are kept)");
      return 128 + sig;
    }
    if (ev != pipeline::Executor::Event::kEnded) break;
    auto it = shard_of.find(end.id);
    if (it == shard_of.end()) continue;
    const int i = it->second;
    shard_of.erase(it);
    if (end.exit_code == 0 && IsFile(dir + "/" + PartName(i, job.output_format))) continue;
    std::string why = !end.what.empty() ? end.what : "exited with " + std::to_string(end.exit_code);
    int& n = attempts[static_cast<size_t>(i)];
    const bool again_lost = end.retryable && lost[static_cast<size_t>(i)]++ < 3;
    if (again_lost || n <= job.retries) {
      LogWarn("shard " + std::to_string(i) + "/" + std::to_string(job.shards) + " " + why + "; submitting it again");
      auto again = ex->Submit(ShardJob(job, adir, exe, *manifest, i));
      if (!again.ok()) return Fail(again.status());
      if (!again_lost) n++;
      shard_of[*again] = i;
      continue;
    }
    std::string tail = end.tail;
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    size_t nl = tail.rfind('\n');
    failed = Status::User("shard " + std::to_string(i) + "/" + std::to_string(job.shards) + " " + why + " after " +
                          std::to_string(n) + " attempt" + (n == 1 ? "" : "s") + " (log: " + dir + "/" +
                          PartName(i, "log") + ")" + (tail.empty() ? "" : ": " + tail.substr(nl == std::string::npos ? 0 : nl + 1)));
    ex->CancelAll();
    break;
  }
  if (!failed.ok()) return Fail(failed);
  ex.reset();  // every shard ended: the job journal goes
  if (Status st = JoinParts(dir, job); !st.ok()) return Fail(st);
  if (Status st = RemoveTree(dir); !st.ok()) LogWarn("cannot remove " + dir + ": " + st.message());
  LogInfo("Scored " + job.input + " with " + job.ref + " into " + job.output + " as " + std::to_string(job.shards) +
          " Slurm shard" + (job.shards == 1 ? "" : "s"));
  return 0;
}

}  // namespace forja
