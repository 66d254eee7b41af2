// A directory, as stored: a manifest object listing every file under it, sorted by
// path, with its hash, size and mode. The manifest's own hash names the directory.
//
//   forja-manifest 1
//   <64 hex> <size> <mode, octal> <path, with \ \n \r escaped>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"

namespace forja {

struct ManifestEntry {
  std::string path;  // relative to the directory, '/'-separated
  Oid oid;
  uint64_t size = 0;
  uint32_t mode = 0644;  // permission bits only
};

// `entries` must be sorted by path (SortManifest).
std::string SerializeManifest(const std::vector<ManifestEntry>& entries);
void SortManifest(std::vector<ManifestEntry>* entries);

// Errors name `name` and the line: "<name>:<line>: <what>".
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view data, const std::string& name);

}  // namespace forja
