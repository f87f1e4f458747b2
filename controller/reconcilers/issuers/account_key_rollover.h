// ACME account key rollover (RFC 8555 §7.3.5), asked for with `kubectl certsmith account rollover`
// (the certsmith.io/account-key-rollover annotation on the Issuer) and done by the controller, so
// the key never leaves the cluster and the ACME client the Order and Challenge reconcilers share
// switches keys in place (acme::Client::KeyRollover).
//
// Crash safety: the new key is stored in the account key Secret under "<key>.next" BEFORE the CA
// is asked; after the CA's answer one Secret update makes it the key and records the request as
// done. A controller stopped between the two finds the account answering only to the staged key
// (its lookup with the old key says accountDoesNotExist) and finishes the promotion; a definite
// refusal by the CA drops the staged key. So the Secret always holds the key the CA knows.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace certsmith::reconcilers {

// "tls.key" -> "tls.key.next".
std::string StagedKeyField(const std::string& field);

// The request id waiting to be done: the Issuer's annotation, unless the account key Secret says
// that request was finished (successfully or not). "" when nothing is pending.
std::string PendingRolloverRequest(const nlohmann::json& issuer_obj,
                                   const nlohmann::json& key_secret);

}  // namespace certsmith::reconcilers
