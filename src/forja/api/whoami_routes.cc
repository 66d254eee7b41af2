// GET /api/2.0/forja/whoami: who the server takes the caller for. The web UI asks it to
// show only the buttons the caller's role may press (the server still checks every call).
// Read-only and harmless: it says nothing the caller's own token does not already decide.
#include <nlohmann/json.hpp>

#include "forja/api/server_impl.h"

namespace forja::api {

Result<Json> TrackingServer::Impl::WhoAmI(const Params&, const Caller& c) {
  // Off: no token is asked for (--auth off, or auto with no token made yet), and every
  // caller is an admin, as Authenticate treats them.
  bool on = config.auth == AuthMode::kOn || (config.auth == AuthMode::kAuto && TokensExist());
  return Json{{"user", c.user}, {"role", registry::RoleName(c.role)}, {"auth", on ? "on" : "off"}};
}

}  // namespace forja::api
