#include "kube/manifests.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace certsmith::kube {
namespace {

using Json = nlohmann::json;

Json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;  // quoted
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

Json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json j = Json::object();
      for (const auto& kv : node) j[kv.first.as<std::string>()] = ToJson(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      Json j = Json::array();
      for (const auto& item : node) j.push_back(ToJson(item));
      return j;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    default:
      return nullptr;
  }
}

void Flatten(const Json& doc, std::vector<Json>* out) {
  if (!doc.is_object()) return;
  const std::string kind = doc.value("kind", "");
  if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0 && doc.contains("items") &&
      doc["items"].is_array()) {
    for (const Json& item : doc["items"]) Flatten(item, out);
    return;
  }
  out->push_back(doc);
}

}  // namespace

Result<std::vector<Json>> ParseManifests(std::string_view text, const std::string& origin) {
  std::vector<Json> out;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    try {
      Json doc = Json::parse(text);
      if (doc.is_array()) {
        for (const Json& d : doc) Flatten(d, &out);
      } else {
        Flatten(doc, &out);
      }
      return out;
    } catch (const Json::exception& e) {
      return Status(ErrorCode::kInvalidArgument, origin + ": not valid JSON: " + e.what());
    }
  }
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) {
      Json j = ToJson(doc);
      if (j.is_null()) continue;  // an empty document ("---" at the end)
      if (!j.is_object()) {
        return Status(ErrorCode::kInvalidArgument,
                      origin + ": a document is not a Kubernetes object (a YAML mapping)");
      }
      Flatten(j, &out);
    }
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kInvalidArgument, origin + ": not valid YAML at line " +
                                                   std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return out;
}

}  // namespace certsmith::kube
