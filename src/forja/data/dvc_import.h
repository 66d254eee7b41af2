// forja import dvc: takes a DVC repository over in one step.
//  - every `.dvc` file's outs become pointer files (<path>.forja) with their SHA-256
//    and DVC's md5 (`dvc-md5:`); data found neither in the workspace nor in DVC's cache
//    (.dvc/cache) gets an unfetched pointer (md5 only) that forja pull completes;
//  - dvc.lock's stages become forja.lock entries (deps and outs rehashed to SHA-256,
//    DVC's md5 kept; an out missing locally is fetched from the DVC remote);
//  - the remotes of .dvc/config and .dvc/config.local become forja remotes (a folder, or
//    S3 with endpoint and region; credentials go to .forja/config.local), with DVC's
//    default remote as the default. The same url serves both layouts: forja's objects
//    at sha256/..., DVC's at files/md5/... (pull falls back to those by md5).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/data/workspace.h"

namespace forja {

// One stage of dvc.yaml as forja's pipeline reads it (the cli fills this in: the data
// module does not read dvc.yaml's templating itself). dvc.lock's paths are relative to
// the stage's wdir; forja.lock's are repository-relative.
struct DvcStageLayout {
  std::string wdir;  // repository-relative; "" = the root
  struct Out {
    bool cache = true, metric = false, plot = false, push = true;
    std::string remote;  // its own remote: (a valid name), or empty
    std::string origin;  // "dvc.yaml:12", for messages
  };
  std::map<std::string, Out> outs;  // by repository-relative path
};

struct DvcImportOptions {
  bool dry_run = false;  // read and report; write nothing (no cache, pointer, lock or config)
  int jobs = 0;
  // dvc.yaml's stages by name (foreach/matrix expanded), when forja could read it; else
  // dvc_yaml_error says why and only stages without wdir are taken over.
  std::optional<std::map<std::string, DvcStageLayout>> dvc_yaml;
  std::string dvc_yaml_error;
};

struct DvcImportedPath {
  std::string rel;
  std::string dvc_file;  // the .dvc file, or "dvc.lock"
  bool is_dir = false;
  std::string md5;
  // Where its bytes were found: "workspace", "dvc cache", "dvc remote" (fetched now), or
  // "not fetched" (only on the DVC remote: an unfetched pointer; forja pull fetches it), or
  // "already taken over" (its pointer has this md5 already; kept as it is).
  std::string source;
  Pointer pointer;  // the version written (has_oid false when not fetched)
};

struct DvcImportedStage {
  std::string name;
  bool imported = false;
  std::string reason;  // why not
};

struct DvcImportedRemote {
  std::string name;
  std::string url;  // as written to forja.yaml
  bool is_default = false;
  std::vector<std::string> local_keys;  // options that went to .forja/config.local
  std::string skipped;                  // why this remote was not taken over
};

struct DvcImportResult {
  std::vector<DvcImportedPath> paths;
  std::vector<DvcImportedStage> stages;
  std::vector<DvcImportedRemote> remotes;
  std::vector<std::string> warnings;
};

// Reads and checks every file the take-over reads (.dvc/config, .dvc/config.local, the .dvc
// files, dvc.lock) without writing or hashing anything: a refused repository is refused
// before forja init or any write. With `opts`' dvc.yaml stages, dvc.lock's paths are
// checked joined with their stage's wdir.
Status CheckDvcRepository(const std::string& root, const DvcImportOptions* opts = nullptr);

// `ws` may be null only with dry_run (a repository that is no forja workspace yet).
Result<DvcImportResult> ImportDvc(const std::string& root, Workspace* ws, const DvcImportOptions& opts);

}  // namespace forja
