// forja remote add|remove|list|default, push, pull, fetch.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "forja/cli/cli.h"
#include "forja/core/log.h"
#include "forja/core/parallel.h"
#include "forja/core/path.h"
#include "forja/core/progress.h"
#include "forja/core/redact.h"
#include "forja/data/data.h"

namespace forja {

namespace {

using json = nlohmann::json;

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// The path from folder `from` to `to` (both absolute, normalized), e.g. "../store".
std::string RelativePath(const std::string& from, const std::string& to) {
  auto split = [](const std::string& p) {
    std::vector<std::string> parts;
    size_t i = 1;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      if (j > i) parts.push_back(p.substr(i, j - i));
      i = j + 1;
    }
    return parts;
  };
  auto a = split(from), b = split(to);
  size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) common++;
  std::string out;
  for (size_t i = common; i < a.size(); i++) out += out.empty() ? ".." : "/..";
  for (size_t i = common; i < b.size(); i++) out += (out.empty() ? "" : "/") + b[i];
  return out.empty() ? "." : out;
}

int DoRemoteAdd(GlobalOptions& g, const std::string& name, std::string url,
                const std::vector<std::string>& opts, bool make_default, bool replace) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  if (!ValidName(name))
    return Fail(Status::User("remote name '" + name + "' may use only letters, digits, '-', '_' and '.'"));
  auto lock = ws->Lock("forja remote add", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  RemoteConfig rc;
  rc.name = name;
  // A relative folder is stored relative to the repository root, so clones elsewhere work.
  if (url.find("://") == std::string::npos && !url.empty() && url[0] != '/')
    url = RelativePath(ws->root(), NormalizeAbsolute(CurrentDir() + "/" + url));
  rc.url = url;
  for (const auto& o : opts) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(Status::Usage("option '" + o + "' must look like KEY=VALUE (e.g. endpoint=http://127.0.0.1:9000)"));
    rc.options[o.substr(0, eq)] = o.substr(eq + 1);
  }
  RemoteConfig check = rc;
  if (check.url.find("://") == std::string::npos && check.url[0] != '/')
    check.url = NormalizeAbsolute(ws->root() + "/" + check.url);
  Status valid = ValidateRemoteConfig(check);  // scheme and options; connects to nothing
  if (!valid.ok()) return Fail(valid);

  std::vector<RemoteConfig> remotes = ws->config().remotes;
  bool found = false;
  for (auto& r : remotes) {
    if (r.name != name) continue;
    if (!replace)
      return Fail(Status::User("remote '" + name + "' already exists (" + r.url + "); use --force to replace it"));
    r = rc;
    found = true;
  }
  if (!found) remotes.push_back(rc);
  std::string def = ws->config().default_remote;
  if (make_default || remotes.size() == 1) def = name;
  Status st = ws->SaveRemotes(remotes, def);
  if (!st.ok()) return Fail(st);
  LogInfo("Added remote '" + name + "' -> " + rc.url + (def == name ? " (default)" : ""));
  return 0;
}

int DoRemoteRemove(GlobalOptions& g, const std::string& name) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto lock = ws->Lock("forja remote remove", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  std::vector<RemoteConfig> remotes;
  for (const auto& r : ws->config().remotes)
    if (r.name != name) remotes.push_back(r);
  if (remotes.size() == ws->config().remotes.size())
    return Fail(Status::User("no remote named '" + name + "'; see forja remote list"));
  std::string def = ws->config().default_remote == name ? "" : ws->config().default_remote;
  // Its credentials go with it (.forja/config.local).
  if (Status dropped = ws->DropLocalOptions(name); !dropped.ok()) return Fail(dropped);
  Status st = ws->SaveRemotes(remotes, def);
  if (!st.ok()) return Fail(st);
  LogInfo("Removed remote '" + name + "' (its objects are untouched)");
  return 0;
}

