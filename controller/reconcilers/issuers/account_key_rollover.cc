#include "issuers/account_key_rollover.h"

#include "acme/jws.h"
#include "acme/problem.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "issuers/issuer_reconciler.h"
#include "kube/errors.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

// Challenges presented with the old key's thumbprint in their key authorization (RFC 8555 §8.1)
// fail validation once the account has a new key: the rollover waits for them.
constexpr auto kChallengeWaitDelay = std::chrono::seconds(5);

std::string AnnotationOf(const Json& obj, const char* key) {
  const Json annotations = obj.value("metadata", Json::object()).value("annotations", Json());
  if (!annotations.is_object()) return "";
  auto it = annotations.find(key);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsFinalChallengeState(const std::string& state) {
  return state == "valid" || state == "invalid" || state == "expired" || state == "errored";
}

}  // namespace

std::string StagedKeyField(const std::string& field) { return field + ".next"; }

std::string PendingRolloverRequest(const Json& issuer_obj, const Json& key_secret) {
  const std::string request = AnnotationOf(issuer_obj, api::kAccountKeyRolloverAnnotation);
  if (request.empty() || request == AnnotationOf(key_secret, api::kAccountKeyRolloverAnnotation)) {
    return "";
  }
  return request;
}

std::optional<acme::PrivateKey> IssuerReconciler::StagedKey(const Json& key_secret,
                                                            const std::string& field) {
  const Json data = key_secret.value("data", Json::object());
  auto it = data.find(StagedKeyField(field));
  if (it == data.end() || !it->is_string()) return std::nullopt;
  auto pem = Base64DecodeLenient(it->get<std::string>());
  if (!pem.ok()) return std::nullopt;
  auto key = acme::PrivateKey::FromPem(*pem);
  if (!key.ok()) return std::nullopt;
  return *key;
}

Status IssuerReconciler::WriteKeySecret(Json* key_secret, const std::string& field,
                                        const std::optional<acme::PrivateKey>& key,
                                        const std::optional<acme::PrivateKey>& staged,
                                        const std::string& handled_request) {
  Json updated = *key_secret;
  if (key) {
    ASSIGN_OR_RETURN(std::string pem, key->ToPem(acme::PemEncoding::kPkcs8));
    updated["data"][field] = Base64Encode(pem);
  }
  if (staged) {
    ASSIGN_OR_RETURN(std::string pem, staged->ToPem(acme::PemEncoding::kPkcs8));
    updated["data"][StagedKeyField(field)] = Base64Encode(pem);
  } else if (updated.contains("data")) {
    updated["data"].erase(StagedKeyField(field));
  }
  if (!handled_request.empty()) {
    updated["metadata"]["annotations"][api::kAccountKeyRolloverAnnotation] = handled_request;
  }
  auto written = ctx_.client->Update(kube::kSecrets, kube::GetNamespace(*key_secret), updated);
  if (!written.ok()) {
    return written.status().WithContext("updating account key Secret " +
                                        kube::GetNamespace(*key_secret) + "/" +
                                        kube::GetName(*key_secret));
  }
  *key_secret = std::move(written).value();
  return Status::Ok();
}

Result<std::optional<IssuerReconciler::Recovered>> IssuerReconciler::RecoverStagedKey(
    const Json& obj, const api::Issuer& issuer, Json* key_secret, const std::string& field) {
  std::optional<acme::PrivateKey> staged = StagedKey(*key_secret, field);
  if (!staged) return std::optional<Recovered>();
  ASSIGN_OR_RETURN(std::shared_ptr<acme::AcmeClient> client,
                   ctx_.acme_factory(issuer, std::make_shared<acme::KeySigner>(*staged)));
  auto account = client->LookupAccount();
  if (!account.ok()) {
    if (account.status().code() == ErrorCode::kNotFound) return std::optional<Recovered>();
    return account.status();
  }
  // The CA moved the account to the staged key before the Secret said so: finish the rollover.
  const std::string request = AnnotationOf(obj, api::kAccountKeyRolloverAnnotation);
  RETURN_IF_ERROR(WriteKeySecret(key_secret, field, staged, std::nullopt, request));
  Event(ctx_, obj, kube::kEventNormal, "AccountKeyRolledOver",
        "The ACME account answers to the new key staged by an interrupted rollover; it is now "
        "the account key (SHA-256 " +
            acme::PublicKeyFingerprint(*staged) + ")");
  return std::optional<Recovered>(Recovered{*staged, std::move(client), *account});
}

