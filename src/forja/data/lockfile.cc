#include "forja/data/lockfile.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

#include "forja/core/crash_point.h"
#include "forja/core/fs.h"
#include "forja/core/json.h"
#include "forja/core/path.h"

namespace forja {

const LockStage* Lock::Find(std::string_view name) const {
  auto it = std::lower_bound(stages.begin(), stages.end(), name,
                             [](const LockStage& s, std::string_view n) { return s.name < n; });
  return it != stages.end() && it->name == name ? &*it : nullptr;
}

void Lock::Put(LockStage stage) {
  auto it = std::lower_bound(stages.begin(), stages.end(), stage.name,
                             [](const LockStage& s, const std::string& n) { return s.name < n; });
  if (it != stages.end() && it->name == stage.name) *it = std::move(stage);
  else stages.insert(it, std::move(stage));
}

bool Lock::Erase(std::string_view name) {
  auto it = std::lower_bound(stages.begin(), stages.end(), name,
                             [](const LockStage& s, std::string_view n) { return s.name < n; });
  if (it == stages.end() || it->name != name) return false;
  stages.erase(it);
  return true;
}

Pointer PointerOf(const LockFile& f) {
  Pointer p;
  p.path = Basename(f.path);
  p.is_dir = f.is_dir;
  p.oid = f.oid;
  p.size = f.size;
  p.files = f.files;
  p.dvc_md5 = f.dvc_md5;
  p.push = f.push;
  p.remote = f.remote;
  return p;
}

namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

bool Hex4(std::string_view s, uint32_t* v) {
  if (s.size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    *v = *v * 16 + d;
  }
  return true;
}

}  // namespace

