#include "forja/runtime/python_model.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/path.h"
#include "forja/core/subprocess.h"
#include "forja/runtime/python_frame.h"
#include "forja/runtime/python_output.h"
#include "forja/runtime/python_worker.h"

extern char** environ;

namespace forja::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// Importing numpy, a model's libraries and unpickling it can take a while;
// predict's timeout_ms does not apply to it.
constexpr auto kStartTimeout = std::chrono::seconds(300);
// SIGTERM -> SIGKILL at destruction.
constexpr auto kStopGrace = std::chrono::seconds(2);
// Between two failed attempts to replace a worker.
constexpr auto kRespawnBackoff = std::chrono::seconds(1);
constexpr auto kMaxRespawnBackoff = std::chrono::seconds(30);

// What every worker of one model is started with.
struct WorkerConfig {
  std::string python;  // resolved path
  std::string dir, module, function;
  std::vector<TensorSpec> outputs;
};

// One worker process: its pid (the leader of its own process group) and our
// end of its socket. Destruction SIGKILLs the group and reaps the process.
struct Worker {
  int number = 0;
  pid_t pid = -1;
  Fd sock;   // non-blocking
  Fd pidfd;  // readable once the process has exited; invalid without pidfd_open (< 5.3)
  Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { Reap(Clock::now()); }

  // Waits until `deadline` for the process to exit, then SIGKILLs what is left
  // of its group and reaps it. Returns how it ended ("exited with code 3").
  std::string Reap(Clock::time_point deadline);
};

int MsUntil(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms + 1, 0, 1 << 30));
}

std::string EndText(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with status " + std::to_string(status);
}

std::string Worker::Reap(Clock::time_point deadline) {
  if (pid <= 0) return "";
  if (pidfd.valid()) {
    pollfd p{pidfd.get(), POLLIN, 0};
    while (::poll(&p, 1, MsUntil(deadline)) < 0 && errno == EINTR) {
    }
  }
  // Also catches a grandchild left behind; the leader is at least a zombie
  // until waitpid, so the group id cannot have been reused.
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
  sock.Reset();
  pidfd.Reset();
  return EndText(status);
}

// How a wait on (or a read from) a worker's socket ended. kBroken: the worker
// claimed a frame longer than any reply can be.
enum class Io { kReady, kTimeout, kExited, kCancelled, kBroken };

// Waits for `events` on the worker's socket, its exit, or `cancel_fd` (-1: none).
Io WaitIo(const Worker& w, short events, Clock::time_point deadline, int cancel_fd) {
  while (true) {
    pollfd p[3] = {{w.sock.get(), events, 0}, {w.pidfd.get(), POLLIN, 0}, {cancel_fd, POLLIN, 0}};
    int n = ::poll(p, 3, MsUntil(deadline));  // negative fds are skipped
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Io::kExited;
    if (p[2].revents) return Io::kCancelled;
    if (p[0].revents & events) return Io::kReady;
    if (p[0].revents || p[1].revents) return Io::kExited;  // hung up, or the process ended
    if (Clock::now() >= deadline) return Io::kTimeout;
  }
}

Io SendAll(const Worker& w, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(w.sock.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return Io::kExited;  // EPIPE, ECONNRESET
    if (Io io = WaitIo(w, POLLOUT, deadline, -1); io != Io::kReady) return io;
  }
  return Io::kReady;
}