Result<std::vector<std::string>> IssuerReconciler::OthersUsingKeySecret(const api::Issuer& issuer) {
  const std::string ns = IssuerSecretNamespace(ctx_, issuer);
  const std::string secret = issuer.spec.acme.private_key_secret_ref.name;
  std::vector<std::string> out;
  auto collect = [&](const kube::ResourceRef& res, std::string_view list_ns) -> Status {
    ASSIGN_OR_RETURN(Json list, ctx_.client->List(res, list_ns, {}));
    for (const Json& item : list.value("items", Json::array())) {
      const std::string name = kube::GetName(item);
      if (res.kind == issuer.kind && name == issuer.metadata.name &&
          kube::GetNamespace(item) == issuer.metadata.namespace_) {
        continue;
      }
      const Json ref = item.value("spec", Json::object())
                           .value("acme", Json::object())
                           .value("privateKeySecretRef", Json::object());
      if (ref.value("name", "") == secret) {
        out.push_back(res.kind + " " + kube::ObjectKey(item));
      }
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(collect(api::kIssuers, ns));
  if (ns == ctx_.options.cluster_resource_namespace) {
    RETURN_IF_ERROR(collect(api::kClusterIssuers, ""));
  }
  return out;
}

Result<int> IssuerReconciler::ChallengesInFlight(const api::Issuer& issuer) {
  ASSIGN_OR_RETURN(Json list, ctx_.client->List(api::kChallenges,
                                                issuer.IsClusterIssuer()
                                                    ? std::string_view()
                                                    : std::string_view(issuer.metadata.namespace_),
                                                {}));
  int n = 0;
  for (const Json& ch : list.value("items", Json::array())) {
    const Json ref = ch.value("spec", Json::object()).value("issuerRef", Json::object());
    if (ref.value("name", "") != issuer.metadata.name ||
        ref.value("kind", "Issuer") != issuer.kind ||
        ch["metadata"].contains("deletionTimestamp")) {
      continue;
    }
    if (!IsFinalChallengeState(ch.value("status", Json::object()).value("state", ""))) ++n;
  }
  return n;
}

SyncResult IssuerReconciler::RollOver(const Json& obj, api::Issuer* issuer, const std::string& ikey,
                                      const RolloverTarget& target, Json* key_secret,
                                      const std::string& request) {
  const int64_t gen = issuer->metadata.generation;
  auto say = [&](api::ConditionStatus status, std::string reason, const std::string& text) {
    SetCondition(ctx_, &issuer->status.conditions, api::kConditionAccountKeyRollover, status,
                 std::move(reason), "request " + request + ": " + text, gen);
  };
  // Finished without a new key: the request is recorded as done, any staged key dropped.
  auto refuse = [&](std::string reason, const std::string& text) -> SyncResult {
    Status s = WriteKeySecret(key_secret, target.field, std::nullopt, std::nullopt, request);
    if (!s.ok()) return SyncResult::Error(s);
    say(api::ConditionStatus::kFalse, reason, text);
    Event(ctx_, obj, kube::kEventWarning, "AccountKeyRolloverFailed", text);
    return SyncResult::Done();
  };

  auto others = OthersUsingKeySecret(*issuer);
  if (!others.ok()) return SyncResult::Error(others.status());
  if (!others->empty()) {
    std::string names;
    for (const std::string& o : *others) names += (names.empty() ? "" : ", ") + o;
    return refuse("SharedAccountKey",
                  "the account key Secret is also used by " + names +
                      "; a new key would leave their accounts with a key their CA does not know. "
                      "Give each issuer its own privateKeySecretRef first");
  }
  auto in_flight = ChallengesInFlight(*issuer);
  if (!in_flight.ok()) return SyncResult::Error(in_flight.status());
  if (*in_flight > 0) {
    say(api::ConditionStatus::kUnknown, "WaitingForChallenges",
        std::to_string(*in_flight) +
            " challenge(s) of this issuer are in progress; their key authorizations name the "
            "current key, so the rollover waits for them");
    return SyncResult::After(kChallengeWaitDelay);
  }

  // Stored before the CA hears of it, so whatever happens next the key is not lost.
  std::optional<acme::PrivateKey> next = StagedKey(*key_secret, target.field);
  if (!next) {
    auto type = AccountKeyType(*issuer);
    if (!type.ok()) return refuse("Failed", type.status().message());
    auto generated = acme::PrivateKey::Generate(*type);
    if (!generated.ok()) return SyncResult::Error(generated.status());
    next = *generated;
    Status staged = WriteKeySecret(key_secret, target.field, std::nullopt, next, "");
    if (!staged.ok()) return SyncResult::Error(staged);
  }

  Status changed = target.client->KeyRollover(std::make_shared<acme::KeySigner>(*next));
  if (!changed.ok()) {
    auto problem = acme::ProblemFromStatus(changed);
    if (problem && !acme::IsRetryable(*problem)) {
      return refuse("Failed", "the CA refused the new key: " + ErrorText(changed));
    }
    // No answer, or a transient one: the CA may or may not have the new key. The staged key
    // stays; the next sync finds out which key the account answers to.
    say(api::ConditionStatus::kUnknown, "Retrying", ErrorText(changed));
    return SyncResult::Error(changed);
  }
  Status promoted = WriteKeySecret(key_secret, target.field, next, std::nullopt, request);
  if (!promoted.ok()) {
    say(api::ConditionStatus::kUnknown, "Retrying",
        "the CA accepted the new key, storing it failed (retried): " + ErrorText(promoted));
    return SyncResult::Error(promoted);
  }
  // The same client, which now signs with the new key: Orders and Challenges go on with it.
  const std::string fingerprint = acme::PublicKeyFingerprint(*next);
  ctx_.accounts->Put(
      ikey, {issuer->spec.acme.server + "|" + fingerprint, target.account_url, target.client});
  issuer->status.acme.last_private_key_hash = fingerprint;
  const std::string text = "the ACME account " + target.account_url +
                           " now uses a new key (SHA-256 " + fingerprint + ")";
  say(api::ConditionStatus::kTrue, "RolledOver", text);
  Event(ctx_, obj, kube::kEventNormal, "AccountKeyRolledOver", "Request " + request + ": " + text);
  return SyncResult::Done();
}

}  // namespace certsmith::reconcilers
