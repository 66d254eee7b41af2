// A pointer file, <path>.forja: the small text file git versions in place of
// the data. It names the data's hash; the bytes live in the cache and remotes.
//
//   # forja: this file is versioned in git; the data is in the forja cache.
//   path: images
//   kind: dir
//   hash: sha256:4f1c...
//   size: 123456789
//   files: 100000
//
// `push: false` (from a DVC out's push: false) keeps forja push from sending it;
// `remote: NAME` (a DVC out's remote:) makes pull and push use that remote for it.
// A pointer taken over from DVC (forja import dvc) also keeps DVC's md5 —
// `dvc-md5: <32 hex>`, for a folder the md5 of DVC's .dir listing — so that pull
// can fetch its bytes from the DVC remote (files/md5/ab/cdef...) while the forja
// remote lacks them. Until those bytes were fetched once, the pointer has no
// `hash:` (its SHA-256 is not known yet); such an "unfetched" pointer is read
// only by pull (allow_unfetched), every other command says to run forja pull.
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
  std::string dvc_md5;  // DVC's md5 (32 lowercase hex; a folder's: of its .dir listing), or empty
  bool has_oid = true;  // false: imported from DVC, not fetched yet (dvc_md5 is set)
  bool push = true;     // false: a DVC out with push: false; forja push leaves it out
  std::string remote;   // a DVC out's remote: pull and push use this remote unless -r says

  std::string Serialize() const;
};

// Parses a pointer file's text. `name` is the file's path for messages
// ("data.csv.forja:3: ..."); `expected_path` is the name it must track.
Result<Pointer> ParsePointer(std::string_view text, const std::string& name,
                             const std::string& expected_path, bool allow_unfetched = false);

// True for 32 lowercase hex digits (DVC's md5 as its files write it).
bool IsMd5Hex(std::string_view s);

// A remote name as forja and DVC accept it: 1 to 100 letters, digits, - _ . (not first).
bool IsRemoteName(std::string_view s);

// A dvc-md5 value as a pointer or forja.lock holds it: written quoted ("0123...": an md5
// made only of digits, or digits and one e, would be a number to a YAML reader); files
// written before have it plain, so both are read.
std::string QuoteMd5(std::string_view md5);
std::string_view UnquoteMd5(std::string_view value);

}  // namespace forja
