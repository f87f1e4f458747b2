#include "certificates/certificate_reconciler.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "acme/csr.h"
#include "acme/jws.h"
#include "api/naming.h"
#include "api/resources.h"
#include "certificates/adoption.h"
#include "certificates/ari_schedule.h"
#include "certificates/revocation.h"
#include "certificates/secret_outputs.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "kube/errors.h"
#include "kube/time_format.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

constexpr char kTlsCrt[] = "tls.crt";
constexpr char kTlsKey[] = "tls.key";
constexpr char kCaCrt[] = "ca.crt";
// A short requeue while an RSA key is generated on another thread.
constexpr auto kKeyPollDelay = std::chrono::milliseconds(200);
// Only a safety net: the manager wakes a Certificate when its issuer's spec or status changes.
constexpr auto kIssuerRetryDelay = std::chrono::minutes(5);

std::string Annotation(const Json* obj, const std::string& key) {
  if (obj == nullptr) return "";
  const Json& a = (*obj)["metadata"].value("annotations", Json::object());
  return a.value(key, "");
}

Result<acme::KeyType> SpecKeyType(const api::Certificate& cert) {
  const api::CertificatePrivateKey& pk = cert.spec.private_key;
  std::string name = (pk.algorithm == "RSA" ? "rsa" : "ec") + std::to_string(pk.EffectiveSize());
  return acme::ParseKeyType(name);
}

bool KeyMatchesSpec(const api::Certificate& cert, acme::KeyType key_type) {
  auto type = SpecKeyType(cert);
  return type.ok() && key_type == *type;
}

std::set<std::string> Normalized(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const std::string& n : names) out.insert(acme::NormalizeDnsName(n));
  return out;
}

std::set<std::string> NormalizedIps(const std::vector<std::string>& ips) {
  std::set<std::string> out;
  for (const std::string& ip : ips) {
    auto n = acme::NormalizeIpAddress(ip);
    out.insert(n.ok() ? *n : ip);
  }
  return out;
}

IssuanceCheck Need(std::string reason, std::string message) {
  IssuanceCheck c;
  c.needed = true;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

api::OrderSpec OrderSpecFor(const api::Certificate& cert, const std::string& csr_der) {
  api::OrderSpec spec;
  spec.request = Base64Encode(csr_der);
  spec.issuer_ref = cert.spec.issuer_ref;
  spec.common_name = cert.spec.common_name;
  spec.dns_names = cert.spec.DnsIdentifiers();
  spec.ip_addresses = cert.spec.IpIdentifiers();
  spec.duration = cert.spec.duration;
  return spec;
}

// Ready=False's message: why the Certificate is being issued and, once an attempt has failed,
// that failure in the CA's words (from the Issuing condition), so `kubectl get -o wide` shows it.
std::string WithLastFailure(std::string why, const api::CertificateStatus& status) {
  const api::Condition* issuing = api::FindCondition(status.conditions, api::kConditionIssuing);
  if (issuing == nullptr || issuing->status != api::ConditionStatus::kFalse ||
      issuing->reason != "Failed") {
    return why;
  }
  return why + ". " + issuing->message;
}

acme::CsrRequest CsrFor(const api::Certificate& cert) {
  acme::CsrRequest req;
  req.subject.common_name = cert.spec.common_name;
  if (cert.spec.subject) {
    const api::X509Subject& s = *cert.spec.subject;
    req.subject.organizations = s.organizations;
    req.subject.organizational_units = s.organizational_units;
    req.subject.countries = s.countries;
    req.subject.provinces = s.provinces;
    req.subject.localities = s.localities;
    req.subject.street_addresses = s.street_addresses;
    req.subject.postal_codes = s.postal_codes;
    req.subject.serial_number = s.serial_number;
  }
  req.dns_names = cert.spec.DnsIdentifiers();
  req.ip_addresses = cert.spec.IpIdentifiers();
  // cert-manager's other request fields: the CA decides whether it signs them.
  req.literal_subject = cert.spec.literal_subject;
  req.uris = cert.spec.uris;
  req.email_addresses = cert.spec.email_addresses;
  for (const api::OtherName& o : cert.spec.other_names)
    req.other_names.push_back({o.oid, o.utf8_value});
  if (cert.spec.encode_usages_in_request.value_or(true)) req.usages = cert.spec.usages;
  return req;
}

// The RenewalScheduled event: the time, and who chose it.
std::string RenewalMessage(const api::Certificate& cert, const IssuanceCheck& check) {
  std::string m = "Renewal scheduled at " + kube::FormatTime(*check.renewal_time);
  if (check.from_ari && cert.status.renewal_info) {
    const auto& ri = *cert.status.renewal_info;
    m += ", set by the CA: a random time in its suggested renewal window " +
         kube::FormatTime(ri.window_start) + " to " + kube::FormatTime(ri.window_end) +
         " (ACME renewal information)";
    if (!ri.explanation_url.empty()) m += "; the CA explains: " + ri.explanation_url;
  }
  return m;
}

// Why the Certificate's issuer cannot take an order now, naming the issuer and, when it is not
// Ready, the reason and message of its Ready condition; empty when it can.
std::string IssuerRefusal(const api::Certificate& cert, const Result<api::Issuer>& issuer) {
  const api::IssuerRef& ref = cert.spec.issuer_ref;
  const std::string who =
      (ref.IsClusterIssuer() ? "ClusterIssuer \"" : "Issuer \"") + ref.name + "\"";
  if (!issuer.ok()) return who + ": " + issuer.status().message();
  const api::Condition* ready = api::FindCondition(issuer->status.conditions, api::kConditionReady);
  if (ready == nullptr) {
    return who + " is not Ready yet: its ACME account has not been registered";
  }
  if (ready->status != api::ConditionStatus::kTrue) {
    return who + " is not Ready (" + ready->reason + "): " + ready->message;
  }
  if (!issuer->AllowsNamespace(cert.metadata.namespace_)) {
    return who + " does not allow namespace " + cert.metadata.namespace_;
  }
  for (const std::string& n : cert.spec.DnsIdentifiers()) {
    if (!issuer->AllowsDnsName(n)) return who + " does not allow the name " + n;
  }
  return "";
}

}  // namespace

