// The workspace: a folder with .forja/ in it (usually a git repository), its
// manifest forja.yaml, and the local state under .forja/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forja/cas/cache.h"
#include "forja/cas/state_db.h"
#include "forja/config/node.h"
#include "forja/core/lock.h"
#include "forja/core/status.h"
#include "forja/data/pointer.h"
#include "forja/remote/remote.h"

namespace forja {

// forja.yaml, read once by one reader. Every top-level section it may hold is in
// ForjaYamlSections(); each module takes its section's node from here (remotes and
// cache: ProjectConfig below; stages, params, config: pipeline; tracking; models:
// registry gates; serving: forja serve). An unknown section is an error naming it.
struct ForjaYaml {
  std::string file;   // as shown in errors: "forja.yaml" or a path
  config::Node root;  // a mapping (empty without a forja.yaml)
  const config::Node* Section(std::string_view name) const;  // null when absent
};
const std::vector<std::string>& ForjaYamlSections();
// Errors read "<file>:<line>: <section>: <what>".
Result<ForjaYaml> ParseForjaYaml(const std::string& text, const std::string& file);
// <root>/forja.yaml (shown as "forja.yaml"); a missing file is an empty mapping.
Result<ForjaYaml> ReadForjaYaml(const std::string& root);


// What forja.yaml says (the parts the data commands use).
struct ProjectConfig {
  std::vector<LinkType> link_types{LinkType::kReflink, LinkType::kHardlink, LinkType::kCopy};
  std::vector<RemoteConfig> remotes;
  std::string default_remote;
  // .forja/config.local's settings of remotes forja.yaml does not have (another
  // branch's): kept, unused, so that switching branches loses no credentials.
  std::vector<RemoteConfig> other_local;

  const RemoteConfig* FindRemote(const std::string& name) const;
};

// Parses forja.yaml's text; errors are "forja.yaml:<line>: <field>: <what>".
Result<ProjectConfig> ParseProjectConfig(const std::string& text, const std::string& name);
// The cache, remotes and default_remote sections of a read forja.yaml.
Result<ProjectConfig> ProjectConfigOf(const ForjaYaml& doc);
// Merges .forja/config.local's remotes (options and credentials) into `cfg`.
Status MergeLocalConfig(const std::string& text, const std::string& file, ProjectConfig* cfg);

// A tracked path: its pointer file and what it says.
struct Tracked {
  std::string rel;           // repository-relative data path, e.g. "data/images"
  std::string pointer_path;  // absolute path of "<rel>.forja"
  Pointer pointer;
};

class Workspace {
 public:
  // Creates .forja/, forja.yaml and .gitignore entries in `dir`. Idempotent.
  // Without `no_scm`, `dir` must be the top of a git repository.
  static Status Init(const std::string& dir, bool no_scm, std::vector<std::string>* created);

  // Finds the workspace containing `start` (searching upward).
  static Result<std::unique_ptr<Workspace>> Open(const std::string& start);
  // The same, but null (not an error) when `start` is in no workspace; a workspace
  // whose forja.yaml is broken is still an error (commands that also work outside
  // a workspace must not mistake it for "no workspace").
  static Result<std::unique_ptr<Workspace>> OpenIfAny(const std::string& start);

  const std::string& root() const { return root_; }
  std::string Abs(const std::string& rel) const;  // root + "/" + rel
  std::string ForjaDir() const { return root_ + "/.forja"; }
  const ProjectConfig& config() const { return config_; }
  Cache& cache() { return *cache_; }
  Result<StateDb*> state();

  // Resolves a user-typed path to a repository-relative one (see ResolveInRepo).
  Result<std::string> Resolve(const std::string& user_path) const;

  // Takes the workspace lock for a writing command.
  Result<FileLock> Lock(const std::string& what, bool wait);

  // Pointer files: under `rels` (repository-relative; empty = the whole workspace).
  // A path may name the data or its .forja file. Malformed pointers are errors; so is
  // a pointer taken over from DVC and not fetched yet, unless `allow_unfetched`
  // (status shows it; its pointer has has_oid false).
  Result<std::vector<Tracked>> FindTracked(const std::vector<std::string>& rels, bool allow_unfetched = false) const;
  Result<Tracked> LoadTracked(const std::string& rel, bool allow_unfetched = false) const;

  // The remote to use: `name`, else the default, else the only one.
  Result<std::unique_ptr<Remote>> OpenRemote(const std::string& name, std::string* chosen) const;

  // Rewrites forja.yaml's remotes (keeping the rest of the file and its comments).
  // `remotes` carry only versioned options; credentials are refused.
  Status SaveRemotes(const std::vector<RemoteConfig>& remotes, const std::string& default_remote);
  // Sets (or, with an empty value, unsets) one option of a remote in .forja/config.local
  // (mode 0600, never versioned). The remote must exist in forja.yaml.
  Status SetLocalOption(const std::string& remote, const std::string& key, const std::string& value);
  // Forgets a removed remote's settings in .forja/config.local (if it has any).
  Status DropLocalOptions(const std::string& remote);

  // Adds "/<name>" to the .gitignore in the folder of `rel`, if missing.
  Status IgnoreInGit(const std::string& rel) const;
  // The same for many paths, reading and writing each .gitignore once.
  Status IgnoreInGit(const std::vector<std::string>& rels) const;

 private:
  Workspace(std::string root, ProjectConfig config);
  Status WriteLocalConfig() const;

  std::string root_;
  ProjectConfig config_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<StateDb> state_;
};

}  // namespace forja
