// The data-versioning commands, as a library: add, status, checkout, push,
// fetch, gc, verify. The CLI parses arguments, takes the workspace lock and
// prints; everything else is here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/data/workspace.h"

namespace forja {

// ---- add ----
struct AddResult {
  std::string rel;
  Pointer pointer;
  bool changed = false;       // the pointer file was new or got a new hash
  uint64_t hashed_files = 0;  // files read (the rest were known from the stat snapshot)
};
// `rels` are repository-relative paths (Workspace::Resolve).
Result<std::vector<AddResult>> Add(Workspace& ws, const std::vector<std::string>& rels, int jobs);

// ---- status ----
// kNotFetched: a pointer taken over from DVC whose bytes are only on the DVC remote yet.
enum class PathState { kUnchanged, kModified, kDeleted, kNotInCache, kNotFetched };
const char* PathStateName(PathState s);

struct PathStatus {
  std::string rel;
  bool is_dir = false;
  PathState state = PathState::kUnchanged;
  // For a modified folder: its files that differ from the pointer's version.
  std::vector<std::string> added, modified, deleted;
};
Result<std::vector<PathStatus>> GetStatus(Workspace& ws, const std::vector<std::string>& rels,
                                          int jobs);

// ---- checkout ----
struct CheckoutResult {
  std::string rel;
  uint64_t written = 0;  // files restored or replaced
  uint64_t removed = 0;  // files the pointer's version does not have
};
Result<std::vector<CheckoutResult>> Checkout(Workspace& ws, const std::vector<std::string>& rels,
                                             bool force, int jobs);

// ---- push / fetch ----
struct TransferResult {
  std::string remote;        // its name
  uint64_t transferred = 0;  // objects moved
  uint64_t bytes = 0;        // bytes moved
  uint64_t present = 0;      // objects already where they had to go
};
Result<TransferResult> Push(Workspace& ws, const std::vector<std::string>& rels,
                            const std::string& remote, int jobs);
Result<TransferResult> Fetch(Workspace& ws, const std::vector<std::string>& rels,
                             const std::string& remote, int jobs);
// The same for versions that have no pointer file (a registered model package:
// rel names it in messages, pointer.oid is its manifest).
Result<TransferResult> PushTracked(Workspace& ws, const std::vector<Tracked>& tracked, const std::string& remote,
                                   int jobs);
Result<TransferResult> FetchTracked(Workspace& ws, const std::vector<Tracked>& tracked, const std::string& remote,
                                    int jobs);
// The default number of parallel transfers for a remote (I/O bound, not CPU bound).
int DefaultTransferJobs(const std::string& remote_url);

// ---- paths versioned by the pipeline (stage deps and outs) ----
// Their versions are recorded in forja.lock rather than in pointer files; a
// Pointer serves as the version (path = the basename).

// The version of a workspace path, hashing only the files its stat snapshot
// does not vouch for (and saving the new snapshot); nullopt when it does not exist.
Result<std::optional<Pointer>> HashPath(Workspace& ws, const std::string& rel, int jobs);
// Stores a path in the cache as add does, without a pointer file, and returns
// its version. Objects are not durable until ws.cache().Sync().
Result<Pointer> StorePath(Workspace& ws, const std::string& rel, int jobs);
// Restores a path to a version whose objects are cached, as checkout does
// (refusing to lose unstored changes unless `force`).
Result<CheckoutResult> RestorePath(Workspace& ws, const std::string& rel, const Pointer& version, bool force,
                                   int jobs);

// ---- gc ----
struct GcResult {
  std::string where;                              // "cache" or "remote 'name'"
  std::vector<std::pair<Oid, uint64_t>> garbage;  // unreferenced objects (size 0 = unknown)
  uint64_t bytes = 0;
  uint64_t kept = 0;
  bool removed = false;
  uint64_t stale_temps = 0;  // temp files of killed commands (removed with force)
  std::vector<std::string> warnings;
};
struct GcOptions {
  bool all_commits = false;  // keep what any git commit references, not just the workspace
  bool force = false;        // remove; without it, only list
  std::string remote;        // act on this remote instead of the cache
  int jobs = 0;
  // Objects the metadata store names (model packages, artifacts): kept with, for
  // a folder manifest, the files it lists.
  std::vector<Oid> keep;
};
Result<GcResult> Gc(Workspace& ws, const GcOptions& opts);

// ---- verify ----
struct VerifyResult {
  std::string where;
  uint64_t checked = 0;
  uint64_t bytes = 0;
  std::vector<Oid> corrupt;  // quarantined
  std::string quarantine;    // where they went
};
Result<VerifyResult> Verify(Workspace& ws, const std::string& remote, int jobs);

}  // namespace forja