std::string RequestDigest(const api::Certificate& cert) {
  const api::CertificateSpec& s = cert.spec;
  if (s.literal_subject.empty() && s.uris.empty() && s.email_addresses.empty() &&
      s.other_names.empty()) {
    return "";
  }
  Json j = {{"literalSubject", s.literal_subject}, {"uris", s.uris}, {"emails", s.email_addresses}};
  for (const api::OtherName& o : s.other_names) j["otherNames"].push_back({o.oid, o.utf8_value});
  auto mac = acme::ComputeHmac(acme::HmacAlgorithm::kHS256, "certsmith request", j.dump());
  return mac.ok() ? Base64UrlEncode(*mac).substr(0, 22) : "";
}

Clock::TimePoint RenewalTime(const api::Certificate& cert, const acme::CertificateInfo& info) {
  const auto lifetime = info.not_after - info.not_before;
  Clock::TimePoint at = info.not_before + lifetime * 2 / 3;
  if (cert.spec.renew_before_percentage && *cert.spec.renew_before_percentage > 0 &&
      *cert.spec.renew_before_percentage < 100) {
    at = info.not_after - lifetime * *cert.spec.renew_before_percentage / 100;
  }
  if (cert.spec.renew_before && *cert.spec.renew_before > Duration::zero() &&
      *cert.spec.renew_before < lifetime) {
    at = info.not_after -
         std::chrono::duration_cast<Clock::TimePoint::duration>(*cert.spec.renew_before);
  }
  // Whole seconds, as status.renewalTime keeps it: with a fraction (2/3 of a lifetime such as
  // 90 days - 1 s) the stored time would never equal this one, and every sync would announce the
  // same renewal again.
  return std::chrono::floor<std::chrono::seconds>(at);
}

// The revision annotation Complete() writes on the TLS Secret; 0 when absent or not a number.
int64_t SecretRevision(const Json* secret) {
  if (secret == nullptr) return 0;
  const Json annotations = (*secret)["metadata"].value("annotations", Json::object());
  const std::string value = annotations.value(api::kRevisionAnnotation, "");
  char* end = nullptr;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  return !value.empty() && *end == '\0' && n > 0 ? n : 0;
}

bool IssuingForMissingSecret(const api::Certificate& cert) {
  const api::Condition* c = api::FindCondition(cert.status.conditions, api::kConditionIssuing);
  return c != nullptr && c->status == api::ConditionStatus::kTrue && c->reason == "DoesNotExist" &&
         c->observed_generation == cert.metadata.generation;
}

std::string NextKeySecretName(const api::Certificate& cert) {
  return api::HashedName(cert.metadata.name + "-next-key", cert.metadata.uid);
}

bool DeletesSecretWithCertificate(const api::Certificate& cert, const ControllerOptions& options) {
  const std::string& policy = cert.spec.secret_deletion_policy.empty()
                                  ? options.default_secret_deletion_policy
                                  : cert.spec.secret_deletion_policy;
  return policy == api::kSecretDeletionDelete;
}

bool SetSecretOwnership(const Json& cert_obj, bool owned, Json* secret) {
  if (owned == IsOwnedBy(*secret, cert_obj)) return false;
  Json& meta = (*secret)["metadata"];
  const std::string uid = kube::GetUid(cert_obj);
  Json refs = Json::array();
  for (const Json& ref : meta.value("ownerReferences", Json::array())) {
    if (!ref.is_object() || ref.value("uid", "") != uid) refs.push_back(ref);
  }
  if (owned) {
    // Not a controller reference: a Secret has at most one, and another operator may already
    // hold it (cert-manager's controller reference on TLS Secrets broke operators that own their
    // Secrets). blockOwnerDeletion keeps a foreground deletion of the Certificate waiting for
    // the Secret, as for the Orders.
    Json ref = OwnerReference(cert_obj);
    ref["controller"] = false;
    refs.push_back(std::move(ref));
  }
  if (refs.empty()) {
    meta.erase("ownerReferences");
  } else {
    meta["ownerReferences"] = std::move(refs);
  }
  return true;
}

IssuanceCheck CheckIssuance(const api::Certificate& cert, const Json* secret,
                            Clock::TimePoint now) {
  if (secret == nullptr) return CheckIssuance(cert, nullptr, SecretFacts(), now);
  return CheckIssuance(cert, secret, ReadSecretFacts(*secret), now);
}

