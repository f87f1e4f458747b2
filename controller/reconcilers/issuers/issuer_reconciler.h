// Issuer and ClusterIssuer: makes sure an ACME account exists for each (ARCHITECTURE.md "Flow of
// one certificate", step 1). Reads the account key Secret (creating one unless
// disableAccountKeyGeneration), looks the account up with onlyReturnExisting (RFC 8555 §7.3.1)
// before registering, binds with EAB (§7.3.4) only when a new account is needed, and records the
// account URL in status.acme.uri. The registered client is kept in the AccountRegistry for the
// Order and Challenge reconcilers, keyed by server + key hash so a resync costs no CA round trip.
#pragma once

#include <string>

#include "acme/key.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

class IssuerReconciler {
 public:
  // res: api::kIssuers or api::kClusterIssuers.
  IssuerReconciler(Context& ctx, const kube::ResourceRef& res) : ctx_(ctx), res_(res) {}
  SyncResult Sync(const std::string& key);

 private:
  Result<acme::PrivateKey> LoadOrCreateAccountKey(const api::Issuer& issuer, const Json& owner,
                                                  std::string* failure_reason);
  Result<std::optional<acme::ExternalAccountBinding>> LoadEab(const api::Issuer& issuer,
                                                              std::string* failure_reason);
  Status CheckProfile(const api::Issuer& issuer, acme::AcmeClient& client);
  SyncResult Fail(const Json& obj, api::Issuer issuer, const std::string& reason,
                  const Status& error);

  Context& ctx_;
  kube::ResourceRef res_;
};

}  // namespace certsmith::reconcilers
