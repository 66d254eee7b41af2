#include "forja/core/strings.h"
#include "forja/data/pointer.h"

#include <cctype>
#include <charconv>

namespace forja {

std::string Pointer::Serialize() const {
  std::string out =
      "# forja: this file is versioned in git; the data is in the forja cache and remotes.\n";
  out += "path: " + path + "\n";
  out += std::string("kind: ") + (is_dir ? "dir" : "file") + "\n";
  if (has_oid) out += "hash: sha256:" + oid.Hex() + "\n";
  if (!dvc_md5.empty()) out += "dvc-md5: " + QuoteMd5(dvc_md5) + "\n";
  out += "size: " + std::to_string(size) + "\n";
  out += "files: " + std::to_string(files) + "\n";
  if (!push) out += "push: false\n";
  if (!remote.empty()) out += "remote: " + remote + "\n";
  return out;
}

bool IsRemoteName(std::string_view s) {
  if (s.empty() || s.size() > 100 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string QuoteMd5(std::string_view md5) { return "\"" + std::string(md5) + "\""; }

std::string_view UnquoteMd5(std::string_view v) {
  if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0]) return v.substr(1, v.size() - 2);
  return v;
}

namespace {

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

bool IsMd5Hex(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<Pointer> ParsePointer(std::string_view text, const std::string& name,
                             const std::string& expected_path, bool allow_unfetched) {
  Pointer p;
  bool seen_path = false, seen_kind = false, seen_hash = false, seen_size = false,
       seen_files = false;
  size_t line_no = 0, pos = 0;
  auto err = [&](const std::string& what) {
    return Status::User(name + ":" + std::to_string(line_no) + ": " + what);
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos), " \t\r");
    pos = nl + 1;
    line_no++;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return err("expected 'field: value', got '" + std::string(line) + "'");
    std::string_view key = Trim(line.substr(0, colon), " \t\r");
    std::string_view value = Trim(line.substr(colon + 1), " \t\r");
    auto dup = [&](bool* seen) {
      if (*seen) return true;
      *seen = true;
      return false;
    };
    if (key == "path") {
      if (dup(&seen_path)) return err("field 'path' appears twice");
      p.path = std::string(value);
      if (p.path != expected_path)
        return err("field 'path' is '" + p.path + "' but this pointer file tracks '" +
                   expected_path + "'; rename the file or fix the field");
    } else if (key == "kind") {
      if (dup(&seen_kind)) return err("field 'kind' appears twice");
      if (value == "dir") p.is_dir = true;
      else if (value != "file") return err("field 'kind' must be 'file' or 'dir', not '" + std::string(value) + "'");
    } else if (key == "hash") {
      if (dup(&seen_hash)) return err("field 'hash' appears twice");
      if (value.substr(0, 7) != "sha256:")
        return err("field 'hash' must start with 'sha256:'");
      auto oid = Oid::FromHex(value.substr(7));
      if (!oid) return err("field 'hash' is not 64 hex digits after 'sha256:'");
      p.oid = *oid;
    } else if (key == "dvc-md5") {
      if (!p.dvc_md5.empty()) return err("field 'dvc-md5' appears twice");
      value = UnquoteMd5(value);
      if (!IsMd5Hex(value)) return err("field 'dvc-md5' must be 32 lowercase hex digits (DVC's md5)");
      p.dvc_md5 = std::string(value);
    } else if (key == "push") {
      if (value != "true" && value != "false") return err("field 'push' must be true or false");
      p.push = value == "true";
    } else if (key == "remote") {
      if (!p.remote.empty()) return err("field 'remote' appears twice");
      if (!IsRemoteName(value)) return err("field 'remote' must be a remote name (letters, digits, - _ .)");
      p.remote = std::string(value);
    } else if (key == "size") {
      if (dup(&seen_size)) return err("field 'size' appears twice");
      if (!ParseU64(value, &p.size)) return err("field 'size' must be a whole number of bytes");
    } else if (key == "files") {
      if (dup(&seen_files)) return err("field 'files' appears twice");
      if (!ParseU64(value, &p.files)) return err("field 'files' must be a whole number");
    } else {
      return err("unknown field '" + std::string(key) + "'");
    }
  }
  line_no = 0;
  if (!seen_path) return Status::User(name + ": missing field 'path'");
  if (!seen_hash && !p.dvc_md5.empty() && allow_unfetched) p.has_oid = false;
  else if (!seen_hash && !p.dvc_md5.empty())
    return Status::User(name + ": missing field 'hash': taken over from DVC (dvc-md5 " + p.dvc_md5 +
                        ") and not fetched yet; run forja pull");
  else if (!seen_hash) return Status::User(name + ": missing field 'hash'");
  if (!seen_kind) return Status::User(name + ": missing field 'kind'");
  if (!seen_size) return Status::User(name + ": missing field 'size'");
  if (!seen_files) p.files = p.is_dir ? 0 : 1;
  return p;
}

}  // namespace forja
