// certsmith's own CRD schemas (crds/*.yaml, embedded at build time), which decide what a
// converted object may keep: a cert-manager field certsmith's schema does not have would be
// pruned by the API server without a word, so the converter lists it instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace certsmith::plugin {

// The openAPIV3Schema of `spec` for "Certificate", "Issuer" or "ClusterIssuer" (served version
// v1); null for any other kind.
const nlohmann::json& CertsmithSpecSchema(std::string_view kind);

}  // namespace certsmith::plugin
