// A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
// format (version 0.0.4): "# HELP", "# TYPE", then `name{label="value"} number` lines, label
// values escaped (\\, \", \n). prometheus-cpp is not packaged for bookworm (ARCHITECTURE.md).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace certsmith::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // The process-wide registry the controller serves.
  static Registry& Default();

  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Add(const std::string& name, const Labels& labels, double delta);
  void Set(const std::string& name, const Labels& labels, double value);
  std::string Render() const;

 private:
  struct Family {
    std::string type = "untyped";
    std::string help;
    std::map<std::string, double> samples;  // rendered label set -> value
  };
  static std::string RenderLabels(const Labels& labels);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace certsmith::metrics
