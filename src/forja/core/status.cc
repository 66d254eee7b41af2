#include "forja/core/status.h"

#include <cerrno>
#include <cstring>

namespace forja {

Status Status::FromErrno(const std::string& what, int err) {
  Code code = Code::kIo;
  if (err == ENOENT) code = Code::kNotFound;
  if (err == EACCES || err == EPERM) code = Code::kUser;  // the user can fix permissions
  return Status(code, what + ": " + std::strerror(err));
}

Status Status::Wrap(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk: return 0;
    case Code::kUser:
    case Code::kNotFound:
    case Code::kConflict:
    case Code::kExists:
    case Code::kDenied:
    case Code::kUnauthenticated:
    case Code::kRefused: return 1;
    case Code::kUsage: return 2;
    case Code::kCorrupt:
    case Code::kIo:
    case Code::kRemote:
    case Code::kUnavailable:
    case Code::kDeadlineExceeded: return 3;
    case Code::kInternal: return 4;
  }
  return 4;
}

}  // namespace forja
