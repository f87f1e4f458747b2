// `kubectl certsmith account rollover ISSUER`: asks the controller to move the Issuer's ACME
// account to a new key (RFC 8555 §7.3.5 keyChange) and waits for its answer. The controller does
// the work (controller/reconcilers/issuers/account_key_rollover.h): the account key never leaves
// the cluster, the new key is stored before the CA hears of it, and the client the controller's
// workers share switches keys in place. This command only writes the request (the
// certsmith.io/account-key-rollover annotation, a fresh id) and reads the AccountKeyRollover
// condition whose message names that id.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kube/client.h"

namespace certsmith::plugin {

struct IssuerTarget {
  kube::ResourceRef res;
  std::string ns;  // "" for a ClusterIssuer
  std::string name;
  std::string Describe() const;  // "ClusterIssuer pebble", "Issuer shop/le"
};

// "issuer/NAME", "clusterissuer/NAME" (kubectl's kind/name, any case, short names iss/ciss), or
// NAME: the Issuer in ns if there is one, else the ClusterIssuer; both existing is an error.
Result<IssuerTarget> ResolveIssuer(kube::Client& client, const std::string& ns,
                                   const std::string& arg);

struct RolloverOutcome {
  enum State { kPending, kInProgress, kDone, kFailed } state = kPending;
  std::string reason;
  std::string message;
};
// What the Issuer's AccountKeyRollover condition says about request_id.
RolloverOutcome ReadRolloverOutcome(const nlohmann::json& issuer, const std::string& request_id);

}  // namespace certsmith::plugin
