// Promotion gates and the registry's policy, declared per model in forja.yaml:
//
//   models:
//     churn:
//       gates:
//         production:                          # a stage, or "@alias"
//           - metrics.auc >= 0.85
//           - metrics.auc >= production.metrics.auc    # no worse than what it replaces
//           - metrics.latency_ms <= 1.2 * production.metrics.latency_ms
//           - params.framework == 'xgboost'
//         "@champion": [metrics.auc >= 0.8]
//       protected: ["@champion"]                # only admin tokens move these
//     "*": {gates: {production: [tags.validated == 'true']}}   # every model
//
// A gate compares the candidate version's run (metrics., params., tags.) with a
// number, a quoted string, or the run of the version holding a stage or alias
// now (production., staging., @alias.), optionally times a factor. A comparison
// with a holder that does not exist passes; a value the candidate lacks fails.
// Production is always protected.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "forja/core/status.h"
#include "forja/meta/store.h"

namespace forja::config {
class Node;
}

namespace forja::registry {

enum class Role;

// One side of a comparison.
struct Operand {
  enum class Kind { kNumber, kString, kRef } kind = Kind::kNumber;
  double number = 0;
  std::string text;    // string literal
  std::string holder;  // "" = the candidate, else "production", "staging", "@alias"
  std::string entity;  // metrics, params, tags
  std::string key;
  double factor = 1;   // "1.2 * production.metrics.x"
};

struct Gate {
  std::string text;    // as written
  std::string origin;  // "forja.yaml:12"
  Operand left, right;
  std::string op;      // >= > <= < == !=
};

struct ModelPolicy {
  std::map<std::string, std::vector<Gate>> gates;  // target ("Production", "@champion") -> gates
  std::set<std::string> protected_targets;         // beyond Production
};

struct Policies {
  std::map<std::string, ModelPolicy> models;  // "*" applies to every model

  // The gates that apply to moving a version of `model` to `target` ("*" first).
  std::vector<const Gate*> GatesFor(const std::string& model, const std::string& target) const;
  // Whether only an admin may move versions of `model` to `target`.
  bool Protected(const std::string& model, const std::string& target) const;
};

// Parses one gate ("metrics.auc >= production.metrics.auc").
Result<Gate> ParseGate(const std::string& text, const std::string& origin);

// The `models:` section of forja.yaml (null: no policy). `file` names it in errors.
// The node comes from the one forja.yaml reader (ReadForjaYaml, data/workspace.h).
Result<Policies> ParsePolicies(const config::Node* models, const std::string& file);

// "production" -> "Production", "@Champion" -> "@Champion"; "" when not a target.
std::string NormalizeTarget(const std::string& target);

// What one gate said, for answers that carry it as data (the promote route's 409).
struct GateOutcome {
  std::string gate;    // as written: "metrics.auc >= 0.8"
  std::string origin;  // "forja.yaml:12"
  bool passed = false;
  std::string left, op, right;  // the values compared ("0.75", ">=", "0.8"); empty when one is missing
  std::string reason;           // why it passed or failed without a comparison ("the candidate has no metrics.auc")
};

// Evaluates gates against the facts; one line per gate in *report and, when `outcomes` is
// given, one GateOutcome per gate (replacing what it held). Returns false when any failed.
bool EvaluateGates(const std::vector<const Gate*>& gates, const meta::PromotionFacts& facts, std::string* report,
                   std::vector<GateOutcome>* outcomes = nullptr);

// Moves a version with the policy's gates and the caller's role (roles.h:
// CheckPromote: protected targets, --force, leaving a protected stage) checked in
// the same transaction. A refusal names the failing gates and their values; `outcomes`, when
// given, gets every gate's outcome of the last evaluation (empty when no gate was evaluated:
// no gates, a role refusal, or a remote store, which evaluates them itself).
Result<meta::ModelVersion> Promote(meta::MetaStore& store, const Policies& policies, const meta::Promotion& p,
                                   Role caller, std::vector<GateOutcome>* outcomes = nullptr);

}  // namespace forja::registry