int DoRemoteList(bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  const auto& cfg = ws->config();
  json j = json::array();
  for (const auto& r : cfg.remotes) {
    // .forja/config.local's settings are shown as such; a credential never is.
    json local = json::object();
    for (const auto& [k, v] : r.local_options) local[k] = IsCredentialOption(k) ? "***" : RedactUri(v);
    j.push_back(json{{"name", r.name}, {"url", RedactUri(r.url)}, {"options", r.options},
                     {"local_options", local}, {"default", r.name == cfg.default_remote}});
    if (as_json) continue;
    std::string line = r.name + "\t" + RedactUri(r.url);
    for (const auto& [k, v] : r.options) line += "\t" + k + "=" + RedactUri(v);
    for (const auto& [k, v] : local.items()) line += "\t" + k + "=" + v.get<std::string>() + " (local)";
    if (r.name == cfg.default_remote) line += "\t(default)";
    Out(line);
  }
  if (as_json) OutJson(j);
  else if (cfg.remotes.empty()) LogInfo("No remotes; add one with forja remote add NAME URL");
  return 0;
}

// One setting of a remote: in forja.yaml (versioned; credentials refused) or, with
// --local, in .forja/config.local (this clone only; where credentials go).
int DoRemoteModify(GlobalOptions& g, const std::string& name, const std::string& key, const std::string& value,
                   bool local, bool unset) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  if (!unset && value.empty()) return Fail(Status::Usage("give a VALUE, or --unset to remove " + key));
  auto lock = ws->Lock("forja remote modify", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  if (local) {
    Status st = ws->SetLocalOption(name, key, unset ? "" : value);
    if (!st.ok()) return Fail(st);
    LogInfo(std::string(unset ? "Unset " : "Set ") + name + "." + key + " in " + kLocalConfigName +
            " (not versioned)");
    return 0;
  }
  std::vector<RemoteConfig> remotes = ws->config().remotes;
  RemoteConfig* r = nullptr;
  for (auto& x : remotes)
    if (x.name == name) r = &x;
  if (!r) return Fail(Status::User("no remote named '" + name + "'; see forja remote list"));
  if (key == "url") {
    if (unset) return Fail(Status::Usage("a remote needs a url; use forja remote remove"));
    r->url = value;
  } else if (unset) {
    r->options.erase(key);
  } else {
    r->options[key] = value;
  }
  RemoteConfig check = *r;
  if (check.url.find("://") == std::string::npos && !check.url.empty() && check.url[0] != '/')
    check.url = NormalizeAbsolute(ws->root() + "/" + check.url);
  Status valid = ValidateRemoteConfig(check);
  if (!valid.ok()) return Fail(valid);
  Status st = ws->SaveRemotes(remotes, ws->config().default_remote);
  if (!st.ok()) return Fail(st);
  LogInfo(std::string(unset ? "Unset " : "Set ") + name + "." + key + " in forja.yaml");
  return 0;
}

int DoRemoteDefault(GlobalOptions& g, const std::string& name) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto lock = ws->Lock("forja remote default", g.wait);
  if (!lock.ok()) return Fail(lock.status());
  if (!ws->config().FindRemote(name))
    return Fail(Status::User("no remote named '" + name + "'; see forja remote list"));
  Status st = ws->SaveRemotes(ws->config().remotes, name);
  if (!st.ok()) return Fail(st);
  LogInfo("Default remote: " + name);
  return 0;
}

enum class Verb { kPush, kFetch, kPull };

std::string Plural(uint64_t n) { return std::to_string(n) + (n == 1 ? " object" : " objects"); }

