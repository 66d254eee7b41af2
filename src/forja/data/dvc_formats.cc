#include "forja/data/dvc_formats.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>

#include "forja/config/node.h"
#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/path.h"
#include "forja/core/strings.h"
#include "forja/data/pointer.h"

namespace forja {

namespace {

using config::Node;

// "name:12" from a node's origin, else the file's name.
std::string Where(const Node& n, const std::string& name) { return n.origin().empty() ? name : n.origin(); }

Status Bad(const Node& n, const std::string& name, const std::string& what) {
  return Status::User(Where(n, name) + ": " + what);
}

int LineOf(const Node& n) {
  size_t colon = n.origin().rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(n.origin().c_str() + colon + 1);
}

bool ScalarU64(const Node& n, uint64_t* v) {
  if (n.kind() != Node::Kind::kInt || n.as_int() < 0) return false;
  *v = static_cast<uint64_t>(n.as_int());
  return true;
}

// dvc.lock's paths are relative to the stage's wdir, so they may climb out of it
// ("../data/x"): the part after the leading "../" is checked here, the path joined with
// the wdir where the wdir is known (dvc_import.cc), with the same check.
std::string_view AfterClimb(std::string_view p, bool wdir_relative) {
  while (wdir_relative && p.starts_with("../")) p.remove_prefix(3);
  return p;
}

// One entry of `outs:` (or dvc.lock's deps/outs). `what` is "outs" or "deps".
Result<DvcOut> ParseOut(const Node& n, const std::string& name, const std::string& what, bool wdir_relative) {
  if (!n.is_map()) return Bad(n, name, what + ": each entry must be a mapping with path, hash and md5");
  DvcOut o;
  o.line = LineOf(n);
  const Node* path = n.Find("path");
  if (!path || !path->is_string() || path->as_string().empty())
    return Bad(n, name, what + ": an entry has no 'path'");
  o.path = path->as_string();
  if (Status bad = CheckUntrustedPath(AfterClimb(o.path, wdir_relative)); !bad.ok())
    return Bad(*path, name, what + ": path '" + o.path + "': " + bad.message() + "; forja refuses it");
  for (const char* cloud : {"etag", "version_id", "files", "checksum"})
    if (n.Find(cloud))
      return Bad(n, name, what + ": '" + o.path + "' has '" + cloud +
                              "' (a cloud-versioned or external output); forja takes over only outputs "
                              "in DVC's cache with hash md5");
  if (const Node* c = n.Find("cache")) {
    if (c->kind() != Node::Kind::kBool) return Bad(*c, name, what + ": 'cache' must be true or false");
    o.cache = c->as_bool();
  }
  if (const Node* c = n.Find("push")) {
    if (c->kind() != Node::Kind::kBool) return Bad(*c, name, what + ": 'push' must be true or false");
    o.push = c->as_bool();
  }
  if (const Node* r = n.Find("remote")) {
    if (!r->is_string() || !IsRemoteName(r->as_string()))
      return Bad(*r, name, what + ": 'remote' must be a remote name (letters, digits, - _ .)");
    o.remote = r->as_string();
    o.remote_line = LineOf(*r);
  }
  const Node* hash = n.Find("hash");
  const Node* md5 = n.Find("md5");
  if (!md5) {
    // dvc.lock lists a dep without a hash when it was missing; there is nothing to verify.
    return Bad(n, name, what + ": '" + o.path + "' has no md5; forja cannot verify it (run dvc commit, then import again)");
  }
  if (!hash)
    return Bad(n, name, what + ": '" + o.path + "' has no 'hash: md5': it was written by DVC 2, whose md5 of a text "
                                "file is taken after CRLF became LF, which forja cannot verify; run dvc cache "
                                "migrate --dvc-files with DVC 3, commit, and import again");
  if (!hash->is_string() || hash->as_string() != "md5")
    return Bad(*hash, name, what + ": '" + o.path + "' has hash '" + (hash->is_scalar() ? config::ScalarToString(*hash) : "?") +
                                "'; forja verifies only DVC 3's 'md5' (of the raw bytes)");
  if (md5->kind() == Node::Kind::kInt || md5->kind() == Node::Kind::kFloat)
    return Bad(*md5, name, what + ": '" + o.path + "': md5 is a number to YAML; write it quoted (md5: '...')");
  if (!md5->is_string()) return Bad(*md5, name, what + ": '" + o.path + "': md5 must be 32 hex digits");
  std::string m = md5->as_string();
  if (m.size() > 4 && m.compare(m.size() - 4, 4, ".dir") == 0) {
    o.is_dir = true;
    m.resize(m.size() - 4);
  }
  if (!IsMd5Hex(m))
    return Bad(*md5, name, what + ": '" + o.path + "': md5 '" + md5->as_string() +
                               "' is not 32 lowercase hex digits (with .dir for a folder)");
  o.md5 = m;
  if (const Node* s = n.Find("size")) {
    if (!ScalarU64(*s, &o.size)) return Bad(*s, name, what + ": '" + o.path + "': size must be a whole number");
    o.has_size = true;
  }
  if (const Node* f = n.Find("nfiles")) {
    if (!ScalarU64(*f, &o.nfiles)) return Bad(*f, name, what + ": '" + o.path + "': nfiles must be a whole number");
  }
  return o;
}

Result<std::vector<DvcOut>> ParseOutList(const Node* list, const std::string& name, const std::string& what,
                                         bool wdir_relative = false) {
  std::vector<DvcOut> out;
  if (!list || list->is_null()) return out;
  if (!list->is_list()) return Bad(*list, name, what + " must be a list");
  for (const auto& item : list->items()) {
    ASSIGN_OR_RETURN(DvcOut o, ParseOut(item, name, what, wdir_relative));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Result<std::vector<DvcOut>> ParseDvcFile(std::string_view text, const std::string& name) {
  ASSIGN_OR_RETURN(Node doc, config::ParseYaml(text, name));
  if (!doc.is_map()) return Status::User(name + ": expected a mapping with 'outs:'");
  for (const auto& [key, value] : doc.entries()) {
    if (key == "deps")
      return Bad(value, name, "a .dvc file with deps (made by dvc import or import-url) is not supported; "
                              "fetch its data with DVC, then forja add it");
    if (key == "wdir" && !(value.is_string() && (value.as_string() == "." || value.as_string().empty())))
      return Bad(value, name, "wdir other than '.' is not supported");
  }
  const Node* outs = doc.Find("outs");
  if (!outs) return Status::User(name + ": no 'outs:'; this is not a DVC 3 .dvc file");
  ASSIGN_OR_RETURN(auto list, ParseOutList(outs, name, "outs"));
  if (list.empty()) return Bad(*outs, name, "outs: is empty");
  return list;
}

Result<std::vector<DvcDirEntry>> ParseDvcDir(std::string_view json, const std::string& name) {
  JsonDoc doc;
  if (Status st = doc.Parse(json); !st.ok()) return Status::User(name + ": " + st.message());
  if (doc.root().kind != JsonNode::kArray) return Status::User(name + ": a .dir listing must be a JSON array");
  std::vector<DvcDirEntry> out;
  std::set<std::string> seen;
  size_t i = 0;
  for (const JsonNode* e = doc.First(doc.root()); e; e = doc.Next(*e), i++) {
    std::string at = name + ": entry " + std::to_string(i) + ": ";
    if (e->kind != JsonNode::kObject) return Status::User(at + "expected an object with md5 and relpath");
    const JsonNode* md5 = doc.Find(*e, "md5");
    const JsonNode* rel = doc.Find(*e, "relpath");
    if (!md5 || md5->kind != JsonNode::kString || !rel || rel->kind != JsonNode::kString)
      return Status::User(at + "expected string fields md5 and relpath");
    DvcDirEntry d{JsonString(*rel), JsonString(*md5)};
    if (Status bad = CheckUntrustedPath(d.relpath, PathBase::kFolder); !bad.ok())
      return Status::User(at + "relpath '" + d.relpath + "': " + bad.message());
    if (!IsMd5Hex(d.md5)) return Status::User(at + "md5 of '" + d.relpath + "' is not 32 lowercase hex digits");
    if (!seen.insert(d.relpath).second) return Status::User(at + "'" + d.relpath + "' is listed twice");
    out.push_back(std::move(d));
  }
  // A file and a folder of the same name cannot both be written.
  for (const auto& d : out)
    for (size_t slash = d.relpath.find('/'); slash != std::string::npos; slash = d.relpath.find('/', slash + 1))
      if (seen.count(d.relpath.substr(0, slash)))
        return Status::User(name + ": '" + d.relpath.substr(0, slash) + "' is listed both as a file and as a folder");
  return out;
}

Result<std::vector<DvcLockStage>> ParseDvcLock(std::string_view text, const std::string& name) {
  ASSIGN_OR_RETURN(Node doc, config::ParseYaml(text, name));
  std::vector<DvcLockStage> out;
  if (doc.is_null()) return out;
  if (!doc.is_map()) return Status::User(name + ": expected a mapping with schema and stages");
  const Node* schema = doc.Find("schema");
  if (!schema || !schema->is_string() || schema->as_string() != "2.0")
    return Status::User(name + ": only dvc.lock schema '2.0' (DVC 2 and 3) is supported");
  const Node* stages = doc.Find("stages");
  if (!stages || stages->is_null()) return out;
  if (!stages->is_map()) return Bad(*stages, name, "stages must be a mapping");
  for (const auto& [sname, s] : stages->entries()) {
    if (!s.is_map()) return Bad(s, name, "stage '" + sname + "' must be a mapping");
    bool printable = !sname.empty() && sname.size() <= 250;
    for (unsigned char c : sname) printable = printable && c >= 0x20 && c != 0x7f;
    if (!printable) return Bad(s, name, "a stage name must be 1 to 250 printable characters");
    DvcLockStage st;
    st.name = sname;
    st.line = LineOf(s);
    if (const Node* cmd = s.Find("cmd")) {
      if (cmd->is_list()) {
        for (const auto& c : cmd->items()) {
          if (!c.is_scalar()) return Bad(c, name, "stage '" + sname + "': cmd must be a string or a list of strings");
          st.cmd.push_back(config::ScalarToString(c));
        }
      } else if (cmd->is_scalar() && !cmd->is_null()) {
        st.cmd.push_back(config::ScalarToString(*cmd));
      } else {
        return Bad(*cmd, name, "stage '" + sname + "': cmd must be a string or a list of strings");
      }
    }
    ASSIGN_OR_RETURN(st.deps, ParseOutList(s.Find("deps"), name, "stage '" + sname + "': deps", true));
    ASSIGN_OR_RETURN(st.outs, ParseOutList(s.Find("outs"), name, "stage '" + sname + "': outs", true));
    if (const Node* params = s.Find("params"); params && !params->is_null()) {
      if (!params->is_map()) return Bad(*params, name, "stage '" + sname + "': params must be a mapping");
      for (const auto& [file, values] : params->entries()) {
        if (Status bad = CheckUntrustedPath(AfterClimb(file, true)); !bad.ok())
          return Bad(values, name, "stage '" + sname + "': params file '" + file + "': " + bad.message());
        if (!values.is_map()) return Bad(values, name, "stage '" + sname + "': params of " + file + " must be a mapping");
        LockParams lp;
        lp.source = file;
        st.params_lines.push_back(LineOf(values));
        for (const auto& [key, v] : values.entries()) {
          std::string j = config::ToJson(v, 0);
          std::string one;  // one line, as forja.lock keeps param values
          for (char c : j)
            if (c != '\n') one.push_back(c);
          lp.values.push_back({key, one});
        }
        st.params.push_back(std::move(lp));
      }
    }
    out.push_back(std::move(st));
  }
  return out;
}

DvcRemote* DvcConfig::Find(const std::string& name) {
  for (auto& r : remotes)
    if (r.name == name) return &r;
  return nullptr;
}

Status ParseDvcConfig(std::string_view text, const std::string& name, DvcConfig* cfg) {
  enum class Section { kNone, kCore, kRemote, kOther } section = Section::kNone;
  DvcRemote* remote = nullptr;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos), " \t\r");
    pos = nl + 1;
    line_no++;
    std::string at = name + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') return Status::User(at + "a section header must end with ']'");
      std::string_view h = Trim(line.substr(1, line.size() - 2), " \t");
      if (h.size() >= 2 && (h[0] == '\'' || h[0] == '"') && h.back() == h[0]) h = h.substr(1, h.size() - 2);
      remote = nullptr;
      if (h == "core") {
        section = Section::kCore;
      } else if (h.starts_with("remote ")) {
        std::string_view rn = Trim(h.substr(7), " \t");
        if (rn.size() < 2 || rn[0] != '"' || rn.back() != '"')
          return Status::User(at + "expected ['remote \"NAME\"']");
        std::string rname(rn.substr(1, rn.size() - 2));
        bool ok = !rname.empty() && rname.size() <= 100;
        for (char c : rname)
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
        if (!ok || rname[0] == '.')
          return Status::User(at + "remote name '" + rname + "' is not usable by forja (letters, digits, - _ .)");
        section = Section::kRemote;
        remote = cfg->Find(rname);
        if (!remote) {
          cfg->remotes.push_back(DvcRemote{rname, "", {}, name + ":" + std::to_string(line_no)});
          remote = &cfg->remotes.back();
        }
      } else {
        section = Section::kOther;  // cache, state, feature, machine ...: nothing forja needs
      }
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Status::User(at + "expected 'key = value'");
    std::string key(Trim(line.substr(0, eq), " \t"));
    std::string_view v = Trim(line.substr(eq + 1), " \t");
    if (v.size() >= 2 && (v[0] == '\'' || v[0] == '"') && v.back() == v[0]) v = v.substr(1, v.size() - 2);
    std::string value(v);
    if (section == Section::kNone) return Status::User(at + "'" + key + "' is outside any section");
    if (section == Section::kCore && key == "remote") cfg->default_remote = value;
    if (section == Section::kRemote) {
      if (key == "url") remote->url = value;
      else remote->options[key] = value;
    }
  }
  return Status::Ok();
}

