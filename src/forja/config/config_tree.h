// The config tree, as Hydra's file config source sees a config folder: every
// `.yaml` file is a config (named by its path without the extension, e.g.
// "db/mysql"), every folder is a config group ("db", and nested groups such as
// "db/mysql" for db/mysql/replica.yaml), and the options of a group are the
// configs directly in its folder.
//
// One ConfigTree lives for one composition: folder listings and parsed files
// are cached, so every file is read and parsed at most once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forja/config/node.h"
#include "forja/core/status.h"

namespace forja::config {

// One config file, loaded.
struct ConfigFile {
  std::string config_path;  // as asked for: "db/mysql"
  std::string file;         // for messages and provenance: "conf/db/mysql.yaml"
  // The content without its top-level `defaults` list; {} for an empty file.
  // A file may hold a list, which can only be placed in a non-empty package.
  Node config;
  bool has_defaults = false;
  Node defaults;  // the raw `defaults` value (not checked yet)
  // "# @package <value>" from the header (the leading lines that start with
  // "# @"), as written.
  std::optional<std::string> package_header;
};

class ConfigTree {
 public:
  // `root` is the config folder as the user names it ("conf", "/abs/conf");
  // file names in messages start with it.
  explicit ConfigTree(std::string root);

  const std::string& root() const { return root_; }
  bool RootExists();

  // A folder under the root ("" is the root itself).
  bool IsGroup(std::string_view group_path);
  // The options of a group: its .yaml files without the extension, sorted.
  std::vector<std::string> Options(std::string_view group_path);
  // The subfolders of a group, sorted.
  std::vector<std::string> Subgroups(std::string_view group_path);
  // Every group under the root, depth first, sorted ("db", "db/mysql", ...).
  std::vector<std::string> AllGroups();

  // The file of a config ("db/mysql" -> "conf/db/mysql.yaml").
  std::string FileName(std::string_view config_path) const;
  // Loads a config, once; null when there is no such config. Errors: the file
  // cannot be read or parsed (file:line:col), a bad header, a top-level scalar.
  Result<const ConfigFile*> Load(std::string_view config_path);
  // Moves a loaded config's content out (for its last use); it is empty after.
  Node TakeConfig(std::string_view config_path);

 private:
  struct Dir {
    bool exists = false;
    std::vector<std::string> configs;  // names without ".yaml", sorted
    std::vector<std::string> groups;   // sorted
  };
  const Dir& List(std::string_view rel);
  std::string Abs(std::string_view rel) const;

  std::string root_;
  std::unordered_map<std::string, Dir> dirs_;
  std::unordered_map<std::string, std::unique_ptr<ConfigFile>> files_;  // null: absent
};

// The header keys of a config file ("# @package db" -> {"package": "db"}), read
// as Hydra reads them: leading lines only, within the first 512 characters.
Result<std::optional<std::string>> ParsePackageHeader(std::string_view text, const std::string& file);

}  // namespace forja::config
