#include "forja/core/log.h"

#include <cstdio>
#include <mutex>

namespace forja {

namespace {
Verbosity g_verbosity = Verbosity::kNormal;
std::mutex g_mu;

void Emit(const char* prefix, const std::string& msg) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::fflush(stdout);  // keep command output and diagnostics in order on a shared terminal
  std::fprintf(stderr, "%s%s\n", prefix, msg.c_str());
}
}  // namespace

void SetVerbosity(Verbosity v) { g_verbosity = v; }
Verbosity GetVerbosity() { return g_verbosity; }

void LogInfo(const std::string& msg) {
  if (g_verbosity >= Verbosity::kNormal) Emit("", msg);
}
void LogVerbose(const std::string& msg) {
  if (g_verbosity >= Verbosity::kVerbose) Emit("", msg);
}
void LogWarn(const std::string& msg) { Emit("forja: warning: ", msg); }
void LogError(const std::string& msg) { Emit("forja: error: ", msg); }

}  // namespace forja