std::string DvcObjectKey(const std::string& md5, bool is_dir) { return "files/md5/" + DvcLegacyKey(md5, is_dir); }

std::string DvcLegacyKey(const std::string& md5, bool is_dir) {
  return md5.substr(0, 2) + "/" + md5.substr(2) + (is_dir ? ".dir" : "");
}

namespace {

struct Md5Ctx {
  Md5Ctx() : ctx(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx, EVP_md5(), nullptr); }
  ~Md5Ctx() { EVP_MD_CTX_free(ctx); }
  Md5Ctx(const Md5Ctx&) = delete;
  Md5Ctx& operator=(const Md5Ctx&) = delete;
  void Update(const void* p, size_t n) { EVP_DigestUpdate(ctx, p, n); }
  std::string Hex() {
    unsigned char d[16];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, d, &n);
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; i++) {
      out.push_back(kHex[d[i] >> 4]);
      out.push_back(kHex[d[i] & 15]);
    }
    return out;
  }
  EVP_MD_CTX* ctx;
};

}  // namespace

std::string Md5Of(std::string_view data) {
  Md5Ctx c;
  c.Update(data.data(), data.size());
  return c.Hex();
}

Result<std::string> Md5OfFile(const std::string& path) {
  ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
  return Md5OfFd(fd.get(), path);
}

Result<std::string> Md5OfFd(int fd, const std::string& path) {
  Md5Ctx c;
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  while (true) {
    ssize_t n = ::read(fd, buf.get(), 1 << 20);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + path, errno);
    }
    if (n == 0) break;
    c.Update(buf.get(), static_cast<size_t>(n));
  }
  return c.Hex();
}

std::string JoinRelative(const std::string& base, const std::string& rel) {
  std::vector<std::string> parts;
  auto add = [&](const std::string& s) {
    size_t start = 0;
    while (start <= s.size()) {
      size_t slash = s.find('/', start);
      if (slash == std::string::npos) slash = s.size();
      std::string c = s.substr(start, slash - start);
      start = slash + 1;
      if (c.empty() || c == ".") continue;
      if (c == "..") {
        if (parts.empty()) return false;
        parts.pop_back();
      } else {
        parts.push_back(c);
      }
    }
    return true;
  };
  if (!add(base) || !add(rel)) return "";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

}  // namespace forja
