#include "certificates/revocation.h"

#include <algorithm>

#include "acme/certificate.h"
#include "acme/problem.h"
#include "api/duration.h"
#include "api/resources.h"
#include "certificates/certificate_reconciler.h"
#include "certificates/secret_facts.h"
#include "certsmith/log.h"
#include "kube/errors.h"
#include "kube/time_format.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

constexpr auto kRevocationRetry = std::chrono::seconds(15);
constexpr char kAlreadyRevoked[] = "urn:ietf:params:acme:error:alreadyRevoked";

Json Finalizers(const Json& obj) {
  Json f = obj["metadata"].value("finalizers", Json::array());
  return f.is_array() ? f : Json::array();
}

Status SetFinalizer(Context& ctx, bool present, Json* obj) {
  Json list = Json::array();
  for (const Json& f : Finalizers(*obj)) {
    if (f != kRevocationFinalizer) list.push_back(f);
  }
  if (present) list.push_back(kRevocationFinalizer);
  Json updated = *obj;
  if (list.empty()) {
    updated["metadata"].erase("finalizers");
  } else {
    updated["metadata"]["finalizers"] = list;
  }
  auto written = ctx.client->Update(api::kCertificates, kube::GetNamespace(*obj), updated);
  if (!written.ok()) {
    // Already gone (its last finalizer removed by someone else): nothing left to do.
    if (kube::IsNotFound(written.status()) && !present) return Status::Ok();
    return written.status().WithContext(present ? "adding finalizer" : "removing finalizer");
  }
  *obj = std::move(written).value();
  return Status::Ok();
}

// The certificate to revoke: the Secret's, when this Certificate wrote it (its label) and it has
// not expired (a CA need not revoke what is no longer valid).
std::optional<std::string> CurrentCertificate(Context& ctx, const Json& obj,
                                              const std::string& secret_name, Json* secret_out) {
  auto secret = ctx.client->Get(kube::kSecrets, kube::GetNamespace(obj), secret_name);
  if (!secret.ok()) return std::nullopt;
  *secret_out = *secret;
  const Json labels = (*secret)["metadata"].value("labels", Json::object());
  if (labels.value(api::kCertificateNameLabel, "") != kube::GetName(obj)) return std::nullopt;
  auto pem = SecretData(&*secret, "tls.crt");
  if (!pem) return std::nullopt;
  auto info = acme::ParseCertificatePem(*pem);
  if (!info.ok() || info->not_after <= ctx.clock->Now()) return std::nullopt;
  return pem;
}

Status Revoke(Context& ctx, const api::IssuerRef& ref, const std::string& ns,
              const std::string& pem) {
  ASSIGN_OR_RETURN(auto client, AcmeClientFor(ctx, ref, ns));
  Status s = client->RevokeCertificate(pem, acme::RevocationReason::kCessationOfOperation);
  if (auto problem = acme::ProblemFromStatus(s); problem && problem->type == kAlreadyRevoked) {
    return Status::Ok();
  }
  return s;
}

}  // namespace

bool RevokeOnDelete(const api::Certificate& cert, const api::Issuer* issuer) {
  if (cert.spec.revoke_on_delete) return *cert.spec.revoke_on_delete;
  return issuer != nullptr && issuer->spec.revoke_on_delete;
}

bool HasRevocationFinalizer(const Json& obj) {
  const Json f = Finalizers(obj);
  return std::find(f.begin(), f.end(), Json(kRevocationFinalizer)) != f.end();
}

Status EnsureRevocationFinalizer(Context& ctx, bool wanted, Json* obj) {
  if (HasRevocationFinalizer(*obj) == wanted) return Status::Ok();
  return SetFinalizer(ctx, wanted, obj);
}

SyncResult FinalizeRevocation(Context& ctx, const Json& obj) {
  const std::string ns = kube::GetNamespace(obj);
  const Json spec = obj.value("spec", Json::object());
  const std::string secret_name = spec.value("secretName", "");
  api::IssuerRef ref;
  ref.name = spec.value("issuerRef", Json::object()).value("name", "");
  ref.kind = spec.value("issuerRef", Json::object()).value("kind", "Issuer");
  const auto now = ctx.clock->Now();
  const auto deleted_at =
      kube::ParseTime(obj["metadata"].value("deletionTimestamp", "")).value_or(now);
  const auto give_up_at = deleted_at + std::chrono::duration_cast<Clock::TimePoint::duration>(
                                           ctx.options.revocation_timeout);

  Json secret;
  if (auto pem = CurrentCertificate(ctx, obj, secret_name, &secret)) {
    const std::string serial = acme::ParseCertificatePem(*pem)->serial_hex;
    Status revoked = Revoke(ctx, ref, ns, *pem);
    if (revoked.ok()) {
      Event(ctx, obj, kube::kEventNormal, "Revoked",
            "Revoked certificate " + serial + " at the CA (reason cessationOfOperation)");
      log::Info("certificate revoked on delete",
                {{"certificate", kube::ObjectKey(obj)}, {"serial", serial}});
    } else if (now < give_up_at) {
      const std::string why = "Revoking certificate " + serial + " failed: " + ErrorText(revoked) +
                              ". Retrying until " + kube::FormatTime(give_up_at) +
                              "; the Certificate is then deleted without revocation";
      Event(ctx, obj, kube::kEventWarning, "RevocationFailed", why);
      Json status = obj.value("status", Json::object());
      api::FieldErrors ignored;
      auto conditions =
          api::ConditionsFromJson(status.value("conditions", Json::array()), "", &ignored);
      SetCondition(ctx, &conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                   "RevocationFailed", why, obj["metadata"].value("generation", int64_t{0}));
      status["conditions"] = api::ConditionsToJson(conditions);
      auto w = WriteStatus(ctx, api::kCertificates, obj, status);
      if (!w.ok() && !kube::IsNotFound(w.status()))
        log::Warn("status write failed", {{"error", w.status().ToString()}});
      return SyncResult::After(std::min<Duration>(kRevocationRetry, give_up_at - now));
    } else {
      Event(ctx, obj, kube::kEventWarning, "RevocationAbandoned",
            "Could not revoke certificate " + serial + " within " +
                api::FormatDuration(ctx.options.revocation_timeout) + " (" + ErrorText(revoked) +
                "); deleting the Certificate without revocation");
    }
  }
  // Secret deletion policy Delete: the Secret goes now, after the revocation (it carries no
  // ownerReference while the finalizer is on, see certificate_reconciler.cc OwnsSecret).
  auto cert = api::Certificate::FromJson(obj);
  if (cert.ok() && DeletesSecretWithCertificate(*cert, ctx.options) && !secret.is_null()) {
    const Json labels = secret["metadata"].value("labels", Json::object());
    if (labels.value(api::kCertificateNameLabel, "") == kube::GetName(obj)) {
      Status d = ctx.client->Delete(kube::kSecrets, ns, secret_name);
      if (!d.ok() && !kube::IsNotFound(d)) return SyncResult::Error(d);
    }
  }
  Json current = obj;
  Status removed = SetFinalizer(ctx, false, &current);
  return removed.ok() ? SyncResult::Done() : SyncResult::Error(removed);
}

}  // namespace certsmith::reconcilers
