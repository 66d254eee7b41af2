// forja.yaml's serving section:
//
//   serving:
//     max_batch_size: 64          # these five apply to every model...
//     max_queue_delay_us: 500
//     max_queue: 8192
//     workers: 1
//     max_rows: 65536             # rows per request (413 beyond)
//     max_body_mb: 64
//     poll_interval: 10           # seconds between registry checks
//     models:                     # ...unless set per model
//       churn: {max_batch_size: 128, workers: 2}
//     prediction_log: {sample: 0.1, shadow_sample: 1, rotate_mb: 64}
//
// and the monitoring section (monitoring_config.h says its keys). The sections' nodes come
// from the one forja.yaml reader (ReadForjaYaml).
#include <cstdio>
#include <cstdlib>
#include <map>

#include "forja/core/fs.h"
#include "forja/core/path.h"
#include "forja/data/workspace.h"
#include "forja/registry/gates.h"
#include "forja/serve/serve.h"

namespace forja::serve {

namespace {

using config::Node;

struct Reader {
  std::string file;
  std::string section = "serving";

  Status Error(const Node& n, const std::string& field, const std::string& what) const {
    return Status::User((n.origin().empty() ? file : n.origin()) + ": " + section + "." + field + ": " + what);
  }

  Status Number(const Node& n, const std::string& field, double lo, double hi, double* out) const {
    double v = 0;
    if (n.kind() == Node::Kind::kInt) v = static_cast<double>(n.as_int());
    else if (n.kind() == Node::Kind::kFloat) v = n.as_float();
    else if (n.is_string()) return Error(n, field, "'" + n.as_string() + "' is not a number");
    else return Error(n, field, "must be a number");
    if (!(v >= lo && v <= hi)) return Error(n, field, "must be between " + Fmt(lo) + " and " + Fmt(hi));
    *out = v;
    return Status::Ok();
  }

  template <typename T>
  Status Int(const Node& n, const std::string& field, double lo, double hi, T* out) const {
    double v = 0;
    RETURN_IF_ERROR(Number(n, field, lo, hi, &v));
    if (v != static_cast<double>(static_cast<int64_t>(v))) return Error(n, field, "must be a whole number");
    *out = static_cast<T>(v);
    return Status::Ok();
  }

  // A duration: a number of seconds, or a number with ms, s, m, h or d ("30s", "10m").
  Status Duration(const Node& n, const std::string& field, double lo, double hi, double* out) const {
    if (!n.is_string()) return Number(n, field, lo, hi, out);
    const std::string& text = n.as_string();
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double scale = unit == "ms" ? 0.001 : unit == "s" || unit.empty() ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (end == text.c_str() || scale == 0)
      return Error(n, field, "'" + text + "' is not a duration (a number of seconds, or with ms, s, m, h or d: 30s, 10m)");
    v *= scale;
    if (!(v >= lo && v <= hi)) return Error(n, field, "must be between " + Fmt(lo) + "s and " + Fmt(hi) + "s");
    *out = v;
    return Status::Ok();
  }

  // A key a model's monitoring settings may hold; false when the key is not one.
  Result<bool> Monitor(const std::string& key, const Node& v, const std::string& field, MonitorOptions* m) const {
    if (key == "window") RETURN_IF_ERROR(Duration(v, field, 1, 30 * 86400, &m->window_s));
    else if (key == "interval") RETURN_IF_ERROR(Duration(v, field, 0.1, 86400, &m->interval_s));
    else if (key == "max_columns") RETURN_IF_ERROR(Int(v, field, 0, 100000, &m->max_columns));
    else if (key == "max_predictions") RETURN_IF_ERROR(Int(v, field, 0, 1e8, &m->max_predictions));
    else if (key == "task") {
      if (!v.is_string() || (v.as_string() != "classification" && v.as_string() != "regression"))
        return Error(v, field, "must be classification or regression");
      m->task = v.as_string();
    }
    else if (key == "staleness") RETURN_IF_ERROR(Staleness(v, field, &m->staleness));
    else return false;
    return true;
  }

  // monitoring.staleness (or models.NAME.staleness): durations, 0 turning a check off.
  Status Staleness(const Node& v, const std::string& field, monitor::StalenessThresholds* t) const {
    if (!v.is_map()) return Error(v, field, "must be a mapping (max_model_age, max_data_age, max_since_promotion, drifted_for)");
    constexpr double kMax = 100 * 365 * 86400.0;
    for (const auto& [k, fv] : v.entries()) {
      std::string f = field + "." + k;
      if (k == "max_model_age") RETURN_IF_ERROR(Duration(fv, f, 0, kMax, &t->max_model_age_s));
      else if (k == "max_data_age") RETURN_IF_ERROR(Duration(fv, f, 0, kMax, &t->max_data_age_s));
      else if (k == "max_since_promotion") RETURN_IF_ERROR(Duration(fv, f, 0, kMax, &t->max_since_promotion_s));
      else if (k == "drifted_for") RETURN_IF_ERROR(Duration(fv, f, 0, kMax, &t->drifted_for_s));
      else return Error(fv, f, "unknown setting (max_model_age, max_data_age, max_since_promotion, drifted_for)");
    }
    return Status::Ok();
  }

