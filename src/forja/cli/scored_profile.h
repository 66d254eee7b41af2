// forja predict --profile: the profile of the rows a batch scored and of the predictions it
// wrote, so that batch scoring is monitored as forja serve's traffic is (forja monitor report
// --reference NAME/VERSION --current PROFILE.json). Implemented beside forja monitor profile
// (cmd_monitor.cc), which reads CSV the same way.
#pragma once

#include <string>
#include <vector>

#include "forja/core/status.h"

namespace forja {

// The profile's JSON: every column of the CSV `input`, then each prediction column of the CSV
// `output` (its columns but the `keep` ones) named as forja monitor profile names them.
Result<std::string> ProfileScoredFile(const std::string& input, const std::string& output,
                                      const std::vector<std::string>& keep);

}  // namespace forja
