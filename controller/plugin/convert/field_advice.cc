#include "plugin/convert/field_advice.h"

namespace certsmith::plugin {
namespace {

// cert-manager's built-in DNS providers (spec.acme.solvers[].dns01.<provider>). certsmith solves
// dns-01 through RFC 2136 and through cert-manager's webhook protocol only.
constexpr std::string_view kDnsProviderAdvice =
    "certsmith has no built-in client for this DNS provider. Run a dns01 webhook for it (certsmith "
    "speaks cert-manager's webhook protocol, so existing provider webhooks work) and configure "
    "dns01.webhook, or use dns01.rfc2136 if the zone accepts RFC 2136 updates";

struct Entry {
  std::string_view kind;
  std::string_view path;
  std::string_view advice;
};

// One line per field. Paths are spec paths with "[]" for list indices.
constexpr Entry kFields[] = {
    {"Issuer", "spec.acme.solvers[].dns01.route53", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.cloudflare", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.cloudDNS", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.azureDNS", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.akamai", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.digitalocean", kDnsProviderAdvice},
    {"Issuer", "spec.acme.solvers[].dns01.acmeDNS", kDnsProviderAdvice},
    {"Certificate", "spec.nameConstraints",
     "name constraints belong to CA certificates, which ACME CAs do not issue"},
    {"Certificate", "spec.isCA", "ACME CAs issue end-entity certificates only"},
    {"Certificate", "spec.encodeUsagesInRequest",
     "ACME CAs choose the usages of the certificates they issue themselves"},
};

struct AnnotationEntry {
  std::string_view key;
  std::string_view advice;
};

constexpr AnnotationEntry kAnnotations[] = {
    {"kubernetes.io/tls-acme",
     "cert-manager used its --default-issuer-name/--default-issuer-kind for this Ingress: add "
     "certsmith.io/cluster-issuer (or certsmith.io/issuer) naming the converted issuer"},
    {"acme.cert-manager.io/http01-edit-in-place",
     "set http01.ingress.name on the Issuer's solver to add the challenge path to an existing "
     "Ingress"},
    {"acme.cert-manager.io/http01-ingress-class",
     "set http01.ingress.class on the Issuer's solver"},
    {"acme.cert-manager.io/http01-ingress-ingressclassname",
     "set http01.ingress.ingressClassName on the Issuer's solver"},
    {"cert-manager.io/issue-temporary-certificate",
     "certsmith leaves the Secret as it is until the real certificate is issued; there is no "
     "temporary certificate"},
};

bool PathMatches(std::string_view pattern, std::string_view path) {
  // A field inside an unsupported one (spec.acme.solvers[].dns01.route53.region) gets the
  // advice of the field that holds it.
  return path == pattern ||
         (path.size() > pattern.size() && path.substr(0, pattern.size()) == pattern &&
          path[pattern.size()] == '.');
}

}  // namespace

std::string_view FieldAdvice(std::string_view kind, std::string_view path) {
  for (const Entry& e : kFields) {
    if (e.kind == kind && PathMatches(e.path, path)) return e.advice;
  }
  return "";
}

std::string_view AnnotationAdvice(std::string_view key) {
  for (const AnnotationEntry& e : kAnnotations) {
    if (e.key == key) return e.advice;
  }
  if (key.rfind("cert-manager.io/", 0) == 0) {
    return "certsmith's Ingress shim does not read it: set the matching field on the "
           "Certificate the shim makes (it leaves the fields it does not manage alone)";
  }
  return "";
}

std::string NonAcmeIssuerAdvice(std::string_view type) {
  return "a cert-manager \"" + std::string(type) +
         "\" issuer: certsmith issues from ACME CAs only. Keep it, and the Certificates that use "
         "it, on cert-manager, or move them to an ACME CA";
}

}  // namespace certsmith::plugin
