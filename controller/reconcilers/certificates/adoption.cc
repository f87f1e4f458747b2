#include "certificates/adoption.h"

#include "api/resources.h"
#include "certificates/certificate_reconciler.h"
#include "kube/time_format.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

std::string AnnotationOf(const Json& obj, const char* key) {
  const Json annotations = obj.value("metadata", Json::object()).value("annotations", Json());
  if (!annotations.is_object()) return "";
  auto it = annotations.find(key);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

// cert-manager's own Certificate (cert-manager.io/v1), the owner it sets on TLS Secrets when run
// with --enable-certificate-owner-ref.
bool IsCertManagerCertificateRef(const Json& ref) {
  return ref.is_object() && ref.value("kind", "") == "Certificate" &&
         ref.value("apiVersion", "").rfind("cert-manager.io/", 0) == 0;
}

}  // namespace

bool WrittenByCertManagerForIssuer(const api::Certificate& cert, const Json& secret) {
  if (!AnnotationOf(secret, api::kIssuerNameAnnotation).empty()) return false;
  const std::string name = AnnotationOf(secret, api::kCertManagerIssuerNameAnnotation);
  std::string kind = AnnotationOf(secret, api::kCertManagerIssuerKindAnnotation);
  const std::string group = AnnotationOf(secret, api::kCertManagerIssuerGroupAnnotation);
  if (kind.empty()) kind = "Issuer";
  return !name.empty() && name == cert.spec.issuer_ref.name && kind == cert.spec.issuer_ref.kind &&
         (group.empty() || group == "cert-manager.io");
}

Json AdoptedSecret(const api::Certificate& cert, Json secret, int64_t revision) {
  Json& meta = secret["metadata"];
  meta["labels"][api::kManagedByLabel] = api::kManagedByValue;
  meta["labels"][api::kCertificateNameLabel] = cert.metadata.name;
  meta["annotations"][api::kIssuerNameAnnotation] = cert.spec.issuer_ref.name;
  meta["annotations"][api::kIssuerKindAnnotation] = cert.spec.issuer_ref.kind;
  meta["annotations"][api::kRevisionAnnotation] = std::to_string(revision);
  // cert-manager issued it for this spec: record it, or the next sync would re-issue it as changed.
  if (std::string digest = RequestDigest(cert); !digest.empty()) {
    meta["annotations"][kRequestDigestAnnotation] = digest;
  }
  if (meta.contains("ownerReferences")) {
    Json kept = Json::array();
    for (const Json& ref : meta["ownerReferences"]) {
      if (!IsCertManagerCertificateRef(ref)) kept.push_back(ref);
    }
    if (kept.empty()) {
      meta.erase("ownerReferences");
    } else {
      meta["ownerReferences"] = std::move(kept);
    }
  }
  return secret;
}

Status CertificateReconciler::Adopt(const Json& obj, api::Certificate* cert,
                                    const IssuanceCheck& check, Json* secret) {
  const int64_t revision = cert->status.revision + 1;
  auto updated = ctx_.client->Update(kube::kSecrets, cert->metadata.namespace_,
                                     AdoptedSecret(*cert, *secret, revision));
  if (!updated.ok()) {
    return updated.status().WithContext("adopting Secret " + cert->spec.secret_name);
  }
  *secret = std::move(updated).value();
  cert->status.revision = revision;
  Event(ctx_, obj, kube::kEventNormal, "Adopted",
        "Adopted the certificate cert-manager stored in Secret " + cert->spec.secret_name +
            " (serial " + check.info->serial_hex + ", valid until " +
            kube::FormatTime(check.info->not_after) + "); no new order");
  return Status::Ok();
}

}  // namespace certsmith::reconcilers
