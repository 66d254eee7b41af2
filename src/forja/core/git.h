// Running git: one wrapper for every module that asks the repository around a
// workspace something (history for gc and metrics diffs, worktrees for
// experiments, the commit a run was made from), and one reader of
// `git cat-file --batch`, the way to read many objects with one process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "forja/core/status.h"
#include "forja/core/subprocess.h"

namespace forja {

// Runs `git ARGS` in `cwd` ("" = current) with `input` on its standard input.
// Fails only when git cannot be started ("cannot run git: ...; install git"):
// the caller reads the exit code and standard error.
Result<ProcessResult> RunGit(const std::string& cwd, const std::vector<std::string>& args,
                             const std::string& input = "");

// RunGit's standard output, and a non-zero exit is a user error:
// "git <args[0]> failed: <GitReason(stderr)>".
Result<std::string> GitOutput(const std::string& cwd, const std::vector<std::string>& args,
                              const std::string& input = "");

// Why git failed: the last line of its standard error (git prints hints first
// and the reason last), without its "fatal: " or "error: ".
std::string GitReason(std::string_view err);

// Reads objects with one `git cat-file --batch`: the names are sent at once,
// then the answers are read in the order asked.
class CatFileBatch {
 public:
  struct Object {
    std::string_view type;     // "blob", "tree", "commit" or "tag"; empty for a missing or ambiguous name
    std::string_view content;  // valid while the CatFileBatch lives
  };

  // Runs git in `cwd` on `names` (an oid, "<commit>:<path>", anything
  // cat-file takes). A name holding a newline cannot be asked: the caller
  // leaves it out. No names runs no git.
  static Result<CatFileBatch> Run(const std::string& cwd, const std::vector<std::string>& names);

  // The answer for the next name asked; an internal error when git's output
  // ended early or was cut.
  Result<Object> Next();

 private:
  std::string out_;
  size_t pos_ = 0;
};

}  // namespace forja