IssuanceCheck CheckIssuance(const api::Certificate& cert, const Json* secret,
                            const SecretFacts& facts, Clock::TimePoint now) {
  if (secret == nullptr) {
    return Need("DoesNotExist", "Issuing certificate as Secret does not exist");
  }
  switch (facts.problem) {
    case SecretFacts::Problem::kMissingData:
      return Need("MissingData", "Issuing certificate as Secret does not contain a certificate");
    case SecretFacts::Problem::kInvalidCertificate:
      return Need("InvalidCertificate",
                  "Issuing certificate as Secret holds an unparseable certificate");
    case SecretFacts::Problem::kInvalidKey:
      return Need("InvalidKey", "Issuing certificate as Secret holds an invalid key");
    case SecretFacts::Problem::kKeyMismatch:
      return Need("SecretMismatch",
                  "Issuing certificate as Secret's private key does not match the certificate");
    case SecretFacts::Problem::kNone:
      break;
  }
  const acme::CertificateInfo* info = &*facts.info;
  if (Normalized(info->dns_names) != Normalized(cert.spec.DnsIdentifiers()) ||
      NormalizedIps(info->ip_addresses) != NormalizedIps(cert.spec.IpIdentifiers()) ||
      (!cert.spec.common_name.empty() && info->common_name != cert.spec.common_name)) {
    return Need("SpecChanged",
                "Issuing certificate as the names in the Secret differ from the spec");
  }
  if (!KeyMatchesSpec(cert, *facts.key_type)) {
    return Need("SpecChanged", "Issuing certificate as spec.privateKey changed");
  }
  const bool own_issuer =
      Annotation(secret, api::kIssuerNameAnnotation) == cert.spec.issuer_ref.name &&
      Annotation(secret, api::kIssuerKindAnnotation) == cert.spec.issuer_ref.kind;
  const bool adopt = !own_issuer && WrittenByCertManagerForIssuer(cert, *secret);
  if (!own_issuer && !adopt) {
    return Need("IncorrectIssuer",
                "Issuing certificate as the Secret was issued by another "
                "issuer");
  }
  // An adopted Secret (cert-manager's) has no digest yet: AdoptedSecret() records it.
  if (!adopt && Annotation(secret, kRequestDigestAnnotation) != RequestDigest(cert)) {
    return Need("SpecChanged",
                "Issuing certificate as literalSubject, uris, emailAddresses or "
                "otherNames changed");
  }
  IssuanceCheck check;
  check.adopt = adopt;
  check.info = *info;
  check.renewal_time = RenewalTime(cert, *info);
  if (now >= info->not_after) {
    IssuanceCheck c = Need("Expired", "Issuing certificate as the certificate has expired");
    c.info = check.info;
    c.renewal_time = check.renewal_time;
    return c;
  }
  check.current_valid = true;
  if (now >= *check.renewal_time) {
    check.needed = true;
    check.reason = "Renewing";
    check.message =
        "Renewing certificate as renewal was scheduled at " + kube::FormatTime(*check.renewal_time);
  } else if (RenewalRequested(cert)) {
    check.needed = true;
    check.reason = "ManuallyTriggered";
    check.message = "Renewing certificate as requested (" +
                    std::string(api::kRenewRevisionAnnotation) + ": " +
                    cert.metadata.annotations.at(api::kRenewRevisionAnnotation) + ")";
  }
  return check;
}

bool RenewalRequested(const api::Certificate& cert) {
  auto it = cert.metadata.annotations.find(api::kRenewRevisionAnnotation);
  if (it == cert.metadata.annotations.end()) return false;
  char* end = nullptr;
  const long long n = std::strtoll(it->second.c_str(), &end, 10);
  // Not a revision number: not a request (the plugin writes only numbers).
  if (it->second.empty() || *end != '\0' || n < 0) return false;
  return cert.status.revision <= n;
}