  static std::string Fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  // A batching key of a mapping; false when the key is not one.
  Result<bool> Batching(const std::string& key, const Node& v, const std::string& field, BatchOptions* b) const {
    if (key == "max_batch_size") RETURN_IF_ERROR(Int(v, field, 1, 1 << 20, &b->max_batch_size));
    else if (key == "max_queue_delay_us") RETURN_IF_ERROR(Int(v, field, 0, 10e6, &b->max_queue_delay_us));
    else if (key == "max_queue") RETURN_IF_ERROR(Int(v, field, 1, 1 << 30, &b->max_queue));
    else if (key == "workers") RETURN_IF_ERROR(Int(v, field, 1, 256, &b->workers));
    else return false;
    return true;
  }
};

}  // namespace

Status ServingConfigOf(const ForjaYaml& doc, ServeConfig* cfg) {
  RETURN_IF_ERROR(MonitoringConfigOf(doc, &cfg->monitoring));
  const Node* section = doc.Section("serving");
  if (!section) return Status::Ok();
  Reader r{doc.file};
  if (!section->is_map()) return Status::User(section->origin() + ": serving: must be a mapping");
  // Model entries start from the top-level batching values, whatever the key order.
  for (const auto& [key, v] : section->entries()) {
    ASSIGN_OR_RETURN(bool batching, r.Batching(key, v, key, &cfg->batching));
    (void)batching;
  }
  for (const auto& [key, v] : section->entries()) {
    if (key == "max_batch_size" || key == "max_queue_delay_us" || key == "max_queue" || key == "workers") continue;
    if (key == "max_rows") {
      RETURN_IF_ERROR(r.Int(v, key, 1, 1e9, &cfg->max_rows));
    } else if (key == "max_body_mb") {
      double mb = 0;
      RETURN_IF_ERROR(r.Number(v, key, 0.001, 1 << 20, &mb));
      cfg->max_body_bytes = static_cast<size_t>(mb * (1 << 20));
    } else if (key == "poll_interval") {
      RETURN_IF_ERROR(r.Number(v, key, 0, 86400, &cfg->poll_interval_s));
    } else if (key == "models") {
      if (!v.is_map()) return r.Error(v, key, "must map model names to their settings");
      for (const auto& [name, m] : v.entries()) {
        BatchOptions b = cfg->batching;
        if (!m.is_map()) return r.Error(m, "models." + name, "must be a mapping");
        for (const auto& [fk, fv] : m.entries()) {
          std::string field = "models." + name + "." + fk;
          ASSIGN_OR_RETURN(bool known, r.Batching(fk, fv, field, &b));
          if (!known)
            return r.Error(fv, field, "unknown setting (max_batch_size, max_queue_delay_us, max_queue, workers)");
        }
        cfg->models[name] = b;
      }
    } else if (key == "prediction_log") {
      if (!v.is_map()) return r.Error(v, key, "must be a mapping");
      for (const auto& [k, fv] : v.entries()) {
        std::string field = "prediction_log." + k;
        if (k == "sample") {
          RETURN_IF_ERROR(r.Number(fv, field, 0, 1, &cfg->log.sample));
        } else if (k == "shadow_sample") {
          RETURN_IF_ERROR(r.Number(fv, field, 0, 1, &cfg->log.shadow_sample));
        } else if (k == "rotate_mb") {
          double mb = 0;
          RETURN_IF_ERROR(r.Number(fv, field, 0.001, 1 << 20, &mb));
          cfg->log.rotate_bytes = static_cast<size_t>(mb * (1 << 20));
        } else {
          return r.Error(fv, field, "unknown setting (sample, shadow_sample, rotate_mb)");
        }
      }
    } else {
      return r.Error(v, key,
                     "unknown setting (max_batch_size, max_queue_delay_us, max_queue, workers, max_rows, max_body_mb, "
                     "poll_interval, models, prediction_log)");
    }
  }
  return Status::Ok();
}

namespace {

// The production gates on quality metrics (a candidate's metric against a number), as the alert
// rules and the stale reason "quality" take them; gates against another version's run cannot be
// judged live and are left out.
std::vector<monitor::QualityGate> QualityGatesOf(const registry::Policies& policies) {
  using Kind = registry::Operand::Kind;
  static const std::map<std::string, std::string> kFlip = {{">=", "<="}, {">", "<"}, {"<=", ">="}, {"<", ">"}};
  std::vector<monitor::QualityGate> out;
  for (const auto& [model, policy] : policies.models) {
    auto it = policy.gates.find("Production");
    if (it == policy.gates.end()) continue;
    for (const registry::Gate& g : it->second) {
      const registry::Operand *metric = &g.left, *number = &g.right;
      std::string op = g.op;
      if (number->kind == Kind::kRef && metric->kind == Kind::kNumber) {  // 0.9 <= metrics.accuracy
        std::swap(metric, number);
        auto f = kFlip.find(op);
        op = f == kFlip.end() ? op : f->second;
      }
      if (metric->kind != Kind::kRef || !metric->holder.empty() || metric->entity != "metrics" || metric->factor != 1 ||
          number->kind != Kind::kNumber || !kFlip.count(op))
        continue;
      std::string name = monitor::QualityMetricOfGate(metric->key);
      if (!name.empty()) out.push_back({model, name, op, number->number, g.text});
    }
  }
  return out;
}

}  // namespace

Status MonitoringConfigOf(const ForjaYaml& doc, MonitoringConfig* cfg) {
  // Quality from feedback is held to the production gates (models.NAME.gates.production); the
  // registry's reader, so that a gate means the same at promotion and here.
  ASSIGN_OR_RETURN(registry::Policies policies, registry::ParsePolicies(doc.Section("models"), doc.file));
  cfg->quality_gates = QualityGatesOf(policies);
  const Node* section = doc.Section("monitoring");
  if (!section) return Status::Ok();
  Reader r{doc.file, "monitoring"};
  if (!section->is_map()) return Status::User(section->origin() + ": monitoring: must be a mapping");
  // Model entries start from the top-level values, whatever the key order.
  for (const auto& [key, v] : section->entries()) {
    ASSIGN_OR_RETURN(bool known, r.Monitor(key, v, key, &cfg->defaults));
    if (known) continue;
    if (key == "drift_share") {
      RETURN_IF_ERROR(r.Number(v, key, 0, 1, &cfg->defaults.drift_share));
    } else if (key == "alerts") {
      if (!v.is_map()) return r.Error(v, key, "must be a mapping");
      for (const auto& [k, fv] : v.entries()) {
        std::string field = "alerts." + k;
        if (k == "drift_for") RETURN_IF_ERROR(r.Duration(fv, field, 0, 30 * 86400, &cfg->alerts.drift_for_s));
        else if (k == "error_rate") RETURN_IF_ERROR(r.Number(fv, field, 0, 1, &cfg->alerts.error_rate));
        else if (k == "p99_seconds") RETURN_IF_ERROR(r.Number(fv, field, 0, 86400, &cfg->alerts.p99_seconds));
        else if (k == "no_traffic_for") RETURN_IF_ERROR(r.Duration(fv, field, 0, 30 * 86400, &cfg->alerts.no_traffic_for_s));
        else if (k == "quality_for") RETURN_IF_ERROR(r.Duration(fv, field, 0, 30 * 86400, &cfg->alerts.quality_for_s));
        else if (k == "quality_min_labels") RETURN_IF_ERROR(r.Int(fv, field, 0, 1e9, &cfg->alerts.quality_min_labels));
        else return r.Error(fv, field, "unknown setting (drift_for, error_rate, p99_seconds, no_traffic_for, quality_for, quality_min_labels)");
      }
    } else if (key != "models") {
      return r.Error(v, key, "unknown setting (window, interval, max_columns, max_predictions, task, drift_share, staleness, alerts, models)");
    }
  }
  if (const Node* models = section->Find("models"); models && !models->is_null()) {
    if (!models->is_map()) return r.Error(*models, "models", "must map model names to their settings");
    for (const auto& [name, m] : models->entries()) {
      MonitorOptions o = cfg->defaults;
      if (!m.is_map()) return r.Error(m, "models." + name, "must be a mapping");
      for (const auto& [fk, fv] : m.entries()) {
        std::string field = "models." + name + "." + fk;
        ASSIGN_OR_RETURN(bool known, r.Monitor(fk, fv, field, &o));
        if (known) continue;
        if (fk == "target") {
          if (!fv.is_string() || fv.as_string().empty()) return r.Error(fv, field, "must be a column name");
          o.target = fv.as_string();
          continue;
        }
        if (fk == "exclude") {
          if (!fv.is_list()) return r.Error(fv, field, "must be a list of column names");
          for (const Node& c : fv.items()) {
            if (!c.is_string() || c.as_string().empty()) return r.Error(c, field, "must be a list of column names");
            o.exclude.push_back(c.as_string());
          }
          continue;
        }
        if (fk != "profile" && fk != "reference")
          return r.Error(fv, field, "unknown setting (window, interval, max_columns, max_predictions, task, staleness, profile, reference, target, exclude)");
        if (!fv.is_string() || fv.as_string().empty())
          return r.Error(fv, field, fk == "profile" ? "must be the path of a profile file" : "must be the path of a CSV file");
        // forja.yaml may come from a cloned repository: the path is untrusted.
        if (Status st = CheckUntrustedPath(fv.as_string()); !st.ok())
          return r.Error(fv, field, st.message() + "; name a file inside the workspace");
        (fk == "profile" ? o.profile : o.reference) = fv.as_string();
      }
      cfg->models[name] = o;
    }
  }
  return Status::Ok();
}

Status LoadServingConfig(const std::string& path, ServeConfig* cfg) {
  auto text = ReadFile(path);
  if (!text.ok()) return Status::Ok();  // no forja.yaml: defaults
  ASSIGN_OR_RETURN(ForjaYaml doc, ParseForjaYaml(*text, Basename(path)));
  return ServingConfigOf(doc, cfg);
}

}  // namespace forja::serve
