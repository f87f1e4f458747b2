// The parts of Kubernetes ObjectMeta and of references that certsmith's types carry.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/field_errors.h"
#include "certsmith/clock.h"

namespace certsmith::api {

using Json = nlohmann::json;
using StringMap = std::map<std::string, std::string>;

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // empty for cluster-scoped objects
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  StringMap labels;
  StringMap annotations;
  std::optional<Clock::TimePoint> creation_timestamp;
  std::optional<Clock::TimePoint> deletion_timestamp;

  static ObjectMeta FromJson(const Json& meta, FieldErrors* errors);
  // name, namespace, labels, annotations and resourceVersion (what a writer sends back).
  Json ToJson() const;
};

// A key in a Secret in the same namespace as the referring object (for a ClusterIssuer: the
// controller's cluster resource namespace). Same shape as cert-manager's SecretKeySelector.
struct SecretKeySelector {
  std::string name;
  std::string key;  // empty: the default key for the use

  Json ToJson() const;
};

// Which Issuer signs: cert-manager's ObjectReference {name, kind, group}.
struct IssuerRef {
  std::string name;
  std::string kind = "Issuer";  // "Issuer" or "ClusterIssuer"
  std::string group = "certsmith.io";

  bool IsClusterIssuer() const { return kind == "ClusterIssuer"; }
  Json ToJson() const;
  bool operator==(const IssuerRef&) const = default;
};

}  // namespace certsmith::api