Io RecvAll(const Worker& w, char* buf, size_t size, Clock::time_point deadline, int cancel_fd) {
  while (size > 0) {
    ssize_t n = ::recv(w.sock.get(), buf, size, 0);
    if (n > 0) {
      buf += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Io::kExited;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return Io::kExited;
    if (Io io = WaitIo(w, POLLIN, deadline, cancel_fd); io != Io::kReady) return io;
  }
  return Io::kReady;
}

// Reads one frame's body. A body longer than kMaxFrameBody is a broken worker.
Io RecvFrame(const Worker& w, std::string* body, Clock::time_point deadline, int cancel_fd) {
  unsigned char header[kFrameHeaderSize];
  if (Io io = RecvAll(w, reinterpret_cast<char*>(header), sizeof header, deadline, cancel_fd); io != Io::kReady) {
    return io;
  }
  uint64_t size = 0;
  for (size_t i = 0; i < kFrameHeaderSize; i++) size |= uint64_t{header[i]} << (8 * i);
  if (size > kMaxFrameBody) return Io::kBroken;
  body->resize(static_cast<size_t>(size));
  return RecvAll(w, body->data(), body->size(), deadline, cancel_fd);
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The python to run: spec.python_executable, else $FORJA_PYTHON, else python3,
// searched on PATH when it has no slash.
Result<std::string> FindPython(const ModelSpec& spec) {
  std::string name = spec.python_executable;
  const char* env = std::getenv("FORJA_PYTHON");
  if (name.empty() && env != nullptr) name = env;
  if (name.empty()) name = "python3";
  std::string hint = ": set FORJA_PYTHON (or the model's python_executable) to a python 3 with numpy";
  if (name.find('/') != std::string::npos) {
    if (IsExecutableFile(name)) return name;
    return Status::User("python executable '" + name + "' not found or not executable" + hint);
  }
  const char* path_var = std::getenv("PATH");
  std::string_view path = path_var != nullptr ? path_var : "/bin:/usr/bin";
  while (true) {
    size_t colon = path.find(':');
    std::string dir(path.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return Status::User("python executable '" + name + "' not found on PATH" + hint);
}

// An fd number >= 10, so that the child's dup2 onto fd 3 is a real dup (which
// clears close-on-exec) and never overwrites another source fd.
Result<Fd> HighFd(Fd fd) {
  int high = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10);
  if (high < 0) return Status::FromErrno("fcntl", errno);
  return Fd(high);
}

// Starts worker `number`: the python program with its socket as fd 3, stdin
// /dev/null, stdout and stderr into a pipe `pump` reads, in the package folder
// and its own process group.
Result<std::unique_ptr<Worker>> SpawnWorker(const WorkerConfig& c, int number, OutputPump* pump) {
  int sv[2], out[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return Status::FromErrno("socketpair", errno);
  Fd ours(sv[0]);
  ASSIGN_OR_RETURN(Fd theirs, HighFd(Fd(sv[1])));
  if (::fcntl(ours.get(), F_SETFL, O_NONBLOCK) != 0) return Status::FromErrno("fcntl", errno);
  if (::pipe2(out, O_CLOEXEC | O_NONBLOCK) != 0) return Status::FromErrno("pipe", errno);
  Fd output(out[0]);
  ASSIGN_OR_RETURN(Fd output_w, HighFd(Fd(out[1])));
  if (::fcntl(output_w.get(), F_SETFL, 0) != 0) return Status::FromErrno("fcntl", errno);  // blocking for the child

  std::vector<std::string> argv = {c.python, "-B", "-c", kPythonBootstrap, std::to_string(number),
                                   c.dir,    c.module, c.function};
  for (const TensorSpec& o : c.outputs) {
    argv.push_back(o.name);
    argv.push_back(o.datatype);
  }
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, output_w.get(), 1);  // never onto forja's stdout
  posix_spawn_file_actions_adddup2(&fa, output_w.get(), 2);
  posix_spawn_file_actions_adddup2(&fa, theirs.get(), 3);
  posix_spawn_file_actions_addchdir_np(&fa, c.dir.c_str());
  // Its own group: a timeout kills whatever the model started, and a Ctrl-C at
  // the terminal reaches forja only, which stops the workers itself.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = ::posix_spawn(&pid, c.python.c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::User("cannot run " + c.python + ": " + std::strerror(rc));
  pump->Add(std::move(output), number);

  auto w = std::make_unique<Worker>();
  w->number = number;
  w->pid = pid;
  w->sock = std::move(ours);
  w->pidfd = OpenPidfd(pid);
  // Fits in the socket's buffer; a worker that died at once is AwaitReady's to report.
  std::string program = kPythonWorkerProgram;
  (void)SendAll(*w, FrameHeader(program.size()) + program, Clock::now() + kStartTimeout);
  return w;
}

// Waits for the worker's ready frame; returns its description. Failures are
// Status::User naming the package, except a cancel (Status::Internal).
Result<std::string> AwaitReady(Worker* w, const std::string& dir, Clock::time_point deadline, int cancel_fd) {
  std::string body;
  std::string what = "python model " + dir + ": worker " + std::to_string(w->number);
  Io io = RecvFrame(*w, &body, deadline, cancel_fd);
  if (io == Io::kCancelled) return Status::Internal(what + ": start cancelled");
  if (io == Io::kTimeout) {
    return Status::User(what + " was not ready after " + std::to_string(kStartTimeout.count()) +
                        " s (import or load() hangs?)");
  }
  if (io == Io::kExited) {
    return Status::User(what + " " + w->Reap(Clock::now() + kStopGrace) + " before it was ready (its output is above)");
  }
  Result<Reply> reply = io == Io::kBroken ? Status::Internal("a frame too long") : DecodeReply(body);
  if (!reply.ok()) return Status::User(what + " sent a malformed ready frame: " + reply.status().message());
  if (reply->kind == 'E') return Status::User("python model " + dir + ": " + reply->message);
  if (reply->kind != 'R') return Status::User(what + " sent a reply before it was ready");
  return reply->message;
}

// Checks one input against its signature entry (nullptr: undeclared, allowed
// when the signature lists no inputs).
Status CheckInput(const Tensor& t, const TensorSpec* spec) {
  if (DatatypeCode(t.datatype) == 0) return Status::User("input '" + t.name + "' has unknown datatype '" + t.datatype + "'");
  if (spec != nullptr && !spec->datatype.empty() && spec->datatype != t.datatype) {
    return Status::User("input '" + t.name + "' is " + t.datatype + ", the signature says " + spec->datatype);
  }
  bool shape_ok = spec == nullptr || spec->shape.empty() || spec->shape.size() == t.shape.size();
  for (size_t i = 0; shape_ok && spec != nullptr && i < spec->shape.size(); i++) {
    shape_ok = spec->shape[i] < 0 || spec->shape[i] == t.shape[i];
  }
  if (!shape_ok) {
    return Status::User("input '" + t.name + "' has shape " + ShapeString(t.shape) + ", the signature says " +
                        ShapeString(spec->shape));
  }
  if (t.shape.empty() || t.shape.size() > 255) {
    return Status::User("input '" + t.name + "' needs a shape of rank 1 to 255 (rows first)");
  }
  std::string bad = CheckTensorData(t);
  if (!bad.empty()) return Status::User("input '" + t.name + "' " + bad);
  return Status::Ok();
}

// The signature a worker read from its model (flavor onnx): the ready message's lines after
// the first, "I|O <tab> name <tab> DATATYPE <tab> d0,d1,..." (-1: any size). Checked like any
// worker reply.
Status ParseWorkerSignature(std::string_view text, std::vector<TensorSpec>* inputs, std::vector<TensorSpec>* outputs) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::vector<std::string_view> f;
    for (size_t tab; (tab = line.find('\t')) != std::string_view::npos; line.remove_prefix(tab + 1))
      f.push_back(line.substr(0, tab));
    f.push_back(line);
    if (f.size() != 4 || (f[0] != "I" && f[0] != "O") || f[1].empty() || DatatypeCode(std::string(f[2])) == 0)
      return Status::Internal("a malformed signature line from the worker");
    TensorSpec t{std::string(f[1]), std::string(f[2]), {}};
    for (std::string_view d = f[3]; !d.empty();) {
      size_t comma = d.find(',');
      std::string_view n = d.substr(0, comma);
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (ec != std::errc() || ptr != n.data() + n.size() || v < -1 || v == 0 || t.shape.size() >= 255)
        return Status::Internal("a malformed shape in the worker's signature");
      t.shape.push_back(v);
      d = comma == std::string_view::npos ? std::string_view() : d.substr(comma + 1);
    }
    (f[0] == "I" ? inputs : outputs)->push_back(std::move(t));
  }
  return Status::Ok();
}

class PythonModel final : public Model {
 public:
  PythonModel(const ModelSpec& spec, WorkerConfig config)
      : config_(std::move(config)), inputs_(spec.inputs), outputs_(spec.outputs),
        timeout_(std::chrono::milliseconds(spec.timeout_ms > 0 ? spec.timeout_ms : 30000)) {}
  ~PythonModel() override;

  Status Start(int workers);
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;
  std::string Describe() const override { return description_; }

 private:
  Result<std::vector<const Tensor*>> CheckInputs(const std::vector<Tensor>& inputs, int64_t* rows) const;
  Status TakeOutputs(std::vector<Tensor> got, int64_t rows, std::vector<Tensor>* outputs) const;
  std::unique_ptr<Worker> TakeIdle();
  void GiveBack(std::unique_ptr<Worker> w);
  void Retire(std::unique_ptr<Worker> w);  // reaped already; a replacement is started
  void RespawnLoop();

  const WorkerConfig config_;
  std::vector<TensorSpec> inputs_, outputs_;  // set before Start returns (from the graph when empty)
  const std::chrono::milliseconds timeout_;
  std::string description_;
  std::unique_ptr<OutputPump> pump_;  // first of the members that change: destroyed after the workers

  std::mutex mu_;
  std::condition_variable idle_cv_;     // a worker was given back
  std::condition_variable respawn_cv_;  // a worker is missing, or stopping_
  std::vector<std::unique_ptr<Worker>> idle_;
  int missing_ = 0;
  int next_number_ = 1;
  bool stopping_ = false;
  Fd stop_fd_;  // an eventfd, readable once stopping: cuts a replacement's start short
  std::thread respawner_;
};

Status PythonModel::Start(int workers) {
  ASSIGN_OR_RETURN(pump_, OutputPump::Start());
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("eventfd", errno);
  stop_fd_ = Fd(fd);
  // All spawned first: they import in parallel.
  std::vector<std::unique_ptr<Worker>> started;
  for (int i = 0; i < workers; i++) {
    ASSIGN_OR_RETURN(auto w, SpawnWorker(config_, next_number_++, pump_.get()));
    started.push_back(std::move(w));
  }
  auto deadline = Clock::now() + kStartTimeout;
  std::string version;
  for (auto& w : started) {
    ASSIGN_OR_RETURN(version, AwaitReady(w.get(), config_.dir, deadline, -1));
  }
  idle_ = std::move(started);
  if (size_t nl = version.find('\n'); nl != std::string::npos) {
    std::vector<TensorSpec> in, out;
    RETURN_IF_ERROR(ParseWorkerSignature(std::string_view(version).substr(nl + 1), &in, &out)
                        .Wrap("python model " + config_.dir));
    if (inputs_.empty()) inputs_ = std::move(in);
    if (outputs_.empty()) outputs_ = std::move(out);
    version.resize(nl);
  }
  std::string entry = config_.module == kOnnxModule ? config_.function : config_.module + ":" + config_.function;
  description_ = version + ", " + entry + ", " + std::to_string(workers) +
                 (workers == 1 ? " worker" : " workers");
  respawner_ = std::thread([this] { RespawnLoop(); });
  return Status::Ok();
}

PythonModel::~PythonModel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  if (stop_fd_.valid()) {
    ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);  // cannot fail: the counter is 0 or 1
    (void)n;
  }
  respawn_cv_.notify_all();
  if (respawner_.joinable()) respawner_.join();
  // No Predict runs during destruction, so every worker is idle. A closed
  // socket lets it exit on its own; SIGTERM interrupts a busy one.
  for (auto& w : idle_) {
    w->sock.Reset();
    ::kill(-w->pid, SIGTERM);
  }
  auto deadline = Clock::now() + kStopGrace;
  for (auto& w : idle_) w->Reap(deadline);
}