int DoTransfer(GlobalOptions& g, Verb verb, const std::vector<std::string>& paths,
               const std::string& remote, bool force, bool as_json) {
  int code = 0;
  auto ws = OpenWorkspaceOrReport(&code);
  if (!ws) return code;
  auto rels = ResolveAll(*ws, paths);
  if (!rels.ok()) return Fail(rels.status());
  const char* name = verb == Verb::kPush ? "push" : verb == Verb::kFetch ? "fetch" : "pull";
  auto lock = ws->Lock(std::string("forja ") + name, g.wait);
  if (!lock.ok()) return Fail(lock.status());
  auto res = verb == Verb::kPush ? Push(*ws, *rels, remote, g.jobs) : Fetch(*ws, *rels, remote, g.jobs);
  if (!res.ok()) return Fail(res.status());
  std::string moved = Plural(res->transferred) + " (" + HumanBytes(res->bytes) + ")";
  if (verb == Verb::kPush)
    LogInfo("Pushed " + moved + " to '" + res->remote + "'; " + std::to_string(res->present) + " were already there.");
  else
    LogInfo("Fetched " + moved + " from '" + res->remote + "'; " + std::to_string(res->present) + " were already cached.");
  uint64_t written = 0, removed = 0;
  if (verb == Verb::kPull) {
    auto co = Checkout(*ws, *rels, force, g.jobs > 0 ? g.jobs : DefaultJobs());
    if (!co.ok()) return Fail(co.status());
    for (const auto& r : *co) {
      written += r.written;
      removed += r.removed;
      if (r.written || r.removed)
        LogInfo(r.rel + ": " + std::to_string(r.written) + (r.written == 1 ? " file" : " files") +
                " written, " + std::to_string(r.removed) + " removed");
    }
  }
  if (as_json) {
    json j = {{"remote", res->remote}, {"transferred", res->transferred}, {"bytes", res->bytes}, {"present", res->present}};
    if (verb == Verb::kPull) {
      j["written"] = written;
      j["removed"] = removed;
    }
    OutJson(j);
  }
  return 0;
}

}  // namespace

