#include "forja/core/process_pool.h"
#include "forja/core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "forja/core/fs.h"
#include "forja/core/log.h"

extern char** environ;

namespace forja {

namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNever = Clock::time_point::max();

constexpr size_t kReadChunk = 64 * 1024;  // one pipe's worth
constexpr size_t kTailBytes = 4096;
constexpr size_t kTailLines = 20;
// A "line" longer than this is echoed in pieces, so a program that prints
// megabytes without a newline cannot make us buffer all of it.
constexpr size_t kMaxPartialLine = 16 * 1024;
// After a process exits, at most this many chunks are still read from its
// pipe: anything later comes from a background grandchild that holds the
// pipe open, and must not delay the end.
constexpr int kMaxDrainReads = 16;
// Only on kernels without pidfd_open (< 5.3): how often exits are checked for
// when no pipe activity would tell us.
constexpr int kNoPidfdCheckMs = 20;

Clock::time_point After(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// ---- Signals -------------------------------------------------------------

// The write end of the self-pipe of the pool that catches signals (-1: none).
// An atomic int is async-signal-safe to read.
std::atomic<int> g_signal_fd{-1};

void OnSignal(int sig) {
  int saved = errno;
  int fd = g_signal_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    unsigned char b = static_cast<unsigned char>(sig);
    ssize_t n = ::write(fd, &b, 1);  // a full pipe loses the byte: there are plenty queued
    (void)n;
  }
  errno = saved;
}

// Sets one signal's disposition and puts the old one back on Restore() or
// destruction.
class ScopedSignal {
 public:
  ScopedSignal() = default;
  ScopedSignal(const ScopedSignal&) = delete;
  ScopedSignal& operator=(const ScopedSignal&) = delete;
  ~ScopedSignal() { Restore(); }

  void Set(int sig, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // other threads' system calls carry on
    if (::sigaction(sig, &sa, &old_) == 0) sig_ = sig;
  }
  void Restore() {
    if (sig_ != 0) ::sigaction(sig_, &old_, nullptr);
    sig_ = 0;
  }

 private:
  int sig_ = 0;
  struct sigaction old_ {};
};

// ---- Starting --------------------------------------------------------------

// The environment of children whose spec sets variables: built once per
// distinct set, from the caller's environment as it is at that moment.
struct EnvBlock {
  std::vector<std::string> strings;  // "NAME=value"
  std::vector<char*> ptrs;           // into `strings`, null-terminated
  std::string path;                  // the PATH the child sees
};

std::string DefaultPath() { return "/bin:/usr/bin"; }  // what execvp uses without PATH

std::unique_ptr<EnvBlock> MakeEnvBlock(
    const std::vector<std::pair<std::string, std::string>>& vars) {
  std::unordered_map<std::string, std::string> value;  // the last setting of a name wins
  for (const auto& [k, v] : vars) value[k] = v;
  auto block = std::make_unique<EnvBlock>();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (!value.count(name)) block->strings.emplace_back(entry);
  }
  std::unordered_set<std::string> done;
  for (const auto& [k, v] : vars) {
    if (done.insert(k).second) block->strings.push_back(k + "=" + value[k]);
  }
  block->path = DefaultPath();
  for (const std::string& s : block->strings) {
    if (s.starts_with("PATH=")) block->path = s.substr(5);
  }
  for (std::string& s : block->strings) block->ptrs.push_back(s.data());
  block->ptrs.push_back(nullptr);
  return block;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Finds the program the way execvp would, but on the PATH the child will see,
// so that a typo is a clear error from Start() instead of exit code 127.
// Relative names are relative to the child's working directory.
Result<std::string> ResolveProgram(const std::string& name, const std::string& path_var,
                                   const std::string& cwd) {
  auto in_cwd = [&](const std::string& p) {
    return p.empty() || p[0] == '/' || cwd.empty() ? p : cwd + "/" + p;
  };
  if (name.empty()) return Status::User("empty program name");
  if (name.find('/') != std::string::npos) {
    if (IsExecutableFile(in_cwd(name))) return name;
    if (::access(in_cwd(name).c_str(), F_OK) == 0) {
      return Status::User("program '" + name + "' is not an executable file");
    }
    return Status::User("program '" + name + "' not found");
  }
  size_t begin = 0;
  while (begin <= path_var.size()) {
    size_t end = path_var.find(':', begin);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(begin, end - begin);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    // Returned as is: the child resolves a relative one after its chdir.
    if (IsExecutableFile(in_cwd(candidate))) return candidate;
    begin = end + 1;
  }
  return Status::User("program '" + name + "' not found on PATH");
}

// posix_spawn's file actions, destroyed with the scope.
class FileActions {
 public:
  FileActions() { ok_ = ::posix_spawn_file_actions_init(&fa_) == 0; }
  ~FileActions() {
    if (ok_) ::posix_spawn_file_actions_destroy(&fa_);
  }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
  bool ok_ = false;
};

// ---- Output ----------------------------------------------------------------

// Writes everything, waiting when `fd` is non-blocking and full. Gives up on
// any other error (a closed terminal must not stop the pipeline).
bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w > 0) {
      data += w;
      n -= static_cast<size_t>(w);
    } else if (w < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (w < 0 && errno != EINTR) {
      return false;
    }
  }
  return true;
}

