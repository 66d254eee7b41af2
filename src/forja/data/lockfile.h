// forja.lock: what each pipeline stage consumed and produced when it last ran
// — its command, the hashes of its deps and outs, and its param values. It is
// versioned in git next to forja.yaml, so any commit says exactly which data
// made which outputs; `forja status --pipeline` compares the workspace with it,
// and the data commands (push, pull, checkout, gc) treat its cached outs like
// the data of pointer files.
//
//   # forja.lock: ... written by forja run; commit it.
//   schema: 1
//   stages:
//     train:
//       cmd: "python train.py --lr 0.1"
//       deps:
//         - path: "data/prepared"
//           kind: dir
//           hash: sha256:4f1c...
//           size: 1234
//           files: 2
//       params:
//         config:
//           "train.lr": 0.1
//         "params.yaml":
//           "seed": 42
//       outs:
//         - path: "eval/metrics.json"
//           hash: sha256:...
//           size: 80
//           cache: false
//           metric: true
//
// Strings are written JSON-quoted and param values as one-line JSON, so the
// file is YAML that a small line parser reads fast (a no-op `forja run` of
// 1,000 stages reads it in a few milliseconds). The data module owns the
// format; it does not interpret param values (the pipeline does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forja/core/sha256.h"
#include "forja/core/status.h"
#include "forja/data/pointer.h"

namespace forja {

constexpr std::string_view kLockName = "forja.lock";
// The params section name for keys of the composed configuration.
constexpr std::string_view kComposedParams = "config";

struct LockFile {
  std::string path;  // repository-relative
  bool is_dir = false;
  Oid oid;
  uint64_t size = 0;
  uint64_t files = 1;
  std::string dvc_md5;  // DVC's md5 when taken over from dvc.lock (forja import dvc), else empty
  // Outs only:
  bool cache = true;    // false: versioned in git, not pushed or checked out
  bool metric = false;  // declared under metrics:
  bool plot = false;    // declared under plots:
  bool push = true;     // false: dvc.yaml's push: false; forja push leaves it out
  std::string remote;   // dvc.yaml's remote: pull and push use it for this out
};

struct LockParam {
  std::string key;
  std::string value_json;  // one line of JSON
};

struct LockParams {
  std::string source;  // kComposedParams, or a params file's repository-relative path
  std::vector<LockParam> values;
};

struct LockStage {
  std::string name;
  std::vector<std::string> cmd;
  std::vector<LockFile> deps;
  std::vector<LockParams> params;
  std::vector<LockFile> outs;
};

struct Lock {
  std::vector<LockStage> stages;  // sorted by name

  const LockStage* Find(std::string_view name) const;
  // Replaces or inserts (keeping the order).
  void Put(LockStage stage);
  bool Erase(std::string_view name);
};

// A lock file entry as the pointer a tracked path would have.
Pointer PointerOf(const LockFile& f);

std::string SerializeLock(const Lock& lock);
// `name` is the file's name for messages ("forja.lock:12: ...").
Result<Lock> ParseLock(std::string_view text, const std::string& name);

// Reads <root>/forja.lock; a missing file is an empty lock.
Result<Lock> ReadLock(const std::string& root);
// Writes <root>/forja.lock atomically (temp + rename; fsync when `durable`).
Status WriteLock(const std::string& root, const Lock& lock, bool durable);

// JSON string unquoting, for the lock and other line formats (they quote with core/json.h's
// AppendJsonString(out, s, JsonBytes::kKeep): file names are bytes and must read back as such).
// Parses a JSON string literal at the start of `s`; sets *rest to what follows.
bool ParseQuoted(std::string_view s, std::string* out, std::string_view* rest);

}  // namespace forja
