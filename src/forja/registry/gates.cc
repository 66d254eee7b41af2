#include "forja/registry/gates.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "forja/config/node.h"
#include "forja/config/yaml_fast.h"
#include "forja/core/fs.h"
#include "forja/meta/store.h"
#include "forja/registry/roles.h"

namespace forja::registry {

using config::Node;

std::string NormalizeTarget(const std::string& target) {
  if (target.empty()) return "";
  if (target[0] == '@') {
    if (target.size() == 1) return "";
    return meta::CheckAliasName(target.substr(1)).ok() ? target : "";
  }
  return meta::CanonicalStage(target);
}

namespace {

class GateParser {
 public:
  GateParser(const std::string& s, const std::string& origin) : s_(s), origin_(origin) {}

  Result<Gate> Parse() {
    Gate g;
    g.text = s_, g.origin = origin_;
    ASSIGN_OR_RETURN(g.left, ParseOperand());
    Skip();
    for (const char* op : {">=", "<=", "==", "!=", ">", "<", "="}) {
      size_t n = std::char_traits<char>::length(op);
      if (s_.compare(i_, n, op) == 0) {
        g.op = std::string(op) == "=" ? "==" : op;
        i_ += n;
        break;
      }
    }
    if (g.op.empty()) return Error("expected a comparison (>=, >, <=, <, ==, !=)");
    ASSIGN_OR_RETURN(g.right, ParseOperand());
    Skip();
    if (i_ != s_.size()) return Error("unexpected '" + s_.substr(i_) + "'");
    if (g.left.kind != Operand::Kind::kRef && g.right.kind != Operand::Kind::kRef)
      return Error("a gate compares a metric, param or tag (e.g. metrics.auc >= 0.8)");
    return g;
  }

 private:
  Result<Operand> ParseOperand() {
    Skip();
    if (i_ >= s_.size()) return Error("expected a value");
    char c = s_[i_];
    if (c == '\'' || c == '"') {
      size_t end = s_.find(c, i_ + 1);
      if (end == std::string::npos) return Error("unterminated string");
      Operand o;
      o.kind = Operand::Kind::kString;
      o.text = s_.substr(i_ + 1, end - i_ - 1);
      i_ = end + 1;
      return o;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      ASSIGN_OR_RETURN(double v, Number());
      Skip();
      if (i_ < s_.size() && s_[i_] == '*') {
        i_++;
        Skip();
        ASSIGN_OR_RETURN(Operand ref, Ref());
        ref.factor = v;
        return ref;
      }
      Operand o;
      o.number = v;
      return o;
    }
    ASSIGN_OR_RETURN(Operand ref, Ref());
    Skip();
    if (i_ < s_.size() && s_[i_] == '*') {
      i_++;
      Skip();
      ASSIGN_OR_RETURN(ref.factor, Number());
    }
    return ref;
  }

  Result<double> Number() {
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              ((s_[i_] == '-' || s_[i_] == '+') && (i_ == start || s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E'))))
      i_++;
    std::string t = s_.substr(start, i_ - start);
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end || std::isnan(v)) return Error("'" + t + "' is not a number");
    return v;
  }

  Result<Operand> Ref() {
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                              std::string_view("_.-/:@").find(s_[i_]) != std::string_view::npos))
      i_++;
    std::string word = s_.substr(start, i_ - start);
    Operand o;
    o.kind = Operand::Kind::kRef;
    size_t dot = word.find('.');
    std::string head = word.substr(0, dot);
    if (head == "production" || head == "staging" || (!head.empty() && head[0] == '@')) {
      o.holder = head;
      if (dot == std::string::npos) return Error("expected metrics., params. or tags. after '" + head + "'");
      word = word.substr(dot + 1);
      dot = word.find('.');
      head = word.substr(0, dot);
    }
    if (head != "metrics" && head != "params" && head != "tags")
      return Error("'" + s_.substr(start, i_ - start) +
                   "' is not metrics.<key>, params.<key> or tags.<key> (of the candidate, or of production., "
                   "staging., @alias.)");
    if (dot == std::string::npos || dot + 1 >= word.size()) return Error("expected a key after '" + head + ".'");
    o.entity = head;
    o.key = word.substr(dot + 1);
    return o;
  }

  void Skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) i_++;
  }

  Status Error(const std::string& what) const {
    return Status::User(origin_ + ": gate '" + s_ + "': " + what);
  }

  std::string s_, origin_;
  size_t i_ = 0;
};