void PythonModel::RespawnLoop() {
  auto backoff = kRespawnBackoff;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    respawn_cv_.wait(lock, [&] { return stopping_ || missing_ > 0; });
    if (stopping_) return;
    int number = next_number_++;
    lock.unlock();
    Result<std::unique_ptr<Worker>> w = SpawnWorker(config_, number, pump_.get());
    Status st = w.ok() ? AwaitReady(w->get(), config_.dir, Clock::now() + kStartTimeout, stop_fd_.get()).status()
                       : w.status();
    if (!st.ok()) w = st;  // reaps the failed worker outside the lock
    lock.lock();
    if (stopping_) return;
    if (st.ok()) {
      missing_--;
      idle_.push_back(std::move(*w));
      idle_cv_.notify_one();
      backoff = kRespawnBackoff;
      continue;
    }
    // A package that stopped importing (edited, deleted) must not spin.
    LogWarn("replacing a python worker (next try in " + std::to_string(backoff.count()) + " s): " + st.message());
    respawn_cv_.wait_for(lock, backoff, [&] { return stopping_; });
    backoff = std::min(backoff * 2, kMaxRespawnBackoff);
  }
}

std::unique_ptr<Worker> PythonModel::TakeIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!idle_cv_.wait_for(lock, timeout_, [&] { return !idle_.empty(); })) return nullptr;
  std::unique_ptr<Worker> w = std::move(idle_.back());
  idle_.pop_back();
  return w;
}

