#include "issuers/issuer_reconciler.h"

#include "acme/jws.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "issuers/account_key_rollover.h"
#include "kube/errors.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

constexpr char kDefaultAccountKeyField[] = "tls.key";
constexpr char kDefaultEabKeyField[] = "secret";

Result<std::string> SecretValue(const Json& secret, const std::string& field) {
  auto data = secret.find("data");
  if (data == secret.end() || !data->contains(field) || !(*data)[field].is_string()) {
    return MakeError(ErrorCode::kNotFound,
                     "Secret " + kube::GetName(secret) + " has no key \"" + field + "\"");
  }
  return Base64DecodeLenient((*data)[field].get<std::string>());
}

std::string AccountKeyField(const api::Issuer& issuer) {
  const api::SecretKeySelector& ref = issuer.spec.acme.private_key_secret_ref;
  return ref.key.empty() ? kDefaultAccountKeyField : ref.key;
}

// scheme://host[:port] of a URL; empty when it has none.
std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  return url.substr(0, url.find('/', scheme + 3));
}

// What the status says was verified with the CA still holds: Ready for the current spec
// (observedGeneration), an account URL on the server's host, registered for this key and email.
bool RecordedAccountHolds(const api::Issuer& issuer, const std::string& fingerprint) {
  const api::Condition* ready = api::FindCondition(issuer.status.conditions, api::kConditionReady);
  const api::AcmeIssuerStatus& acme = issuer.status.acme;
  return ready != nullptr && ready->status == api::ConditionStatus::kTrue &&
         ready->observed_generation == issuer.metadata.generation && !acme.uri.empty() &&
         acme.last_private_key_hash == fingerprint &&
         acme.last_registered_email == issuer.spec.acme.email &&
         !Origin(issuer.spec.acme.server).empty() &&
         Origin(acme.uri) == Origin(issuer.spec.acme.server);
}

// status.acme.renewalInfo from the CA's directory (fetched once per client, then kept): whether
// the Certificates of this issuer have a renewalInfo to ask (certificates/ari_schedule.h), so a
// restart does not ask the CA once per Certificate without a window. False when the directory
// cannot be read (nothing recorded).
bool RecordRenewalInfo(acme::AcmeClient& client, api::AcmeIssuerStatus* status) {
  auto directory = client.GetDirectory();
  if (!directory.ok()) return false;
  status->renewal_info =
      directory->renewal_info.empty() ? api::kRenewalInfoNotOffered : api::kRenewalInfoOffered;
  return true;
}

}  // namespace

Result<acme::KeyType> AccountKeyType(const api::Issuer& issuer) {
  if (!issuer.spec.acme.account_key) return acme::KeyType::kEcdsaP256;
  const api::AccountKey& k = *issuer.spec.acme.account_key;
  std::string name = (k.algorithm == "RSA" ? "rsa" : "ec") + std::to_string(k.size);
  return acme::ParseKeyType(name);
}

