// A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4): "# HELP", "# TYPE", then `name{label="value"} number` lines,
// label values escaped (\\, \", \n); a histogram adds cumulative `_bucket{le="..."}` lines, `_sum`
// and `_count`. prometheus-cpp is not packaged for bookworm (ARCHITECTURE.md).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
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
  // A histogram family with the given upper bounds (sorted; +Inf is implicit).
  void DescribeHistogram(const std::string& name, const std::string& help,
                         std::vector<double> buckets);
  void Add(const std::string& name, const Labels& labels, double delta);
  void Set(const std::string& name, const Labels& labels, double value);
  void Observe(const std::string& name, const Labels& labels, double value);
  // Drops the family's series whose labels include all of `match` (a deleted Certificate's
  // series, for instance). The family stays described.
  void RemoveMatching(const std::string& name, const Labels& match);
  // Drops the family's series whose labels satisfy `drop`.
  void RemoveIf(const std::string& name, const std::function<bool(const Labels&)>& drop);
  // The same among the series whose labels begin with `leading` (same names, same order): a
  // range of the family, not a scan of it, so one object's series (a Certificate's, labelled
  // namespace and name first) are found in O(log n) however many others there are.
  void RemoveIf(const std::string& name, const Labels& leading,
                const std::function<bool(const Labels&)>& drop);

  // Functions run at the start of each Render to set gauges read from elsewhere (workqueue
  // depth). RemoveCollector waits for a Render in progress, so the owner may go away after it.
  int AddCollector(std::function<void(Registry&)> collect);
  void RemoveCollector(int id);

  std::string Render();

  // For tests: a counter's or gauge's value, a histogram's observation count.
  std::optional<double> Value(const std::string& name, const Labels& labels) const;
  size_t SeriesCount(const std::string& name) const;

 private:
  // A series is kept under its rendered label set only (`{a="x",b="y"}`): a Certificate has
  // several series, and a copy of their labels beside each key was a third of the controller's
  // heap with thousands of Certificates. RemoveIf parses the key back when it needs the labels.
  struct Series {
    double value = 0;                     // counter, gauge: the value; histogram: the sum
    std::vector<uint64_t> bucket_counts;  // histogram: per bucket (not cumulative)
    uint64_t count = 0;                   // histogram: observations
  };
  struct Family {
    std::string type = "untyped";
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, Series> samples;  // rendered label set -> series
  };
  static std::string RenderLabels(const Labels& labels);
  // The labels RenderLabels rendered as `rendered`.
  static Labels ParseLabels(const std::string& rendered);
  Series& SeriesOf(const std::string& name, const Labels& labels);
  void RenderFamily(const std::string& name, const Family& f, std::string* out) const;

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  mutable std::mutex collectors_mu_;
  std::map<int, std::function<void(Registry&)>> collectors_;
  int next_collector_ = 0;
};

}  // namespace certsmith::metrics