Result<std::optional<acme::PrivateKey>> CertificateReconciler::EnsureNextKey(
    const api::Certificate& cert, const Json& obj, const Json* secret, bool* asked_server) {
  // rotationPolicy Never: keep signing the key already in the Secret.
  if (cert.spec.private_key.rotation_policy == "Never") {
    if (auto pem = SecretData(secret, kTlsKey)) {
      auto key = acme::PrivateKey::FromPem(*pem);
      if (key.ok() && KeyMatchesSpec(cert, key->type())) {
        return std::optional<acme::PrivateKey>(*key);
      }
    }
  }
  const std::string ns = cert.metadata.namespace_;
  const std::string name = NextKeySecretName(cert);
  // The stored key, if usable; an unusable one (spec.privateKey changed) is deleted. nullopt:
  // there is none (any more).
  auto stored = [&](const Result<Json>& existing) -> Result<std::optional<acme::PrivateKey>> {
    if (!existing.ok()) {
      if (kube::IsNotFound(existing.status())) return std::optional<acme::PrivateKey>();
      return existing.status();
    }
    if (auto pem = SecretData(&*existing, kTlsKey)) {
      auto key = acme::PrivateKey::FromPem(*pem);
      if (key.ok() && KeyMatchesSpec(cert, key->type())) {
        return std::optional<acme::PrivateKey>(*key);
      }
    }
    Status s = ctx_.client->Delete(kube::kSecrets, ns, name);
    if (!s.ok() && !kube::IsNotFound(s)) return s;
    return std::optional<acme::PrivateKey>();
  };
  // status.nextPrivateKeySecretName names the Secret once a sync stored it and wrote the status
  // (renewals and restarts find it there, and in the cache). Without it the Secret is almost
  // never there, and a GET would miss the label-selected cache and ask the API server only to
  // hear NotFound: the Secret is created straight away instead, and an AlreadyExists (a sync
  // that stopped between the create and the status write, whose Order may be finalized with
  // that key) reads the stored key and keeps it.
  // (With rotationPolicy Never and an unusable key in the TLS Secret, Issue() does not record
  // the name: read as before.)
  if (cert.status.next_private_key_secret_name == name ||
      cert.spec.private_key.rotation_policy == "Never") {
    ASSIGN_OR_RETURN(auto key, stored(ctx_.client->Get(kube::kSecrets, ns, name)));
    if (key) return key;
  }
  // A new key is a step worth one uncached read: the cache may still hold a Certificate the
  // garbage collector is removing (its next-key Secret already gone). Asked when a generation
  // starts, not at each poll of an RSA key being generated.
  ASSIGN_OR_RETURN(acme::KeyType type, SpecKeyType(cert));
  if (!keys_.Generating(kube::ObjectKey(obj), type)) {
    ASSIGN_OR_RETURN(bool wanted, StillWanted(ctx_, api::kCertificates, obj));
    *asked_server = true;
    if (!wanted) return std::optional<acme::PrivateKey>();
  }
  auto generated = keys_.Poll(kube::ObjectKey(obj), type);
  if (!generated) return std::optional<acme::PrivateKey>();
  if (!generated->ok()) return generated->status();
  const acme::PrivateKey key = generated->value();
  ASSIGN_OR_RETURN(std::string pem, key.ToPem(acme::PemEncoding::kPkcs8));
  Json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata",
             {{"name", name},
              {"namespace", ns},
              {"labels",
               {{api::kManagedByLabel, api::kManagedByValue},
                {api::kCertificateNameLabel, cert.metadata.name}}},
              {"ownerReferences", Json::array({OwnerReference(obj)})}}},
            {"type", "Opaque"},
            {"data", {{kTlsKey, Base64Encode(pem)}}}};
  auto created = ctx_.client->Create(kube::kSecrets, ns, s);
  if (!created.ok() && kube::IsAlreadyExists(created.status())) {
    ASSIGN_OR_RETURN(auto kept, stored(ctx_.client->Get(kube::kSecrets, ns, name)));
    if (kept) return kept;
    created = ctx_.client->Create(kube::kSecrets, ns, s);  // the unusable one was deleted
  }
  if (!created.ok()) return created.status().WithContext("storing the next private key");
  Event(ctx_, obj, kube::kEventNormal, "KeyGenerated",
        "Stored a new private key in temporary Secret " + name);
  return std::optional<acme::PrivateKey>(key);
}

SyncResult CertificateReconciler::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  auto got = ctx_.client->Get(api::kCertificates, ns, name);
  if (!got.ok()) {
    if (!kube::IsNotFound(got.status())) return SyncResult::Error(got.status());
    keys_.Forget(key);  // deleted while its RSA key was generating
    TakeSecretServerRead(key);
    secret_facts_.Forget(key);
    return SyncResult::Done();
  }
  Json obj = *got;
  if (obj["metadata"].contains("deletionTimestamp")) {
    keys_.Forget(key);
    secret_facts_.Forget(key);
    // revokeOnDelete: revoke before the Secret goes (revocation.h).
    if (HasRevocationFinalizer(obj)) return FinalizeRevocation(ctx_, obj);
    return SyncResult::Done();
  }
  auto parsed = api::Certificate::FromJson(obj);
  if (!parsed.ok()) {
    Status w = WriteInvalidSpec(ctx_, api::kCertificates, obj, parsed.status());
    return w.ok() ? SyncResult::Done() : SyncResult::Error(w);
  }
  api::Certificate cert = std::move(parsed).value();
  if (Status f = SyncRevocationFinalizer(cert, &obj); !f.ok()) return SyncResult::Error(f);

  // The Secret informer holds only Secrets labelled as certsmith's, so a miss asks the API
  // server: a user's or cert-manager's Secret of that name is found (and adopted or replaced).
  // Once an issuance began on the server's word that there is none, the cache is enough: a
  // Secret made since without the label is met by Complete()'s Create (AlreadyExists), which
  // has the next sync ask the server again.
  std::optional<Json> secret;
  const bool cache_only = IssuingForMissingSecret(cert) && !TakeSecretServerRead(key);
  auto s = cache_only ? ctx_.client->GetCached(kube::kSecrets, ns, cert.spec.secret_name)
                      : ctx_.client->Get(kube::kSecrets, ns, cert.spec.secret_name);
  if (s.ok()) {
    secret = *s;
  } else if (!kube::IsNotFound(s.status())) {
    return SyncResult::Error(s.status());
  }
  if (secret && !(*secret)["metadata"].contains("deletionTimestamp")) {
    Status owned = EnsureSecretOwnership(obj, cert, &*secret);
    if (!owned.ok()) return SyncResult::Error(owned);
  }
  const Json* secret_ptr = secret ? &*secret : nullptr;
  // Decoded once per version of the Secret (secret_facts.h); compared with the spec and the
  // clock now.
  std::shared_ptr<const SecretFacts> facts =
      secret ? secret_facts_.Get(key, *secret) : std::make_shared<const SecretFacts>();
  IssuanceCheck check = CheckIssuance(cert, secret_ptr, *facts, ctx_.clock->Now());
  if (check.current_valid) {
    ApplyRenewalInfo(ctx_, cert, secret_ptr, &cert.status, &check);
    // The CA moved the renewal into the past: say so before the renewal starts.
    if (check.needed && check.ari_moved) {
      Event(ctx_, obj, kube::kEventNormal, "RenewalScheduled", RenewalMessage(cert, check));
    }
  }
  if (!check.needed && check.adopt) {
    Status adopted = Adopt(obj, &cert, check, &*secret);
    if (!adopted.ok()) return SyncResult::Error(adopted);
  }
  if (!check.needed) return UpToDate(obj, std::move(cert), check, secret_ptr);
  return Issue(obj, std::move(cert), secret_ptr, check);
}