void PythonModel::GiveBack(std::unique_ptr<Worker> w) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(w));
  idle_cv_.notify_one();
}

void PythonModel::Retire(std::unique_ptr<Worker> w) {
  w.reset();
  std::lock_guard<std::mutex> lock(mu_);
  missing_++;
  respawn_cv_.notify_one();
}

// Returns the inputs in signature order (as given when it declares none),
// and sets *rows to the batch's row count.
Result<std::vector<const Tensor*>> PythonModel::CheckInputs(const std::vector<Tensor>& inputs, int64_t* rows) const {
  std::vector<const Tensor*> ordered;
  for (const Tensor& t : inputs) {
    auto spec = std::find_if(inputs_.begin(), inputs_.end(), [&](const TensorSpec& s) { return s.name == t.name; });
    if (!inputs_.empty() && spec == inputs_.end()) return Status::User("unknown input '" + t.name + "'");
    RETURN_IF_ERROR(CheckInput(t, spec == inputs_.end() ? nullptr : &*spec));
    if (!ordered.empty() && t.shape[0] != *rows) {
      return Status::User("input '" + t.name + "' has " + std::to_string(t.shape[0]) + " rows, input '" +
                          ordered[0]->name + "' has " + std::to_string(*rows));
    }
    *rows = t.shape[0];
    ordered.push_back(&t);
  }
  if (inputs_.empty()) return ordered;
  std::vector<const Tensor*> by_signature;
  for (const TensorSpec& s : inputs_) {
    auto it = std::find_if(ordered.begin(), ordered.end(), [&](const Tensor* t) { return t->name == s.name; });
    if (it == ordered.end()) return Status::User("missing input '" + s.name + "'");
    by_signature.push_back(*it);
  }
  if (by_signature.size() != ordered.size()) return Status::User("an input is given twice");
  return by_signature;
}