bool ParseQuoted(std::string_view s, std::string* out, std::string_view* rest) {
  if (s.empty() || s[0] != '"') return false;
  out->clear();
  size_t i = 1;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      *rest = s.substr(i + 1);
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      i++;
      continue;
    }
    if (i + 1 >= s.size()) return false;
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(s.substr(i), &cp)) return false;
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {  // a surrogate pair
          uint32_t lo;
          if (s.substr(i, 2) != "\\u" || !Hex4(s.substr(i + 2), &lo) || lo < 0xdc00 || lo >= 0xe000) return false;
          i += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
          return false;
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

namespace {

void AppendFile(const LockFile& f, bool is_out, std::string* out) {
  out->append("      - path: ");
  AppendJsonString(out, f.path, JsonBytes::kKeep);
  out->push_back('\n');
  if (f.is_dir) out->append("        kind: dir\n");
  out->append("        hash: sha256:").append(f.oid.Hex()).push_back('\n');
  if (!f.dvc_md5.empty()) out->append("        dvc-md5: ").append(QuoteMd5(f.dvc_md5)).push_back('\n');
  out->append("        size: ").append(std::to_string(f.size)).push_back('\n');
  if (f.is_dir) out->append("        files: ").append(std::to_string(f.files)).push_back('\n');
  if (is_out && !f.cache) out->append("        cache: false\n");
  if (is_out && f.metric) out->append("        metric: true\n");
  if (is_out && f.plot) out->append("        plot: true\n");
  if (is_out && !f.push) out->append("        push: false\n");
  if (is_out && !f.remote.empty()) out->append("        remote: ").append(f.remote).push_back('\n');
}

// A stage name or params source is written plain when YAML reads it back as
// the same string, quoted otherwise.
void AppendKey(std::string_view k, std::string* out) {
  bool plain = !k.empty();
  for (char c : k)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@' || c == '/'))
      plain = false;
  if (plain && (k[0] == '@' || k[0] == '-' || k[0] == '.' || k == "true" || k == "false" || k == "null" ||
                k == "yes" || k == "no" || k == "on" || k == "off" || isdigit(static_cast<unsigned char>(k[0]))))
    plain = false;
  if (plain) out->append(k);
  else AppendJsonString(out, k, JsonBytes::kKeep);
}

}  // namespace

std::string SerializeLock(const Lock& lock) {
  std::string out =
      "# forja.lock: what each pipeline stage consumed and produced when it last ran.\n"
      "# Written by forja run; commit it with your code.\n"
      "schema: 1\n";
  if (lock.stages.empty()) {
    out += "stages: {}\n";
    return out;
  }
  out += "stages:\n";
  for (const LockStage& s : lock.stages) {
    out += "  ";
    AppendKey(s.name, &out);
    out += ":\n";
    if (s.cmd.size() == 1) {
      out += "    cmd: ";
      AppendJsonString(&out, s.cmd[0], JsonBytes::kKeep);
      out += '\n';
    } else {
      out += "    cmd:\n";
      for (const auto& c : s.cmd) {
        out += "      - ";
        AppendJsonString(&out, c, JsonBytes::kKeep);
        out += '\n';
      }
    }
    if (!s.deps.empty()) {
      out += "    deps:\n";
      for (const auto& d : s.deps) AppendFile(d, false, &out);
    }
    if (!s.params.empty()) {
      out += "    params:\n";
      for (const auto& p : s.params) {
        out += "      ";
        AppendKey(p.source, &out);
        out += ":\n";
        for (const auto& v : p.values) {
          out += "        ";
          AppendJsonString(&out, v.key, JsonBytes::kKeep);
          out += ": ";
          out += v.value_json;
          out += '\n';
        }
      }
    }
    if (!s.outs.empty()) {
      out += "    outs:\n";
      for (const auto& o : s.outs) AppendFile(o, true, &out);
    }
  }
  return out;
}

namespace {

// One line of the lock: its indentation, an optional "- ", and "key: value".
struct Line {
  int indent = 0;
  bool item = false;
  std::string key;
  std::string_view value;  // after ": ", trimmed; may be empty
};

class LockParser {
 public:
  LockParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Result<Lock> Parse() {
    Lock lock;
    bool seen_stages = false;
    while (Next()) {
      if (line_.indent == 0 && !line_.item && line_.key == "schema") {
        if (line_.value != "1")
          return Err("schema " + std::string(line_.value) + " is not supported (this forja reads schema 1); upgrade forja");
      } else if (line_.indent == 0 && !line_.item && line_.key == "stages") {
        seen_stages = true;
        if (!line_.value.empty() && line_.value != "{}") return Err("stages: expected a mapping of stage names");
      } else if (line_.indent == 2 && !line_.item && seen_stages && line_.value.empty()) {
        LockStage st;
        st.name = line_.key;
        RETURN_IF_ERROR(ParseStage(&st));
        if (lock.Find(st.name)) return Err("stage '" + st.name + "' appears twice; resolve the merge");
        lock.Put(std::move(st));
      } else {
        return Err("unexpected '" + line_.key + "'; the file may have been edited or merged by hand: "
                   "resolve it, or delete it and run forja run");
      }
    }
    RETURN_IF_ERROR(status_);
    return lock;
  }

 private:
  Status ParseStage(LockStage* st) {
    bool seen_cmd = false;
    while (Next()) {
      if (line_.indent <= 2) {
        Unread();
        break;
      }
      if (line_.indent != 4 || line_.item) return Err("unexpected indentation in stage '" + st->name + "'");
      if (line_.key == "cmd") {
        seen_cmd = true;
        if (!line_.value.empty()) {
          std::string c;
          RETURN_IF_ERROR(Quoted(line_.value, &c, "cmd"));
          st->cmd.push_back(std::move(c));
        } else {
          while (Peek() && line_.indent == 6 && line_.item && line_.key.empty()) {
            std::string c;
            RETURN_IF_ERROR(Quoted(line_.value, &c, "cmd"));
            st->cmd.push_back(std::move(c));
          }
          Unread();
          if (st->cmd.empty()) return Err("cmd: expected a command");
        }
      } else if (line_.key == "deps" || line_.key == "outs") {
        bool outs = line_.key == "outs";
        RETURN_IF_ERROR(ParseFiles(outs ? &st->outs : &st->deps, outs));
      } else if (line_.key == "params") {
        RETURN_IF_ERROR(ParseParams(&st->params));
      } else {
        return Err("unknown field '" + line_.key + "' in stage '" + st->name + "'");
      }
    }
    RETURN_IF_ERROR(status_);
    if (!seen_cmd) return Status::User(name_ + ": stage '" + st->name + "' has no cmd; delete the file and run forja run");
    return Status::Ok();
  }

  Status ParseFiles(std::vector<LockFile>* files, bool outs) {
    while (Peek() && line_.indent >= 6) {
      if (line_.item) {
        if (line_.indent != 6 || line_.key != "path") return Err("expected '- path: \"...\"'");
        LockFile f;
        RETURN_IF_ERROR(Quoted(line_.value, &f.path, "path"));
        // A committed lock is not forja's own: its paths name what pull and
        // checkout write and delete.
        if (Status bad = CheckUntrustedPath(f.path); !bad.ok())
          return Err(std::string(outs ? "outs" : "deps") + ": " + bad.message() +
                     "; fix or delete forja.lock and run forja run");
        bool seen_hash = false;
        while (Peek() && line_.indent == 8 && !line_.item) {
          std::string_view v = line_.value;
          if (line_.key == "kind") {
            if (v == "dir") f.is_dir = true;
            else if (v != "file") return Err("kind must be file or dir");
          } else if (line_.key == "hash") {
            auto oid = v.substr(0, 7) == "sha256:" ? Oid::FromHex(v.substr(7)) : std::nullopt;
            if (!oid) return Err("hash must be sha256: and 64 hex digits");
            f.oid = *oid;
            seen_hash = true;
          } else if (line_.key == "dvc-md5") {
            v = UnquoteMd5(v);
            if (!IsMd5Hex(v)) return Err("dvc-md5 must be 32 lowercase hex digits");
            f.dvc_md5 = std::string(v);
          } else if (line_.key == "size" || line_.key == "files") {
            uint64_t n = 0;
            auto r = std::from_chars(v.data(), v.data() + v.size(), n);
            if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) return Err(line_.key + " must be a whole number");
            (line_.key == "size" ? f.size : f.files) = n;
          } else if (outs && (line_.key == "cache" || line_.key == "metric" || line_.key == "plot" || line_.key == "push")) {
            if (v != "true" && v != "false") return Err(line_.key + " must be true or false");
            (line_.key == "cache" ? f.cache : line_.key == "metric" ? f.metric : line_.key == "plot" ? f.plot : f.push) =
                v == "true";
          } else if (outs && line_.key == "remote") {
            if (!IsRemoteName(v)) return Err("remote must be a remote name (letters, digits, - _ .)");
            f.remote = std::string(v);
          } else {
            return Err("unknown field '" + line_.key + "'");
          }
        }
        if (!seen_hash) return Err("'" + f.path + "' has no hash");
        files->push_back(std::move(f));
        Unread();
      } else {
        return Err("expected '- path: \"...\"'");
      }
    }
    Unread();
    return Status::Ok();
  }

  Status ParseParams(std::vector<LockParams>* params) {
    while (Peek() && line_.indent >= 6) {
      if (line_.indent != 6 || line_.item || !line_.value.empty()) return Err("expected a params source ('config:' or a file name)");
      LockParams p;
      p.source = line_.key;
      if (Status bad = CheckUntrustedPath(p.source); p.source != kComposedParams && !bad.ok())
        return Err("params: " + bad.message() + "; fix or delete forja.lock and run forja run");
      while (Peek() && line_.indent == 8 && !line_.item) {
        if (line_.value.empty()) return Err("param '" + line_.key + "' has no value");
        for (char c : line_.value)
          if (static_cast<unsigned char>(c) < 0x20) return Err("param '" + line_.key + "': a value is one line of JSON");
        p.values.push_back({line_.key, std::string(line_.value)});
      }
      Unread();
      params->push_back(std::move(p));
    }
    Unread();
    return Status::Ok();
  }

  Status Quoted(std::string_view v, std::string* out, const char* field) {
    std::string_view rest;
    if (!ParseQuoted(v, out, &rest) || !rest.empty()) return Err(std::string(field) + ": expected a \"quoted\" string");
    return Status::Ok();
  }

  // Reads the next non-blank line into line_; false at the end or on a
  // malformed line (then status_ is set and parsing stops).
  bool Next() {
    if (unread_) {
      unread_ = false;
      return have_;
    }
    have_ = ReadLine();
    return have_;
  }
  // Next(), for loops that may hand the line back with Unread().
  bool Peek() { return Next(); }
  void Unread() { unread_ = true; }

  bool ReadLine() {
    while (pos_ < text_.size()) {
      size_t nl = text_.find('\n', pos_);
      if (nl == std::string_view::npos) nl = text_.size();
      std::string_view s = text_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      line_no_++;
      while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
      size_t ind = s.find_first_not_of(' ');
      if (ind == std::string_view::npos || s[ind] == '#') continue;
      line_ = Line{};
      line_.indent = static_cast<int>(ind);
      s.remove_prefix(ind);
      if (s.size() >= 2 && s[0] == '-' && s[1] == ' ') {
        line_.item = true;
        s.remove_prefix(2);
        std::string scratch;
        std::string_view after;
        if (!s.empty() && s[0] == '"' && ParseQuoted(s, &scratch, &after) && after.empty()) {
          line_.value = s;  // a list item: - "..."
          return true;
        }
      }
      std::string_view rest;
      if (!s.empty() && s[0] == '"') {
        if (!ParseQuoted(s, &line_.key, &rest)) return Fail("malformed quoted string");
      } else {
        size_t colon = s.find(':');
        if (colon == std::string_view::npos) return Fail("expected 'field: value'");
        line_.key = std::string(s.substr(0, colon));
        rest = s.substr(colon);
      }
      if (rest.empty() || rest[0] != ':') return Fail("expected ':' after '" + line_.key + "'");
      rest.remove_prefix(1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
      line_.value = rest;
      return true;
    }
    return false;
  }

  bool Fail(const std::string& what) {
    status_ = Err(what);
    return false;
  }
  Status Err(const std::string& what) const {
    return Status::User(name_ + ":" + std::to_string(line_no_) + ": " + what);
  }

 public:
  Status status() const { return status_; }

 private:
  std::string_view text_;
  std::string name_;
  size_t pos_ = 0;
  int line_no_ = 0;
  Line line_;
  bool unread_ = false, have_ = false;
  Status status_;
};

}  // namespace

Result<Lock> ParseLock(std::string_view text, const std::string& name) {
  LockParser p(text, name);
  auto lock = p.Parse();
  if (!p.status().ok()) return p.status();
  return lock;
}

Result<Lock> ReadLock(const std::string& root) {
  std::string path = root + "/" + std::string(kLockName);
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (!Exists(path)) return Lock{};
    return text.status();
  }
  return ParseLock(*text, std::string(kLockName));
}

