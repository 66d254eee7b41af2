#include "forja/runtime/python_output.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace forja::runtime {

namespace {

// A line longer than this is copied in pieces: a worker printing megabytes
// without a newline must not make us buffer them.
constexpr size_t kMaxPartialLine = 16 * 1024;

void WriteStderr(const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(2, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stderr must not stop serving
    done += static_cast<size_t>(n);
  }
}

// Appends `data` to the source's partial line and copies out every complete
// line (all of it when `flush`).
void Emit(std::string* partial, const std::string& prefix, const char* data, size_t n, bool flush) {
  partial->append(data, n);
  std::string out;
  size_t start = 0;
  while (true) {
    size_t nl = partial->find('\n', start);
    if (nl == std::string::npos) break;
    out += prefix;
    out.append(*partial, start, nl + 1 - start);
    start = nl + 1;
  }
  partial->erase(0, start);
  if (!partial->empty() && (flush || partial->size() > kMaxPartialLine)) {
    out += prefix + *partial + "\n";
    partial->clear();
  }
  if (!out.empty()) WriteStderr(out);
}

// Reads one chunk from `fd` (all there is, with until_eagain); false once it is
// at EOF (or broken), the partial line copied out.
bool Pump(std::string* partial, const std::string& prefix, int fd, bool until_eagain) {
  char buf[65536];
  do {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      Emit(partial, prefix, buf, static_cast<size_t>(n), false);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    Emit(partial, prefix, nullptr, 0, true);
    return false;
  } while (until_eagain);
  return true;
}

}  // namespace

Result<std::unique_ptr<OutputPump>> OutputPump::Start() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Status::FromErrno("eventfd", errno);
  std::unique_ptr<OutputPump> pump(new OutputPump(Fd(fd)));
  pump->thread_ = std::thread([p = pump.get()] { p->Loop(); });
  return pump;
}

OutputPump::~OutputPump() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
}

void OutputPump::Add(Fd fd, int number) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    added_.push_back({std::move(fd), "[python worker " + std::to_string(number) + "] ", ""});
  }
  Wake();
}

void OutputPump::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_.get(), &one, sizeof one);
  (void)n;  // EAGAIN: the counter is far from full, and a wake-up is pending anyway
}

void OutputPump::Loop() {
  std::vector<Source> sources;
  while (true) {
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Source& s : added_) sources.push_back(std::move(s));
      added_.clear();
      stopping = stop_;
    }
    if (stopping) {
      for (Source& s : sources) {
        Pump(&s.partial, s.prefix, s.fd.get(), true);
        Emit(&s.partial, s.prefix, nullptr, 0, true);
      }
      return;
    }
    std::vector<pollfd> fds = {{wake_.get(), POLLIN, 0}};
    for (const Source& s : sources) fds.push_back({s.fd.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    if (fds[0].revents) {
      uint64_t count;
      ssize_t n = ::read(wake_.get(), &count, sizeof count);
      (void)n;
    }
    // Backwards, so that erasing keeps the indexes of the sources still to visit.
    for (size_t i = sources.size(); i-- > 0;) {
      if (fds[i + 1].revents == 0) continue;
      if (!Pump(&sources[i].partial, sources[i].prefix, sources[i].fd.get(), false)) {
        sources.erase(sources.begin() + static_cast<long>(i));
      }
    }
  }
}

}  // namespace forja::runtime
