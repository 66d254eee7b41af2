// Copies what python workers print (fds 1 and 2, one pipe each worker) to
// forja's stderr, each line prefixed "[python worker N] ". Done in forja rather
// than in python so that output of C extensions, faulthandler's crash dumps and
// the interpreter's own fatal errors are prefixed too. One thread for all.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "forja/core/fs.h"
#include "forja/core/status.h"

namespace forja::runtime {

class OutputPump {
 public:
  static Result<std::unique_ptr<OutputPump>> Start();
  // Copies what is still buffered in the pipes (everything, from workers that
  // have been reaped), closes them and joins the thread.
  ~OutputPump();
  OutputPump(const OutputPump&) = delete;
  OutputPump& operator=(const OutputPump&) = delete;

  // Takes the read end of worker `number`'s output pipe; it is closed at its EOF.
  void Add(Fd fd, int number);

 private:
  struct Source {
    Fd fd;
    std::string prefix;
    std::string partial;  // the start of a line not ended yet
  };
  explicit OutputPump(Fd wake) : wake_(std::move(wake)) {}
  void Loop();
  void Wake();

  Fd wake_;  // an eventfd: Add() and stopping interrupt the poll
  std::mutex mu_;
  std::vector<Source> added_;  // handed to the thread at its next wake-up
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace forja::runtime