std::string Num(double v) {
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

// A side's value: a number, or a string; `missing` says why there is none.
struct Value {
  bool present = false, numeric = false;
  double number = 0;
  std::string text;
  std::string missing;
  bool holder_absent = false;
};

Value Resolve(const Operand& o, const meta::PromotionFacts& f) {
  Value v;
  if (o.kind == Operand::Kind::kNumber) return {true, true, o.number, "", "", false};
  if (o.kind == Operand::Kind::kString) return {true, false, 0, o.text, "", false};
  const meta::VersionFacts* who = &f.candidate;
  std::string whose = "the candidate";
  if (!o.holder.empty()) {
    auto it = f.holders.find(o.holder);
    if (it == f.holders.end()) {
      v.holder_absent = true;
      v.missing = "no version holds " + o.holder;
      return v;
    }
    who = &it->second;
    whose = o.holder + " (version " + std::to_string(who->version.version) + ")";
  }
  if (o.entity == "metrics") {
    auto it = who->metrics.find(o.key);
    if (it == who->metrics.end()) {
      v.missing = whose + (who->version.run_id.empty() ? " has no run" : "'s run has no metric '" + o.key + "'");
      return v;
    }
    return {true, true, it->second * o.factor, "", "", false};
  }
  const auto& m = o.entity == "params" ? who->params : who->tags;
  auto it = m.find(o.key);
  if (it == m.end()) {
    v.missing = whose + "'s run has no " + (o.entity == "params" ? "param" : "tag") + " '" + o.key + "'";
    return v;
  }
  char* end = nullptr;
  double d = std::strtod(it->second.c_str(), &end);
  bool numeric = !it->second.empty() && end && !*end;
  return {true, numeric, d * o.factor, it->second, "", false};
}

std::string Show(const Value& v) { return v.numeric ? Num(v.number) : "'" + v.text + "'"; }

}  // namespace

Result<Gate> ParseGate(const std::string& text, const std::string& origin) { return GateParser(text, origin).Parse(); }

Result<Policies> ParsePolicies(const Node* models, const std::string& file) {
  Policies out;
  if (!models || models->is_null()) return out;
  auto where = [&](const Node* n) { return n && !n->origin().empty() ? n->origin() : file; };
  if (!models->is_map()) return Status::User(where(models) + ": models: must be a mapping of model names");
  for (const auto& [name, m] : models->entries()) {
    ModelPolicy policy;
    if (!m.is_map()) return Status::User(where(&m) + ": models." + name + ": must be a mapping (gates, protected)");
    for (const auto& [k, v] : m.entries()) {
      if (k == "gates") {
        if (!v.is_map())
          return Status::User(where(&v) + ": models." + name + ".gates: must map targets (production, @alias) to gates");
        for (const auto& [target, list] : v.entries()) {
          std::string t = NormalizeTarget(target);
          if (t.empty())
            return Status::User(where(&list) + ": models." + name + ".gates." + target +
                                ": not a stage (staging, production, archived) or @alias");
          std::vector<const Node*> items;
          if (list.is_list()) {
            for (const Node& g : list.items()) items.push_back(&g);
          } else {
            items.push_back(&list);
          }
          for (const Node* g : items) {
            if (!g->is_string())
              return Status::User(where(g) + ": models." + name + ".gates." + target +
                                  ": a gate is a string such as 'metrics.auc >= 0.8'");
            ASSIGN_OR_RETURN(Gate gate, ParseGate(g->as_string(), where(g)));
            policy.gates[t].push_back(std::move(gate));
          }
        }
      } else if (k == "protected") {
        std::vector<const Node*> items;
        if (v.is_list()) {
          for (const Node& x : v.items()) items.push_back(&x);
        } else {
          items.push_back(&v);
        }
        for (const Node* x : items) {
          std::string t = x->is_string() ? NormalizeTarget(x->as_string()) : "";
          if (t.empty())
            return Status::User(where(x) + ": models." + name + ".protected: list stages or @aliases");
          policy.protected_targets.insert(t);
        }
      } else {
        return Status::User(where(&v) + ": models." + name + "." + k + ": unknown field (known: gates, protected)");
      }
    }
    out.models[name] = std::move(policy);
  }
  return out;
}

