#include "plugin/convert/crd_schemas.h"

#include <map>
#include <string>

#include "plugin/convert/embedded_crds.h"
#include "kube/manifests.h"

namespace certsmith::plugin {
namespace {

using Json = nlohmann::json;

std::map<std::string, Json, std::less<>> LoadSchemas() {
  std::map<std::string, Json, std::less<>> out;
  for (const EmbeddedCrd& crd : kEmbeddedCrds) {
    auto docs = kube::ParseManifests(crd.yaml, std::string(crd.file));
    if (!docs.ok()) continue;  // a unit test parses every one: a broken CRD fails there
    for (const Json& doc : *docs) {
      const std::string kind =
          doc.value("spec", Json::object()).value("names", Json::object()).value("kind", "");
      for (const Json& v : doc.value("spec", Json::object()).value("versions", Json::array())) {
        if (v.value("name", "") != "v1") continue;
        out[kind] = v.value("schema", Json::object())
                        .value("openAPIV3Schema", Json::object())
                        .value("properties", Json::object())
                        .value("spec", Json());
      }
    }
  }
  return out;
}

}  // namespace

const Json& CertsmithSpecSchema(std::string_view kind) {
  static const std::map<std::string, Json, std::less<>> schemas = LoadSchemas();
  static const Json kNull;
  auto it = schemas.find(kind);
  return it == schemas.end() ? kNull : it->second;
}

}  // namespace certsmith::plugin
