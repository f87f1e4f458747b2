// `kubectl certsmith convert`: cert-manager.io/v1 Issuers, ClusterIssuers and Certificates, and
// Ingresses annotated for cert-manager, into certsmith objects.
//
// certsmith's API uses cert-manager's field names, so a spec is copied whole and then held
// against certsmith's own CRD schema (embedded from crds/): every field the schema lacks is taken
// out and listed, with advice where there is some (field_advice.cc), never dropped in silence (the
// API server would prune it without a word). cert-manager's defaults that differ from certsmith's
// are made explicit (an RSA key), so the converted Certificate adopts the Secret cert-manager
// wrote instead of ordering a new certificate. Objects certsmith cannot serve (non-ACME issuers,
// external issuers, cert-manager's runtime objects) are left out and listed. Every result is
// parsed by certsmith's own validation (controller/api); what it would refuse is listed too.
// Objects of other kinds pass through unchanged.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace certsmith::plugin {

struct ConvertOptions {
  // cert-manager's --cluster-resource-namespace and certsmith's: ClusterIssuer Secrets must be
  // copied from one to the other.
  std::string cert_manager_namespace = "cert-manager";
  std::string controller_namespace = "certsmith";
};

struct Note {
  enum class Kind {
    kDropped,  // a field or annotation with no certsmith equivalent, taken out
    kSkipped,  // a whole object not converted
    kInvalid,  // converted, but certsmith would refuse it (InvalidSpec) as it stands
    kChanged,  // a value made explicit or rewritten, nothing lost
    kAction,   // something to do by hand before applying
  };
  Kind kind;
  std::string object;  // "Certificate shop/www"
  std::string path;    // "spec.keystores.jks", an annotation key, or "" for the object
  std::string text;
  std::string ToString() const;
};
// What --strict counts: something cert-manager did that certsmith will not.
bool IsLoss(Note::Kind kind);

struct ConvertedObject {
  nlohmann::json object;
  std::string from;  // "cert-manager.io/v1 Certificate shop/www"; "" when passed through
  std::vector<Note> notes;
};

struct ConversionResult {
  std::vector<ConvertedObject> objects;  // in input order; skipped objects are not here
  std::vector<Note> notes;               // all of them, skipped objects' included
  bool Lossless() const;
};

ConversionResult Convert(const std::vector<nlohmann::json>& inputs, const ConvertOptions& options);

// A YAML stream (`---` between objects), each converted object preceded by its notes as
// comments; a JSON v1 List.
std::string ToYamlStream(const ConversionResult& result);
nlohmann::json ToJsonList(const ConversionResult& result);

// Whether an Ingress carries annotations for cert-manager (cert-manager.io/,
// acme.cert-manager.io/, kubernetes.io/tls-acme).
bool HasCertManagerAnnotations(const nlohmann::json& ingress);

}  // namespace certsmith::plugin
