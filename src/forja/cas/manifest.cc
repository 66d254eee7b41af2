#include "forja/cas/manifest.h"

#include <algorithm>
#include <charconv>

#include "forja/core/path.h"

namespace forja {

namespace {
constexpr std::string_view kHeader = "forja-manifest 1";

void AppendEscaped(std::string* out, std::string_view path) {
  for (char c : path) {
    if (c == '\\') *out += "\\\\";
    else if (c == '\n') *out += "\\n";
    else if (c == '\r') *out += "\\r";
    else *out += c;
  }
}

bool Unescape(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '\\') {
      *out += in[i];
      continue;
    }
    if (++i == in.size()) return false;
    if (in[i] == '\\') *out += '\\';
    else if (in[i] == 'n') *out += '\n';
    else if (in[i] == 'r') *out += '\r';
    else return false;
  }
  return true;
}

}  // namespace

void SortManifest(std::vector<ManifestEntry>* entries) {
  std::sort(entries->begin(), entries->end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
}

std::string SerializeManifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  out.reserve(entries.size() * 100 + 32);
  out += kHeader;
  out += '\n';
  char num[32];
  for (const auto& e : entries) {
    out += e.oid.Hex();
    out += ' ';
    auto r = std::to_chars(num, num + sizeof num, e.size);
    out.append(num, r.ptr);
    out += ' ';
    r = std::to_chars(num, num + sizeof num, e.mode & 07777, 8);
    out.append(num, r.ptr);
    out += ' ';
    AppendEscaped(&out, e.path);
    out += '\n';
  }
  return out;
}

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view data, const std::string& name) {
  std::vector<ManifestEntry> out;
  size_t line_no = 0, pos = 0;
  auto err = [&](const std::string& what) {
    return Status::Corrupt(name + ":" + std::to_string(line_no) + ": " + what);
  };
  bool header = false;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      line_no++;
      return err("line is not terminated");
    }
    std::string_view line = data.substr(pos, nl - pos);
    pos = nl + 1;
    line_no++;
    if (!header) {
      if (line != kHeader) return err("not a forja manifest (expected '" + std::string(kHeader) + "')");
      header = true;
      continue;
    }
    ManifestEntry e;
    if (line.size() < 70 || line[64] != ' ') return err("expected '<sha256> <size> <mode> <path>'");
    auto oid = Oid::FromHex(line.substr(0, 64));
    if (!oid) return err("bad sha256 '" + std::string(line.substr(0, 64)) + "'");
    e.oid = *oid;
    const char* p = line.data() + 65;
    const char* end = line.data() + line.size();
    auto r = std::from_chars(p, end, e.size);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ') return err("bad size");
    p = r.ptr + 1;
    r = std::from_chars(p, end, e.mode, 8);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ' || e.mode > 07777)
      return err("bad mode");
    p = r.ptr + 1;
    // CheckUntrustedPath: a hostile manifest must not reach outside its folder
    // or into a .git (any spelling git refuses).
    if (!Unescape(std::string_view(p, static_cast<size_t>(end - p)), &e.path))
      return err("bad path '" + std::string(p, end) + "'");
    if (Status bad = CheckUntrustedPath(e.path, PathBase::kFolder); !bad.ok())
      return err("bad path '" + std::string(p, end) + "'" +
                 (IsReservedPath(e.path) ? ": git refuses this name in a tree (it is .git on some file system)" : ""));
    if (SerializeManifest({e}) != std::string(kHeader) + '\n' + std::string(line) + '\n')
      return err("entry is not in canonical form");  // one encoding per directory: one hash
    if (!out.empty() && !(out.back().path < e.path)) return err("entries are not sorted or repeat");
    out.push_back(std::move(e));
  }
  if (!header) return err("empty manifest");
  return out;
}

}  // namespace forja
