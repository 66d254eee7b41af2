// How a failed Status becomes an HTTP status code: the one table that both
// servers (forja server in api, forja serve in serve) answer with, so that a
// kind of failure means the same status wherever it happens.
#pragma once

#include "forja/core/status.h"

namespace forja::net {

// 200 for Ok. Bad input is a 4xx, never a 5xx: MLflow's clients retry 5xx
// answers for about a minute. A name that exists already is MLflow's 400.
int HttpStatusFor(Code code);
inline int HttpStatusFor(const Status& st) { return HttpStatusFor(st.code()); }

}  // namespace forja::net