// The last kTailLines lines of the last kTailBytes bytes.
std::string TrimTail(std::string_view t) {
  if (t.size() > kTailBytes) {
    t = t.substr(t.size() - kTailBytes);
    size_t nl = t.find('\n');  // drop the line we cut into, if another follows
    if (nl != std::string_view::npos && nl + 1 < t.size()) t = t.substr(nl + 1);
  }
  size_t pos = t.size();
  if (pos > 0 && t[pos - 1] == '\n') pos--;  // a final newline does not start a line
  size_t lines = 0;
  while (pos > 0) {
    size_t nl = t.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) break;
    if (++lines == kTailLines) {
      t = t.substr(nl + 1);
      break;
    }
    pos = nl;
  }
  return std::string(t);
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return -WTERMSIG(wait_status);
  return -1;
}

}  // namespace

// ---- The pool ----------------------------------------------------------------

struct ProcessPool::Impl {
  struct Proc {
    int id = -1;
    pid_t pid = -1;  // also its process-group id
    Fd out;          // read end of the stdout+stderr pipe (non-blocking); reset at EOF
    Fd pidfd;        // readable once the process has exited; invalid without pidfd_open
    Fd log;
    std::string log_path;
    std::string prefix;
    std::string partial;  // the unfinished last line, not echoed yet
    std::string tail;     // recent raw output, trimmed at the end
    Clock::time_point start;
    Clock::time_point term_at = kNever;  // the timeout
    Clock::time_point kill_at = kNever;  // set when SIGTERM is sent
    bool timed_out = false;
    bool term_sent = false;
    bool kill_sent = false;
    bool exited = false;  // pidfd said so; reaped in the same pump
    bool reaped = false;
  };

  explicit Impl(Options o);
  ~Impl();

  Result<int> Start(const ProcessSpec& spec);
  Event Wait(double deadline_s, ProcessEnd* end, int* signal_number);
  std::vector<ProcessEnd> KillAll();

  const EnvBlock* EnvFor(const std::vector<std::pair<std::string, std::string>>& vars);
  Status SpawnError(const ProcessSpec& spec, int err) const;
  void InstallSignalHandlers();
  void RestoreSignalHandlers();

  void Pump(int timeout_ms);
  int TimeoutMs(Clock::time_point now, std::optional<Clock::time_point> until) const;
  void ReadSignals();
  void ReadOutput(Proc& p);
  void Consume(Proc& p, const char* data, size_t n);
  void Echo(Proc& p, const char* data, size_t n);
  void FlushPartial(Proc& p);
  bool Reap(Proc& p);
  void Finish(Proc& p, int exit_code);
  void SendTerm(Proc& p, Clock::time_point now);
  void SendKill(Proc& p);
  void FireTimers(Clock::time_point now);

