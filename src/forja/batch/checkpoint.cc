#include "forja/batch/checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>

#include "forja/core/fs.h"
#include "forja/core/log.h"
#include "forja/core/sha256.h"

namespace forja::batch {

std::string Checkpoint::Serialize() const {
  return "forja-predict 1\nfingerprint " + fingerprint + "\noffset " + std::to_string(offset) + "\noutput_bytes " +
         std::to_string(output_bytes) + "\nline " + std::to_string(line) + "\nrows " + std::to_string(rows) +
         "\nskipped " + std::to_string(skipped) + "\n";
}

std::optional<Checkpoint> Checkpoint::Parse(const std::string& text) {
  Checkpoint c;
  std::map<std::string, std::string> kv;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) return std::nullopt;  // a torn record is no record
    std::string l = text.substr(pos, nl - pos);
    pos = nl + 1;
    size_t sp = l.find(' ');
    if (sp == std::string::npos) return std::nullopt;
    kv[l.substr(0, sp)] = l.substr(sp + 1);
  }
  if (kv["forja-predict"] != "1") return std::nullopt;
  c.fingerprint = kv["fingerprint"];
  auto num = [&](const char* k, uint64_t* v) {  // digits and nothing else: "12x" is not 12
    const std::string& s = kv[k];
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  if (!num("offset", &c.offset) || !num("output_bytes", &c.output_bytes) || !num("line", &c.line) ||
      !num("rows", &c.rows) || !num("skipped", &c.skipped))
    return std::nullopt;
  return c;
}

std::string Fingerprint(const PredictOptions& o, const struct stat& st, const std::string& in_fmt,
                        const std::string& out_fmt) {
  std::string s = o.input + '\0' + std::to_string(st.st_size) + '\0' + std::to_string(st.st_ino) + '\0' +
                  std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '\0' + in_fmt +
                  '\0' + out_fmt + '\0' + std::to_string(o.shard) + '/' + std::to_string(o.shards) + '\0' +
                  o.model_id + '\0' + (o.skip_errors ? "skip" : "fail");
  // Each column after a NUL (no command-line argument holds one), so --keep id, --exclude id
  // and --keep i --keep d differ.
  for (const auto& k : o.keep) s += std::string("\0keep ", 6) + k;
  for (const auto& k : o.exclude) s += std::string("\0exclude ", 9) + k;
  return Sha256::Of(s).Hex();
}

std::optional<Checkpoint> LoadCheckpoint(const std::string& record, const std::string& partial,
                                         const std::string& fingerprint, uint64_t lo, uint64_t hi) {
  auto text = ReadFile(record);
  if (!text.ok()) return std::nullopt;
  std::optional<Checkpoint> prev = Checkpoint::Parse(*text);
  struct stat pst {};
  if (prev && prev->fingerprint == fingerprint && ::stat(partial.c_str(), &pst) == 0 &&
      static_cast<uint64_t>(pst.st_size) >= prev->output_bytes && prev->offset >= lo && prev->offset <= hi)
    return prev;
  LogInfo("forja predict: " + record + " is from another input, model or options; starting over");
  return std::nullopt;
}

Status SaveCheckpoint(int partial_fd, const std::string& partial, const std::string& record, const Checkpoint& cp) {
  if (::fdatasync(partial_fd) != 0) return Status::FromErrno("syncing " + partial, errno);
  return WriteFileAtomic(record, cp.Serialize());
}

}  // namespace forja::batch
