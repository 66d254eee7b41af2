#include "forja/core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "forja/core/fs.h"

extern char** environ;

namespace forja {

namespace {
Status MakePipe(Fd* r, Fd* w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  *r = Fd(p[0]);
  *w = Fd(p[1]);
  return Status::Ok();
}
}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::string& cwd,
                                 const std::string& input) {
  if (argv.empty()) return Status::Internal("RunProcess: empty argv");
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  RETURN_IF_ERROR(MakePipe(&in_r, &in_w));
  RETURN_IF_ERROR(MakePipe(&out_r, &out_w));
  RETURN_IF_ERROR(MakePipe(&err_r, &err_w));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The child starts with no signal blocked and every signal at its default, whatever this
  // process blocks or ignores (the agent blocks SIGTERM to wait for it; a server ignores
  // SIGPIPE): otherwise a child that hangs could not be stopped with SIGTERM.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::FromErrno("cannot run " + argv[0], rc);
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();

  ProcessResult res;
  size_t written = 0;
  if (input.empty()) in_w.Reset();
  // Poll all three pipes so a child filling stderr never deadlocks on us.
  while (out_r.valid() || err_r.valid()) {
    pollfd fds[3];
    int n = 0;
    if (out_r.valid()) fds[n++] = {out_r.get(), POLLIN, 0};
    if (err_r.valid()) fds[n++] = {err_r.get(), POLLIN, 0};
    if (in_w.valid()) fds[n++] = {in_w.get(), POLLOUT, 0};
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_w.get()) {
        ssize_t w = ::write(in_w.get(), input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) in_w.Reset();
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      Fd& which = fds[i].fd == out_r.get() ? out_r : err_r;
      std::string& dst = fds[i].fd == out_r.get() ? res.out : res.err;
      if (r > 0) dst.append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) which.Reset();
    }
  }
  in_w.Reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return res;
}

Fd OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = ::syscall(SYS_pidfd_open, pid, 0);  // close-on-exec by definition
  if (fd >= 0) return Fd(static_cast<int>(fd));
#else
  (void)pid;
#endif
  return Fd();
}

}  // namespace forja
