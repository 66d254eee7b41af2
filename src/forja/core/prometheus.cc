#include "forja/core/prometheus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace forja {

namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Braces(const std::string& labels, const std::string& extra = "") {
  std::string in = labels;
  if (!extra.empty()) in += (in.empty() ? "" : ",") + extra;
  return in.empty() ? "" : "{" + in + "}";
}

}  // namespace

std::string PromRegistry::Label(const std::string& key, const std::string& value) {
  std::string out = key + "=\"";
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

void PromRegistry::Describe(const std::string& name, Type type, const std::string& help, std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = type;
  f.help = help;
  std::sort(buckets.begin(), buckets.end());
  f.bounds = std::move(buckets);
}

PromRegistry::Family& PromRegistry::Get(const std::string& name) { return families_[name]; }

void PromRegistry::Add(const std::string& name, const std::string& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Get(name).series[labels].value += v;
}

void PromRegistry::Set(const std::string& name, const std::string& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Get(name).series[labels].value = v;
}

void PromRegistry::Observe(const std::string& name, const std::string& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = Get(name);
  Series& s = f.series[labels];
  if (s.buckets.size() != f.bounds.size()) s.buckets.assign(f.bounds.size(), 0);
  s.value += v;
  s.count++;
  auto it = std::lower_bound(f.bounds.begin(), f.bounds.end(), v);
  if (it != f.bounds.end()) s.buckets[static_cast<size_t>(it - f.bounds.begin())]++;
}

std::string PromRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + Braces(labels) + " " + Num(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); i++) {
        cumulative += i < s.buckets.size() ? s.buckets[i] : 0;
        out += name + "_bucket" + Braces(labels, Label("le", Num(f.bounds[i]))) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + Braces(labels, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + Braces(labels) + " " + Num(s.value) + "\n";
      out += name + "_count" + Braces(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace forja