void RegisterRemoteCommands(CLI::App& app, GlobalOptions& g, Action* action) {
  auto* remote = app.add_subcommand("remote", "Manage remotes: where push sends objects and pull fetches them");
  remote->require_subcommand(1);
  remote->footer(std::string(
      "A remote is a folder (an absolute path, a path relative to the repository root, or an NFS\n"
      "mount) or an S3-compatible bucket: s3://bucket/prefix with options endpoint, region,\n"
      "profile, addressing (path|virtual), retries. S3 credentials come from AWS_ACCESS_KEY_ID /\n"
      "AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) or ~/.aws/credentials (AWS_PROFILE), or from\n"
      ".forja/config.local (forja remote modify --local NAME secret_access_key VALUE; never\n"
      "versioned), never from forja.yaml: a url or endpoint with user:password@ and credential\n"
      "options are refused there. Objects keep the cache layout: <prefix>/sha256/ab/cdef...\n\n") + kExitCodesHelp);
  {
    auto* c = remote->add_subcommand("add", "Add a remote to forja.yaml");
    auto name = std::make_shared<std::string>();
    auto url = std::make_shared<std::string>();
    auto opts = std::make_shared<std::vector<std::string>>();
    auto def = std::make_shared<bool>(false);
    auto replace = std::make_shared<bool>(false);
    c->add_option("name", *name, "Remote name (letters, digits, - _ .)")->required();
    c->add_option("url", *url, "Folder path, file:///path, or s3://bucket/prefix")->required();
    c->add_option("-o,--option", *opts, "KEY=VALUE setting, e.g. endpoint=http://127.0.0.1:9000, region=eu-west-1")
        ->type_name("KEY=VALUE");
    c->add_flag("-d,--default", *def, "Make it the default remote (the first remote always is)");
    c->add_flag("-f,--force", *replace, "Replace a remote of the same name");
    c->callback([=, &g] { *action = [=, &g] { return DoRemoteAdd(g, *name, *url, *opts, *def, *replace); }; });
  }
  {
    auto* c = remote->add_subcommand("remove", "Remove a remote from forja.yaml (its objects stay)");
    auto name = std::make_shared<std::string>();
    c->add_option("name", *name, "Remote name")->required();
    c->callback([=, &g] { *action = [=, &g] { return DoRemoteRemove(g, *name); }; });
  }
  {
    auto* c = remote->add_subcommand("list", "List remotes");
    auto as_json = std::make_shared<bool>(false);
    c->add_flag("--json", *as_json, "Print a JSON array: name, url, options, default");
    c->callback([=] { *action = [=] { return DoRemoteList(*as_json); }; });
  }
  {
    auto* c = remote->add_subcommand("modify", "Set or unset one setting of a remote (--local: in .forja/config.local)");
    auto name = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    auto value = std::make_shared<std::string>();
    auto local = std::make_shared<bool>(false);
    auto unset = std::make_shared<bool>(false);
    c->add_option("name", *name, "Remote name")->required();
    c->add_option("key", *key, "url, an option (endpoint, region, profile, ...) or, with --local, a credential "
                               "(access_key_id, secret_access_key, session_token)")->required();
    c->add_option("value", *value, "The new value");
    c->add_flag("--local", *local, "Write .forja/config.local (this clone only, mode 0600, never versioned): "
                                   "where credentials go");
    c->add_flag("-u,--unset", *unset, "Remove the setting");
    c->footer("forja.yaml is versioned, so it refuses credentials; .forja/config.local holds them for this clone\n"
              "(as DVC's config.local). Example:\n"
              "  forja remote modify --local s3 access_key_id AKIA...\n"
              "  forja remote modify --local s3 secret_access_key ...");
    c->callback([=, &g] { *action = [=, &g] { return DoRemoteModify(g, *name, *key, *value, *local, *unset); }; });
  }
  {
    auto* c = remote->add_subcommand("default", "Set the default remote");
    auto name = std::make_shared<std::string>();
    c->add_option("name", *name, "Remote name")->required();
    c->callback([=, &g] { *action = [=, &g] { return DoRemoteDefault(g, *name); }; });
  }
  struct VerbInfo {
    Verb verb;
    const char* name;
    const char* help;
    const char* footer;
  };
  const VerbInfo verbs[] = {
      {Verb::kPush, "push", "Upload the objects of tracked paths that the remote lacks",
       "Only objects the remote lacks are sent; a folder's manifest goes last, so an interrupted\n"
       "push resumes by skipping what arrived. S3 uploads are signed with SigV4, large objects go\n"
       "in multipart uploads, and failures (timeouts, 5xx, 429, SlowDown) are retried with\n"
       "exponential backoff and jitter.\n\n"},
      {Verb::kFetch, "fetch", "Download the objects of tracked paths into the cache (workspace untouched)",
       "Only objects the cache lacks are downloaded; each is re-hashed and rejected when its hash\n"
       "differs from its name. An interrupted fetch resumes by skipping what arrived.\n\n"},
      {Verb::kPull, "pull", "fetch, then checkout",
       "Downloads what the cache lacks (verifying every object's hash), then makes the workspace\n"
       "match the pointer files as forja checkout does. Data taken over from DVC (forja import dvc)\n"
       "that the remote holds only in DVC's layout (files/md5/ab/cdef...) is fetched by its md5,\n"
       "checked against it, and its SHA-256 written into a pointer that lacked one.\n\n"},
  };
  for (const auto& v : verbs) {
    auto* c = app.add_subcommand(v.name, v.help);
    auto paths = std::make_shared<std::vector<std::string>>();
    auto rname = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false);
    c->add_option("paths", *paths, "Tracked paths (default: all)")->type_name("PATH");
    c->add_option("-r,--remote", *rname, "Remote name (default: the default remote)")->type_name("NAME");
    c->add_option("-j,--jobs", g.jobs, "Parallel transfers (default: 16 for S3, 2x cores for folders)");
    c->add_flag("--json", *as_json, "Print the summary as JSON");
    if (v.verb == Verb::kPull) c->add_flag("-f,--force", *force, "Overwrite workspace changes forja has not stored");
    c->footer(std::string(v.footer) + kExitCodesHelp);
    Verb verb = v.verb;
    c->callback([=, &g] { *action = [=, &g] { return DoTransfer(g, verb, *paths, *rname, *force, *as_json); }; });
  }
}

}  // namespace forja
