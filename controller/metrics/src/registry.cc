#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace certsmith::metrics {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Whole numbers (counts, timestamps) in full; others as the shortest text that reads back as
// the same double ("0.1", not "0.10000000000000001").
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r = std::abs(v) < 1e15 && v == std::trunc(v)
                               ? std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v))
                               : std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

bool Includes(const Labels& labels, const Labels& match) {
  return std::all_of(match.begin(), match.end(), [&labels](const auto& m) {
    return std::find(labels.begin(), labels.end(), m) != labels.end();
  });
}

}  // namespace

Registry& Registry::Default() {
  static Registry registry;
  return registry;
}

std::string Registry::RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
  }
  return out + "}";
}

Labels Registry::ParseLabels(const std::string& rendered) {
  Labels out;
  size_t i = 1;  // after '{'
  while (i < rendered.size() && rendered[i] != '}') {
    size_t eq = rendered.find("=\"", i);
    if (eq == std::string::npos) break;
    std::string name = rendered.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;
    for (; j < rendered.size() && rendered[j] != '"'; ++j) {
      if (rendered[j] == '\\' && j + 1 < rendered.size()) {
        ++j;
        value += rendered[j] == 'n' ? '\n' : rendered[j];
      } else {
        value += rendered[j];
      }
    }
    out.emplace_back(std::move(name), std::move(value));
    i = j + 1;  // after the closing quote
    if (i < rendered.size() && rendered[i] == ',') ++i;
  }
  return out;
}

void Registry::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].type = type;
  families_[name].help = help;
}

void Registry::DescribeHistogram(const std::string& name, const std::string& help,
                                 std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = "histogram";
  f.help = help;
  f.buckets = std::move(buckets);
}

Registry::Series& Registry::SeriesOf(const std::string& name, const Labels& labels) {
  return families_[name].samples[RenderLabels(labels)];
}

void Registry::Add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesOf(name, labels).value += delta;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesOf(name, labels).value = value;
}

void Registry::Observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<double>& buckets = families_[name].buckets;
  Series& s = SeriesOf(name, labels);
  s.bucket_counts.resize(buckets.size());
  auto it = std::lower_bound(buckets.begin(), buckets.end(), value);  // first bound >= value
  if (it != buckets.end()) ++s.bucket_counts[it - buckets.begin()];
  s.value += value;
  ++s.count;
}

void Registry::RemoveMatching(const std::string& name, const Labels& match) {
  RemoveIf(name, [&match](const Labels& labels) { return Includes(labels, match); });
}

void Registry::RemoveIf(const std::string& name, const std::function<bool(const Labels&)>& drop) {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return;
  std::erase_if(f->second.samples,
                [&drop](const auto& kv) { return drop(ParseLabels(kv.first)); });
}

void Registry::RemoveIf(const std::string& name, const Labels& leading,
                        const std::function<bool(const Labels&)>& drop) {
  if (leading.empty()) return RemoveIf(name, drop);
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return;
  // The rendered keys of these series all begin with `{a="x",b="y"` and go on with `,` or `}`.
  std::string prefix = RenderLabels(leading);
  prefix.pop_back();
  auto& samples = f->second.samples;
  for (auto it = samples.lower_bound(prefix);
       it != samples.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    const char next = it->first.size() > prefix.size() ? it->first[prefix.size()] : '\0';
    if ((next == ',' || next == '}') && drop(ParseLabels(it->first))) {
      it = samples.erase(it);
    } else {
      ++it;
    }
  }
}

int Registry::AddCollector(std::function<void(Registry&)> collect) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_[next_collector_] = std::move(collect);
  return next_collector_++;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.erase(id);
}

void Registry::RenderFamily(const std::string& name, const Family& f, std::string* out) const {
  std::string help;
  for (char c : f.help)
    help += c == '\n' ? std::string("\\n") : c == '\\' ? "\\\\" : std::string(1, c);
  if (!f.help.empty()) *out += "# HELP " + name + " " + help + "\n";
  *out += "# TYPE " + name + " " + f.type + "\n";
  for (const auto& [labels, s] : f.samples) {
    if (f.type != "histogram") {
      *out += name + labels + " " + FormatValue(s.value) + "\n";
      continue;
    }
    uint64_t cumulative = 0;
    // The series' rendered labels with le="..." added last.
    const std::string open = labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
    auto bucket = [&](const std::string& le) {
      *out += name + "_bucket" + open + "le=\"" + Escape(le) + "\"} " +
              std::to_string(cumulative) + "\n";
    };
    for (size_t i = 0; i < f.buckets.size(); ++i) {
      cumulative += i < s.bucket_counts.size() ? s.bucket_counts[i] : 0;
      bucket(FormatValue(f.buckets[i]));
    }
    cumulative = s.count;
    bucket("+Inf");
    *out += name + "_sum" + labels + " " + FormatValue(s.value) + "\n";
    *out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
  }
}

std::string Registry::Render() {
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    for (const auto& [id, collect] : collectors_) collect(*this);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) RenderFamily(name, f, &out);
  return out;
}

std::optional<double> Registry::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return std::nullopt;
  auto s = f->second.samples.find(RenderLabels(labels));
  if (s == f->second.samples.end()) return std::nullopt;
  return f->second.type == "histogram" ? static_cast<double>(s->second.count) : s->second.value;
}

size_t Registry::SeriesCount(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  return f == families_.end() ? 0 : f->second.samples.size();
}

}  // namespace certsmith::metrics