// Orders the worker's outputs by the signature and checks their rows.
Status PythonModel::TakeOutputs(std::vector<Tensor> got, int64_t rows, std::vector<Tensor>* outputs) const {
  for (const Tensor& t : got) {
    if (rows >= 0 && (t.shape.empty() || t.shape[0] != rows)) {
      return Status::Internal("python predict returned " +
                              (t.shape.empty() ? std::string("a scalar") : std::to_string(t.shape[0]) + " rows") +
                              " for output '" + t.name + "', the batch has " + std::to_string(rows));
    }
  }
  outputs->clear();
  if (outputs_.empty()) {
    *outputs = std::move(got);
    return Status::Ok();
  }
  for (const TensorSpec& s : outputs_) {
    auto it = std::find_if(got.begin(), got.end(), [&](const Tensor& t) { return t.name == s.name; });
    if (it == got.end()) return Status::Internal("python predict returned no output '" + s.name + "'");
    if (!s.datatype.empty() && it->datatype != s.datatype) {
      return Status::Internal("python output '" + s.name + "' is " + it->datatype + ", the signature says " + s.datatype);
    }
    outputs->push_back(std::move(*it));
  }
  return Status::Ok();
}

Status PythonModel::Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  int64_t rows = -1;
  ASSIGN_OR_RETURN(std::vector<const Tensor*> ordered, CheckInputs(inputs, &rows));
  std::string frame = EncodePredictFrame(ordered);

  std::unique_ptr<Worker> w = TakeIdle();
  if (w == nullptr) {
    return Status::DeadlineExceeded("no python worker became free within " + std::to_string(timeout_.count()) + " ms");
  }
  auto deadline = Clock::now() + timeout_;
  std::string body;
  Io io = SendAll(*w, frame, deadline);
  if (io == Io::kReady) io = RecvFrame(*w, &body, deadline, -1);
  std::string who = "python worker " + std::to_string(w->number);
  if (io == Io::kTimeout) {
    w->Reap(Clock::now());
    Retire(std::move(w));
    return Status::DeadlineExceeded("python predict took longer than " + std::to_string(timeout_.count()) + " ms: " + who +
                                    " was killed and is being replaced");
  }
  if (io == Io::kExited) {
    std::string end = w->Reap(Clock::now() + kStopGrace);
    Retire(std::move(w));
    return Status::Internal(who + " " + end + " during predict (it is being replaced)");
  }
  Result<Reply> reply = io == Io::kBroken ? Status::Internal("a frame too long") : DecodeReply(body);
  if (!reply.ok() || (reply->kind != 'O' && reply->kind != 'E')) {
    w->Reap(Clock::now());
    Retire(std::move(w));
    return Status::Internal(who + " sent a malformed reply" + (reply.ok() ? "" : ": " + reply.status().message()));
  }
  GiveBack(std::move(w));
  if (reply->kind == 'E') {
    std::string m = "python predict failed: " + reply->message;
    return reply->user_error ? Status::User(m) : Status::Internal(m);
  }
  return TakeOutputs(std::move(reply->tensors), rows, outputs);
}

}  // namespace

Result<std::unique_ptr<Model>> LoadPythonModel(const ModelSpec& spec) {
  ASSIGN_OR_RETURN(std::string python, FindPython(spec));
  if (spec.python_module.empty()) return Status::User(spec.dir + "/model.yaml: python.module is missing");
  struct stat st;
  if (::stat(spec.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::User("python model " + spec.dir + ": not a folder");
  }
  for (const TensorSpec& o : spec.outputs) {
    if (!o.datatype.empty() && DatatypeCode(o.datatype) == 0) {
      return Status::User(spec.dir + "/model.yaml: output '" + o.name + "' has unknown datatype '" + o.datatype + "'");
    }
  }
  // Workers run in the package folder: a relative path would be taken from there.
  std::string dir = spec.dir[0] == '/' ? spec.dir : CurrentDir() + "/" + spec.dir;
  WorkerConfig config{python, dir, spec.python_module,
                      spec.python_function.empty() ? "predict" : spec.python_function, spec.outputs};
  int workers = spec.workers > 0 ? spec.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto model = std::make_unique<PythonModel>(spec, std::move(config));
  RETURN_IF_ERROR(model->Start(workers));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace forja::runtime
