// What to do instead, for the cert-manager fields and annotations certsmith has no equivalent
// for. The list of what is missing is not kept here: it follows from certsmith's CRD schema
// (crd_schemas.h), so a field certsmith gains stops being reported without a change here. This
// table only adds advice to the report, in one place, easy to extend.
#pragma once

#include <string>
#include <string_view>

namespace certsmith::plugin {

// Advice for a spec field of kind ("Certificate", "Issuer"; ClusterIssuer uses "Issuer"), the
// path with list indices written "[]" ("spec.acme.solvers[].dns01.route53"); "" when none.
std::string_view FieldAdvice(std::string_view kind, std::string_view path);
// Advice for an annotation key (on an Ingress or a cert-manager object); "" when none.
std::string_view AnnotationAdvice(std::string_view key);
// Why a cert-manager issuer of this type (the key under spec: "ca", "vault", ...) is not
// converted.
std::string NonAcmeIssuerAdvice(std::string_view type);

}  // namespace certsmith::plugin