Result<acme::PrivateKey> IssuerReconciler::LoadOrCreateAccountKey(const api::Issuer& issuer,
                                                                  const Json& owner,
                                                                  std::string* failure_reason,
                                                                  Json* secret_out) {
  const api::SecretKeySelector& ref = issuer.spec.acme.private_key_secret_ref;
  const std::string field = AccountKeyField(issuer);
  const std::string ns = IssuerSecretNamespace(ctx_, issuer);
  auto secret = ctx_.client->Get(kube::kSecrets, ns, ref.name);
  if (secret.ok()) {
    *secret_out = *secret;
    *failure_reason = "InvalidAccountKey";
    ASSIGN_OR_RETURN(std::string pem, SecretValue(*secret, field));
    auto key = acme::PrivateKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext("account key Secret " + ns + "/" + ref.name);
    return key;
  }
  *failure_reason = "AccountKeySecretError";
  if (!kube::IsNotFound(secret.status())) return secret.status();
  if (issuer.spec.acme.disable_account_key_generation) {
    *failure_reason = "AccountKeyMissing";
    return MakeError(ErrorCode::kNotFound,
                     "account key Secret " + ns + "/" + ref.name +
                         " does not exist and disableAccountKeyGeneration is set");
  }
  ASSIGN_OR_RETURN(acme::KeyType type, AccountKeyType(issuer));
  ASSIGN_OR_RETURN(acme::PrivateKey key, acme::PrivateKey::Generate(type));
  ASSIGN_OR_RETURN(std::string pem, key.ToPem(acme::PemEncoding::kPkcs8));
  Json obj = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata",
               {{"name", ref.name},
                {"namespace", ns},
                {"labels", {{api::kManagedByLabel, api::kManagedByValue}}}}},
              {"type", "Opaque"},
              {"data", {{field, Base64Encode(pem)}}}};
  // The account key outlives the Issuer on purpose (the account stays usable): no owner.
  auto created = ctx_.client->Create(kube::kSecrets, ns, obj);
  if (!created.ok()) return created.status().WithContext("creating account key Secret");
  *secret_out = *created;
  Event(ctx_, owner, kube::kEventNormal, "AccountKeyGenerated",
        "Generated a new ACME account key in Secret " + ref.name);
  return key;
}

Result<std::optional<acme::ExternalAccountBinding>> IssuerReconciler::LoadEab(
    const api::Issuer& issuer, std::string* failure_reason) {
  if (!issuer.spec.acme.external_account_binding)
    return std::optional<acme::ExternalAccountBinding>();
  const api::ExternalAccountBinding& eab = *issuer.spec.acme.external_account_binding;
  const std::string ns = IssuerSecretNamespace(ctx_, issuer);
  *failure_reason = "EABSecretError";
  auto secret = ctx_.client->Get(kube::kSecrets, ns, eab.key_secret_ref.name);
  if (!secret.ok()) {
    if (kube::IsNotFound(secret.status())) *failure_reason = "EABSecretMissing";
    return secret.status().WithContext("external account binding Secret " + ns + "/" +
                                       eab.key_secret_ref.name);
  }
  const std::string field =
      eab.key_secret_ref.key.empty() ? kDefaultEabKeyField : eab.key_secret_ref.key;
  ASSIGN_OR_RETURN(std::string text, SecretValue(*secret, field));
  *failure_reason = "InvalidEABKey";
  ASSIGN_OR_RETURN(std::string hmac, acme::DecodeEabHmacKey(text));
  ASSIGN_OR_RETURN(acme::HmacAlgorithm alg, acme::ParseHmacAlgorithm(eab.key_algorithm));
  return std::optional<acme::ExternalAccountBinding>(
      acme::ExternalAccountBinding{eab.key_id, std::move(hmac), alg});
}

SyncResult IssuerReconciler::Fail(const Json& obj, api::Issuer issuer, const std::string& reason,
                                  const Status& error) {
  std::string message = ErrorText(error);
  SetCondition(ctx_, &issuer.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
               reason, message, issuer.metadata.generation);
  Event(ctx_, obj, kube::kEventWarning, reason, message);
  log::Warn("issuer not ready",
            {{"issuer", kube::ObjectKey(obj)}, {"reason", reason}, {"error", message}});
  auto written = WriteStatus(ctx_, res_, obj, issuer.status.ToJson());
  if (!written.ok()) return SyncResult::Error(written.status());
  return SyncResult::Error(error);  // retried with the queue's capped backoff
}