void CertificateReconciler::AskServerForSecret(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  secret_server_reads_.insert(key);
}

bool CertificateReconciler::TakeSecretServerRead(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return secret_server_reads_.erase(key) > 0;
}

Status CertificateReconciler::SyncRevocationFinalizer(const api::Certificate& cert, Json* obj) {
  auto issuer = GetIssuer(ctx_, cert.spec.issuer_ref, cert.metadata.namespace_);
  // An issuer that cannot be read says nothing about its default: keep what is there.
  const bool wanted = issuer.ok() || cert.spec.revoke_on_delete
                          ? RevokeOnDelete(cert, issuer.ok() ? &*issuer : nullptr)
                          : HasRevocationFinalizer(*obj);
  return EnsureRevocationFinalizer(ctx_, wanted, obj);
}

bool CertificateReconciler::OwnsSecret(const Json& obj, const api::Certificate& cert) const {
  // With the revocation finalizer the Secret is deleted by it, after the revocation.
  return DeletesSecretWithCertificate(cert, ctx_.options) && !HasRevocationFinalizer(obj);
}

Status CertificateReconciler::EnsureSecretOwnership(const Json& obj, const api::Certificate& cert,
                                                    Json* secret) {
  const bool owned = OwnsSecret(obj, cert);
  if (!SetSecretOwnership(obj, owned, secret)) return Status::Ok();
  auto updated = ctx_.client->Update(kube::kSecrets, cert.metadata.namespace_, *secret);
  if (!updated.ok()) {
    return updated.status().WithContext("setting the ownerReference of Secret " +
                                        cert.spec.secret_name);
  }
  *secret = std::move(updated).value();
  Event(ctx_, obj, kube::kEventNormal, "SecretDeletionPolicy",
        owned ? "Secret " + cert.spec.secret_name + " will be deleted with this Certificate"
              : "Secret " + cert.spec.secret_name +
                    " will be kept when this Certificate is "
                    "deleted");
  return Status::Ok();
}

SyncResult CertificateReconciler::UpToDate(const Json& obj, api::Certificate cert,
                                           const IssuanceCheck& check, const Json* secret) {
  const auto previous_renewal = cert.status.renewal_time;
  // A controller stopped between writing the Secret and the status (Complete) left the revision
  // behind the one the Secret carries: the issuance happened, so it is recorded now.
  const int64_t stored_revision = SecretRevision(secret);
  const bool recorded_late = stored_revision > cert.status.revision;
  if (recorded_late) cert.status.revision = stored_revision;
  cert.status.not_before = check.info->not_before;
  cert.status.not_after = check.info->not_after;
  cert.status.renewal_time = check.renewal_time;
  cert.status.failed_issuance_attempts = 0;
  cert.status.last_failure_time.reset();
  if (!cert.status.next_private_key_secret_name.empty()) {
    Status d = ctx_.client->Delete(kube::kSecrets, cert.metadata.namespace_,
                                   cert.status.next_private_key_secret_name);
    if (!d.ok() && !kube::IsNotFound(d)) return SyncResult::Error(d);
    cert.status.next_private_key_secret_name.clear();
  }
  // Keystores, extra formats and annotations follow the spec on an unchanged certificate too
  // (enabled later, password changed, a Secret written by an older version).
  if (Status outputs = RefreshSecretOutputs(cert, secret, *check.info); !outputs.ok()) {
    SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                 "SecretOutputsFailed", ErrorText(outputs), cert.metadata.generation);
    auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
    Event(ctx_, obj, kube::kEventWarning, "SecretOutputsFailed", ErrorText(outputs));
    if (!w.ok()) return SyncResult::Error(w.status());
    return SyncResult::After(kIssuerRetryDelay);
  }
  SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kTrue,
               "Ready", "Certificate is up to date and has not expired", cert.metadata.generation);
  api::RemoveCondition(&cert.status.conditions, api::kConditionIssuing);
  auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
  if (!w.ok()) return SyncResult::Error(w.status());
  if (recorded_late) {
    Event(ctx_, obj, kube::kEventNormal, "Issued",
          "The certificate has been successfully issued (revision " +
              std::to_string(cert.status.revision) + ", recorded after a restart)");
  }
  if (previous_renewal != check.renewal_time || check.ari_moved) {
    Event(ctx_, obj, kube::kEventNormal, "RenewalScheduled", RenewalMessage(cert, check));
  }
  Clock::TimePoint next = *check.renewal_time;
  if (check.recheck_at && *check.recheck_at < next) next = *check.recheck_at;
  return SyncResult::After(next - ctx_.clock->Now());
}

