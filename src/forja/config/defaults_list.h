// The defaults list, with Hydra 1.3's semantics (hydra/_internal/defaults_list.py,
// version_base="1.3"): a primary config's `defaults` names group options
// (`db: mysql`), configs (`extras/common`) and `_self_`; group configs have
// defaults lists of their own (relative `plugins: auth` or absolute
// `/logging: json`); `group@package`, `_global_`, `_here_` and the
// `# @package` header place a config; `optional`, `null`, `???`, lists of
// options, `override` entries, and interpolations (`model: net_${size}`).
//
// Command-line group overrides (`db=postgresql`, `+db=x`, `~db`, `db@pkg=x`)
// change the list before it is expanded; the rest of the overrides (values)
// are handed back for the composer to apply after merging.
//
// The result is the ordered list of configs to merge, each with its package,
// and the group choices (Hydra's hydra.runtime.choices, in its order).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forja/config/config_tree.h"
#include "forja/config/override.h"
#include "forja/core/status.h"

namespace forja::config {

// One config to merge, in order.
struct ResultDefault {
  std::string config_path;  // "db/mysql"
  std::string file;         // "conf/db/mysql.yaml"
  std::string package;      // where its content goes: "db", "" for the top level
  std::string parent;       // the config whose defaults list named it; "" for the primary
  std::string override_key; // "db", "db@backup"; "" for a config that is not a group option
  std::string where;        // the defaults entry or override that chose it (file:line, override '...')
  bool is_self = false;     // the content of a config that has a defaults list (its _self_)
  bool primary = false;
};

// A group's choice; option is null for a group set to null.
struct Choice {
  std::string key;  // the override key: "db", "db@backup", "server/plugins"
  std::optional<std::string> option;
};

struct DefaultsList {
  std::vector<ResultDefault> defaults;
  std::vector<Choice> choices;
  // The overrides that set values (not groups), in the order given.
  std::vector<const Override*> config_overrides;
  // `override hydra/GROUP: OPTION` entries: Hydra's own groups, which forja
  // records (hydra.runtime.choices) and otherwise ignores. The first met wins.
  std::vector<std::pair<std::string, std::string>> hydra_choices;
};

// Builds the defaults list of `config_name` under `tree` with the parsed
// command-line overrides (which must outlive the result). With skip_missing,
// groups left at `???` are skipped instead of being an error and sweeps are
// ignored (a multirun's base composition).
//
// Errors are Status::User, one line, starting with where the problem is: the
// file:line of the defaults entry, or "override '<text>'".
Result<DefaultsList> BuildDefaultsList(ConfigTree& tree, const std::string& config_name,
                                       const std::vector<Override>& overrides, bool skip_missing);

}  // namespace forja::config
