#include "forja/core/git.h"

#include <string>

namespace forja {

Result<ProcessResult> RunGit(const std::string& cwd, const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.push_back("git");
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv, cwd, input);
  if (!r.ok()) return Status::User("cannot run git: " + r.status().message() + "; install git");
  return r;
}

Result<std::string> GitOutput(const std::string& cwd, const std::vector<std::string>& args, const std::string& input) {
  ASSIGN_OR_RETURN(ProcessResult r, RunGit(cwd, args, input));
  if (r.exit_code != 0) return Status::User("git " + args[0] + " failed: " + GitReason(r.err));
  return std::move(r.out);
}

std::string GitReason(std::string_view err) {
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r' || err.back() == ' ')) err.remove_suffix(1);
  size_t nl = err.rfind('\n');
  std::string line(nl == std::string_view::npos ? err : err.substr(nl + 1));
  if (line.starts_with("fatal: ") || line.starts_with("error: ")) line.erase(0, 7);
  return line;
}

Result<CatFileBatch> CatFileBatch::Run(const std::string& cwd, const std::vector<std::string>& names) {
  CatFileBatch batch;
  if (names.empty()) return batch;
  std::string input;
  for (const std::string& name : names) {
    if (name.find_first_of("\n\r") != std::string::npos)
      return Status::Internal("git cat-file --batch cannot name " + name);
    input += name;
    input += '\n';
  }
  ASSIGN_OR_RETURN(batch.out_, GitOutput(cwd, {"cat-file", "--batch"}, input));
  return batch;
}

Result<CatFileBatch::Object> CatFileBatch::Next() {
  std::string_view s = out_;
  size_t nl = s.find('\n', pos_);
  if (nl == std::string_view::npos) return Status::Internal("git cat-file --batch: output ended early");
  std::string_view header = s.substr(pos_, nl - pos_);
  pos_ = nl + 1;
  // "<oid> <type> <size>", or "<name> missing" / "<name> ambiguous" (a name may hold spaces, an oid does not).
  size_t sp2 = header.rfind(' ');
  size_t sp1 = sp2 == std::string_view::npos || sp2 == 0 ? std::string_view::npos : header.rfind(' ', sp2 - 1);
  if (sp1 == std::string_view::npos || header.substr(0, sp1).find(' ') != std::string_view::npos) return Object{};
  std::string_view size_text = header.substr(sp2 + 1);
  if (size_text.empty() || size_text.find_first_not_of("0123456789") != std::string_view::npos) return Object{};
  size_t size = std::stoull(std::string(size_text));
  if (pos_ + size > s.size()) return Status::Internal("git cat-file --batch: truncated object");
  Object o{header.substr(sp1 + 1, sp2 - sp1 - 1), s.substr(pos_, size)};
  pos_ += size + 1;  // the content, then a newline
  return o;
}

}  // namespace forja
