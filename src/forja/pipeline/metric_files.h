// Metrics files and params across revisions: what `forja metrics show`,
// `forja metrics diff [REV]` and `forja params diff [REV]` compare (the CLI
// prints the tables: cli/table.h).
//
// A metrics file is a JSON or YAML document (a stage's `metrics:` out). Nested
// mappings flatten to dotted keys and lists to indexes, so
//   {"train": {"loss": 0.25, "acc": [0.9, 0.8]}}
// holds the metrics train.loss, train.acc.0 and train.acc.1. The workspace's
// metrics files are the `metrics:` outs of forja.yaml's stages (forja.lock's
// when the project cannot be loaded); a revision's are the metric outs of its
// forja.lock, read from git (cache: false) or from the forja cache by hash.
// Params compare the workspace's current values (ParamReader) with a
// revision's forja.lock.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"
#include "forja/data/lockfile.h"

namespace forja {
class Cache;
}

namespace forja::pipeline {

struct Project;

// --- metrics files -----------------------------------------------------------

struct Metric {
  std::string key;     // "train.loss", "acc.0"; "" for a document that is one scalar
  config::Node value;  // a scalar: int, float, bool, string or null
};

struct MetricsFile {
  std::string path;  // repository-relative
  std::vector<Metric> metrics;
  bool missing = false;  // the file does not exist (the stage has not run)
};

// Appends the scalars under `node` with dotted keys below `prefix` ("" = none).
void FlattenMetrics(const config::Node& node, const std::string& prefix, std::vector<Metric>* out);

// Parses a metrics file (JSON or YAML, whatever the extension; JSON's NaN,
// Infinity and -Infinity are floats). `name` is used in errors, which read
// "<name>:<line>:<col>: <what>"; the document must be a mapping or a list.
Result<std::vector<Metric>> ParseMetrics(std::string_view text, const std::string& name);

// Whether a file inside a metrics folder is read as a metrics file (.json, .yaml, .yml).
bool IsMetricsFileName(std::string_view path);

// A metrics out: a file, or a folder whose metrics files are all read.
struct MetricOut {
  std::string path;  // repository-relative
  bool is_dir = false;
  bool cache = true;
  Oid oid;  // at a revision: the hash forja.lock records
};

// The metric outs forja.lock lists, in stage order, each path once.
std::vector<MetricOut> LockMetricOuts(const Lock& lock);

// The workspace's metrics: the `metrics:` outs of forja.yaml's stages in
// declaration order. When forja.yaml cannot be loaded (e.g. the configuration
// does not compose), forja.lock's metric outs, with the reason in *warning.
Result<std::vector<MetricOut>> WorkspaceMetricOuts(const std::string& root, std::string* warning);

// Reads the workspace's files at `paths` (repository-relative). A folder gives
// one MetricsFile per metrics file inside it (sorted by path); a path that does
// not exist gives a MetricsFile marked missing. Malformed files are errors.
Result<std::vector<MetricsFile>> ReadWorkspaceMetrics(const std::string& root, const std::vector<std::string>& paths);

// --- git revisions -----------------------------------------------------------

// A commit of the git repository around a workspace; reads files as they are
// in that commit (paths relative to the workspace, which may be a subfolder of
// the repository).
class GitRevision {
 public:
  // Resolves `rev` (a commit, branch, tag, HEAD~2 ...) in the repository
  // around `root`. Errors: "unknown revision 'xyz'; use a commit, branch or
  // tag", a folder outside git, a repository without commits.
  static Result<GitRevision> Open(const std::string& root, const std::string& rev);

  const std::string& name() const { return name_; }      // as the user typed it
  const std::string& commit() const { return commit_; }  // 40 hex

  // The contents of files (workspace-relative) in the commit, in one `git
  // cat-file --batch`; nullopt for a path that is absent or not a file.
  Result<std::vector<std::optional<std::string>>> ReadFiles(const std::vector<std::string>& rels) const;
  // The files under a folder (workspace-relative paths, sorted).
  Result<std::vector<std::string>> ListFiles(const std::string& rel_dir) const;
  // forja.lock in the commit; an empty lock when the commit has none.
  Result<Lock> ReadLock() const;

 private:
  std::string root_;
  std::string name_;
  std::string commit_;
  std::string prefix_;  // the workspace's path inside the repository, "" or ending in '/'
};

// Reads the metrics files of `outs` (metric outs of the revision's forja.lock):
// cache: false outs from git, falling back to the cache; cached outs from the
// cache by hash (a folder through its manifest). `cache` may be null (no local
// state). Missing objects are errors: "... is not in the cache; run forja pull".
Result<std::vector<MetricsFile>> ReadRevisionMetrics(const GitRevision& rev, const std::vector<MetricOut>& outs,
                                                     const Cache* cache);

// dvc.yaml's top-level metrics: files (the workspace's dvc.yaml names them) as
// they are in `rev`, read from git; those `rev` lacks, or `known` already
// lists, are left out. Empty when the workspace's stages are not dvc.yaml's.
Result<std::vector<MetricsFile>> ReadRevisionDvcMetrics(const GitRevision& rev, const std::string& root,
                                                        const std::vector<MetricOut>& known);
// dvc.yaml's top-level params: files as they are in `rev` (every top-level key).
Result<std::vector<LockParams>> ReadRevisionDvcParams(const GitRevision& rev, const Project& project);

// --- diffs -------------------------------------------------------------------

struct MetricDiff {
  std::string path;
  std::string key;
  std::optional<config::Node> old_value;  // at the revision; nullopt = absent
  std::optional<config::Node> new_value;  // in the workspace
  std::optional<config::Node> change;     // new - old when both are numbers (int or float)
  bool changed = false;
};

// The metrics of both sides, paired by path and key: the workspace's files and
// keys in their order, then what only the revision has. Numbers compare by
// value (1 equals 1.0). Unchanged metrics are left out unless `all`.
std::vector<MetricDiff> DiffMetrics(const std::vector<MetricsFile>& old_files,
                                    const std::vector<MetricsFile>& new_files, bool all);

// Params as forja.lock records them, one value per (source, key): the first
// stage's when several stages read the same param.
std::vector<LockParams> MergeParams(const std::vector<std::vector<LockParams>>& per_stage);
std::vector<LockParams> LockParamsOf(const Lock& lock);
// The workspace's current params of every stage (ParamReader), merged.
Result<std::vector<LockParams>> CurrentParams(const Project& project);

struct ParamDiff {
  std::string source;  // kComposedParams or the params file
  std::string key;
  std::optional<std::string> old_json;  // one-line JSON; nullopt = absent
  std::optional<std::string> new_json;
  bool changed = false;
};

// Pairs params by source and key (the workspace's order, then the revision's
// leftovers); unchanged ones are left out unless `all`.
std::vector<ParamDiff> DiffParams(const std::vector<LockParams>& old_params, const std::vector<LockParams>& new_params,
                                  bool all);

// --- formatting --------------------------------------------------------------

// A scalar for a table: floats rounded to `precision` digits after the point
// (trailing zeros dropped, at least one kept: "0.5", "1.0"; a nonzero value that
// would round to 0 keeps `precision` significant digits: "1.2346e-07"; a
// negative precision prints Python's repr), ints as they are, bools and null as
// JSON writes them, strings as they are.
std::string FormatValue(const config::Node& value, int precision);
// A change with its sign: "+0.25", "-3", "0".
std::string FormatChange(const config::Node& change, int precision);
// A param's one-line JSON for a table: strings unquoted, the rest as written.
std::string FormatParam(const std::string& value_json);

}  // namespace forja::pipeline