  Options opts;
  Fd devnull;
  posix_spawnattr_t attr;
  bool attr_ok = false;
  int next_id = 0;
  std::vector<std::unique_ptr<Proc>> live;  // started, not reaped
  std::deque<ProcessEnd> ended;             // reaped, not yet returned
  std::deque<int> signals;                  // caught, not yet returned
  std::unordered_map<std::string, std::unique_ptr<EnvBlock>> envs;
  std::vector<pollfd> pfds;   // rebuilt by every Pump; reused to save allocations
  std::vector<Proc*> owners;  // owners[i] owns pfds[i] (null for the signal pipe)
  std::unique_ptr<char[]> buf{new char[kReadChunk]};
  std::string echo;  // lines to write to stderr, reused

  // Signal handling. The self-pipe must outlive the handlers that write to it.
  Fd sig_r, sig_w;
  int previous_signal_fd = -1;  // an enclosing pool's
  ScopedSignal on_int, on_term, on_pipe, on_chld;
};

ProcessPool::Impl::Impl(Options o) : opts(o) {
  devnull = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  // One set of spawn attributes for every child: its own process group (so a
  // timeout can kill everything it started), no blocked signals, and default
  // dispositions even for signals we ignore (SIG_IGN survives exec otherwise).
  if (::posix_spawnattr_init(&attr) == 0) {
    attr_ok = true;
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
    ::posix_spawnattr_setpgroup(&attr, 0);
    ::posix_spawnattr_setsigmask(&attr, &empty);
    ::posix_spawnattr_setsigdefault(&attr, &all);
  }

  // Writing a line to a closed terminal or pipe must be an error, not our death.
  on_pipe.Set(SIGPIPE, SIG_IGN);
  // With SIGCHLD ignored the kernel reaps children itself and exit codes are lost.
  struct sigaction chld {};
  if (::sigaction(SIGCHLD, nullptr, &chld) == 0 &&
      (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT) != 0)) {
    on_chld.Set(SIGCHLD, SIG_DFL);
  }
  if (opts.handle_signals) InstallSignalHandlers();
}

void ProcessPool::Impl::InstallSignalHandlers() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
    LogWarn(std::string("cannot catch SIGINT/SIGTERM: pipe: ") + std::strerror(errno));
    return;
  }
  sig_r = Fd(p[0]);
  sig_w = Fd(p[1]);
  previous_signal_fd = g_signal_fd.exchange(sig_w.get());
  on_int.Set(SIGINT, OnSignal);
  on_term.Set(SIGTERM, OnSignal);
}

void ProcessPool::Impl::RestoreSignalHandlers() {
  // Handlers first, then the fd they write to, then (in member destruction) the pipe.
  on_int.Restore();
  on_term.Restore();
  if (sig_w.valid()) g_signal_fd.store(previous_signal_fd);
  on_pipe.Restore();
  on_chld.Restore();
}

