// Pulling data taken over from DVC: objects fetched by md5 from the DVC layout of a
// remote (DVC 3's files/md5/ab/cdef..., DVC 2's ab/cdef...), every byte checked against
// the md5 before forja stores it under its SHA-256. A folder comes through its `.dir`
// listing. Nothing reaches the workspace here: objects go into the cache, and pull's
// checkout writes files (temp + rename) only after everything was fetched and verified.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/data/workspace.h"

namespace forja {

// Fetches the DVC object `md5` (a folder's .dir listing when `is_dir`, then every file
// it lists) from `remote` into the cache. Returns the forja version: SHA-256 (of the
// file, or of the folder's manifest; DVC keeps no executable bit, so every file of a
// folder is mode 644), size and file count. `label` names the data in messages.
// NotFound when the remote lacks it; Corrupt when bytes do not match their md5.
// Objects are not durable until cache.Sync().
Result<Pointer> FetchDvcObject(Cache& cache, Remote& remote, const std::string& remote_name,
                               const std::string& md5, bool is_dir, const std::string& label, int jobs);

// Pull's first step: every pointer (under `rels`; empty = all) and forja.lock out with a
// dvc-md5 whose bytes neither the cache nor the remote holds under SHA-256 is fetched
// from the remote's DVC layout. A pointer not fetched before gets its `hash:` written
// (atomically); a known SHA-256 must match what the DVC bytes hash to. Returns the
// paths, objects and bytes fetched this way.
struct DvcFetched {
  uint64_t paths = 0, objects = 0, bytes = 0;
};
Result<DvcFetched> FetchFromDvcLayout(Workspace& ws, const std::vector<std::string>& rels,
                                    const std::string& remote_name, int jobs);

// Pointer files under `rel` ("" = all), parsed with unfetched ones allowed.
Result<std::vector<Tracked>> FindPointersAllowUnfetched(const Workspace& ws, const std::string& rel);

}  // namespace forja
