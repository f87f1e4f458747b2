#include "metrics/registry.h"

#include <cmath>
#include <sstream>

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

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
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

void Registry::Describe(const std::string& name, const std::string& type,
                        const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].type = type;
  families_[name].help = help;
}

void Registry::Add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].samples[RenderLabels(labels)] += delta;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].samples[RenderLabels(labels)] = value;
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    std::string help;
    for (char c : f.help) help += c == '\n' ? std::string("\\n") : c == '\\' ? "\\\\" : std::string(1, c);
    if (!f.help.empty()) out += "# HELP " + name + " " + help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.samples) out += name + labels + " " + FormatValue(v) + "\n";
  }
  return out;
}

}  // namespace certsmith::metrics