ProcessPool::Impl::~Impl() {
  for (auto& p : live) SendKill(*p);  // each leader is unreaped: its group id is still ours
  for (auto& p : live) {
    int status;
    while (::waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  live.clear();
  RestoreSignalHandlers();
  if (attr_ok) ::posix_spawnattr_destroy(&attr);
}

const EnvBlock* ProcessPool::Impl::EnvFor(
    const std::vector<std::pair<std::string, std::string>>& vars) {
  if (vars.empty()) return nullptr;
  std::string key;
  for (const auto& [k, v] : vars) {
    key += k;
    key += '\0';
    key += v;
    key += '\0';
  }
  std::unique_ptr<EnvBlock>& block = envs[key];
  if (!block) block = MakeEnvBlock(vars);
  return block.get();
}

Status ProcessPool::Impl::SpawnError(const ProcessSpec& spec, int err) const {
  std::string what = "cannot run '" + spec.argv[0] + "'";
  struct stat st;
  if (!spec.cwd.empty() && (::stat(spec.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return Status::User(what + ": working directory '" + spec.cwd + "' does not exist");
  }
  return Status::User(what + ": " + std::strerror(err));
}

Result<int> ProcessPool::Impl::Start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Status::Internal("ProcessPool::Start: empty argv");
  if (!attr_ok || !devnull.valid()) return Status::Internal("ProcessPool: setup failed");
  const EnvBlock* env = EnvFor(spec.env);
  std::string path_var;
  if (env != nullptr) {
    path_var = env->path;
  } else {
    const char* p = ::getenv("PATH");
    path_var = p != nullptr ? p : DefaultPath();
  }
  ASSIGN_OR_RETURN(std::string program, ResolveProgram(spec.argv[0], path_var, spec.cwd));

  auto proc = std::make_unique<Proc>();
  if (!spec.log_path.empty()) {
    // The log is created when the process first prints: a new inode per
    // process costs as much as the process itself on ext4, and most pipeline
    // stages print nothing. An old log of the same name goes now.
    std::string dir = spec.log_path.substr(0, spec.log_path.rfind('/') + 1);
    if ((::unlink(spec.log_path.c_str()) != 0 && errno != ENOENT) ||
        ::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0) {
      return Status::User("cannot write log file " + spec.log_path + " for '" + spec.argv[0] +
                          "': " + std::strerror(errno));
    }
    proc->log_path = spec.log_path;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  proc->out = Fd(p[0]);
  Fd write_end(p[1]);
  // Only our end is non-blocking, so that draining after an exit never blocks;
  // the child's end must stay blocking (the flag is shared through dup2).
  ::fcntl(proc->out.get(), F_SETFL, O_NONBLOCK);

  FileActions fa;
  if (!fa.ok()) return Status::Internal("posix_spawn_file_actions_init failed");
  ::posix_spawn_file_actions_adddup2(fa.get(), devnull.get(), 0);
  ::posix_spawn_file_actions_adddup2(fa.get(), write_end.get(), 1);
  ::posix_spawn_file_actions_adddup2(fa.get(), write_end.get(), 2);
  if (!spec.cwd.empty()) ::posix_spawn_file_actions_addchdir_np(fa.get(), spec.cwd.c_str());

  std::vector<char*> args;
  args.reserve(spec.argv.size() + 1);
  for (const std::string& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char** envp = env != nullptr ? const_cast<char**>(env->ptrs.data()) : environ;

  // glibc spawns with clone(CLONE_VM|CLONE_VFORK) and returns after the exec,
  // reporting its failure (and the child's setpgid is done by then).
  pid_t pid;
  int rc = ::posix_spawn(&pid, program.c_str(), fa.get(), &attr, args.data(), envp);
  if (rc != 0) return SpawnError(spec, rc);
  write_end.Reset();  // the child has its copies; EOF comes when they are all closed

  proc->id = next_id++;
  proc->pid = pid;
  proc->pidfd = OpenPidfd(pid);
  proc->prefix = spec.prefix;
  proc->start = Clock::now();
  if (spec.timeout_s > 0) proc->term_at = After(proc->start, spec.timeout_s);
  int id = proc->id;
  live.push_back(std::move(proc));
  return id;
}

ProcessPool::Event ProcessPool::Impl::Wait(double deadline_s, ProcessEnd* end,
                                           int* signal_number) {
  std::optional<Clock::time_point> until;
  if (deadline_s >= 0) until = After(Clock::now(), deadline_s);
  bool polled = false;
  for (;;) {
    // A signal goes first, so the caller stops starting new work at once.
    if (!signals.empty()) {
      if (signal_number != nullptr) *signal_number = signals.front();
      signals.pop_front();
      return Event::kInterrupted;
    }
    if (!ended.empty()) {
      if (end != nullptr) *end = std::move(ended.front());
      ended.pop_front();
      return Event::kEnded;
    }
    Clock::time_point now = Clock::now();
    if (until && now >= *until && polled) return Event::kTimeout;
    if (!until && live.empty()) return Event::kTimeout;  // nothing could end: never block forever
    Pump(TimeoutMs(now, until));
    polled = true;
  }
}

std::vector<ProcessEnd> ProcessPool::Impl::KillAll() {
  Clock::time_point now = Clock::now();
  for (auto& p : live) {
    if (!p->term_sent) SendTerm(*p, now);
  }
  // The timers send SIGKILL when each grace period is over; a further
  // SIGINT/SIGTERM (a second Ctrl-C) means "now".
  size_t signals_before = signals.size();
  while (!live.empty()) {
    Pump(TimeoutMs(Clock::now(), std::nullopt));
    if (signals.size() > signals_before) {
      for (auto& p : live) SendKill(*p);
      signals_before = signals.size();
    }
  }
  std::vector<ProcessEnd> out(std::make_move_iterator(ended.begin()),
                              std::make_move_iterator(ended.end()));
  ended.clear();
  return out;
}

int ProcessPool::Impl::TimeoutMs(Clock::time_point now,
                                 std::optional<Clock::time_point> until) const {
  Clock::time_point next = until.value_or(kNever);
  bool without_pidfd = false;
  for (const auto& p : live) {
    next = std::min(next, p->term_sent ? (p->kill_sent ? kNever : p->kill_at) : p->term_at);
    without_pidfd |= !p->pidfd.valid();
  }
  int ms = -1;
  if (next != kNever) {
    // Rounded up: waking a little early would only spin.
    double left = std::chrono::duration<double, std::milli>(next - now).count();
    ms = left <= 0 ? 0 : static_cast<int>(std::min(std::ceil(left), double{INT_MAX}));
  }
  if (without_pidfd && (ms < 0 || ms > kNoPidfdCheckMs)) ms = kNoPidfdCheckMs;
  return ms;
}

// One poll() over the signal pipe and every process's pipe and pidfd; then
// output is consumed, exited processes are reaped (their ends queued), and
// timeouts fire.
void ProcessPool::Impl::Pump(int timeout_ms) {
  pfds.clear();
  owners.clear();
  if (sig_r.valid()) {
    pfds.push_back({sig_r.get(), POLLIN, 0});
    owners.push_back(nullptr);
  }
  for (auto& p : live) {
    if (p->out.valid()) {
      pfds.push_back({p->out.get(), POLLIN, 0});
      owners.push_back(p.get());
    }
    if (p->pidfd.valid()) {
      pfds.push_back({p->pidfd.get(), POLLIN, 0});
      owners.push_back(p.get());
    }
  }
  int n = ::poll(pfds.data(), pfds.size(), timeout_ms);
  for (size_t i = 0; n > 0 && i < pfds.size(); i++) {
    if (pfds[i].revents == 0) continue;
    Proc* p = owners[i];
    if (p == nullptr) {
      ReadSignals();
    } else if (pfds[i].fd == p->out.get()) {
      ReadOutput(*p);
    } else {
      p->exited = true;
    }
  }
  for (auto& p : live) {
    if (p->exited || !p->pidfd.valid()) Reap(*p);
  }
  std::erase_if(live, [](const std::unique_ptr<Proc>& p) { return p->reaped; });
  FireTimers(Clock::now());
}

void ProcessPool::Impl::ReadSignals() {
  unsigned char b[64];
  ssize_t n;
  while ((n = ::read(sig_r.get(), b, sizeof b)) > 0) {
    for (ssize_t i = 0; i < n; i++) signals.push_back(b[i]);
  }
}

void ProcessPool::Impl::ReadOutput(Proc& p) {
  // One read per wakeup: a chatty process cannot starve the others.
  ssize_t r = ::read(p.out.get(), buf.get(), kReadChunk);
  if (r > 0) {
    Consume(p, buf.get(), static_cast<size_t>(r));
  } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
    p.out.Reset();
  }
}

void ProcessPool::Impl::Consume(Proc& p, const char* data, size_t n) {
  if (!p.log.valid() && !p.log_path.empty()) {
    p.log = Fd(::open(p.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!p.log.valid()) {
      LogWarn("cannot create log file " + p.log_path + ": " + std::strerror(errno));
      p.log_path.clear();
    }
  }
  if (p.log.valid() && !WriteAll(p.log.get(), data, n)) {
    LogWarn("cannot write log file " + p.log_path + ": " + std::strerror(errno));
    p.log.Reset();
  }
  p.tail.append(data, n);
  if (p.tail.size() > 2 * kTailBytes) p.tail.erase(0, p.tail.size() - kTailBytes);
  if (!opts.quiet) Echo(p, data, n);
}

// Echoes the complete lines of a chunk to stderr, each prefixed, in one
// write: lines of concurrent processes never mix.
void ProcessPool::Impl::Echo(Proc& p, const char* data, size_t n) {
  echo.clear();
  size_t start = 0;
  while (const void* hit = std::memchr(data + start, '\n', n - start)) {
    size_t end = static_cast<size_t>(static_cast<const char*>(hit) - data) + 1;
    echo += p.prefix;
    echo += p.partial;
    echo.append(data + start, end - start);
    p.partial.clear();
    start = end;
  }
  p.partial.append(data + start, n - start);
  if (p.partial.size() > kMaxPartialLine) {
    echo += p.prefix;
    echo += p.partial;
    echo += '\n';
    p.partial.clear();
  }
  if (!echo.empty()) WriteAll(STDERR_FILENO, echo.data(), echo.size());
}

void ProcessPool::Impl::FlushPartial(Proc& p) {
  if (p.partial.empty()) return;
  echo = p.prefix + p.partial + "\n";
  p.partial.clear();
  WriteAll(STDERR_FILENO, echo.data(), echo.size());
}

// Reaps `p` if it has exited; returns whether it had.
bool ProcessPool::Impl::Reap(Proc& p) {
  if (p.term_sent) {
    // A process we asked to stop takes its whole group with it. Peek first
    // (WNOWAIT): while the leader is an unreaped zombie its group id cannot
    // have been reused, so the SIGKILL reaches only what it started.
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(p.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == 0) {
      return false;
    }
    ::kill(-p.pid, SIGKILL);
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(p.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  Finish(p, r > 0 ? ExitCodeOf(status) : -1);  // r < 0: someone else reaped it
  return true;
}

void ProcessPool::Impl::Finish(Proc& p, int exit_code) {
  // What the process wrote before it exited is in the pipe already; read it,
  // then stop: the rest would come from a background grandchild.
  for (int i = 0; i < kMaxDrainReads && p.out.valid(); i++) {
    ssize_t r = ::read(p.out.get(), buf.get(), kReadChunk);
    if (r > 0) {
      Consume(p, buf.get(), static_cast<size_t>(r));
    } else if (r == 0 || errno != EINTR) {
      break;
    }
  }
  p.out.Reset();
  p.pidfd.Reset();
  p.log.Reset();
  if (!opts.quiet) FlushPartial(p);
  ProcessEnd e;
  e.id = p.id;
  e.exit_code = exit_code;
  e.timed_out = p.timed_out;
  e.seconds = std::chrono::duration<double>(Clock::now() - p.start).count();
  e.tail = TrimTail(p.tail);
  ended.push_back(std::move(e));
  p.reaped = true;
}

void ProcessPool::Impl::SendTerm(Proc& p, Clock::time_point now) {
  ::kill(-p.pid, SIGTERM);
  p.term_sent = true;
  p.kill_at = After(now, opts.kill_grace_s);
}

void ProcessPool::Impl::SendKill(Proc& p) {
  ::kill(-p.pid, SIGKILL);
  p.term_sent = true;
  p.kill_sent = true;
}

void ProcessPool::Impl::FireTimers(Clock::time_point now) {
  for (auto& p : live) {
    if (!p->term_sent && now >= p->term_at) {
      p->timed_out = true;
      SendTerm(*p, now);
    }
    if (p->term_sent && !p->kill_sent && now >= p->kill_at) SendKill(*p);
  }
}

// ---- Public interface --------------------------------------------------------

ProcessPool::ProcessPool() : ProcessPool(Options()) {}
ProcessPool::ProcessPool(Options opts) : impl_(std::make_unique<Impl>(opts)) {}
ProcessPool::~ProcessPool() = default;

Result<int> ProcessPool::Start(const ProcessSpec& spec) { return impl_->Start(spec); }

size_t ProcessPool::running() const { return impl_->live.size() + impl_->ended.size(); }

ProcessPool::Event ProcessPool::Wait(double deadline_s, ProcessEnd* end, int* signal_number) {
  return impl_->Wait(deadline_s, end, signal_number);
}

std::vector<ProcessEnd> ProcessPool::KillAll() { return impl_->KillAll(); }

}  // namespace forja
