// Reading Kubernetes manifests: multi-document YAML or JSON, as `kubectl apply -f` takes them,
// into JSON objects; `kind: List` (and *List) are flattened into their items.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::kube {

// YAML 1.2 core-schema scalars, as Kubernetes reads them: quoted scalars stay strings; plain
// true/false, null/~, integers and floats become JSON values. origin names the input in errors
// ("file shop.yaml").
Result<std::vector<nlohmann::json>> ParseManifests(std::string_view text,
                                                   const std::string& origin);

}  // namespace certsmith::kube