Status CertificateReconciler::RefreshSecretOutputs(const api::Certificate& cert,
                                                   const Json* secret,
                                                   const acme::CertificateInfo& info) {
  if (secret == nullptr) return Status::Ok();
  auto chain = SecretData(secret, kTlsCrt);
  auto key_pem = SecretData(secret, kTlsKey);
  if (!chain || !key_pem) return Status::Ok();
  // The key is decoded only when keystores or extra formats need it.
  auto key = [&]() { return acme::PrivateKey::FromPem(*key_pem); };
  // The CA: ca.crt, else the top of the chain (what Complete() writes as ca.crt).
  std::string ca = SecretData(secret, kCaCrt).value_or("");
  auto blocks = acme::SplitPemCertificates(*chain);
  if (ca.empty() && blocks.ok() && blocks->size() > 1) ca = blocks->back();
  Json updated = *secret;
  ASSIGN_OR_RETURN(bool changed, ApplySecretOutputs(ctx_, cert, info, key, *chain, ca, &updated));
  if (!changed) return Status::Ok();
  auto written = ctx_.client->Update(kube::kSecrets, cert.metadata.namespace_, updated);
  return written.ok() ? Status::Ok() : written.status().WithContext("updating Secret outputs");
}

SyncResult CertificateReconciler::Issue(const Json& obj, api::Certificate cert, const Json* secret,
                                        const IssuanceCheck& check) {
  const auto now = ctx_.clock->Now();
  const int64_t gen = cert.metadata.generation;
  // Failed attempts back off (capped) before the next Order.
  std::optional<Clock::TimePoint> retry_at;
  if (cert.status.failed_issuance_attempts > 0 && cert.status.last_failure_time) {
    retry_at = *cert.status.last_failure_time +
               std::chrono::duration_cast<Clock::TimePoint::duration>(
                   Backoff(cert.status.failed_issuance_attempts, ctx_.options.issuance_backoff_base,
                           ctx_.options.issuance_backoff_cap));
    if (now >= *retry_at) retry_at.reset();
  }
  if (check.current_valid) {
    SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kTrue,
                 "Ready", "Certificate is valid; renewal in progress", gen);
  } else {
    // While backing off, the same words Failed() put there (no flip-flop between syncs).
    SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                 check.reason,
                 retry_at ? WithLastFailure(check.message, cert.status) : check.message, gen);
  }
  if (retry_at) {
    auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
    if (!w.ok()) return SyncResult::Error(w.status());
    return SyncResult::After(*retry_at - now);
  }
  auto issuer = GetIssuer(ctx_, cert.spec.issuer_ref, cert.metadata.namespace_);
  const std::string refusal = IssuerRefusal(cert, issuer);
  if (!refusal.empty()) {
    // No key and no Order while the issuer cannot serve them: an Order now would never get a
    // status. The manager wakes this Certificate when the issuer's status changes.
    const bool changed = SetCondition(ctx_, &cert.status.conditions, api::kConditionIssuing,
                                      api::ConditionStatus::kFalse, "IssuerNotReady", refusal, gen);
    if (!check.current_valid) {
      SetCondition(ctx_, &cert.status.conditions, api::kConditionReady,
                   api::ConditionStatus::kFalse, "IssuerNotReady", refusal, gen);
    }
    auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
    if (!w.ok()) return SyncResult::Error(w.status());
    if (changed) Event(ctx_, obj, kube::kEventWarning, "IssuerNotReady", refusal);
    return SyncResult::After(kIssuerRetryDelay);
  }

  bool asked_server = false;
  auto key = EnsureNextKey(cert, obj, secret, &asked_server);
  if (!key.ok()) return SyncResult::Error(key.status());
  if (!key->has_value()) return SyncResult::After(kKeyPollDelay);
  const acme::PrivateKey& pk = **key;
  if (cert.spec.private_key.rotation_policy != "Never" || secret == nullptr) {
    cert.status.next_private_key_secret_name = NextKeySecretName(cert);
  }

  auto csr = acme::MakeCsrDer(pk, CsrFor(cert));
  if (!csr.ok()) return Failed(obj, std::move(cert), "building the CSR: " + csr.status().message());
  api::OrderSpec spec = OrderSpecFor(cert, *csr);
  spec.replaces = check.replaces;  // RFC 9773 §5: a renewal the CA's window asked for
  // The name digests what is ordered (not the CSR bytes: ECDSA signatures differ every time),
  // the key and the attempt, so a retried sync finds its Order and a new attempt makes a new one.
  api::OrderSpec digest_spec = spec;
  digest_spec.request.clear();
  const std::string order_name =
      api::OrderName(cert.metadata.name, cert.status.revision + 1,
                     digest_spec.ToJson().dump() + "|" + acme::PublicKeyFingerprint(pk) + "|" +
                         std::to_string(cert.status.failed_issuance_attempts));

  auto order_obj = ctx_.client->Get(api::kOrders, cert.metadata.namespace_, order_name);
  if (!order_obj.ok() && !kube::IsNotFound(order_obj.status())) {
    return SyncResult::Error(order_obj.status());
  }
  if (!order_obj.ok()) {
    // Not from a stale cache: a deleted Certificate must not order again (its Order is gone).
    // One question to the API server per sync is enough (a new key in this sync asked it).
    if (!asked_server) {
      auto wanted = StillWanted(ctx_, api::kCertificates, obj);
      if (!wanted.ok()) return SyncResult::Error(wanted.status());
      if (!*wanted) return SyncResult::Done();
    }
    api::Order order;
    order.metadata.name = order_name;
    order.metadata.namespace_ = cert.metadata.namespace_;
    order.metadata.labels[api::kCertificateNameLabel] = cert.metadata.name;
    order.metadata.annotations[api::kRevisionAnnotation] = std::to_string(cert.status.revision + 1);
    order.spec = spec;
    Json o = order.ToJson();
    o.erase("status");
    o["metadata"]["ownerReferences"] = Json::array({OwnerReference(obj)});
    auto created = ctx_.client->Create(api::kOrders, cert.metadata.namespace_, o);
    if (!created.ok() && !kube::IsAlreadyExists(created.status())) {
      return SyncResult::Error(created.status());
    }
    Event(ctx_, obj, kube::kEventNormal, "OrderCreated", "Created Order " + order_name);
    Status superseded = DeleteSupersededOrders(obj, cert, order_name);
    if (!superseded.ok()) return SyncResult::Error(superseded);
    SetCondition(ctx_, &cert.status.conditions, api::kConditionIssuing, api::ConditionStatus::kTrue,
                 check.reason, check.message, gen);
    auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
    return w.ok() ? SyncResult::Done() : SyncResult::Error(w.status());
  }
  auto order = api::Order::FromJson(*order_obj);
  if (!order.ok()) return Failed(obj, std::move(cert), order.status().message());
  switch (order->status.state) {
    case api::OrderState::kValid:
      return Complete(obj, std::move(cert), secret, pk, *order);
    case api::OrderState::kInvalid:
    case api::OrderState::kExpired:
    case api::OrderState::kErrored:
      return Failed(obj, std::move(cert),
                    "Order " + order_name + " " + api::OrderStateName(order->status.state) + ": " +
                        order->status.reason);
    default:
      break;
  }
  // An Order in progress may be held by something a person must fix (a solver Pod that cannot
  // run, a refused DNS update, an unreachable nameserver): the Order's reason says what, and the
  // Certificate repeats it (`kubectl get certificate -o wide`).
  std::string progress = check.message;
  if (!order->status.reason.empty()) {
    progress += ". Order " + order_name + " is waiting: " + order->status.reason;
  }
  SetCondition(ctx_, &cert.status.conditions, api::kConditionIssuing, api::ConditionStatus::kTrue,
               check.reason, progress, gen);
  if (!check.current_valid) {
    SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                 check.reason, progress, gen);
  }
  auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
  return w.ok() ? SyncResult::Done() : SyncResult::Error(w.status());
}

