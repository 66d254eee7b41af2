#include "forja/agent/triggers.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "forja/core/path.h"

namespace forja::agent {
namespace {

using config::Node;

// A key as shown in an error: control bytes escaped, so the error stays one line.
std::string Printable(const std::string& key) {
  std::string out;
  for (char c : key.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

Status Err(const std::string& file, const Node& at, const std::string& field, const std::string& what) {
  return Status::User((at.origin().empty() ? file : at.origin()) + ": " + field + ": " + what);
}

Result<std::string> Str(const std::string& file, const Node& n, const std::string& field) {
  switch (n.kind()) {
    case Node::Kind::kString:
      // Values are quoted in errors and passed to commands: one line of text, not too long.
      if (n.as_string().size() > 4096) return Err(file, n, field, "too long (at most 4096 bytes)");
      for (char c : n.as_string())
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Err(file, n, field, "must be one line of text");
      return n.as_string();
    case Node::Kind::kInt: return std::to_string(n.as_int());
    case Node::Kind::kFloat:
    case Node::Kind::kBool: return config::ScalarToString(n);
    default: return Err(file, n, field, "must be a single value");
  }
}

Result<std::vector<std::string>> StrList(const std::string& file, const Node& n, const std::string& field) {
  std::vector<std::string> out;
  if (n.is_null()) return out;
  if (n.is_scalar()) {
    ASSIGN_OR_RETURN(std::string s, Str(file, n, field));
    out.push_back(s);
    return out;
  }
  if (!n.is_list()) return Err(file, n, field, "must be a list of values");
  for (const Node& item : n.items()) {
    ASSIGN_OR_RETURN(std::string s, Str(file, item, field));
    out.push_back(s);
  }
  return out;
}

Result<int64_t> Duration(const std::string& file, const Node& n, const std::string& field) {
  ASSIGN_OR_RETURN(std::string s, Str(file, n, field));
  auto d = ParseDuration(s);
  if (!d.ok()) return Err(file, n, field, d.status().message());
  return *d;
}

Result<int> Count(const std::string& file, const Node& n, const std::string& field, int lo, int hi) {
  if (n.kind() != Node::Kind::kInt || n.as_int() < lo || n.as_int() > hi)
    return Err(file, n, field, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(n.as_int());
}

bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

const char* const kKinds = "cron, interval, data, git, alert";
const std::set<std::string> kKindKeys = {"cron", "interval", "data", "git", "alert"};
const std::set<std::string> kOtherKeys = {"tz",      "branch",   "catchup", "grace",   "retries",  "backoff",
                                          "pipeline", "targets", "overrides", "force", "register", "promote"};

Status ParseMapping(const std::string& file, const Node& n, const std::string& field,
                    const std::set<std::string>& known, std::vector<std::pair<std::string, const Node*>>* out) {
  if (!n.is_map()) return Err(file, n, field, "must be a mapping");
  for (const auto& [k, v] : n.entries()) {
    if (!known.count(k)) {
      std::string list;
      for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
      return Err(file, v, field + "." + Printable(k), "unknown field (known: " + list + ")");
    }
    out->emplace_back(k, &v);
  }
  return Status::Ok();
}

// A path forja.yaml names inside the workspace (forja.yaml comes with a clone: hostile),
// spelled one way ("data/x", not "./data/x/") and checked by the one path validator. It
// reaches child commands' arguments, so it may not look like an option either.
// `root_ok`: "." (the workspace itself) is allowed.
Status WorkspacePath(const std::string& file, const Node& v, const std::string& field, const char* example,
                     bool root_ok, std::string* p) {
  while (p->size() > 1 && p->back() == '/') p->pop_back();
  while (p->rfind("./", 0) == 0 && p->size() > 2) p->erase(0, 2);
  if (root_ok && *p == ".") return Status::Ok();
  if (p->starts_with("-") || !CheckUntrustedPath(*p).ok()) return Err(file, v, field, example);
  return Status::Ok();
}

Status ParseKind(const std::string& file, const std::string& f, const std::string& key, const Node& v, Trigger* t) {
  if (key == "cron") {
    t->kind = TriggerKind::kCron;
    ASSIGN_OR_RETURN(std::string text, Str(file, v, f + ".cron"));
    auto spec = ParseCron(text);
    if (!spec.ok()) return Err(file, v, f + ".cron", spec.status().message());
    t->cron = *spec;
  } else if (key == "interval") {
    t->kind = TriggerKind::kInterval;
    ASSIGN_OR_RETURN(t->interval_s, Duration(file, v, f + ".interval"));
  } else if (key == "data") {
    t->kind = TriggerKind::kData;
    if (v.is_map()) {
      std::vector<std::pair<std::string, const Node*>> fields;
      RETURN_IF_ERROR(ParseMapping(file, v, f + ".data", {"remote"}, &fields));
      for (const auto& [k, n] : fields) {
        ASSIGN_OR_RETURN(t->data_remote, Str(file, *n, f + ".data." + k));
      }
      if (!SafeName(t->data_remote))
        return Err(file, v, f + ".data", "needs remote: a forja remote's name, e.g. {remote: store}");
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(t->data_path, Str(file, v, f + ".data"));
    RETURN_IF_ERROR(WorkspacePath(file, v, f + ".data",
                                  "must be a tracked path inside the workspace, e.g. data/train.csv", false,
                                  &t->data_path));
  } else if (key == "git") {
    t->kind = TriggerKind::kGit;
    std::vector<std::pair<std::string, const Node*>> fields;
    RETURN_IF_ERROR(ParseMapping(file, v, f + ".git", {"remote", "branch"}, &fields));
    for (const auto& [k, n] : fields) {
      ASSIGN_OR_RETURN(std::string s, Str(file, *n, f + ".git." + k));
      (k == "remote" ? t->git_remote : t->branch) = s;
    }
    if (t->git_remote.empty() || t->branch.empty())
      return Err(file, v, f + ".git", "needs remote and branch, e.g. {remote: origin, branch: main}");
    if (t->git_remote[0] == '-' || t->branch[0] == '-' || t->branch.find("..") != std::string::npos)
      return Err(file, v, f + ".git", "remote and branch must not start with '-' or hold '..'");
  } else {
    t->kind = TriggerKind::kAlert;
    if (v.is_null()) return Status::Ok();
    std::vector<std::pair<std::string, const Node*>> fields;
    RETURN_IF_ERROR(ParseMapping(file, v, f + ".alert", {"model", "name"}, &fields));
    for (const auto& [k, n] : fields) {
      ASSIGN_OR_RETURN(std::string s, Str(file, *n, f + ".alert." + k));
      (k == "model" ? t->alert_model : t->alert_name) = s;
    }
  }
  return Status::Ok();
}

Status ParseOther(const std::string& file, const std::string& f, const std::string& key, const Node& v, Trigger* t) {
  const std::string field = f + "." + key;
  if (key == "tz") {
    ASSIGN_OR_RETURN(t->tz_name, Str(file, v, field));
    auto tz = TimeZone::Load(t->tz_name);
    if (!tz.ok()) return Err(file, v, field, tz.status().message().substr(4));
  } else if (key == "branch") {
    ASSIGN_OR_RETURN(t->branch, Str(file, v, field));
    if (t->branch.empty() || t->branch[0] == '-' || t->branch.find("..") != std::string::npos)
      return Err(file, v, field, "must be a branch name");
  } else if (key == "catchup") {
    ASSIGN_OR_RETURN(std::string s, Str(file, v, field));
    if (s != "skip" && s != "once") return Err(file, v, field, "'" + s + "' is not skip or once");
    t->catchup = s == "once" ? Catchup::kOnce : Catchup::kSkip;
  } else if (key == "grace") {
    ASSIGN_OR_RETURN(t->grace_s, Duration(file, v, field));
  } else if (key == "retries") {
    ASSIGN_OR_RETURN(t->retries, Count(file, v, field, 0, 10));
  } else if (key == "backoff") {
    ASSIGN_OR_RETURN(t->backoff_s, Duration(file, v, field));
  } else if (key == "pipeline") {
    ASSIGN_OR_RETURN(t->action.pipeline, Str(file, v, field));
    // One spelling per folder, so "no two runs of one pipeline" compares like with like.
    RETURN_IF_ERROR(WorkspacePath(file, v, field, "must be a folder inside the workspace", true, &t->action.pipeline));
  } else if (key == "targets") {
    ASSIGN_OR_RETURN(t->action.targets, StrList(file, v, field));
    for (const auto& s : t->action.targets)
      if (s.empty() || s[0] == '-' || s.find('=') != std::string::npos)
        return Err(file, v, field, "'" + s + "' is not a stage name");
  } else if (key == "overrides") {
    ASSIGN_OR_RETURN(t->action.overrides, StrList(file, v, field));
    for (const auto& s : t->action.overrides)
      if (s.find('=') == std::string::npos && (s.empty() || s[0] != '~'))
        return Err(file, v, field, "'" + s + "' is not an override (key=value, +key=value or ~key)");
  } else if (key == "force") {
    if (v.kind() != Node::Kind::kBool) return Err(file, v, field, "must be true or false");
    t->action.force = v.as_bool();
  } else if (key == "register") {
    std::vector<std::pair<std::string, const Node*>> fields;
    RETURN_IF_ERROR(ParseMapping(file, v, field, {"model", "path"}, &fields));
    for (const auto& [k, n] : fields) {
      ASSIGN_OR_RETURN(std::string s, Str(file, *n, field + "." + k));
      (k == "model" ? t->action.register_model : t->action.register_path) = s;
    }
    if (!SafeName(t->action.register_model) || t->action.register_path.empty())
      return Err(file, v, field, "needs model (a name) and path (the package folder), e.g. {model: churn, path: model}");
    RETURN_IF_ERROR(WorkspacePath(file, v, field + ".path", "the package folder inside the workspace, e.g. model", false,
                                  &t->action.register_path));
  } else if (key == "promote") {
    std::vector<std::pair<std::string, const Node*>> fields;
    RETURN_IF_ERROR(ParseMapping(file, v, field, {"to"}, &fields));
    for (const auto& [k, n] : fields) {
      ASSIGN_OR_RETURN(t->action.promote.to, Str(file, *n, field + "." + k));
    }
    const std::string& to = t->action.promote.to;
    if (to.empty() || to[0] == '-')
      return Err(file, v, field, "needs to: a stage (staging, production) or @alias");
  }
  return Status::Ok();
}

Result<Trigger> ParseTrigger(const std::string& file, const std::string& name, const Node& n) {
  const std::string f = "triggers." + Printable(name);
  if (!SafeName(name)) return Err(file, n, f, "a trigger's name is letters, digits, '-', '_' and '.'");
  if (!n.is_map()) return Err(file, n, f, "must be a mapping with one of: " + std::string(kKinds));
  Trigger t;
  t.name = name;
  t.origin = n.origin().empty() ? file : n.origin();
  std::string kind_key;
  for (const auto& [k, v] : n.entries()) {
    if (kKindKeys.count(k)) {
      if (!kind_key.empty())
        return Err(file, v, f, "has both " + kind_key + " and " + k + "; a trigger has one kind (make two triggers)");
      kind_key = k;
      RETURN_IF_ERROR(ParseKind(file, f, k, v, &t));
    } else if (kOtherKeys.count(k)) {
      RETURN_IF_ERROR(ParseOther(file, f, k, v, &t));
    } else {
      return Err(file, v, f + "." + Printable(k),
                 "unknown trigger kind or field (kinds: " + std::string(kKinds) +
                     "; fields: tz, branch, catchup, grace, retries, backoff, pipeline, targets, overrides, force, "
                     "register, promote)");
    }
  }
  if (kind_key.empty()) return Err(file, n, f, "says no kind: give one of " + std::string(kKinds));
  if (!t.tz_name.empty() && t.kind != TriggerKind::kCron) return Err(file, n, f + ".tz", "only cron triggers have a time zone");
  if (!t.branch.empty() && t.kind != TriggerKind::kGit && (t.kind != TriggerKind::kData || !t.data_remote.empty()))
    return Err(file, n, f + ".branch", "only data triggers on a tracked path take branch");
  if (t.kind == TriggerKind::kInterval && t.interval_s < 60)
    return Err(file, n, f + ".interval", "must be at least 1m");
  if (!t.action.promote.to.empty() && t.action.register_model.empty())
    return Err(file, n, f + ".promote", "needs register: (promote moves the version the run registered)");
  return t;
}

// Two triggers that start the same action on the same signal would run it twice.
std::string Overlap(const Trigger& a, const Trigger& b) {
  if (a.kind != b.kind || a.Spec() != b.Spec()) return "";
  const Action &x = a.action, &y = b.action;
  if (x.pipeline != y.pipeline || x.targets != y.targets || x.overrides != y.overrides) return "";
  return "overlaps trigger " + a.name + " (" + a.origin + "): same " + KindName(a.kind) +
         " and same pipeline run; remove one";
}

}  // namespace

const char* KindName(TriggerKind k) {
  switch (k) {
    case TriggerKind::kCron: return "cron";
    case TriggerKind::kInterval: return "interval";
    case TriggerKind::kData: return "data";
    case TriggerKind::kGit: return "git";
    case TriggerKind::kAlert: return "alert";
  }
  return "?";
}

std::string Trigger::Spec() const {
  switch (kind) {
    case TriggerKind::kCron: return "cron " + cron.text + (tz_name.empty() ? " (UTC)" : " (" + tz_name + ")");
    case TriggerKind::kInterval: return "every " + FormatDuration(interval_s);
    case TriggerKind::kData:
      if (!data_remote.empty()) return "data on remote " + data_remote;
      return "data " + data_path + (branch.empty() ? "" : " on " + branch);
    case TriggerKind::kGit: return "git " + git_remote + " " + branch;
    case TriggerKind::kAlert:
      return "alert" + (alert_model.empty() ? std::string() : " model=" + alert_model) +
             (alert_name.empty() ? std::string() : " name=" + alert_name);
  }
  return "";
}

Result<int64_t> ParseDuration(const std::string& text) {
  const std::string bad = "'" + text + "' is not a duration (e.g. 90s, 15m, 2h, 1d, 1h30m)";
  if (text.empty() || text.size() > 32) return Status::User(bad);
  int64_t total = 0, num = 0;
  bool have = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      num = num * 10 + (c - '0');
      if (num > 1000000000) return Status::User(bad);
      have = true;
      continue;
    }
    int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (!unit || !have) return Status::User(bad);
    total += num * unit;
    num = 0;
    have = false;
  }
  if (have || total <= 0) return Status::User(bad);
  return total;
}

std::string FormatDuration(int64_t s) {
  std::string out;
  if (s >= 86400 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s || out.empty()) out += std::to_string(s) + "s";
  return out;
}

Result<AgentSettings> ParseAgentSettings(const Node* triggers, const Node* agent, const std::string& file) {
  AgentSettings out;
  if (agent && !agent->is_null()) {
    std::vector<std::pair<std::string, const Node*>> fields;
    RETURN_IF_ERROR(ParseMapping(file, *agent, "agent", {"max_concurrent", "poll", "on_stop", "notify"}, &fields));
    for (const auto& [k, v] : fields) {
      if (k == "max_concurrent") {
        ASSIGN_OR_RETURN(out.max_concurrent, Count(file, *v, "agent.max_concurrent", 1, 64));
      } else if (k == "poll") {
        ASSIGN_OR_RETURN(out.poll_s, Duration(file, *v, "agent.poll"));
      } else if (k == "on_stop") {
        ASSIGN_OR_RETURN(std::string s, Str(file, *v, "agent.on_stop"));
        if (s != "wait" && s != "cancel") return Err(file, *v, "agent.on_stop", "'" + s + "' is not wait or cancel");
        out.on_stop = s == "cancel" ? OnStop::kCancel : OnStop::kWait;
      } else {
        std::vector<std::pair<std::string, const Node*>> nf;
        RETURN_IF_ERROR(ParseMapping(file, *v, "agent.notify", {"webhook", "on"}, &nf));
        for (const auto& [nk, nv] : nf) {
          if (nk == "webhook") {
            ASSIGN_OR_RETURN(out.webhook, Str(file, *nv, "agent.notify.webhook"));
            if (out.webhook.rfind("http://", 0) != 0 && out.webhook.rfind("https://", 0) != 0)
              return Err(file, *nv, "agent.notify.webhook", "must be an http:// or https:// URL");
            continue;
          }
          ASSIGN_OR_RETURN(std::vector<std::string> on, StrList(file, *nv, "agent.notify.on"));
          out.notify_failure = out.notify_promotion = out.notify_success = false;
          for (const auto& e : on) {
            if (e == "failure") out.notify_failure = true;
            else if (e == "promotion") out.notify_promotion = true;
            else if (e == "success") out.notify_success = true;
            else return Err(file, *nv, "agent.notify.on", "'" + e + "' is not failure, promotion or success");
          }
        }
      }
    }
  }
  if (!triggers || triggers->is_null()) return out;
  if (!triggers->is_map())
    return Err(file, *triggers, "triggers", "must be a mapping of trigger name to trigger");
  for (const auto& [name, v] : triggers->entries()) {
    for (const Trigger& seen : out.triggers)
      if (seen.name == name) return Err(file, v, "triggers." + name, "a second trigger named " + name);  // a safe name
    ASSIGN_OR_RETURN(Trigger t, ParseTrigger(file, name, v));
    for (const Trigger& seen : out.triggers)
      if (std::string o = Overlap(seen, t); !o.empty()) return Err(file, v, "triggers." + name, o);
    out.triggers.push_back(std::move(t));
  }
  return out;
}

}  // namespace forja::agent
