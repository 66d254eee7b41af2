// Prometheus metrics in the text exposition format (version 0.0.4): counters,
// gauges and histograms with labels, rendered for a /metrics endpoint. Updates
// take a mutex: fine for a tracking server (api/server.cc). The model server's
// hot path keeps its own atomic counts and renders them itself (serve/metrics.h).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace forja {

class PromRegistry {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a family; `buckets` (upper bounds, ascending) for histograms.
  void Describe(const std::string& name, Type type, const std::string& help, std::vector<double> buckets = {});

  // `labels` is the inside of {...}, already formatted: Label("code", "200") + ","...
  void Add(const std::string& name, const std::string& labels, double v = 1);
  void Set(const std::string& name, const std::string& labels, double v);
  void Observe(const std::string& name, const std::string& labels, double v);

  std::string Render() const;

  // key="value" with the value escaped as the format wants (\\, \", \n).
  static std::string Label(const std::string& key, const std::string& value);

 private:
  struct Series {
    double value = 0;                // counter / gauge; histogram sum
    uint64_t count = 0;              // histogram
    std::vector<uint64_t> buckets;   // histogram, not cumulative
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // by labels
  };
  Family& Get(const std::string& name);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace forja