// The Certificate's other Orders still in progress were made for a spec, key or attempt that is
// no longer current: they are deleted, and the Order reconciler deactivates their pending
// authorizations at the CA (RFC 8555 §7.5.2) instead of letting them drive on.
Status CertificateReconciler::DeleteSupersededOrders(const Json& obj, const api::Certificate& cert,
                                                     const std::string& current) {
  kube::ListOptions options;
  options.label_selector = std::string(api::kCertificateNameLabel) + "=" + cert.metadata.name;
  // From the cache: every Order certsmith made is there or in its own remembered writes.
  auto orders = ctx_.client->ListCached(api::kOrders, cert.metadata.namespace_, options);
  if (!orders.ok()) return orders.status().WithContext("listing the Certificate's Orders");
  for (const Json& o : orders->value("items", Json::array())) {
    const std::string name = o["metadata"].value("name", "");
    if (name == current || !IsOwnedBy(o, obj) || o["metadata"].contains("deletionTimestamp")) {
      continue;
    }
    auto order = api::Order::FromJson(o);
    if (order.ok() && api::IsFinalOrderState(order->status.state)) continue;
    Status deleted = ctx_.client->Delete(api::kOrders, cert.metadata.namespace_, name);
    if (!deleted.ok() && !kube::IsNotFound(deleted)) return deleted;
    Event(ctx_, obj, kube::kEventNormal, "OrderSuperseded",
          "Deleted Order " + name + ", replaced by " + current);
  }
  return Status::Ok();
}

SyncResult CertificateReconciler::Failed(const Json& obj, api::Certificate cert,
                                         const std::string& message) {
  const auto now = ctx_.clock->Now();
  cert.status.failed_issuance_attempts += 1;
  cert.status.last_failure_time = now;
  SetCondition(ctx_, &cert.status.conditions, api::kConditionIssuing, api::ConditionStatus::kFalse,
               "Failed",
               "The certificate request has failed to complete and will be retried: " + message,
               cert.metadata.generation);
  // No usable certificate: Ready=False says what failed too (Issue() set its plain reason).
  if (const api::Condition* ready =
          api::FindCondition(cert.status.conditions, api::kConditionReady);
      ready != nullptr && ready->status == api::ConditionStatus::kFalse) {
    std::string reason = ready->reason;
    std::string why = WithLastFailure(ready->message, cert.status);
    SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                 std::move(reason), std::move(why), cert.metadata.generation);
  }
  Event(ctx_, obj, kube::kEventWarning, "Failed", message);
  log::Warn("issuance failed", {{"certificate", kube::ObjectKey(obj)}, {"error", message}});
  auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
  if (!w.ok()) return SyncResult::Error(w.status());
  return SyncResult::After(Backoff(cert.status.failed_issuance_attempts,
                                   ctx_.options.issuance_backoff_base,
                                   ctx_.options.issuance_backoff_cap));
}

