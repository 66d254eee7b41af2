// Diagnostics on standard error. Command output (listings, JSON) goes to stdout
// and never through here, so `forja status --json | jq` stays clean.
#pragma once

#include <string>

namespace forja {

enum class Verbosity { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void SetVerbosity(Verbosity v);
Verbosity GetVerbosity();

void LogInfo(const std::string& msg);     // hidden by -q
void LogVerbose(const std::string& msg);  // shown with -v
void LogWarn(const std::string& msg);     // always shown: "forja: warning: ..."
void LogError(const std::string& msg);    // always shown: "forja: error: ..."

}  // namespace forja
