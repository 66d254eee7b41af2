#include "forja/net/status_http.h"

namespace forja::net {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kUser:
    case Code::kUsage:
    case Code::kExists: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kRefused: return 409;
    // The lock is held or the database busy, a remote failed, the work cannot be taken
    // now: all temporary, and clients retry a 503.
    case Code::kConflict:
    case Code::kRemote:
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kCorrupt:
    case Code::kIo:
    case Code::kInternal: return 500;
  }
  return 500;
}

}  // namespace forja::net