// draft-aaron-acme-profiles: a CA lists the profiles it issues under in meta.profiles; ordering
// under another would fail every order, so the Issuer is not Ready until it is one of them.
Status IssuerReconciler::CheckProfile(const api::Issuer& issuer, acme::AcmeClient& client) {
  const std::string& profile = issuer.spec.acme.profile;
  if (profile.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(acme::Directory directory, client.GetDirectory());
  if (directory.meta.profiles.count(profile) > 0) return Status::Ok();
  std::string offered;
  for (const auto& [name, description] : directory.meta.profiles) {
    offered += (offered.empty() ? "" : ", ") + name;
  }
  return MakeError(ErrorCode::kFailedPrecondition,
                   "spec.acme.profile: the CA does not offer the profile \"" + profile + "\" (" +
                       (offered.empty() ? std::string("its directory lists no profiles")
                                        : "it offers: " + offered) +
                       ")");
}

SyncResult IssuerReconciler::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  const std::string ikey =
      res_.kind == "ClusterIssuer" ? "ClusterIssuer/" + name : "Issuer/" + ns + "/" + name;
  auto got = ctx_.client->Get(res_, ns, name);
  if (!got.ok()) {
    if (kube::IsNotFound(got.status())) {
      ctx_.accounts->Remove(ikey);
      return SyncResult::Done();
    }
    return SyncResult::Error(got.status());
  }
  const Json& obj = *got;
  auto parsed = api::Issuer::FromJson(obj);
  if (!parsed.ok()) {
    Status w = WriteInvalidSpec(ctx_, res_, obj, parsed.status());
    return w.ok() ? SyncResult::Done() : SyncResult::Error(w);
  }
  api::Issuer issuer = std::move(parsed).value();

  std::string reason;
  Json key_secret;
  auto account_key = LoadOrCreateAccountKey(issuer, obj, &reason, &key_secret);
  if (!account_key.ok()) return Fail(obj, issuer, reason, account_key.status());
  const std::string field = AccountKeyField(issuer);
  // A request of `kubectl certsmith account rollover`, or a key staged by one
  // (account_key_rollover.h).
  std::string request = PendingRolloverRequest(obj, key_secret);
  const bool staged = StagedKey(key_secret, field).has_value();
  std::string fingerprint = acme::PublicKeyFingerprint(*account_key);
  // The profile is part of it: a changed profile is checked against the directory again.
  auto hash_of = [&](const std::string& fp) {
    return issuer.spec.acme.server + "|" + fp + "|" + issuer.spec.acme.profile;
  };

  auto cached = ctx_.accounts->Find(ikey);
  if (cached && cached->hash == hash_of(fingerprint) &&
      issuer.status.acme.uri == cached->account_url &&
      api::IsConditionTrue(issuer.status.conditions, api::kConditionReady) && request.empty() &&
      !staged) {
    return SyncResult::Done();
  }

  // After a restart (nothing cached yet), the account the status records for this spec, key and
  // email is used as it is, as cert-manager does: a restart costs no ACME request, no status
  // write and no event per Issuer. The CA is asked again when any of them changes or on a
  // rollover.
  if (!cached && request.empty() && !staged && RecordedAccountHolds(issuer, fingerprint)) {
    auto recorded = ctx_.acme_factory(issuer, std::make_shared<acme::KeySigner>(*account_key));
    if (recorded.ok()) {
      (*recorded)->set_account_url(issuer.status.acme.uri);
      ctx_.accounts->Put(ikey, {hash_of(fingerprint), issuer.status.acme.uri, *recorded});
      // An Issuer registered before status.acme.renewalInfo existed: the directory is read once
      // (one ACME request and one status write), and later restarts ask nothing.
      if (issuer.status.acme.renewal_info.empty() &&
          RecordRenewalInfo(**recorded, &issuer.status.acme)) {
        auto written = WriteStatus(ctx_, res_, obj, issuer.status.ToJson());
        if (!written.ok()) return SyncResult::Error(written.status());
      }
      log::Info("issuer ready", {{"issuer", kube::ObjectKey(obj)},
                                 {"account", issuer.status.acme.uri},
                                 {"from", "status"}});
      return SyncResult::Done();
    }
  }

  // A rollover goes through the client the Order and Challenge reconcilers already share, so it
  // switches keys in place for them too (acme::Client::KeyRollover).
  auto client = !request.empty() && cached && cached->hash == hash_of(fingerprint)
                    ? Result<std::shared_ptr<acme::AcmeClient>>(cached->client)
                    : ctx_.acme_factory(issuer, std::make_shared<acme::KeySigner>(*account_key));
  if (!client.ok()) return Fail(obj, issuer, "ErrInitIssuer", client.status());
  Result<acme::Account> account = MakeError(ErrorCode::kNotFound, "no account looked up yet");
  if (staged) {
    // A rollover stopped between the CA's keyChange and the Secret update: the account answers
    // only to the staged key, and the update is finished from it (no second keyChange).
    account = (*client)->LookupAccount();
    if (!account.ok() && account.status().code() == ErrorCode::kNotFound) {
      auto recovered = RecoverStagedKey(obj, issuer, &key_secret, field);
      if (!recovered.ok()) return Fail(obj, issuer, "ErrRegisterACMEAccount", recovered.status());
      if (recovered->has_value()) {
        Recovered& r = **recovered;
        account_key = r.key;
        client = r.client;
        account = r.account;
        fingerprint = acme::PublicKeyFingerprint(r.key);
        request = PendingRolloverRequest(obj, key_secret);
      }
    }
  }
  std::string failure = "ErrRegisterACMEAccount";
  if (!account.ok() && account.status().code() == ErrorCode::kNotFound) {
    // The account for this key, or a new one bound with the EAB (read only then: an existing
    // account needs no EAB Secret). acme::AcmeClient::EnsureAccount keeps the rule that any
    // lookup error other than "does not exist" never spends the EAB.
    account = (*client)->EnsureAccount([&]() -> Result<acme::NewAccountRequest> {
      auto eab = LoadEab(issuer, &reason);
      if (!eab.ok()) {
        failure = reason;
        return eab.status();
      }
      acme::NewAccountRequest new_account;
      if (!issuer.spec.acme.email.empty()) {
        new_account.contact = {"mailto:" + issuer.spec.acme.email};
      }
      new_account.eab = *eab;
      return new_account;
    });
  }
  if (!account.ok()) return Fail(obj, issuer, failure, account.status());
  if (Status offered = CheckProfile(issuer, **client); !offered.ok()) {
    return Fail(obj, issuer, "ProfileNotOffered", offered);
  }
  const bool eab = issuer.spec.acme.external_account_binding.has_value();
  if (account->created) {
    Event(ctx_, obj, kube::kEventNormal, "AccountRegistered",
          "Registered a new ACME account: " + account->url);
  } else {
    Event(ctx_, obj, kube::kEventNormal, "AccountFound",
          "Found the existing ACME account for this key: " + account->url +
              (eab ? " (the External Account Binding was not used)" : ""));
  }
  if (request.empty() && StagedKey(key_secret, field)) {
    // The account answers to its key and no rollover is asked for: a staged key is left over.
    Status dropped = WriteKeySecret(&key_secret, field, std::nullopt, std::nullopt, "");
    if (!dropped.ok()) return SyncResult::Error(dropped);
  }

  ctx_.accounts->Put(ikey, {hash_of(fingerprint), account->url, *client});
  // The directory the account requests just read (no request of its own).
  RecordRenewalInfo(**client, &issuer.status.acme);
  issuer.status.acme.uri = account->url;
  issuer.status.acme.last_registered_email = issuer.spec.acme.email;
  issuer.status.acme.last_private_key_hash = fingerprint;
  SetCondition(ctx_, &issuer.status.conditions, api::kConditionReady, api::ConditionStatus::kTrue,
               account->created ? "ACMEAccountRegistered" : "ACMEAccountFound",
               account->created ? "The ACME account is registered with the ACME server"
                                : "The ACME account for this key was found on the ACME server",
               issuer.metadata.generation);
  SyncResult result = SyncResult::Done();
  if (!request.empty()) {
    result = RollOver(obj, &issuer, ikey, {field, *client, account->url}, &key_secret, request);
  }
  auto written = WriteStatus(ctx_, res_, obj, issuer.status.ToJson());
  if (!written.ok()) return SyncResult::Error(written.status());
  log::Info("issuer ready", {{"issuer", kube::ObjectKey(obj)}, {"account", account->url}});
  return result;
}

}  // namespace certsmith::reconcilers