std::vector<const Gate*> Policies::GatesFor(const std::string& model, const std::string& target) const {
  std::vector<const Gate*> out;
  for (const std::string& name : {std::string("*"), model}) {
    auto m = models.find(name);
    if (m == models.end()) continue;
    auto g = m->second.gates.find(target);
    if (g == m->second.gates.end()) continue;
    for (const Gate& gate : g->second) out.push_back(&gate);
    if (name == model) break;
  }
  return out;
}

bool Policies::Protected(const std::string& model, const std::string& target) const {
  if (target == "Production") return true;
  for (const std::string& name : {std::string("*"), model}) {
    auto m = models.find(name);
    if (m != models.end() && m->second.protected_targets.count(target)) return true;
  }
  return false;
}

bool EvaluateGates(const std::vector<const Gate*>& gates, const meta::PromotionFacts& facts, std::string* report,
                   std::vector<GateOutcome>* outcomes) {
  bool all = true;
  if (outcomes) outcomes->clear();
  for (const Gate* g : gates) {
    Value l = Resolve(g->left, facts), r = Resolve(g->right, facts);
    std::string line;
    bool pass;
    GateOutcome o{g->text, g->origin, false, "", g->op, "", ""};
    if (l.holder_absent || r.holder_absent) {
      pass = true;
      o.reason = l.holder_absent ? l.missing : r.missing;
      line = "pass " + g->text + " (" + o.reason + ")";
    } else if (!l.present || !r.present) {
      pass = false;
      o.reason = !l.present ? l.missing : r.missing;
      line = "FAIL " + g->text + " (" + o.reason + ")";
    } else {
      int cmp = 0;
      bool comparable = true;
      if (l.numeric && r.numeric) {
        cmp = l.number < r.number ? -1 : l.number > r.number ? 1 : 0;
      } else if (g->op == "==" || g->op == "!=") {
        std::string a = l.numeric && l.text.empty() ? Num(l.number) : l.text;
        std::string b = r.numeric && r.text.empty() ? Num(r.number) : r.text;
        cmp = a == b ? 0 : 1;
      } else {
        comparable = false;  // ordering a string
      }
      pass = comparable && ((g->op == ">=" && cmp >= 0) || (g->op == ">" && cmp > 0) || (g->op == "<=" && cmp <= 0) ||
                            (g->op == "<" && cmp < 0) || (g->op == "==" && cmp == 0) || (g->op == "!=" && cmp != 0));
      line = std::string(pass ? "pass " : "FAIL ") + g->text + " (" + Show(l) + " " + g->op + " " + Show(r) + ")";
      o.left = Show(l);
      o.right = Show(r);
      if (!comparable) o.reason = "a string cannot be ordered with " + g->op;
    }
    o.passed = pass;
    if (outcomes) outcomes->push_back(std::move(o));
    all &= pass;
    if (report) *report += (report->empty() ? "" : "\n") + line;
  }
  return all;
}

Result<meta::ModelVersion> Promote(meta::MetaStore& store, const Policies& policies, const meta::Promotion& in,
                                   Role caller, std::vector<GateOutcome>* outcomes) {
  meta::Promotion p = in;
  if (outcomes) outcomes->clear();
  if (!in.target.empty() && in.target[0] == '@') RETURN_IF_ERROR(meta::CheckAliasName(in.target.substr(1)));
  p.target = NormalizeTarget(in.target);
  if (p.target.empty())
    return Status::User("'" + in.target + "' is not a stage (none, staging, production, archived) or @alias");
  if (store.remote()) return store.Promote(p, {});  // the server holds the policy and checks it
  // The target and --force are known now; the stage the version leaves only inside the transaction.
  RETURN_IF_ERROR(CheckPromote(policies, p, "", caller));
  std::vector<const Gate*> gates = policies.GatesFor(p.name, p.target);
  auto check = [&](const meta::PromotionFacts& facts, std::string* report, bool* forced) -> Status {
    RETURN_IF_ERROR(CheckPromote(policies, p, facts.candidate.version.current_stage, caller));
    if (gates.empty()) return Status::Ok();
    if (EvaluateGates(gates, facts, report, outcomes)) return Status::Ok();
    if (p.force) {
      *forced = true;
      return Status::Ok();
    }
    std::string failed;
    std::istringstream lines(*report);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("FAIL ")) failed += (failed.empty() ? "" : "; ") + line.substr(5);
    return Status::Refused("version " + std::to_string(p.version) + " of '" + p.name + "' cannot move to " + p.target +
                           ": gate failed: " + failed + "; improve the model, or override with --force (admin)");
  };
  return store.Promote(p, check);
}

}  // namespace forja::registry