SyncResult CertificateReconciler::Complete(const Json& obj, api::Certificate cert,
                                           const Json* secret, const acme::PrivateKey& key,
                                           const api::Order& order) {
  auto chain = Base64DecodeLenient(order.status.certificate);
  if (!chain.ok()) return Failed(obj, std::move(cert), "Order holds no certificate");
  auto blocks = acme::SplitPemCertificates(*chain);
  if (!blocks.ok()) return Failed(obj, std::move(cert), blocks.status().message());
  auto info = acme::ParseCertificatePem(*chain);
  if (!info.ok()) return Failed(obj, std::move(cert), info.status().message());
  // acme::CertificateMatchesKey's comparison, on the certificate decoded once.
  if (info->public_key_sha256 != acme::PublicKeyFingerprint(key)) {
    return Failed(obj, std::move(cert), "the issued certificate does not match the private key");
  }
  const bool pkcs8 = cert.spec.private_key.encoding == "PKCS8";
  auto key_pem = key.ToPem(pkcs8 ? acme::PemEncoding::kPkcs8 : acme::PemEncoding::kPkcs1);
  if (!key_pem.ok()) return SyncResult::Error(key_pem.status());

  const std::string ns = cert.metadata.namespace_;
  Json target = secret ? *secret
                       : Json{{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"type", "kubernetes.io/tls"},
                              {"metadata", {{"name", cert.spec.secret_name}, {"namespace", ns}}}};
  Json& meta = target["metadata"];
  if (cert.spec.secret_template) {
    for (const auto& [k, v] : cert.spec.secret_template->labels) meta["labels"][k] = v;
    for (const auto& [k, v] : cert.spec.secret_template->annotations) meta["annotations"][k] = v;
  }
  meta["labels"][api::kManagedByLabel] = api::kManagedByValue;
  meta["labels"][api::kCertificateNameLabel] = cert.metadata.name;
  meta["annotations"][api::kIssuerNameAnnotation] = cert.spec.issuer_ref.name;
  meta["annotations"][api::kIssuerKindAnnotation] = cert.spec.issuer_ref.kind;
  meta["annotations"][api::kRevisionAnnotation] = std::to_string(cert.status.revision + 1);
  if (std::string digest = RequestDigest(cert); digest.empty()) {
    meta["annotations"].erase(kRequestDigestAnnotation);
  } else {
    meta["annotations"][kRequestDigestAnnotation] = digest;
  }
  target["data"][kTlsCrt] = Base64Encode(*chain);
  target["data"][kTlsKey] = Base64Encode(*key_pem);
  if (blocks->size() > 1) {
    target["data"][kCaCrt] = Base64Encode(blocks->back());
  } else {
    target["data"].erase(kCaCrt);
  }
  auto issued_key = [&]() { return Result<acme::PrivateKey>(key); };
  auto outputs = ApplySecretOutputs(ctx_, cert, *info, issued_key, *chain,
                                    blocks->size() > 1 ? blocks->back() : std::string(), &target);
  if (!outputs.ok()) return Failed(obj, std::move(cert), ErrorText(outputs.status()));
  // Retain (the default, as in cert-manager): no ownerReference, so deleting the Certificate
  // leaves the Secret to the workloads serving it. Delete: the Certificate owns it (unless the
  // revocation finalizer deletes it after revoking, revocation.h).
  SetSecretOwnership(obj, OwnsSecret(obj, cert), &target);
  auto written = secret ? ctx_.client->Update(kube::kSecrets, ns, target)
                        : ctx_.client->Create(kube::kSecrets, ns, target);
  if (!secret && !written.ok() && kube::IsAlreadyExists(written.status())) {
    // A Secret the cache does not show (made without certsmith's label during the issuance):
    // the next sync reads it from the API server and decides with it (adopt, replace, keep).
    AskServerForSecret(kube::ObjectKey(obj));
    return SyncResult::After(Duration::zero());
  }
  if (!written.ok()) return SyncResult::Error(written.status().WithContext("writing Secret"));

  Status deleted = ctx_.client->Delete(kube::kSecrets, ns, NextKeySecretName(cert));
  if (!deleted.ok() && !kube::IsNotFound(deleted)) return SyncResult::Error(deleted);
  cert.status.next_private_key_secret_name.clear();
  cert.status.revision += 1;
  cert.status.not_before = info->not_before;
  cert.status.not_after = info->not_after;
  cert.status.renewal_time = RenewalTime(cert, *info);
  cert.status.failed_issuance_attempts = 0;
  cert.status.last_failure_time.reset();
  SetCondition(ctx_, &cert.status.conditions, api::kConditionReady, api::ConditionStatus::kTrue,
               "Ready", "Certificate is up to date and has not expired", cert.metadata.generation);
  api::RemoveCondition(&cert.status.conditions, api::kConditionIssuing);
  auto w = WriteStatus(ctx_, api::kCertificates, obj, cert.status.ToJson());
  if (!w.ok()) return SyncResult::Error(w.status());
  Event(ctx_, obj, kube::kEventNormal, "Issued",
        "The certificate has been successfully issued (revision " +
            std::to_string(cert.status.revision) + ")");
  Event(ctx_, obj, kube::kEventNormal, "RenewalScheduled",
        "Renewal scheduled at " + kube::FormatTime(*cert.status.renewal_time));
  log::Info("certificate issued", {{"certificate", kube::ObjectKey(obj)},
                                   {"notAfter", kube::FormatTime(info->not_after)}});
  return SyncResult::After(*cert.status.renewal_time - ctx_.clock->Now());
}

}  // namespace certsmith::reconcilers
