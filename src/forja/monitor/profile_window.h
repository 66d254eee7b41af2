// A current profile (forja predict --profile, forja monitor profile --out) counted on a
// reference profile's bins, so that forja monitor report can compare two profiles as it
// compares a profile with a file. Categories and discrete values carry their exact counts;
// the values of a continuous current column are spread over the reference's bins by the
// current profile's 101 quantiles (its CDF, linear between them): each bin's count is then
// within about 1% of the current rows of the exact one, which is why the report says
// "approximate" for such columns' bins.
#pragma once

#include "forja/core/status.h"
#include "forja/monitor/window.h"

namespace forja::monitor {

// `reference` must outlive the window; each of its columns must be in `current`, of the same
// kind (the caller leaves out the columns the current profile may lack).
Result<Window> WindowOfProfile(const Profile& reference, const Profile& current);

}  // namespace forja::monitor