namespace {

// A forja killed while writing forja.lock leaves its temp file
// (.forja.lock.tmp-<pid>-<n>) in the repository root, where `git status` shows it
// and `git add -A` would commit it: the next writer removes those of dead writers.
void RemoveDeadWritersTemps(const std::string& root) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root.c_str()), ::closedir);
  if (!dir) return;
  const std::string prefix = "." + std::string(kLockName) + ".tmp-";
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view name = e->d_name;
    if (!name.starts_with(prefix) || !IsTempName(name)) continue;
    int pid = 0;
    std::from_chars(name.data() + prefix.size(), name.data() + name.size(), pid);
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH)
      ::unlinkat(::dirfd(dir.get()), e->d_name, 0);  // best effort: a leftover is only clutter
  }
}

}  // namespace

Status WriteLock(const std::string& root, const Lock& lock, bool durable) {
  std::string path = root + "/" + std::string(kLockName);
  ASSIGN_OR_RETURN(TempFile tmp, TempFile::CreateBeside(path));
  RETURN_IF_ERROR(tmp.Write(SerializeLock(lock)));
  CrashPoint("run.lock_before_rename");  // the new lock whole in its temp file, forja.lock still old
  // durable: fsync, rename, fsync of the folder (as WriteFileAtomic)
  RETURN_IF_ERROR(tmp.Publish(durable));
  RemoveDeadWritersTemps(root);
  return Status::Ok();
}

}  // namespace forja
