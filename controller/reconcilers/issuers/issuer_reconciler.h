// Issuer and ClusterIssuer: makes sure an ACME account exists for each (ARCHITECTURE.md "Flow of
// one certificate", step 1). Reads the account key Secret (creating one unless
// disableAccountKeyGeneration), looks the account up with onlyReturnExisting (RFC 8555 §7.3.1)
// before registering, binds with EAB (§7.3.4) only when a new account is needed, and records the
// account URL in status.acme.uri. The registered client is kept in the AccountRegistry for the
// Order and Challenge reconcilers, keyed by server + key hash so a resync costs no CA round trip.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/key.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

// The account key type an Issuer asks for (spec.acme.accountKey; ECDSA P-256 when unset).
Result<acme::KeyType> AccountKeyType(const api::Issuer& issuer);

class IssuerReconciler {
 public:
  // res: api::kIssuers or api::kClusterIssuers.
  IssuerReconciler(Context& ctx, const kube::ResourceRef& res) : ctx_(ctx), res_(res) {}
  SyncResult Sync(const std::string& key);

 private:
  // The account key and the Secret it came from (*secret_out: the stored object).
  Result<acme::PrivateKey> LoadOrCreateAccountKey(const api::Issuer& issuer, const Json& owner,
                                                  std::string* failure_reason, Json* secret_out);

  // Account key rollover (account_key_rollover.cc).
  struct Recovered {
    acme::PrivateKey key;
    std::shared_ptr<acme::AcmeClient> client;
    acme::Account account;
  };
  struct RolloverTarget {
    std::string field;  // the account key's data key in the Secret
    std::shared_ptr<acme::AcmeClient> client;
    std::string account_url;
  };
  static std::optional<acme::PrivateKey> StagedKey(const Json& key_secret,
                                                   const std::string& field);
  // Writes the Secret: key (if given) as the account key, staged as "<field>.next" (removed when
  // nullopt), handled_request (if not empty) as the finished request.
  Status WriteKeySecret(Json* key_secret, const std::string& field,
                        const std::optional<acme::PrivateKey>& key,
                        const std::optional<acme::PrivateKey>& staged,
                        const std::string& handled_request);
  // The old key's lookup said accountDoesNotExist: when the staged key is the account's now (an
  // interrupted rollover), it becomes the account key. nullopt when it is not.
  Result<std::optional<Recovered>> RecoverStagedKey(const Json& obj, const api::Issuer& issuer,
                                                    Json* key_secret, const std::string& field);
  Result<std::vector<std::string>> OthersUsingKeySecret(const api::Issuer& issuer);
  Result<int> ChallengesInFlight(const api::Issuer& issuer);
  // Does the pending request; records its outcome in the AccountKeyRollover condition.
  SyncResult RollOver(const Json& obj, api::Issuer* issuer, const std::string& ikey,
                      const RolloverTarget& target, Json* key_secret, const std::string& request);
  Result<std::optional<acme::ExternalAccountBinding>> LoadEab(const api::Issuer& issuer,
                                                              std::string* failure_reason);
  Status CheckProfile(const api::Issuer& issuer, acme::AcmeClient& client);
  SyncResult Fail(const Json& obj, api::Issuer issuer, const std::string& reason,
                  const Status& error);

  Context& ctx_;
  kube::ResourceRef res_;
};

}  // namespace certsmith::reconcilers
