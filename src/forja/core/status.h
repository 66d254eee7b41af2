// Status and Result: how every expected failure travels in forja.
// Exceptions are used only at the edges (CLI main, threads' top frames).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace forja {

// The kind of failure decides the process exit code (see docs/architecture.md).
enum class Code {
  kOk = 0,
  kUser,      // bad input the user can fix: missing path, malformed file (exit 1)
  kUsage,     // wrong command line (exit 2)
  kNotFound,  // something looked up is absent (exit 1)
  kConflict,  // refusing to lose data, or the lock is held (exit 1)
  kExists,    // creating something that exists already: a model name, an experiment (exit 1)
  kDenied,    // not allowed: a token without the role (exit 1)
  kUnauthenticated,  // no credentials, or unknown ones: a missing or revoked token (exit 1)
  kRefused,   // a precondition failed: a promotion gate (exit 1)
  kCorrupt,   // stored bytes do not match their hash (exit 3)
  kIo,        // the file system failed: full disk, permissions (exit 3)
  kRemote,    // a remote failed or refused: network, S3 errors (exit 3)
  kUnavailable,       // a service cannot take the work now; retrying later may succeed (exit 3)
  kDeadlineExceeded,  // the work did not finish in the time it was given (exit 3)
  kInternal,  // a bug (exit 4)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status User(std::string m) { return {Code::kUser, std::move(m)}; }
  static Status Usage(std::string m) { return {Code::kUsage, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
  static Status Denied(std::string m) { return {Code::kDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Status Remote(std::string m) { return {Code::kRemote, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  // An I/O failure described by errno: "<what>: <strerror>".
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prefixes context, keeping the code: "reading x.forja: " + message.
  Status Wrap(const std::string& context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

int ExitCodeFor(Code code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace forja

#define FORJA_CONCAT_INNER(a, b) a##b
#define FORJA_CONCAT(a, b) FORJA_CONCAT_INNER(a, b)

// Returns early with the failing Status.
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::forja::Status _st = (expr);             \
    if (!_st.ok()) return _st;                \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()): unwraps a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL(FORJA_CONCAT(_res_, __LINE__), lhs, rexpr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                          \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp.value())
