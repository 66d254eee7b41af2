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

// True when a repository-relative path is, or is inside, .forja (its first
// component), or has a component git refuses (IsGitReservedName).
bool IsReservedPath(std::string_view rel);

// A path component that git refuses in a tree (read.c verify_path with
// core.protectNTFS and core.protectHFS): ".git" in any letter case, also with
// trailing dots or spaces or a ":stream" (NTFS drops or splits them), its 8.3
// short name "git~1", and ".git" with HFS+'s ignorable code points inside
// (U+200C..200F, U+202A..202E, U+206A..206F, U+FEFF). Such a name would be
// git's own folder on some file system, so forja never reads or writes one.
bool IsGitReservedName(std::string_view name);

// Where an untrusted path is relative to.
enum class PathBase {
  kRepository,  // the repository root: also refused inside .forja/
  kFolder,      // a tracked folder (a manifest entry)
};

// THE check for every path read from a file forja did not write itself: pointer
// files, folder manifests, forja.lock, anything fetched from a remote or a
// server. Accepts only a relative, normalized path: no leading '/', no empty,
// "." or ".." component, no NUL, no component git refuses (IsGitReservedName),
// and with kRepository nothing in .forja/. The error says what is wrong with
// `rel`; callers prefix the file and line. Writing such a path must still not
// follow symlinks (OpenDirNoFollow in fs.h).
Status CheckUntrustedPath(std::string_view rel, PathBase base = PathBase::kRepository);

std::string CurrentDir();

}  // namespace forja
