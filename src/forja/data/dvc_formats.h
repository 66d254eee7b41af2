// DVC's own files, read so that forja can take a DVC repository over (forja import dvc)
// and pull from a DVC remote: `.dvc` files, `.dir` listings of folders, dvc.lock
// (schema 2.0) and `.dvc/config` / `.dvc/config.local` (INI). All of them come from the
// repository or a remote, so every reader is hostile-input safe: every path goes through
// CheckUntrustedPath, every hash is checked to be a verifiable md5, errors name the file.
//
// Only DVC 3's hash is accepted: `hash: md5` (the md5 of the file's raw bytes). A DVC 2
// output (no `hash:` field; DVC 2 hashed text files after turning CRLF into LF) or any
// other hash name is refused with the reason: forja could not verify the bytes it fetches.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/data/lockfile.h"

namespace forja {

// One output (or, in dvc.lock, a dep) with its DVC hash.
struct DvcOut {
  std::string path;     // relative to the .dvc file's folder / the repository root (validated)
  std::string md5;      // 32 lowercase hex; a folder's is the md5 of its .dir listing
  bool is_dir = false;  // the md5 ended in ".dir"
  uint64_t size = 0;
  bool has_size = false;
  uint64_t nfiles = 0;
  bool cache = true;  // `cache: false`: git versions it, DVC does not store it
  bool push = true;   // `push: false`: dvc push leaves it out (and so does forja push)
  std::string remote;  // `remote: NAME`: DVC pushes and pulls it there (a valid name)
  int remote_line = 0;
  int line = 0;       // where it is, for messages
};

// A `.dvc` file's outs. `name` is the file's path for messages ("data.csv.dvc:3: ...").
Result<std::vector<DvcOut>> ParseDvcFile(std::string_view text, const std::string& name);

// A folder's `.dir` listing (JSON: [{"md5": ..., "relpath": ...}, ...]).
struct DvcDirEntry {
  std::string relpath;  // validated as a path inside the folder
  std::string md5;
};
Result<std::vector<DvcDirEntry>> ParseDvcDir(std::string_view json, const std::string& name);

// dvc.lock, schema 2.0: what each stage ran with. Paths (deps, outs, params files) are
// relative to the stage's wdir as dvc.yaml declares it (dvc.lock does not record it), so
// a leading "../" is accepted here; the joined path must pass CheckUntrustedPath.
struct DvcLockStage {
  std::string name;
  std::vector<std::string> cmd;
  std::vector<DvcOut> deps, outs;
  std::vector<LockParams> params;  // source: the params file's path
  std::vector<int> params_lines;   // where each params file is, for messages
  int line = 0;
};
Result<std::vector<DvcLockStage>> ParseDvcLock(std::string_view text, const std::string& name);

// .dvc/config and .dvc/config.local.
struct DvcRemote {
  std::string name;
  std::string url;
  std::map<std::string, std::string> options;  // DVC's names: endpointurl, region, ...
  std::string origin;                          // "file:line" of its section
};
struct DvcConfig {
  std::string default_remote;  // core.remote
  std::vector<DvcRemote> remotes;
  DvcRemote* Find(const std::string& name);
};
// Reads one INI file into `cfg`; a later file (config.local) overrides keys of an earlier one.
Status ParseDvcConfig(std::string_view text, const std::string& name, DvcConfig* cfg);

// Where DVC 3 keeps an object under a cache or remote root: "files/md5/ab/cdef..." (+".dir").
std::string DvcObjectKey(const std::string& md5, bool is_dir);
// DVC 2's layout of the same object: "ab/cdef..." (+".dir").
std::string DvcLegacyKey(const std::string& md5, bool is_dir);

// MD5 of a file's bytes, as 32 lowercase hex.
Result<std::string> Md5OfFile(const std::string& path);
// The same for an open file, from its current offset to the end.
Result<std::string> Md5OfFd(int fd, const std::string& name_for_errors);
std::string Md5Of(std::string_view data);

// Lexically joins `base` (a repository-relative folder) and a relative path and
// normalizes "." and "..": "" when the result would leave the repository.
std::string JoinRelative(const std::string& base, const std::string& rel);

}  // namespace forja
