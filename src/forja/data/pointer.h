// A pointer file, <path>.forja: the small text file git versions in place of
// the data. It names the data's hash; the bytes live in the cache and remotes.
//
//   # forja: this file is versioned in git; the data is in the forja cache.
//   path: images
//   kind: dir
//   hash: sha256:4f1c...
//   size: 123456789
//   files: 100000
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "forja/core/sha256.h"
#include "forja/core/status.h"

namespace forja {

constexpr std::string_view kPointerSuffix = ".forja";

struct Pointer {
  std::string path;  // the tracked name, relative to the pointer file's folder
  bool is_dir = false;
  Oid oid;
  uint64_t size = 0;   // bytes of data (all files of a folder)
  uint64_t files = 1;  // number of files

  std::string Serialize() const;
};

// Parses a pointer file's text. `name` is the file's path for messages
// ("data.csv.forja:3: ..."); `expected_path` is the name it must track.
Result<Pointer> ParsePointer(std::string_view text, const std::string& name,
                             const std::string& expected_path);

}  // namespace forja
