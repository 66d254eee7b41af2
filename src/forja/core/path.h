// Turning a path a user typed into a safe repository-relative path.
#pragma once

#include <string>
#include <string_view>

#include "forja/core/status.h"

namespace forja {

// Lexically normalizes an absolute path: collapses "//", ".", "..".
std::string NormalizeAbsolute(std::string_view path);

// Resolves `user_path` (relative to `cwd`, or absolute) against repository root
// `root` (absolute, normalized). Returns the repository-relative path ("" for the
// root itself), or a user error when the path is outside the repository, inside
// .git or .forja, or reached through a symlink whose target leaves the repository.
Result<std::string> ResolveInRepo(const std::string& root, const std::string& cwd,
                                  const std::string& user_path);

// True when a repository-relative path is, or is inside, .git or .forja.
bool IsReservedPath(std::string_view rel);

std::string CurrentDir();

}  // namespace forja
